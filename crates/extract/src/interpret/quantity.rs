//! Quantitative targets in Chinese administrative prose: "新增就业25万人以上", "增长6%左右",
//! "降至35微克/立方米", "4.5%-5%", "两万个". The hard part is what is *not* a target: years,
//! ordinals, ages, names with digits, and category thresholds ("亿元以上项目").

use crate::text;
use crate::{Comparator, Quantity};
use std::sync::LazyLock;

/// A quantity found in a text, with the byte range of its phrase.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub quantity: Quantity,
}

/// Measure words, longest first at match time. Units that mark durations or ages we never
/// treat as targets are in `EXCLUDED_UNITS`.
const UNITS: &[&str] = &[
    "个百分点",
    "百分点",
    "个工作日",
    "工作日",
    "个小时",
    "%",
    "‰",
    "微克/立方米",
    "毫克/立方米",
    "平方公里",
    "平方千米",
    "平方米",
    "立方米",
    "公里",
    "千米",
    "公顷",
    "亩",
    "吨/日",
    "吨/天",
    "吨标准煤",
    "吨",
    "千克",
    "公斤",
    "千伏安",
    "千瓦时",
    "千瓦",
    "兆瓦",
    "美元",
    "元",
    "人次",
    "人",
    "名",
    "位",
    "家次",
    "家",
    "户次",
    "户",
    "个",
    "项",
    "条",
    "所",
    "座",
    "处",
    "台",
    "套",
    "间",
    "张",
    "部",
    "根",
    "栋",
    "幢",
    "宗",
    "片",
    "场次",
    "场",
    "批次",
    "批",
    "剂次",
    "种",
    "天",
    "小时",
    "分钟",
    "周",
    "次",
    "辆",
    "艘",
    "架",
    "件",
    "篇",
    "支",
    "只",
    "株",
    "棵",
    "标箱",
    "本",
    "册",
    "份",
    "块",
    "段",
    "对",
    "组",
    "门",
    "倍",
    "米",
    "床",
    "班",
    "列",
    "趟",
    "例",
    "起",
    "斤",
    "度",
    "项次",
    "标准箱",
    "艘次",
    "架次",
    "车次",
    "课时",
    "学时",
    "口",
    "眼",
    "头",
    "盏",
];

const EXCLUDED_UNITS: &[&str] = &[
    "周岁", "岁", "周年", "个月", "年", "届", "月", "日", "号", "级", "时",
];

/// Words before a number that set the comparator, with how far back (in chars) they may stand.
const PREFIX_COMPARATORS: &[(&str, Comparator)] = &[
    ("不少于", Comparator::AtLeast),
    ("不低于", Comparator::AtLeast),
    ("至少", Comparator::AtLeast),
    ("超过", Comparator::AtLeast),
    ("突破", Comparator::AtLeast),
    ("迈上", Comparator::AtLeast),
    ("超", Comparator::AtLeast),
    ("逾", Comparator::AtLeast),
    ("不超过", Comparator::AtMost),
    ("不高于", Comparator::AtMost),
    ("降至", Comparator::AtMost),
    ("降到", Comparator::AtMost),
    ("降低到", Comparator::AtMost),
    ("降低至", Comparator::AtMost),
    ("控制在", Comparator::AtMost),
    ("缩短到", Comparator::AtMost),
    ("缩短至", Comparator::AtMost),
    ("压减至", Comparator::AtMost),
    ("压缩到", Comparator::AtMost),
    ("低于", Comparator::AtMost),
    ("高于", Comparator::AtLeast),
    ("多于", Comparator::AtLeast),
    ("最多", Comparator::AtMost),
    ("大约", Comparator::About),
    ("约", Comparator::About),
];

const SUFFIX_COMPARATORS: &[(&str, Comparator)] = &[
    ("及以上", Comparator::AtLeast),
    ("以上", Comparator::AtLeast),
    ("以内", Comparator::AtMost),
    ("以下", Comparator::AtMost),
    ("左右", Comparator::About),
    ("上下", Comparator::About),
];

fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        ',' | ';' | '。' | '、' | ':' | '!' | '?' | '\n' | '(' | ')' | '|'
    )
}

