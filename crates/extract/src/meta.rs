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
/// A field of a page's information table ("名 称: | 关于…的通知 |"), as a pattern: one of
/// `FIELD_NAMES` (tried in their order), then its value.
fn field_pattern() -> String {
    let names: Vec<String> = FIELD_NAMES
        .iter()
        .map(|&(name, spaced)| {
            let chars: Vec<String> = name.chars().map(String::from).collect();
            chars.join(if spaced { r"\s*" } else { "" })
        })
        .collect();
    format!(r"({})\s*[::]\s*\|?\s*([^|\n]+)", names.join("|"))
}

/// A field, read where its name starts.
static FIELD_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^(?:{})", field_pattern())).expect("meta field regex"));

/// The information table's field names, each with whether it may be letter-spaced ("名 称").
/// None ends another.
const FIELD_NAMES: &[(&str, bool)] = &[
    ("名称", true),
    ("标题", true),
    ("发布机构", false),
    ("发文机关", false),
    ("文号", true),
    ("发文字号", false),
    ("公开日期", false),
    ("发布日期", false),
    ("成文日期", false),
    ("发布时间", false),
];

/// The last characters of the fields' names.
const FIELD_NAME_ENDS: [char; 7] = ['称', '题', '构', '关', '号', '期', '间'];

/// Where the field name that ends just before `at` (and any spaces) starts.
fn field_name_before(text: &str, at: usize) -> Option<usize> {
    let before = text.get(..at)?.trim_end();
    // most colons follow a word that is no field's name: asked by its last character first
    if !before.ends_with(FIELD_NAME_ENDS) {
        return None;
    }
    FIELD_NAMES.iter().find_map(|&(name, spaced)| {
        let mut rest = before;
        for (k, c) in name.chars().rev().enumerate() {
            if spaced && k > 0 {
                rest = rest.trim_end();
            }
            rest = rest.strip_suffix(c)?;
        }
        Some(rest.len())
    })
}

/// Where each field of the information table starts, in order: found from each colon back over
/// a field's name, because the names' first characters (名, 标, 发) open words in every
/// sentence and a search for the names stops at each of them.
fn field_starts(head: &str) -> impl Iterator<Item = usize> + '_ {
    // the cleaned text's colons are all ":" (full-width ones are folded)
    memchr::memchr_iter(b':', head.as_bytes()).filter_map(|at| field_name_before(head, at))
}

/// The fields of the information table in the opening, in order: each name with its value.
/// Fields do not overlap: a name inside the last field's value is part of that value.
fn fields(head: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut read_to = 0usize;
    for at in field_starts(head) {
        let Some(c) = head
            .get(at..)
            .filter(|_| at >= read_to)
            .and_then(|h| FIELD_AT.captures(h))
        else {
            continue;
        };
        read_to = at + c.get(0).map_or(0, |m| m.end());
        if let (Some(name), Some(value)) = (c.get(1), c.get(2)) {
            out.push((name.as_str(), value.as_str()));
        }
    }
    out
}
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
    // a date of the calendar: 2025年2月30日 is none
    chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d).map(|date| date.to_string())
}

pub fn first_year(s: &str) -> Option<i32> {
    YEAR.captures(s)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
}

/// The words a title ends its subject with.
static TITLE_WORDS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    crate::text::word_search([
        "通知", "方案", "报告", "意见", "决定", "清单", "计划", "办法", "分工",
    ])
});

fn is_title_like(line: &str) -> bool {
    // lines may be long: counted no further than the bound
    crate::text::chars_at_least(line, 6)
        && crate::text::chars_at_most(line, 90)
        && crate::segment::markers::parse(line).is_none()
        && !line.contains(['。', ',', ',', '|'])
        && TITLE_WORDS.is_match(line)
}

