//! Time limits stated in an item: "完成时限:6月底前", "上半年", "年底前", "用3-5年时间".

use regex::Regex;
use std::sync::LazyLock;

/// Dates and periods that set a time limit. The labelled field ("完成时限:…") is read by hand:
/// a regex for its free-text value would be many times slower on every item.
static DEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"用\d+\s*[-—~至]\s*\d+年时间|(?:20\d{2}年)?\d{1,2}月(?:底|末)前?|(?:20\d{2}年)(?:底|年底)前?|上半年|下半年|年底前|年内|[两三四五\d]年内|长期坚持")
        .expect("deadline regex")
});

/// Words every deadline form holds.
static ANCHORS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    crate::text::word_search([
        "月底",
        "月末",
        "年底",
        "年内",
        "半年",
        "时限",
        "时间节点",
        "完成时间",
        "进度安排",
        "年时间",
        "长期坚持",
    ])
});

const FIELDS: &[&str] = &["完成时限", "完成时间", "时间节点", "时限要求", "进度安排"];

/// The value of a "完成时限:…" field: up to its sentence, bracket or line end.
fn field(text: &str) -> Option<(usize, String)> {
    FIELDS
        .iter()
        .filter_map(|f| {
            let at = text.find(f)?;
            let rest = text.get(at + f.len()..)?.trim_start();
            let rest = rest.strip_prefix(':')?.trim_start();
            let end = rest.find([')', '。', '\n']).unwrap_or(rest.len());
            let mut end = end.min(180);
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            let v = rest.get(..end)?.trim();
            (!v.is_empty()).then(|| (at, v.to_string()))
        })
        .min_by_key(|(at, _)| *at)
}

/// The first explicit time limit in an item ("全年" is not one).
pub fn deadline(text: &str) -> Option<String> {
    // every form holds one of these: most items hold none
    if !ANCHORS.is_match(text) {
        return None;
    }
    let labelled = field(text);
    let dated = DEADLINE.find_iter(text).find(|m| {
        !(m.as_str() == "年内" && text.get(..m.start()).is_some_and(|b| b.ends_with('全')))
    });
    match (labelled, dated) {
        (Some((at, v)), Some(m)) if at <= m.start() => Some(v),
        (_, Some(m)) => Some(m.as_str().to_string()),
        (Some((_, v)), None) => Some(v),
        (None, None) => None,
    }
}

/// The section category from the headings above an item.
pub fn category_of(sections: &[String]) -> Option<String> {
    for s in sections {
        if crate::text::has(s, "预期目标")
            || crate::text::has(s, "主要目标")
            || crate::text::has(s, "主要指标")
        {
            return Some("主要预期目标".to_string());
        }
        if crate::text::has(s, "民生实事")
            || crate::text::has(s, "民生项目")
            || crate::text::has(s, "实事")
        {
            return Some("民生实事".to_string());
        }
        if crate::text::has(s, "自身建设") {
            return Some("政府自身建设".to_string());
        }
    }
    (!sections.is_empty()).then(|| "重点工作".to_string())
}