fn cn_digit(c: char) -> Option<f64> {
    Some(match c {
        '零' | '〇' => 0.0,
        '一' => 1.0,
        '二' | '两' => 2.0,
        '三' => 3.0,
        '四' => 4.0,
        '五' => 5.0,
        '六' => 6.0,
        '七' => 7.0,
        '八' => 8.0,
        '九' => 9.0,
        _ => return None,
    })
}

/// Parses a Chinese numeral such as 两万, 三十, 一百二十, 十五, 三千五百万. None when malformed.
pub fn parse_chinese_numeral(s: &str) -> Option<f64> {
    let mut total = 0.0_f64; // completed 亿 sections
    let mut section = 0.0_f64; // completed 万 sections below 亿
    let mut small = 0.0_f64; // below 万
    let mut digit: Option<f64> = None;
    let mut any = false;
    for c in s.chars() {
        any = true;
        if let Some(d) = cn_digit(c) {
            if digit.is_some() && d != 0.0 {
                return None;
            }
            digit = Some(d);
            continue;
        }
        let mag = match c {
            '十' => 10.0,
            '百' => 100.0,
            '千' => 1000.0,
            '万' => 1e4,
            '亿' => 1e8,
            _ => return None,
        };
        if mag < 1e4 {
            small += digit.unwrap_or(1.0) * mag;
        } else if mag == 1e4 {
            section += (small + digit.unwrap_or(0.0)) * mag;
            small = 0.0;
        } else {
            total += (section + small + digit.unwrap_or(0.0)) * mag;
            section = 0.0;
            small = 0.0;
        }
        digit = None;
    }
    if !any {
        return None;
    }
    Some(total + section + small + digit.unwrap_or(0.0))
}

/// Parses a number as written: Arabic digits with 万/亿 (and 千万, 百万) multipliers, or a
/// Chinese numeral. "3.5万" → 35000, "2700亿" → 2.7e11, "两万" → 20000.
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (digits, rest) = s.split_at(split);
    if digits.is_empty() {
        return parse_chinese_numeral(rest);
    }
    let (m, used) = multiplier(rest);
    if used != rest.len() {
        return None;
    }
    scaled(digits, m)
}

/// `digits` × `m`, computed on the decimal digits so that "18.4亿" is exactly 1840000000
/// rather than 18.4 × 1e8 = 1839999999.9999998 (which would not survive a JSON round trip).
fn scaled(digits: &str, m: f64) -> Option<f64> {
    let v: f64 = digits.parse().ok()?;
    if m == 1.0 {
        return Some(v);
    }
    let decimals = digits.split_once('.').map_or(0, |(_, d)| d.len());
    if decimals == 0 || decimals > 6 {
        return Some(v * m);
    }
    let p = 10f64.powi(decimals as i32);
    Some((v * p).round() * m / p)
}

/// Reads 万/亿 multipliers (and 千万/百万/十万) at the start of `s`; returns the factor and bytes used.
fn multiplier(s: &str) -> (f64, usize) {
    let mut m = 1.0;
    let mut used = 0;
    let mut chars = s.chars().take(4).peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match c {
            '万' => m *= 1e4,
            '亿' => m *= 1e8,
            '十' | '百' | '千' if matches!(next, Some('万') | Some('亿')) => {
                m *= match c {
                    '十' => 10.0,
                    '百' => 100.0,
                    _ => 1000.0,
                }
            }
            _ => break,
        }
        used += c.len_utf8();
    }
    (m, used)
}

/// Is `s` exactly a measure word we read targets in (公里, 户, 个, %)?
pub fn is_measure_word(s: &str) -> bool {
    UNITS.contains(&s)
}