pub fn extract_meta(text: &str, html_title: Option<&str>) -> Meta {
    let mut meta = Meta::default();
    // the opening: some 6000 characters
    let head = crate::text::head_bytes(text, 18_000);
    for (name, value) in fields(head) {
        let key: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        let val = value.trim().to_string();
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
        meta.title = crate::text::lines(text)
            .map(str::trim)
            .take(80)
            .find(|l| is_title_like(l))
            .map(str::to_string);
    }
    if meta.title.is_none() {
        meta.title = html_title.map(str::to_string);
    }
    if meta.doc_number.is_none() {
        meta.doc_number = doc_number_in(head);
    }
    // signature: an issuing body on the line before a bare date line
    let mut lines = crate::text::lines(text).take(401).map(str::trim);
    let mut body = lines.next().unwrap_or("");
    for date in lines {
        let body = std::mem::replace(&mut body, date);
        // a date line is short and starts with its year
        if date.len() > 40 || !date.starts_with(['1', '2']) {
            continue;
        }
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
        meta.published = crate::text::lines(text).take(40).find_map(|l| {
            // "发布日期" holds "日期"
            (crate::text::has(l, "发布时间") || crate::text::has(l, "日期"))
                .then(|| date_to_iso(l))
                .flatten()
        });
    }
    meta.reporting_rule = reporting_rule(text);
    meta
}

/// A title for a report read aloud whose copy lost its title line, from the genre's opening
/// words: "受区人民政府委托,我向本次大会报告X,请予审议" → "关于X的报告"; "我代表X人民政府,向大会
/// 报告工作" → "X政府工作报告", or "政府工作报告" when X is only a level (区, 市). Shown as the
/// document's title only; the rules never read it.
pub fn spoken_title(text: &str) -> Option<String> {
    let head = crate::text::head_bytes(text, 6_000);
    let (before, after) = head
        .split_once("向本次大会报告")
        .or_else(|| head.split_once("向大会报告"))?;
    if after.starts_with("工作") {
        let place = before
            .rsplit_once("代表")
            .and_then(|(_, p)| p.split_once("人民政府"))
            .map(|(p, _)| p.trim())
            .unwrap_or("");
        let named = place.chars().count() > 1 && place.ends_with(['省', '市', '区', '县']);
        return Some(format!("{}政府工作报告", if named { place } else { "" }));
    }
    let subject = after
        .split(['，', ',', '。', ';', '；', '\n'])
        .next()?
        .trim()
        .trim_end_matches("请予审议");
    let n = subject.chars().count();
    (4..=80)
        .contains(&n)
        .then(|| format!("关于{subject}的报告"))
}

