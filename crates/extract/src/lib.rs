//! Document extraction: turns government documents (work reports, responsibility-decomposition
//! notices, plan-execution reports, news pages) into structured items. Pure: no I/O.
//!
//! Pipeline: bytes → [`decode`] (BOM, UTF-8, else chardetng's guess such as GB18030) → format
//! (DOCX via zip + quick-xml, HTML via tl, else plain text): the decoded text, which
//! [`Extraction::text`] holds and spans index into → clean-up (full-width forms, mirror pinyin,
//! traditional characters, boilerplate lines), recording an offset map back → kind → the kind's
//! own rules, on the cleaned text → items re-sliced from the decoded text as written:
//!
//! - decomposition: attachments become plans, headings become sections, numbered lines (or
//!   table rows) become items with their responsibility clauses, deadlines and targets;
//! - work report (and any page embedding one): one item per clause of the 主要预期目标
//!   statement, plus last year's outcomes for the same indicators as actuals;
//! - plan execution: "——target:outcome" lines, then the new year's target lines.
//!
//! The rules are written for the genre, never for one document.

mod as_written;
mod classify;
mod clean;
mod decode;
mod decomposition;
mod docx;
mod html;
mod lines;
mod meta;
mod offsets;
pub mod quantity;
mod types;
pub mod units;
mod work_report;

use regex::Regex;
use std::sync::LazyLock;

pub use types::*;

/// Decodes bytes to text, detecting the encoding (UTF-8 with or without BOM, GB18030/GBK, …).
pub fn decode(input: &[u8]) -> Decoded {
    decode::decode(input)
}

/// Extracts structured items from a document. Never panics.
pub fn extract(input: &[u8], source: &str) -> Extraction {
    match std::panic::catch_unwind(|| extract_inner(input, source)) {
        Ok(x) => x,
        Err(_) => Extraction {
            source: source.to_string(),
            warnings: vec!["internal error while extracting; no items".to_string()],
            ..Default::default()
        },
    }
}

fn extract_inner(input: &[u8], source: &str) -> Extraction {
    let mut warnings = Vec::new();
    let (raw, encoding, html_title) = if docx::is_docx(input) {
        match docx::docx_to_text(input) {
            Ok(t) => (t, "DOCX (UTF-8)".to_string(), None),
            Err(e) => {
                warnings.push(e);
                (String::new(), "DOCX".to_string(), None)
            }
        }
    } else {
        let d = decode::decode(input);
        if html::looks_like_html(&d.text) {
            let (t, title) = html::html_to_text(&d.text);
            (t, d.encoding, title)
        } else {
            (d.text, d.encoding, None)
        }
    };
    let (text, map) = clean::clean(&raw);
    let m = meta::extract_meta(&text, html_title.as_deref());
    let kind = classify::classify(&text, m.title.as_deref());
    let title_year = m.title.as_deref().and_then(meta::first_year);
    let mut plans = Vec::new();
    let mut items = match kind {
        DocKind::Decomposition => {
            let (first_is_lead, rest_co) = first_unit_rule(&text);
            let d = decomposition::extract(
                &text,
                m.title.as_deref(),
                title_year,
                first_is_lead,
                rest_co,
            );
            plans = d.plans;
            d.items
        }
        DocKind::PlanExecution => {
            let year = title_year
                .or_else(|| meta::first_year(text.get(..text.len().min(2000)).unwrap_or("")));
            let head: String = text.chars().take(1500).collect();
            let year = meta_execution_year(&head).or(year);
            let items = work_report::extract_plan_execution(&text, year);
            if items.is_empty() {
                work_report::extract_work_report(&text, year.map(|y| y + 1))
            } else {
                items
            }
        }
        DocKind::WorkReport | DocKind::Other => work_report::extract_work_report(&text, title_year),
    };
    let year = match kind {
        DocKind::WorkReport | DocKind::Other => items
            .iter()
            .find(|i| !i.targets.is_empty() || i.category.is_some())
            .and_then(|i| i.year)
            .or(title_year),
        DocKind::PlanExecution => items.iter().filter_map(|i| i.year).max().or(title_year),
        DocKind::Decomposition => title_year.or_else(|| {
            m.published
                .as_deref()
                .and_then(|p| p.get(..4))
                .and_then(|y| y.parse().ok())
        }),
    };
    // the rules ran on the cleaned text; emit what the document wrote
    as_written::restore(&mut items, &mut plans, &text, &raw, &map);
    if text.trim().is_empty() && warnings.is_empty() {
        warnings.push("empty document".to_string());
    }
    Extraction {
        source: source.to_string(),
        document: DocumentMeta {
            title: m.title,
            doc_number: m.doc_number,
            issuer: m.issuer,
            published: m.published,
            kind,
            year,
            encoding,
            reporting_rule: m.reporting_rule,
        },
        plans,
        items,
        warnings,
        text: raw,
    }
}

/// "列第一位的为牵头单位" (and its variants): the first unit of each list leads; with
/// "其他为配合单位" the others co-operate rather than share responsibility.
static FIRST_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:列|排|排在|排名|列在|位列)?(?:第一位|第一个|第一|首位)的?(?:单位|部门)?(?:为|是)牵头(?:单位|部门)(?:[,,;;、]?\s*(?:其他|其余|其它)(?:单位|部门)?(?:为|是)(配合|协办|协助|参与|责任)(?:单位|部门))?")
        .expect("first lead regex")
});

fn first_unit_rule(text: &str) -> (bool, bool) {
    match FIRST_LEAD.captures(text) {
        Some(c) => (true, c.get(1).is_some_and(|m| m.as_str() != "责任")),
        None => (false, false),
    }
}

/// "报告…2023年国民经济和社会发展计划执行情况": the year the execution lines report on.
fn meta_execution_year(head: &str) -> Option<i32> {
    let i = head.find("计划执行情况")?;
    let before = head.get(..i)?;
    let tail_start = before
        .char_indices()
        .rev()
        .nth(20)
        .map(|(i, _)| i)
        .unwrap_or(0);
    meta::first_year(before.get(tail_start..)?)
}