/// Measure words (and the excluded ones) by their first character, longest first.
static UNITS_BY_FIRST: LazyLock<rustc_hash::FxHashMap<char, Vec<(&'static str, bool)>>> =
    LazyLock::new(|| {
        let mut m: rustc_hash::FxHashMap<char, Vec<(&'static str, bool)>> =
            rustc_hash::FxHashMap::default();
        let all = UNITS
            .iter()
            .map(|u| (*u, false))
            .chain(EXCLUDED_UNITS.iter().map(|u| (*u, true)));
        for (u, excluded) in all {
            if let Some(c) = u.chars().next() {
                m.entry(c).or_default().push((u, excluded));
            }
        }
        for v in m.values_mut() {
            v.sort_by_key(|(u, _)| std::cmp::Reverse(u.len()));
        }
        m
    });

fn match_unit(s: &str) -> Option<(&'static str, bool)> {
    let c = s.chars().next()?;
    UNITS_BY_FIRST
        .get(&c)?
        .iter()
        .find(|(u, _)| text::starts(s, u))
        .copied()
}

/// A unit may carry a parenthesised variant: 套(间), 家(次), 条(段).
fn paren_suffix(s: &str) -> usize {
    let mut it = s.char_indices();
    let Some((_, open)) = it.next() else { return 0 };
    if open != '(' {
        return 0;
    }
    let Some((i, inner)) = it.next() else {
        return 0;
    };
    let Some((j, close)) = it.next() else {
        return 0;
    };
    let inner_s = s.get(i..j).unwrap_or("");
    if close == ')' && (UNITS.contains(&inner_s) || inner == '间') {
        return j + close.len_utf8();
    }
    0
}

fn suffix_comparator(s: &str) -> Option<(Comparator, usize)> {
    SUFFIX_COMPARATORS
        .iter()
        .find(|(w, _)| text::starts(s, w))
        .map(|(w, c)| (*c, w.len()))
}

/// Looks back from `pos` within the clause for a comparator word.
fn prefix_comparator(text: &str, clause_start: usize, pos: usize) -> Option<Comparator> {
    let before = text.get(clause_start..pos)?;
    // Only the last few characters count: "至少办好1所" but not a 超 far away.
    let tail_start = before
        .char_indices()
        .rev()
        .nth(5)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let tail = before.get(tail_start..)?;
    // every comparator word starts with one of these: most tails hold none
    if !tail.contains([
        '不', '至', '超', '突', '迈', '逾', '降', '控', '缩', '压', '低', '高', '多', '大', '约',
        '最',
    ]) {
        return None;
    }
    // the comparator nearest the number wins (the word listed first where two end together):
    // each word is tried where each of the tail's few characters starts
    let mut best: Option<(usize, usize, Comparator)> = None;
    for (i, _) in tail.char_indices() {
        let here = tail.get(i..).unwrap_or("");
        for (k, (w, c)) in PREFIX_COMPARATORS.iter().enumerate() {
            if !text::starts(here, w) {
                continue;
            }
            let end = i + w.len();
            let gap = tail.get(end..).map(|g| g.chars().count()).unwrap_or(99);
            // single-character comparators only when touching the number
            let ok = if w.chars().nth(1).is_none() {
                gap == 0
            } else {
                gap <= 3
            };
            if ok && best.is_none_or(|(be, bk, _)| end > be || end == be && k < bk) {
                best = Some((end, k, *c));
            }
        }
    }
    best.map(|(_, _, c)| c)
}

/// How far back a phrase may reach; bounding it keeps hostile single-line input linear.
const LOOKBACK: usize = 240;

/// Largest char boundary at or below `i`.
fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn clause_start_before(text: &str, pos: usize, floor: usize) -> usize {
    let floor = floor.max(floor_boundary(text, pos.saturating_sub(LOOKBACK)));
    let Some(before) = text.get(floor..pos) else {
        return pos;
    };
    match before
        .char_indices()
        .rev()
        .find(|(_, c)| is_clause_break(*c))
    {
        Some((i, c)) => floor + i + c.len_utf8(),
        None => floor,
    }
}

/// Verbs and comparator words trimmed from the end of a metric: "地区生产总值增长" keeps
/// 增长 (the measure), "新增就业达到" drops 达到.
const METRIC_TRIM: &[&str] = &[
    "不少于",
    "不低于",
    "不超过",
    "不高于",
    "至少",
    "超过",
    "突破",
    "达到",
    "降至",
    "降到",
    "控制在",
    "缩短到",
    "缩短至",
    "迈上",
    "大约",
    "实现",
    "完成",
    "达",
    "超",
    "约",
    "为",
    "在",
    "逾",
];

fn metric_of(clause: &str) -> String {
    let mut m = clause.trim_matches(|c: char| c.is_whitespace() || c == '“' || c == '”');
    // a word to trim ends with one of these: most metrics end with none
    const LAST: &[char] = &[
        '于', '过', '少', '破', '到', '至', '在', '上', '约', '现', '成', '达', '超', '为', '逾',
    ];
    while m.ends_with(LAST) {
        let before = m;
        for w in METRIC_TRIM {
            if let Some(s) = text::strip_suffix(m, w) {
                m = s;
            }
        }
        if before == m {
            break;
        }
    }
    m.trim().to_string()
}

fn prev_char(text: &str, pos: usize) -> Option<char> {
    text.get(..pos).and_then(|s| s.chars().next_back())
}

fn next_char(text: &str, pos: usize) -> Option<char> {
    text.get(pos..).and_then(|s| s.chars().next())
}

/// Validates a run of Chinese numeral characters as a count: it must carry a magnitude
/// (十/百/千/万) and start with a digit or 十, so 一栋楼, 两个毫不动摇, 千名干部, 万家企业 are not counts.
fn chinese_count(s: &str) -> bool {
    let first = s.chars().next();
    let has_mag = s
        .chars()
        .any(|c| matches!(c, '十' | '百' | '千' | '万' | '亿'));
    has_mag && matches!(first, Some(c) if cn_digit(c).is_some_and(|d| d > 0.0) || c == '十')
}

/// Finds every quantitative target in `text`.
pub fn find_quantities(text: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut floor = 0usize; // the phrase of a quantity does not reach into the previous one
    let mut skip_until = 0usize;
    for (start, end) in numbers(text) {
        if start < skip_until {
            continue;
        }
        if let Some(f) = quantity_at(text, start, end, floor) {
            floor = f.end;
            skip_until = f.end;
            // "分别达100%、88%以上": a bare list member inherits the metric before it
            let mut f = f;
            if f.quantity.metric.is_empty()
                && let Some(prev) = out.last()
            {
                f.quantity.metric = prev.quantity.metric.clone();
            }
            out.push(f);
        }
    }
    out
}

/// The numeral characters (all three bytes long in UTF-8).
const CN_NUMERALS: [char; 17] = [
    '零', '〇', '一', '二', '两', '三', '四', '五', '六', '七', '八', '九', '十', '百', '千', '万',
    '亿',
];

/// The numerals by their bytes: for a lead byte E3–E9 and a second byte, the set of third
/// bytes (their low six bits) that complete a numeral. Asking costs one load per character
/// instead of decoding it.
static NUMERAL_BYTES: [u64; 7 * 64] = numeral_bytes();

const fn numeral_bytes() -> [u64; 7 * 64] {
    let mut t = [0u64; 7 * 64];
    let mut i = 0;
    while i < CN_NUMERALS.len() {
        let cp = CN_NUMERALS[i] as u32;
        let (b0, b1, b2) = (0xE0 | (cp >> 12), (cp >> 6) & 0x3F, cp & 0x3F);
        t[((b0 - 0xE3) * 64 + b1) as usize] |= 1u64 << b2;
        i += 1;
    }
    t
}

/// The numbers in a text — digits with an optional decimal part, or a run of numeral
/// characters — scanned byte by byte (this runs on every item).
fn numbers(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    let mut i = 0usize;
    // is there a numeral at byte `at`? (all are three bytes long)
    let numeral_at = move |at: usize| match b.get(at..at + 3) {
        Some(&[b0 @ 0xE3..=0xE9, b1, b2]) => {
            let set = NUMERAL_BYTES
                .get(usize::from(b0 - 0xE3) * 64 + usize::from(b1 & 0x3F))
                .copied()
                .unwrap_or(0);
            set >> (b2 & 0x3F) & 1 == 1
        }
        _ => false,
    };
    let digits_from = move |mut at: usize| {
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        at
    };
    std::iter::from_fn(move || {
        while let Some(&c) = b.get(i) {
            if c < 0x80 {
                if c.is_ascii_digit() {
                    let start = i;
                    i = digits_from(i);
                    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        i = digits_from(i + 1);
                    }
                    return Some((start, i));
                }
                i += 1;
                continue;
            }
            if numeral_at(i) {
                let start = i;
                i += 3;
                while numeral_at(i) {
                    i += 3;
                }
                return Some((start, i));
            }
            // the next character's first byte
            i += match c {
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
        }
        None
    })
}

fn quantity_at(text: &str, start: usize, core_end: usize, floor: usize) -> Option<Found> {
    let core = text.get(start..core_end)?;
    let arabic = core.starts_with(|c: char| c.is_ascii_digit());
    let prev = prev_char(text, start);
    // ordinals, names with letters (PM2.5, G0IP, 5G), formulas ("1+5"), quoted names
    // (“十项重大工程”, “61020”)
    if matches!(
        prev,
        Some('第')
            | Some('“')
            | Some('"')
            | Some('《')
            | Some('‘')
            | Some('+')
            | Some('.')
            | Some('·')
            | Some('/')
            | Some('×')
            | Some('*')
            | Some('#')
    ) || prev.is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let (mut value, mut pos) = if arabic {
        let (m, used) = multiplier(text.get(core_end..)?);
        (scaled(core, m)?, core_end + used)
    } else {
        // 超亿元 / 突破万亿元: a bare magnitude after a comparator means one of it
        let bare = matches!(core, "亿" | "万" | "万亿");
        if bare {
            let after = text.get(core_end..).unwrap_or("");
            if !after.starts_with('元')
                || prefix_comparator(text, clause_start_before(text, start, floor), start).is_none()
            {
                return None;
            }
        } else if !chinese_count(core) || matches!(prev, Some('数' | '几' | '上' | '成' | '近'))
        {
            // 数十个, 上百家, 成千: vague magnitudes, not figures
            return None;
        }
        let v = match core {
            "亿" => 1e8,
            "万" => 1e4,
            "万亿" => 1e12,
            _ => parse_chinese_numeral(core)?,
        };
        (v, core_end)
    };
    let after_core = text.get(pos..).unwrap_or("");
    if after_core.starts_with(|c: char| c.is_ascii_alphabetic() || c == '+' || c == ':' || c == '/')
    {
        return None;
    }
    // threshold, not target: 过10亿 (but 超过 is a comparator)
    if prev == Some('过') && text.get(..start).is_some_and(|s| !s.ends_with("超过")) {
        return None;
    }
    let mut comparator = None;
    // 2300余场, 53万余户
    if let Some(c) = next_char(text, pos)
        && (c == '余' || c == '多')
    {
        comparator = Some(Comparator::AtLeast);
        pos += c.len_utf8();
    }
    let mut value_max = None;
    let mut unit: Option<String> = None;
    // a percent right after the first number of a range: 4.5%-5%
    let mut pct_first = false;
    if text.get(pos..).is_some_and(|s| s.starts_with('%')) {
        let after = text.get(pos + 1..).unwrap_or("");
        if after.starts_with(['-', '—', '–', '~', '～', '至', '到']) {
            pct_first = true;
            pos += 1;
        }
    }
    // range: 3-5个, 10亿-50亿元, 5%—6%
    let rest = text.get(pos..).unwrap_or("");
    if let Some(sep) = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '-' | '—' | '–' | '~' | '～' | '至' | '到'))
    {
        let mut after_sep = pos + sep.len_utf8();
        if sep == '—' && text.get(after_sep..).is_some_and(|s| s.starts_with('—')) {
            after_sep += '—'.len_utf8();
        }
        if let Some((s2, e2)) = numbers(text.get(after_sep..).unwrap_or(""))
            .next()
            .filter(|(s2, _)| *s2 == 0)
            .map(|(s2, e2)| (after_sep + s2, after_sep + e2))
            && text
                .get(s2..e2)
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
            && arabic
        {
            let second = text.get(s2..e2)?;
            let (mul2, used2) = multiplier(text.get(e2..)?);
            let (mul1, _) = multiplier(text.get(core_end..)?);
            if mul1 == 1.0 && mul2 != 1.0 {
                value = scaled(core, mul2)?;
            }
            value_max = Some(scaled(second, mul2)?);
            pos = e2 + used2;
        } else if pct_first {
            pos -= 1;
        }
    } else if pct_first {
        pos -= 1;
    }
    let rest = text.get(pos..).unwrap_or("");
    if let Some((u, excluded)) = match_unit(rest) {
        if excluded {
            return None;
        }
        let mut ulen = u.len();
        ulen += paren_suffix(rest.get(ulen..).unwrap_or(""));
        // 元/吨, 吨/日 not in the list
        let tail = rest.get(ulen..).unwrap_or("");
        if tail.starts_with('/')
            && let Some(c) = tail.chars().nth(1)
            && matches!(c, '日' | '天' | '月' | '年' | '人' | '次' | '吨' | '户')
        {
            ulen += 1 + c.len_utf8();
        }
        unit = rest.get(..ulen).map(str::to_string);
        pos += ulen;
    } else if value >= 1e4 {
        // "改善100万农村人口供水条件": a head count with no measure word
        let ahead: String = rest.chars().take(4).collect();
        if let Some(i) = ahead.find("人口")
            && !ahead
                .get(..i)
                .is_some_and(|s| s.chars().any(is_clause_break))
        {
            unit = Some("人".to_string());
        }
    }
    let unit = unit?;
    // "超100亿元的优势产业集群", "总投资35亿元的项目": a sum that qualifies a noun
    if unit.ends_with('元') {
        let after = text.get(pos..).unwrap_or("");
        let after = SUFFIX_COMPARATORS
            .iter()
            .find_map(|(w, _)| text::strip_prefix(after, w))
            .unwrap_or(after);
        if after.starts_with('的') {
            return None;
        }
    }
    // "25件重点民生实事", "190项重点工作": the size of the list, not a goal of it
    if matches!(unit.as_str(), "件" | "项") {
        let after = text.get(pos..).unwrap_or("");
        let after = after
            .strip_prefix("重点")
            .or_else(|| after.strip_prefix("为民"))
            .unwrap_or(after);
        let after = after.strip_prefix("民生").unwrap_or(after);
        if ["实事", "工作", "任务", "重点工作"]
            .iter()
            .any(|w| after.starts_with(w))
        {
            return None;
        }
    }
    // "排名前10名", "前3位": a rank, not a count
    if prev == Some('前') && matches!(unit.as_str(), "名" | "位" | "强") {
        return None;
    }
    if value_max.is_none() && value == 24.0 && unit == "小时" {
        // "24小时" is round-the-clock service, not a duration target
        return None;
    }
    if let Some((c, len)) = suffix_comparator(text.get(pos..).unwrap_or("")) {
        // "50亿元以上项目": a money threshold qualifying a category
        let after = text.get(pos + len..).unwrap_or("");
        let next = after.chars().next();
        let is_category = unit.ends_with('元')
            && c == Comparator::AtLeast
            && next.is_some_and(|n| is_han(n) && n != '或' && n != '和');
        if is_category {
            return None;
        }
        comparator = Some(c);
        pos += len;
    }
    let clause_start = clause_start_before(text, start, floor);
    if comparator.is_none() {
        comparator = prefix_comparator(text, clause_start, start);
    }
    let comparator = if value_max.is_some() {
        Comparator::Range
    } else {
        comparator.unwrap_or(Comparator::Equal)
    };
    let phrase_start = trim_phrase_start(text, clause_start, start);
    let phrase = text.get(phrase_start..pos)?.to_string();
    let metric = metric_of(text.get(phrase_start..start)?);
    Some(Found {
        start: phrase_start,
        end: pos,
        quantity: Quantity {
            phrase,
            metric,
            value,
            value_max,
            unit,
            comparator,
        },
    })
}