/// The 文号 in the opening: found from each "号" back over the few characters a number
/// holds (a regex run over the whole opening has no literal to start from).
fn doc_number_in(head: &str) -> Option<String> {
    memchr::memmem::find_iter(head.as_bytes(), "号".as_bytes()).find_map(|at| {
        let end = at + "号".len();
        let from = floor_boundary(head, at.saturating_sub(90));
        DOC_NUMBER
            .find(head.get(from..end)?)
            .map(|m| m.as_str().to_string())
    })
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The sentence around each deadline ("…10日前", "月底前") that states a reporting rhythm.
/// Deadlines are rare and found by a search for "前" (rare bytes): asking first whether the
/// text names a recipient anywhere cost more, since 政 and 报 open words in every sentence.
fn reporting_rule(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut searched_to = 0;
    for at in memchr::memmem::find_iter(b, "前".as_bytes()) {
        if at < searched_to {
            continue;
        }
        let before = text.get(..at).unwrap_or("");
        if !crate::text::ends_any(before, &["日", "号", "底", "日之"]) {
            continue;
        }
        // sentences are short; bounded look-around keeps a hostile single line linear
        let window_start = floor_boundary(text, at.saturating_sub(900));
        let window_end = floor_boundary(text, (at + 900).min(text.len()));
        let back = b.get(window_start..at).unwrap_or_default();
        let start = sentence_break_rev(back).map_or(window_start, |p| window_start + p);
        let ahead = b.get(at..window_end).unwrap_or_default();
        let end = sentence_break(ahead).map_or(window_end, |(p, _)| at + p);
        if let Some(s) = text.get(start..end)
            && is_reporting_rule(s)
        {
            return Some(format!("{}。", s.trim()));
        }
        searched_to = end;
    }
    None
}

/// The first "。" or line break: its offset and length.
fn sentence_break(b: &[u8]) -> Option<(usize, usize)> {
    let stop = "。".as_bytes();
    let nl = memchr::memchr(b'\n', b);
    let dot = memchr::memmem::find(b.get(..nl.unwrap_or(b.len())).unwrap_or(b), stop);
    dot.map(|p| (p, stop.len())).or(nl.map(|p| (p, 1)))
}

/// Just after the last "。" or line break.
fn sentence_break_rev(b: &[u8]) -> Option<usize> {
    let stop = "。".as_bytes();
    let nl = memchr::memrchr(b'\n', b).map(|p| p + 1);
    let dot = memchr::memmem::rfind(b.get(nl.unwrap_or(0)..).unwrap_or(b), stop)
        .map(|p| nl.unwrap_or(0) + p + stop.len());
    dot.or(nl)
}

/// "从2025年第二季度起,每个季度第1个月的10日前,…报区政府督查室": a rhythm, a deadline and a recipient.
fn is_reporting_rule(s: &str) -> bool {
    // where the report goes: the rarest of the three, asked first
    let recipient = crate::text::has(s, "报")
        && ["督查", "督办", "政府办", "办公室", "报送"]
            .iter()
            .any(|k| crate::text::has(s, k));
    if !recipient {
        return false;
    }
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
    .any(|k| crate::text::has(s, k));
    let deadline = crate::text::has(s, "日前")
        || crate::text::has(s, "日之前")
        || crate::text::has(s, "号前")
        || crate::text::has(s, "月底前")
        || crate::text::has(s, "底前");
    rhythm && deadline && !crate::text::chars_at_least(s, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25: a day the month does not have is not a date.
    #[test]
    fn a_report_read_aloud_is_titled_from_its_opening() {
        assert_eq!(
            spoken_title(
                "各位代表:\n受区人民政府委托,我向本次大会报告武昌区2023年国民经济和社会发展计划\
                 执行情况与2024年国民经济和社会发展计划草案,请予审议。\n"
            )
            .as_deref(),
            Some(
                "关于武昌区2023年国民经济和社会发展计划执行情况与2024年国民经济和社会发展计划草案的报告"
            )
        );
        assert_eq!(
            spoken_title("各位代表:\n现在,我代表区人民政府,向大会报告工作,请予审议。").as_deref(),
            Some("政府工作报告")
        );
        assert_eq!(
            spoken_title("各位代表:现在,我代表武汉市人民政府,向大会报告工作。").as_deref(),
            Some("武汉市政府工作报告")
        );
        assert_eq!(spoken_title("一、目标任务\n(一)稳增长"), None);
    }

    #[test]
    fn the_field_pattern_is_the_one_searched_before() {
        assert_eq!(
            field_pattern(),
            r"(名\s*称|标\s*题|发布机构|发文机关|文\s*号|发文字号|公开日期|发布日期|成文日期|发布时间)\s*[::]\s*\|?\s*([^|\n]+)"
        );
    }

    fn by_search(h: &str) -> Vec<(&str, &str)> {
        Regex::new(&field_pattern())
            .unwrap()
            .captures_iter(h)
            .filter_map(|c| Some((c.get(1)?.as_str(), c.get(2)?.as_str())))
            .collect()
    }

    #[test]
    fn every_field_name_ends_in_a_listed_character() {
        for (name, _) in FIELD_NAMES {
            let last = name.chars().next_back().unwrap();
            assert!(FIELD_NAME_ENDS.contains(&last), "{name}");
        }
    }

    #[test]
    fn an_information_table_is_read() {
        let page =
            "名 称: | 关于印发方案的通知 | 发布机构: | 区政府办 |\n文 号: | 武昌政办〔2025〕1号 |";
        let want = vec![
            ("名 称", "关于印发方案的通知 "),
            ("发布机构", "区政府办 "),
            ("文 号", "武昌政办〔2025〕1号 "),
        ];
        assert_eq!(fields(page), want);
        assert_eq!(by_search(page), want);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        /// The fields found from the colons back are those a search of the whole opening finds:
        /// texts of whole names, their characters, colons, separators and other words.
        #[test]
        fn fields_are_those_a_search_finds(
            h in "(名称|名 称|标题|文号|文\n号|发文字号|发布机构|发文机关|公开日期|发布日期|成文日期|发布时间|名|称|文|号|字|发|目|x|:|:|[|]|[ \n\u{3000}]){0,16}"
        ) {
            proptest::prop_assert_eq!(fields(&h), by_search(&h));
        }
    }

    #[test]
    fn only_calendar_dates_are_dates() {
        assert_eq!(date_to_iso("2025年2月19日").as_deref(), Some("2025-02-19"));
        assert_eq!(date_to_iso("2024年2月29日").as_deref(), Some("2024-02-29"));
        assert_eq!(date_to_iso("2025年2月29日"), None);
        assert_eq!(date_to_iso("2025年2月30日"), None);
        assert_eq!(date_to_iso("2025年4月31日"), None);
        assert_eq!(date_to_iso("2025年13月1日"), None);
    }
}
