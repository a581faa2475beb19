//! Which kind of document is this?

use crate::DocKind;
use regex::Regex;
use std::sync::LazyLock;

static LISTING_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*[\[【(]?(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?[\]】)]?\s*$").expect("listing regex")
});
static RESP_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:牵头单位|责任单位|配合单位|牵头部门|责任部门)\s*[::|]").expect("resp regex")
});

static LEAD_MARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"牵头[,);、]|(?:配合|按职责分工负责|协办)[)。;]").expect("lead mark regex")
});

static TABLE_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^.*(?:序号|编号).*(?:牵头|责任单位|责任部门|主办单位).*$")
        .expect("table header regex")
});

pub fn classify(text: &str, title: Option<&str>) -> DocKind {
    let head: String = text.chars().take(3000).collect();
    let title = title.unwrap_or("");
    let resp = RESP_LABEL.find_iter(text).take(5).count();
    let decomposition_words = ["分解", "分工", "责任清单", "任务清单"];
    // "(X牵头,Y配合)" clauses without labels
    let lead_marks = LEAD_MARK.find_iter(text).take(8).count();
    if lead_marks >= 8
        || (lead_marks >= 3
            && decomposition_words
                .iter()
                .any(|w| title.contains(w) || head.contains(w)))
    {
        return DocKind::Decomposition;
    }
    if TABLE_HEADER.is_match(&head) {
        return DocKind::Decomposition;
    }
    if resp >= 1
        && (decomposition_words
            .iter()
            .any(|w| title.contains(w) || head.contains(w))
            || resp >= 5)
    {
        return DocKind::Decomposition;
    }
    let date_lines = text
        .lines()
        .filter(|l| l.len() <= 40 && LISTING_DATE.is_match(l))
        .take(3)
        .count();
    if date_lines >= 3 {
        return DocKind::Other;
    }
    if title.contains("计划执行情况") || head.contains("计划执行情况") {
        return DocKind::PlanExecution;
    }
    let speech =
        head.contains("各位代表") || head.contains("报告工作") || head.contains("向大会报告");
    if title.contains("政府工作报告") || (speech && text.contains("预期目标")) {
        return DocKind::WorkReport;
    }
    DocKind::Other
}
