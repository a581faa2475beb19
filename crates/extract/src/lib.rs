//! Document extraction: turns government documents (work reports, responsibility-decomposition
//! notices, plan-execution and progress reports, news pages) into structured items. Pure: no
//! I/O.
//!
//! A pipeline of stages, where no stage can make a later one give up:
//!
//! 1. [`normalize`]: bytes → the text as written (BOM, UTF-8, else chardetng's guess such as
//!    GB18030; DOCX via zip + quick-xml, HTML via html5ever) → a cleaned copy for the rules (full-width
//!    forms, mirror pinyin, traditional characters, boilerplate lines), with an offset map back.
//! 2. [`segment`]: lines (run-on lines split), tables of every form with their column roles,
//!    the numbered outline with responsibility-label lines under each item, and indicator
//!    statements — independent of the kind.
//! 3. [`interpret`]: the responsibility grammar, deadlines, quantities and comparators,
//!    outcomes next to targets, indicators.
//! 4. [`classify`]: the kind, from what the segments hold and the title.
//! 5. `read`: the kind decides how blocks are read (task or target, target or outcome, which
//!    year); each item gets a confidence and the reasons behind it. Items are then re-sliced
//!    from the text as written.
//!
//! The rules are written for the genre, never for one document.

mod as_written;
mod classify;
pub mod interpret;
mod meta;
mod normalize;
mod read;
mod segment;
mod text;
mod types;

pub use interpret::{quantity, units};
pub use types::*;

/// Decodes bytes to text, detecting the encoding (UTF-8 with or without BOM, GB18030/GBK, …).
pub fn decode(input: &[u8]) -> Decoded {
    normalize::decode::decode(input)
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
    let n = normalize::normalize(input);
    let text = n.clean.as_str();
    let seg = segment::segment(text);
    let m = meta::extract_meta(text, n.html_title.as_deref());
    let kind = classify::classify(text, m.title.as_deref(), &seg);
    let title_year = m.title.as_deref().and_then(meta::first_year);
    let doc = read::Doc {
        text,
        seg: &seg,
        title: m.title.as_deref(),
        title_year,
        kind,
        first_is_lead: units::first_is_lead_rule(text),
    };
    let read::Read {
        mut plans,
        mut items,
    } = read::read(&doc);
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
    as_written::restore(&mut items, &mut plans, text, &n.raw, &n.map);
    let mut warnings = n.warnings;
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
            encoding: n.encoding,
            reporting_rule: m.reporting_rule,
        },
        plans,
        items,
        warnings,
        text: n.raw,
    }
}
