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

use std::{
    fmt,
    time::{Duration, Instant},
};

pub use interpret::{quantity, units};
pub use types::*;

/// Decodes bytes to text, detecting the encoding (UTF-8 with or without BOM, GB18030/GBK, …).
pub fn decode(input: &[u8]) -> Decoded {
    normalize::decode::decode(input)
}

/// Extracts structured items from a document. Never panics.
pub fn extract(input: &[u8], source: &str) -> Extraction {
    match guarded(input, source, None) {
        Ok(x) => x,
        // without a budget there is nothing to run out of
        Err(over) => failed(source, over.to_string()),
    }
}

/// As [`extract`], but gives up once `budget` has passed, between stages (decoding and
/// cleaning, segmenting, reading, restoring the text as written): every stage is linear in
/// the input, so no document holds the caller for much longer than its budget.
pub fn extract_within(
    input: &[u8],
    source: &str,
    budget: Duration,
) -> Result<Extraction, OverBudget> {
    guarded(input, source, Some((Instant::now(), budget)))
}

/// An extraction stopped because it ran out of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    /// The last stage that ran.
    pub stage: &'static str,
    pub budget: Duration,
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "extraction ran out of its {} ms budget while {}",
            self.budget.as_millis(),
            self.stage
        )
    }
}

fn failed(source: &str, why: String) -> Extraction {
    Extraction {
        source: source.to_string(),
        warnings: vec![why],
        ..Default::default()
    }
}

fn guarded(
    input: &[u8],
    source: &str,
    budget: Option<(Instant, Duration)>,
) -> Result<Extraction, OverBudget> {
    std::panic::catch_unwind(|| extract_inner(input, source, budget)).unwrap_or_else(|_| {
        Ok(failed(
            source,
            "internal error while extracting; no items".to_string(),
        ))
    })
}

fn extract_inner(
    input: &[u8],
    source: &str,
    budget: Option<(Instant, Duration)>,
) -> Result<Extraction, OverBudget> {
    let spent = |stage: &'static str| match budget {
        Some((start, budget)) if start.elapsed() >= budget => Err(OverBudget { stage, budget }),
        _ => Ok(()),
    };
    let n = normalize::normalize(input);
    spent("decoding and cleaning the text")?;
    let text = n.clean.as_str();
    let seg = segment::segment(text);
    spent("segmenting the text")?;
    let m = meta::extract_meta(text, n.html_title.as_deref());
    let kind = classify::classify(text, m.title.as_deref(), &seg);
    let title_year = m.title.as_deref().and_then(meta::first_year);
    let doc = read::Doc {
        text,
        seg: &seg,
        title: m.title.as_deref(),
        title_year,
        kind,
    };
    let read::Read {
        mut plans,
        mut items,
    } = read::read(&doc);
    spent("reading the items")?;
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
    spent("copying the items as written")?;
    let mut warnings = n.warnings;
    if text.trim().is_empty() && warnings.is_empty() {
        warnings.push("empty document".to_string());
    }
    Ok(Extraction {
        source: source.to_string(),
        document: DocumentMeta {
            // a copy that lost its title line still says what it is in its opening words
            title: m.title.or_else(|| meta::spoken_title(text)),
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
    })
}
