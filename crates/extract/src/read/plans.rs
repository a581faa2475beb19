//! Plans: one per attachment of a decomposition notice (附件1 …), else one for the document.

use super::Doc;
use crate::PlanMeta;
use regex::Regex;
use std::sync::LazyLock;

static SOURCE_REPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:19|20)\d{2})?\s*年?\s*(国家|全国|国务院|省|市|区|县|街道|镇)?\s*[《〈]([^》〉]{2,30})[》〉]").expect("source regex")
});

fn plan_meta(title: &str, attachment: Option<String>, doc_year: Option<i32>) -> PlanMeta {
    let mut p = PlanMeta {
        title: title.to_string(),
        attachment,
        year: crate::meta::first_year(title).or(doc_year),
        ..Default::default()
    };
    if let Some(c) = SOURCE_REPORT.captures(title) {
        let level = c.get(2).map(|m| m.as_str());
        p.level = level.map(|l| match l {
            "全国" | "国务院" => "国家".to_string(),
            l => l.to_string(),
        });
        p.source_report = c.get(0).map(|m| m.as_str().trim().to_string());
    }
    p
}

/// Plan 0 is the document itself (the text before any attachment); plan k is attachment k.
pub fn plans(doc: &Doc<'_>) -> Vec<PlanMeta> {
    let mut out = vec![plan_meta(doc.title.unwrap_or(""), None, doc.title_year)];
    for a in &doc.seg.outline.attachments {
        out.push(plan_meta(&a.title, Some(a.label.clone()), doc.title_year));
    }
    out
}

/// The plan a line belongs to.
pub fn plan_of_line(doc: &Doc<'_>, line: usize) -> usize {
    doc.seg
        .outline
        .attachments
        .iter()
        .rposition(|a| a.first_line <= line)
        .map_or(0, |k| k + 1)
}