/// Keeps a phrase to at most 24 characters before the number.
fn trim_phrase_start(text: &str, clause_start: usize, start: usize) -> usize {
    let Some(before) = text.get(clause_start..start) else {
        return start;
    };
    match before.char_indices().rev().nth(23) {
        Some((i, _)) => clause_start + i,
        None => clause_start,
    }
}

pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF)
}

/// Values that are almost certainly typos for the metric they measure (dropped decimal
/// points are the usual cause: 失业率55%, 工业增加值增长75%).
pub fn plausibility_warning(q: &Quantity) -> Option<String> {
    let m = q.metric.as_str();
    let pct = q.unit == "%";
    // 千人口 and 每千人 both hold 千人: counts are many, and few are per thousand
    let per_thousand = q.value > 20.0 && crate::text::has(m, "千人");
    // the bounds first: they are cheap, and few values pass them
    let suspicious = (pct && q.value > 15.0 && crate::text::has(m, "失业率"))
        || (pct
            && q.value > 30.0
            && (crate::text::has(m, "生产总值")
                || crate::text::has(m, "经济增长")
                || crate::text::has(m, "增加值增长")
                || crate::text::has(m, "GDP增长")))
        || (pct && q.value > 15.0 && (crate::text::has(m, "居民消费价格") || crate::text::has(m, "CPI")))
        || (per_thousand
            && crate::text::has(m, "千人口")
            && crate::text::has(m, "托位"))
        // per-thousand ratios (床位, 医师, 托位 per 1,000 people) are single or low double digits
        || (!pct
            && q.value > 50.0
            && per_thousand
            && (crate::text::has(m, "每千人") || crate::text::has(m, "千人口")))
        // projects of at least 100 million yuan are counted in thousands, even for a province:
        // tens of thousands of them is a dropped decimal point (16万个 for 1.6万个)
        || (matches!(q.unit.as_str(), "个" | "项")
            && q.value > 50_000.0
            && (crate::text::has(m, "亿元以上") || crate::text::has(m, "亿元及以上"))
            && crate::text::has(m, "项目"))
        || (pct
            && q.value > 100.0
            && (crate::text::has(m, "率") || crate::text::has(m, "比重") || crate::text::has(m, "占比")));
    suspicious.then(|| {
        format!(
            "implausible value {}{} for {}: possible typo (dropped decimal point?)",
            q.value, q.unit, q.phrase
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_numeral_table_knows_every_numeral_and_nothing_else() {
        for c in ('\u{800}'..='\u{FFFF}').filter(|c| c.len_utf8() == 3) {
            let s = format!("{c}");
            let found: Vec<_> = numbers(&s).collect();
            let numeral = CN_NUMERALS.contains(&c);
            assert_eq!(found == vec![(0, 3)], numeral, "{c}");
        }
    }

    fn one(s: &str) -> Quantity {
        let f = find_quantities(s);
        assert_eq!(f.len(), 1, "{s}: {f:?}");
        f.into_iter()
            .next()
            .map(|f| f.quantity)
            .unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn basics() {
        let q = one("城镇新增就业25万人以上");
        assert_eq!(
            (q.value, q.unit.as_str(), q.comparator),
            (250000.0, "人", Comparator::AtLeast)
        );
        let q = one("地区生产总值增长6%左右");
        assert_eq!(
            (q.value, q.unit.as_str(), q.comparator),
            (6.0, "%", Comparator::About)
        );
        let q = one("力争PM2.5平均浓度降至35微克/立方米");
        assert_eq!(
            (q.value, q.unit.as_str(), q.comparator),
            (35.0, "微克/立方米", Comparator::AtMost)
        );
        let q = one("新开工亿元以上项目930个");
        assert_eq!((q.value, q.comparator), (930.0, Comparator::Equal));
        let q = one("新增污水处理能力15万吨/日");
        assert_eq!((q.value, q.unit.as_str()), (150000.0, "吨/日"));
        let q = one("新增变电容量400万千伏安");
        assert_eq!((q.value, q.unit.as_str()), (4e6, "千伏安"));
        let q = one("新增筹集保障性住房7万套(间)");
        assert_eq!(q.unit, "套(间)");
        let q = one("税收超亿元");
        assert_eq!((q.value, q.comparator), (1e8, Comparator::AtLeast));
        let q = one("增长4.5%-5%");
        assert_eq!(
            (q.value, q.value_max, q.comparator),
            (4.5, Some(5.0), Comparator::Range)
        );
        let q = one("新建两万个");
        assert_eq!(q.value, 20000.0);
        let q = one("建设三十个");
        assert_eq!(q.value, 30.0);
        let q = one("每个乡镇至少办好1所优质初中");
        assert_eq!(q.comparator, Comparator::AtLeast);
        let q = one("举办活动2300余场");
        assert_eq!((q.value, q.comparator), (2300.0, Comparator::AtLeast));
    }

    #[test]
    fn not_targets() {
        for s in [
            "2025年",
            "第八届设计双年展",
            "“61020”科技创新成果体系",
            "为14岁女生",
            "12355热线",
            "用3-5年时间",
            "9大产业链",
            "500强企业",
            "24小时不打烊",
            "0—15岁残疾儿童",
            "30—64周岁",
            "G0IP设备",
            "过10亿、",
            "千名干部联系万家企业",
            "一栋楼就是一条产业链",
            "十大伴手礼",
            "50亿元以上项目",
            "5G基站",
        ] {
            assert!(
                find_quantities(s).is_empty(),
                "{s}: {:?}",
                find_quantities(s)
            );
        }
    }

    #[test]
    fn two_in_list() {
        let f = find_quantities("力争国控、省控断面水质优良比例分别达100%、88%以上");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].quantity.comparator, Comparator::Equal);
        assert_eq!(f[1].quantity.comparator, Comparator::AtLeast);
    }

    #[test]
    fn implausible_values_warn_without_changing_them() {
        let q = one("全年实施亿元以上项目16万个");
        assert_eq!(q.value, 160_000.0);
        assert!(plausibility_warning(&q).is_some());
        let q = one("全年实施亿元以上项目1.6万个");
        assert!(plausibility_warning(&q).is_none());
        let q = one("千人口托位数达到45个");
        assert!(plausibility_warning(&q).is_some());
        let q = one("每千人口医疗机构床位数达到7.5张");
        assert!(plausibility_warning(&q).is_none());
        let q = one("城镇调查失业率55%左右");
        assert!(plausibility_warning(&q).is_some());
    }

    #[test]
    fn chinese_numerals() {
        assert_eq!(parse_chinese_numeral("两万"), Some(20000.0));
        assert_eq!(parse_chinese_numeral("三十"), Some(30.0));
        assert_eq!(parse_chinese_numeral("一百二十"), Some(120.0));
        assert_eq!(parse_chinese_numeral("十五"), Some(15.0));
        assert_eq!(parse_chinese_numeral("三千五百万"), Some(35_000_000.0));
        assert_eq!(parse_number("3.5万"), Some(35000.0));
        assert_eq!(parse_number("2700亿"), Some(2.7e11));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = find_quantities(&s);
            let _ = parse_number(&s);
        }

        #[test]
        fn never_panics_on_domain_alphabet(s in "[0-9.万亿千百十两三一%个以上左右不少于约超—、,年第(间)\\-]{0,60}") {
            for f in find_quantities(&s) {
                prop_assert!(f.start <= f.end && f.end <= s.len());
                prop_assert!(f.quantity.value.is_finite());
            }
        }

        #[test]
        fn counts_round_trip(n in 1u32..100_000, unit in prop::sample::select(vec!["个", "家", "人次", "公里", "平方米", "所"])) {
            let s = format!("新建项目{n}{unit}");
            let f = find_quantities(&s);
            prop_assert_eq!(f.len(), 1);
            prop_assert_eq!(f[0].quantity.value, f64::from(n));
            prop_assert_eq!(f[0].quantity.unit.as_str(), unit);
            prop_assert_eq!(f[0].quantity.comparator, Comparator::Equal);
        }

        #[test]
        fn wan_multiplier_round_trips(n in 1u32..10_000, frac in 0u32..10) {
            let s = format!("城镇新增就业{n}.{frac}万人以上");
            let f = find_quantities(&s);
            prop_assert_eq!(f.len(), 1);
            let want = (f64::from(n) + f64::from(frac) / 10.0) * 1e4;
            prop_assert!((f[0].quantity.value - want).abs() < 1e-6 * want.max(1.0));
            prop_assert_eq!(f[0].quantity.unit.as_str(), "人");
            prop_assert_eq!(f[0].quantity.comparator, Comparator::AtLeast);
        }

        #[test]
        fn percent_about_round_trips(n in 0u32..100, frac in 0u32..10) {
            let s = format!("增长{n}.{frac}%左右");
            let f = find_quantities(&s);
            prop_assert_eq!(f.len(), 1);
            prop_assert!((f[0].quantity.value - (f64::from(n) + f64::from(frac) / 10.0)).abs() < 1e-9);
            prop_assert_eq!(f[0].quantity.comparator, Comparator::About);
        }
    }
}
