//! Progress and plan-execution reports in prose: "——target:outcome" lines (the year's
//! target, then what was achieved) followed by the new year's "——" target lines, and a
//! paragraph of results under a heading such as "主要预期目标完成情况", one item per clause.

use super::Doc;
use crate::interpret::{indicator, outcome, quantity};
use crate::{Item, Quantity};

const CATEGORY: &str = "主要预期目标";

pub fn items(doc: &Doc<'_>) -> Vec<Item> {
    let year = report_year(doc);
    let mut out = dash_lines(doc.text, year);
    out.extend(results_paragraphs(doc));
    out
}

/// A plan-execution report to the congress ("…计划执行情况与…计划草案的报告"), read like a work
/// report rather than like a progress bulletin.
pub fn is_plan_report(doc: &Doc<'_>) -> bool {
    let head_end = doc
        .text
        .char_indices()
        .nth(3000)
        .map_or(doc.text.len(), |(i, _)| i);
    doc.title
        .is_some_and(|t| crate::text::has(t, "计划执行情况"))
        || doc
            .text
            .get(..head_end)
            .is_some_and(|h| crate::text::has(h, "计划执行情况"))
}

/// "报告…2023年国民经济和社会发展计划执行情况": the year the execution lines report on.
fn report_year(doc: &Doc<'_>) -> Option<i32> {
    let text = doc.text;
    let head_end = text.char_indices().nth(1500).map_or(text.len(), |(i, _)| i);
    let head = text.get(..head_end).unwrap_or("");
    let near_execution = head.find("计划执行情况").and_then(|i| {
        let before = head.get(..i)?;
        let from = before.char_indices().rev().nth(20).map_or(0, |(i, _)| i);
        crate::meta::first_year(before.get(from..)?)
    });
    near_execution.or(doc.title_year).or_else(|| {
        let h = text.char_indices().nth(2000).map_or(text.len(), |(i, _)| i);
        crate::meta::first_year(text.get(..h).unwrap_or(""))
    })
}

fn quantities(t: &str) -> Vec<Quantity> {
    quantity::find_quantities(t)
        .into_iter()
        .map(|f| f.quantity)
        .collect()
}

/// "——" segments anywhere (a scraped page may run the list into one line); a segment ends at
/// the next "——", a line break or its first "。". Only runs of segments that speak of
/// indicators count; "——加快推进…" task bullets do not.
fn dash_lines(text: &str, report_year: Option<i32>) -> Vec<Item> {
    let mut blocks: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut prev_end: Option<usize> = None;
    let mut from = 0usize;
    let dashes = memchr::memmem::Finder::new("——");
    while let Some(rel) = text.get(from..).and_then(|t| dashes.find(t.as_bytes())) {
        let dash = from + rel;
        let body_start = dash
            + text
                .get(dash..)
                .map_or(0, |t| t.len() - t.trim_start_matches('—').len());
        let rest = text.get(body_start..).unwrap_or("");
        let mut seg_len = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
        if let Some(p) = rest.get(..seg_len).and_then(|r| dashes.find(r.as_bytes())) {
            seg_len = p;
        }
        if let Some(p) = rest.get(..seg_len).and_then(|r| r.find('。')) {
            seg_len = p + '。'.len_utf8();
        }
        from = (body_start + seg_len).max(dash + 1);
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
        let body = rest.get(..seg_len).unwrap_or("").trim_end();
        // the subtitle "——2023年12月25日在…人民代表大会" is not an item
        if body.is_empty()
            || crate::text::has(body, "人民代表大会")
            || body.starts_with(|c: char| c.is_ascii_digit())
                && crate::meta::date_to_iso(body).is_some()
        {
            prev_end = None;
            continue;
        }
        let end = body_start + body.trim_end_matches(['。', ';', ',']).len();
        let adjacent =
            prev_end.is_some_and(|p| text.get(p..dash).is_some_and(|gap| gap.trim().is_empty()));
        match blocks.last_mut() {
            Some(b) if adjacent => b.push((body_start, end)),
            _ => blocks.push(vec![(body_start, end)]),
        }
        prev_end = Some(body_start + body.len());
    }
    let mut items = Vec::new();
    for block in blocks {
        // one search over the block: the segments are apart by their dashes, and no family
        // name holds a dash, so each segment's family is the one it has alone
        let with_family = indicator::families_of_clauses(text, &block)
            .iter()
            .filter(|f| f.is_some())
            .count();
        if with_family * 2 < block.len() {
            continue;
        }
        for (s, e) in block {
            items.push(dash_item(text, s, e, report_year));
        }
    }
    items
}

