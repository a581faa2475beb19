//! Document metadata: title, 文号, issuer, date, the reporting rule a notice states.

use regex::Regex;
use std::sync::LazyLock;

static DOC_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{Han}]{1,12}[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*\d{1,4}\s*号")
        .expect("doc number regex")
});
static DATE_CN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日").expect("date regex")
});
static DATE_ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})").expect("iso date regex")
});
static META_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(名\s*称|标\s*题|发布机构|发文机关|文\s*号|发文字号|公开日期|发布日期|成文日期|发布时间)\s*[::]\s*\|?\s*([^|\n]+)")
        .expect("meta field regex")
});
static YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})\s*年").expect("year regex"));

#[derive(Debug, Default, Clone)]
pub struct Meta {
    pub title: Option<String>,
    pub doc_number: Option<String>,
    pub issuer: Option<String>,
    pub published: Option<String>,
    pub reporting_rule: Option<String>,
}

pub fn date_to_iso(s: &str) -> Option<String> {
    let c = DATE_CN.captures(s).or_else(|| DATE_ISO.captures(s))?;
    let y: u32 = c.get(1)?.as_str().parse().ok()?;
    let m: u32 = c.get(2)?.as_str().parse().ok()?;
    let d: u32 = c.get(3)?.as_str().parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

pub fn first_year(s: &str) -> Option<i32> {
    YEAR.captures(s)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
}

fn is_title_like(line: &str) -> bool {
    let n = line.chars().count();
    (6..=90).contains(&n)
        && crate::lines::heading_level(line).is_none()
        && !line.contains(['。', ',', ',', '|'])
        && [
            "通知", "方案", "报告", "意见", "决定", "清单", "计划", "办法", "分工",
        ]
        .iter()
        .any(|k| line.contains(k))
}

pub fn extract_meta(text: &str, html_title: Option<&str>) -> Meta {
    let mut meta = Meta::default();
    let head: String = text.chars().take(6000).collect();
    for c in META_FIELD.captures_iter(&head) {
        let key: String = c
            .get(1)
            .map(|m| m.as_str())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let val = c
            .get(2)
            .map(|m| m.as_str().trim().to_string())
            .unwrap_or_default();
        if val.is_empty() {
            continue;
        }
        match key.as_str() {
            "名称" | "标题" if meta.title.is_none() => meta.title = Some(val),
            "发布机构" | "发文机关" if meta.issuer.is_none() => meta.issuer = Some(val),
            "文号" | "发文字号" if meta.doc_number.is_none() && DOC_NUMBER.is_match(&val) => {
                meta.doc_number = Some(val)
            }
            "公开日期" | "发布日期" | "成文日期" | "发布时间" if meta.published.is_none() => {
                meta.published = date_to_iso(&val)
            }
            _ => {}
        }
    }
    if meta.title.is_none() {
        meta.title = text
            .lines()
            .map(str::trim)
            .take(80)
            .find(|l| is_title_like(l))
            .map(str::to_string);
    }
    if meta.title.is_none() {
        meta.title = html_title.map(str::to_string);
    }
    if meta.doc_number.is_none() {
        meta.doc_number = DOC_NUMBER.find(&head).map(|m| m.as_str().to_string());
    }
    // signature: an issuing body on the line before a bare date line
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for w in lines.windows(2).take(400) {
        let [body, date] = w else { continue };
        let date_only = DATE_CN
            .find(date)
            .is_some_and(|m| m.start() == 0 && date.len() - m.end() <= 3);
        let n = body.chars().count();
        if date_only
            && (4..=30).contains(&n)
            && ["政府", "办公室", "办公厅", "委员会", "局", "委"]
                .iter()
                .any(|k| body.ends_with(k))
        {
            if meta.issuer.is_none() {
                meta.issuer = Some(body.to_string());
            }
            if meta.published.is_none() {
                meta.published = date_to_iso(date);
            }
            break;
        }
    }
    if meta.published.is_none() {
        meta.published = text.lines().take(40).find_map(|l| {
            (l.contains("发布时间") || l.contains("发布日期") || l.contains("日期"))
                .then(|| date_to_iso(l))
                .flatten()
        });
    }
    meta.reporting_rule = reporting_rule(text);
    meta
}

/// The sentence around each "…前" that states a reporting rhythm.
fn reporting_rule(text: &str) -> Option<String> {
    let mut from = 0;
    while let Some(rel) = text.get(from..).and_then(|t| t.find('前')) {
        let at = from + rel;
        // sentences are short; bounded look-around keeps a hostile single line linear
        let window_start = (at.saturating_sub(900)..=at)
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(at);
        let start = text
            .get(window_start..at)?
            .rfind(['。', '\n'])
            .map(|p| window_start + p + 1)
            .unwrap_or(window_start);
        // '。' is three bytes: step to the next char boundary
        let start = (start..=at)
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(at);
        let window_end = (at + 900..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        let end = text
            .get(at..window_end)?
            .find(['。', '\n'])
            .map(|p| at + p)
            .unwrap_or(window_end);
        if let Some(s) = text.get(start..end)
            && is_reporting_rule(s)
        {
            return Some(format!("{}。", s.trim()));
        }
        from = end.max(at + '前'.len_utf8());
    }
    None
}

/// "从2025年第二季度起,每个季度第1个月的10日前,…报区政府督查室": a rhythm, a deadline and a recipient.
fn is_reporting_rule(s: &str) -> bool {
    let rhythm = [
        "季度",
        "每月",
        "每个月",
        "半年",
        "每年",
        "月底",
        "每周",
        "年底",
    ]
    .iter()
    .any(|k| s.contains(k));
    let deadline = s.contains("日前")
        || s.contains("日之前")
        || s.contains("号前")
        || s.contains("月底前")
        || s.contains("底前");
    let recipient = s.contains("报")
        && ["督查", "督办", "政府办", "办公室", "报送"]
            .iter()
            .any(|k| s.contains(k));
    rhythm && deadline && recipient && s.chars().count() < 300
}
