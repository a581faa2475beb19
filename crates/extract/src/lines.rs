//! Line iteration with byte offsets, and the line shapes shared by the document kinds.

use regex::Regex;
use std::sync::LazyLock;

/// A line of the cleaned text: its content without the newline and its byte offset.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub start: usize,
    pub text: &'a str,
}

impl Line<'_> {
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// "…(区级牵头单位:区城管局)附件3": an attachment heading glued to the end of the last item.
static GLUED_ATTACHMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[)。)]\s*(附件\s*\d{1,2})\s*$").expect("glued regex"));

pub fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for raw in text.split('\n') {
        let line_start = start;
        start += raw.len() + 1;
        if let Some(c) = GLUED_ATTACHMENT.captures(raw)
            && let Some(g) = c.get(1)
            && g.start() > 0
        {
            out.push(Line {
                start: line_start,
                text: raw.get(..g.start()).unwrap_or(""),
            });
            out.push(Line {
                start: line_start + g.start(),
                text: raw.get(g.start()..).unwrap_or(""),
            });
            continue;
        }
        out.push(Line {
            start: line_start,
            text: raw,
        });
    }
    out
}

/// Trims leading whitespace, keeping the offset right.
pub fn trim_start(l: Line<'_>) -> Line<'_> {
    let t = l.text.trim_start();
    Line {
        start: l.start + (l.text.len() - t.len()),
        text: t.trim_end(),
    }
}

static H1: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[一二三四五六七八九十]{1,3}\s*[、.．]").expect("h1"));
static H2: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[((]\s*[一二三四五六七八九十]{1,3}\s*[))]").expect("h2"));
static ITEM_NO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(\d{1,3})\s*[.、．](?:[^0-9]|$)|[((](\d{1,3})[))])").expect("item no")
});

pub fn heading_level(s: &str) -> Option<usize> {
    if H1.is_match(s) {
        Some(0)
    } else if H2.is_match(s) {
        Some(1)
    } else if s.starts_with("——") || s.starts_with("--") {
        Some(2)
    } else {
        None
    }
}

/// The item number at the start of a line ("12." / "12、" / "(12)"), with the prefix length.
pub fn item_number(s: &str) -> Option<(String, usize)> {
    let c = ITEM_NO.captures(s)?;
    let n = c.get(1).or_else(|| c.get(2))?;
    let whole = c.get(0)?;
    // the regex may have consumed the first character of the text itself
    let mut prefix = whole.end();
    if c.get(1).is_some() {
        let head = s.get(..whole.end())?;
        let last = head.chars().next_back()?;
        if !matches!(last, '.' | '、' | '．') {
            prefix -= last.len_utf8();
        }
    }
    Some((n.as_str().to_string(), prefix))
}

/// Section category from the headings above an item.
pub fn category_of(sections: &[String]) -> Option<String> {
    for s in sections.iter() {
        if s.contains("预期目标") || s.contains("主要目标") || s.contains("主要指标") {
            return Some("主要预期目标".to_string());
        }
        if s.contains("民生实事") || s.contains("民生项目") || s.contains("实事") {
            return Some("民生实事".to_string());
        }
        if s.contains("自身建设") {
            return Some("政府自身建设".to_string());
        }
    }
    (!sections.is_empty()).then(|| "重点工作".to_string())
}

static DEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:完成时限|完成时间|时间节点|时限要求)\s*[::]\s*([^;;))。\n]{1,30})|用\d+\s*[-—~至]\s*\d+年时间|(?:20\d{2}年)?\d{1,2}月(?:底|末)前?|(?:20\d{2}年)(?:底|年底)前?|上半年|下半年|年底前|年内|[两三四五\d]年内|长期坚持|持续推进")
        .expect("deadline regex")
});

/// The first explicit time limit in an item ("全年" is not one).
pub fn deadline(text: &str) -> Option<String> {
    for m in DEADLINE.captures_iter(text) {
        let whole = m.get(0)?;
        if let Some(v) = m.get(1) {
            return Some(v.as_str().trim().to_string());
        }
        let s = whole.as_str();
        if s == "年内" && text.get(..whole.start()).is_some_and(|b| b.ends_with('全')) {
            continue;
        }
        if s == "持续推进" {
            continue;
        }
        return Some(s.to_string());
    }
    None
}