fn dash_item(text: &str, s: usize, e: usize, report_year: Option<i32>) -> Item {
    let content = text.get(s..e).unwrap_or("");
    let outcome_words = ["预计", "实际", "完成", "实现"];
    let split = content
        .find(':')
        .filter(|&p| {
            let after = content.get(p..).unwrap_or("");
            outcome_words.iter().any(|w| crate::text::has(after, w))
        })
        .or_else(|| {
            // "…增长6.5%,预计全年增长6.5%左右": the outcome after a clause break
            content
                .find("预计")
                .or_else(|| content.find("实际"))
                .filter(|&p| {
                    p > 0
                        && content
                            .get(..p)
                            .is_some_and(|b| b.ends_with([',', ';', '。']))
                })
        });
    let mut item = Item {
        text: content.to_string(),
        span: [s, e],
        category: Some(CATEGORY.to_string()),
        confidence: super::confidence::STATEMENT,
        ..Default::default()
    };
    match split {
        Some(p) => {
            item.year = report_year;
            item.targets = quantities(content.get(..p).unwrap_or(""));
            item.actual = quantities(content.get(p..).unwrap_or(""));
            item.reasons
                .push("—— line: the year's target, then its outcome".into());
        }
        None => {
            item.year = report_year.map(|y| y + 1);
            item.targets = quantities(content);
            item.reasons
                .push("—— line of the new year's targets".into());
        }
    }
    for q in &item.targets {
        if let Some(w) = quantity::plausibility_warning(q) {
            item.warnings.push(w);
        }
    }
    item
}

/// The clauses of a paragraph, split at ";" and "。", trimmed, as byte ranges.
fn sentence_clauses(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let para = text.get(start..end).unwrap_or("");
    let mut cs = 0usize;
    let mut push = |a: usize, b: usize| {
        let piece = para.get(a..b).unwrap_or("");
        let from_lead = piece.trim_start();
        let lead = piece.len() - from_lead.len();
        let t = from_lead.trim_end();
        if !t.is_empty() {
            out.push((start + a + lead, start + a + lead + t.len()));
        }
    };
    // the ends of sentences by SIMD search (";" is a byte, "。" three), not by decoding each
    // character
    let b = para.as_bytes();
    let semicolons = memchr::memchr_iter(b';', b).map(|k| (k, 1));
    let stops = crate::text::FULL_STOP.find_iter(b).map(|k| (k, "。".len()));
    for (k, len) in crate::text::merge(semicolons, stops) {
        push(cs, k);
        cs = k + len;
    }
    push(cs, para.len());
    out
}

/// Does a paragraph list indicators with their results ("全县地区生产总值完成11.3亿元,…;规模
/// 以上工业增加值完成4亿元,…")? Three or more of its clauses name an indicator and a figure.
fn lists_indicator_results(text: &str, clauses: &[(usize, usize)]) -> bool {
    // one search over the paragraph: its clauses are apart by ; and 。, which no family name
    // holds, so each clause's family is the one it has alone
    clauses
        .iter()
        .zip(indicator::families_of_clauses(text, clauses))
        .filter(|((a, b), family)| {
            family.is_some()
                && !outcome::outcomes(text.get(*a..*b).unwrap_or(""))
                    .0
                    .is_empty()
        })
        .count()
        >= 3
}

/// Paragraphs of results: under a heading ("(一)主要目标完成情况"), or recognisable as a list
/// of indicators with their results. One item per clause that states a result.
fn results_paragraphs(doc: &Doc<'_>) -> Vec<Item> {
    let text = doc.text;
    let lines = &doc.seg.lines;
    let mut out = Vec::new();
    let mut taken: Vec<usize> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let s = l.text(text);
        let heading = crate::text::chars_at_most(s, 50)
            && crate::text::has(s, "完成情况")
            && [
                "预期目标",
                "主要目标",
                "主要指标",
                "经济指标",
                "经济社会发展",
            ]
            .iter()
            .any(|k| crate::text::has(s, k));
        let under_heading = heading
            .then(|| {
                lines
                    .iter()
                    .enumerate()
                    .skip(i + 1)
                    .find(|(_, l)| !l.is_blank())
                    .map(|(k, _)| k)
            })
            .flatten();
        let candidates: Vec<usize> = match under_heading {
            Some(k) => vec![k],
            None if crate::text::chars_at_least(s, 41)
                && crate::segment::markers::parse(s).is_none() =>
            {
                vec![i]
            }
            None => Vec::new(),
        };
        for k in candidates {
            if taken.contains(&k) {
                continue;
            }
            let Some(p) = lines.get(k) else { continue };
            let para = p.text(text);
            if !crate::text::chars_at_least(para, 20)
                || crate::segment::markers::parse(para).is_some()
            {
                continue;
            }
            let clauses = sentence_clauses(text, p.start, p.end);
            if under_heading.is_none() && !lists_indicator_results(text, &clauses) {
                continue;
            }
            taken.push(k);
            for (a, b) in clauses {
                let t = text.get(a..b).unwrap_or("");
                let (results, _) = outcome::outcomes(t);
                if results.is_empty() {
                    continue;
                }
                let mut it = Item {
                    text: t.to_string(),
                    span: [a, b],
                    category: Some(CATEGORY.to_string()),
                    actual: results,
                    confidence: super::confidence::RESULT,
                    year: doc.title_year,
                    ..Default::default()
                };
                it.reasons.push(if under_heading.is_some() {
                    "a clause of the results under a 完成情况 heading".into()
                } else {
                    "a clause of a paragraph listing indicators and their results".into()
                });
                out.push(it);
            }
        }
    }
    out
}

/// A progress report's unnumbered paragraphs, one per task: what the task set out to do
/// ("2606个撤并村通公路(2013—2017年)。"), then what was done ("上半年已完成建设4022公里…").
/// The item starts with the first sentence that states a figure.
pub fn progress_paragraphs(doc: &Doc<'_>, claimed: &[Item]) -> Vec<Item> {
    let text = doc.text;
    let mut out = Vec::new();
    for b in &doc.seg.outline.blocks {
        if b.marker.is_some() {
            continue;
        }
        let (Some(first), Some(last)) = (
            doc.seg.lines.get(b.line),
            doc.seg.lines.get(b.end_line.saturating_sub(1)),
        ) else {
            continue;
        };
        let (start, end) = (first.start, last.end);
        if claimed.iter().any(|c| c.span[0] < end && start < c.span[1]) {
            continue;
        }
        let para = text.get(start..end).unwrap_or("");
        let Some(turn) = outcome::outcome_start(para) else {
            continue;
        };
        let (results, stated) = outcome::outcomes(para.get(turn..).unwrap_or(""));
        if results.is_empty() {
            continue;
        }
        // the first sentence with a figure
        let from = sentence_clauses(text, start, end)
            .into_iter()
            .map(|(a, _)| a)
            .find(|&a| {
                text.get(a..end)
                    .and_then(|t| t.split(['。', ';']).next())
                    .is_some_and(|t| !quantity::find_quantities(t).is_empty())
            })
            .unwrap_or(start)
            .min(start + turn);
        let mut it = Item {
            text: text.get(from..end).unwrap_or("").to_string(),
            span: [from, end],
            confidence: super::confidence::RESULT,
            year: doc.title_year,
            ..Default::default()
        };
        it.targets = outcome::targets(text.get(from..start + turn).unwrap_or(""));
        it.targets.extend(stated);
        it.actual = results;
        it.reasons
            .push("a paragraph of a progress report: the task, then what was done".into());
        out.push(it);
    }
    out
}
