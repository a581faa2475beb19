//! The responsibility grammar: who answers for an item. Labels in any bracket or colon form
//! ("(市级牵头单位:市发改委;区级牵头单位:区发改局)", "牵头责任单位:…", "[牵头单位:X;责任单位:A,B]"),
//! "X牵头,Y配合", "(A、B负责)" with notes inside ("列第一位者为牵头单位,下同"), generic bodies
//! (各县、市、区政府, 各有关部门和单位), aliases in 〈〉, level prefixes and mixed separators.
//! People (牵头负责领导:金力, 县长) are never units.

use crate::{Role, UnitRef};
use regex::Regex;
use rustc_hash::FxHashMap;
use std::rc::Rc;
use std::sync::LazyLock;

/// A label (市级牵头单位 / 牵头责任单位 / 协同责任单位 / 责任部门 / 牵头负责领导 …) and its colon:
/// the grammar `label_before` reads backwards, as a pattern.
fn label_pattern() -> String {
    format!(
        r"((?:{})(?:责任)?(?:{})|责任(?:{}|科室)|(?:{})?(?:负责)?领导|(?:{})?责任人)\s*[::]",
        UNIT_LABEL_FIRST.join("|"),
        UNIT_LABEL_LAST.join("|"),
        UNIT_LABEL_LAST.join("|"),
        LEADER_FIRST.join("|"),
        PERSON_FIRST.join("|"),
    )
}

static LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&label_pattern()).expect("label regex"));

/// Labels after a unit list that are not about units: the list ends there.
const NOT_UNIT_LABELS: &[&str] = &[
    "完成时限",
    "完成时间",
    "时间节点",
    "时限要求",
    "完成期限",
    "时限",
    "进度安排",
    "责任人",
    "联系人",
    "督办单位",
    "督办领导",
    "备注",
    "实际完成情况",
    "完成情况",
    "进展情况",
    "具体情况",
    "推进情况",
    "工作目标",
    "目标任务",
];

/// Where a unit list ends: at its sentence or line, or at a label that is not about units
/// (a scan: lists are short and many).
fn list_stop(list: &str) -> usize {
    let mut end = list.find(['。', '\n']).unwrap_or(list.len());
    if let Some(colon) = list.get(..end).and_then(|l| l.find(':')) {
        let before = list.get(..colon).unwrap_or("").trim_end();
        if let Some(w) = NOT_UNIT_LABELS.iter().find(|w| before.ends_with(*w)) {
            end = end.min(before.len() - w.len());
        }
    }
    end
}

static LABEL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[(\[【]?\s*(?:(?:省|市|区|县|镇|乡|街道)级)?(?:(?:牵头|主办|主责|协同|配合|协办|协助|共同|参与|承办|实施)(?:责任)?(?:单位|部门|主体)|责任(?:单位|部门|主体|科室)|(?:牵头|责任|分管|协同|主管)?(?:负责)?(?:市|省|县|区)?领导|(?:项目|主要|具体)?责任人)\s*[::]|^(?:完成时限|完成时间|时间节点|时限要求|进度安排)\s*[::]")
        .expect("label line regex")
});

/// "列第一位的为牵头单位", "列第一位者为牵头单位", "首位单位为牵头单位": the first unit of each
/// list leads and the others co-operate.
static FIRST_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:第一位|第一个|首位)[的者]?(?:单位|部门)?(?:为|是)[^,;。)]{0,6}?牵头(?:单位|部门)",
    )
    .expect("first lead regex")
});

/// Does the document say that the first unit listed leads?
pub fn first_is_lead_rule(text: &str) -> bool {
    crate::text::has(text, "牵头") && FIRST_LEAD.is_match(text)
}

/// Labels after which a line reports what was done, not who answers.
const OUTCOME_LABELS: &[&str] = &["实际完成情况", "完成情况", "进展情况", "推进情况"];

/// How much of a label line ("责任单位:市公安局 实际完成情况:…已完成55%") is about who
/// answers: the whole line, unless its lists stop at a label of what was done, which stays
/// with the item's figures.
pub fn label_line_len(s: &str) -> usize {
    let (_, _, end) = parse_labelled_to(s);
    let rest = s.get(end..).unwrap_or("").trim_start();
    if end > 0 && OUTCOME_LABELS.iter().any(|l| rest.starts_with(l)) {
        end
    } else {
        s.len()
    }
}

/// Does this line start with a responsibility label (a clause on its own line)?
pub fn starts_with_label(s: &str) -> bool {
    // a label line starts with a bracket or one of the labels' first characters
    s.starts_with([
        '(', '[', '【', '省', '市', '区', '县', '镇', '乡', '街', '牵', '主', '协', '配', '共',
        '参', '承', '实', '责', '分', '领', '项', '具', '完', '时', '进',
    ]) && has_colon_near_start(s)
        && LABEL_LINE.is_match(s)
}

/// Every label ends in a colon within its first few dozen bytes: most lines have none there,
/// and asking costs a fraction of the regex.
fn has_colon_near_start(s: &str) -> bool {
    memchr::memchr(
        b':',
        s.as_bytes().get(..s.len().min(96)).unwrap_or_default(),
    )
    .is_some()
}

/// A label found in a clause: byte range (including any level prefix), where its word starts,
/// level and label word.
struct Label<'a> {
    start: usize,
    end: usize,
    word_start: usize,
    level: &'static str,
    label: &'a str,
}

const LEVELS: &[&str] = &["街道", "省", "市", "区", "县", "镇", "乡"];

/// The first words of a unit label (牵头单位, 牵头责任单位), of a person's label before its
/// 领导 (分管领导) and before its 责任人 (主要责任人): the words of `LABEL`.
const UNIT_LABEL_FIRST: &[&str] = &[
    "牵头", "主办", "主责", "协同", "配合", "协办", "协助", "共同", "参与", "承办", "实施",
];
/// The last words of a unit label.
const UNIT_LABEL_LAST: &[&str] = &["单位", "部门", "主体"];
const LEADER_FIRST: &[&str] = &["牵头", "责任", "分管", "协同", "主管"];
const PERSON_FIRST: &[&str] = &["项目", "主要", "具体"];

/// Where the label that ends just before `colon` (and any spaces) starts: `LABEL` read
/// backwards from its last word, which every label ends with (单位, 领导, 责任人…). Its first
/// words (责, 主, 协…) open words in every sentence; a colon is rare.
fn label_before(text: &str, colon: usize) -> Option<usize> {
    let b = text.get(..colon)?.trim_end();
    let strip = crate::text::strip_suffix;
    let any = |s: &'static [&'static str], t: &str| -> Option<usize> {
        s.iter().find_map(|w| strip(t, w)).map(str::len)
    };
    let start = if let Some(r) = strip(b, "领导") {
        let r = strip(r, "负责").unwrap_or(r);
        any(LEADER_FIRST, r).unwrap_or(r.len())
    } else if let Some(r) = strip(b, "责任人") {
        any(PERSON_FIRST, r).unwrap_or(r.len())
    } else if let Some(r) = UNIT_LABEL_LAST.iter().find_map(|w| strip(b, w)) {
        // 牵头(责任)单位, else 责任单位
        match strip(r, "责任") {
            Some(before_duty) => any(UNIT_LABEL_FIRST, before_duty).unwrap_or(before_duty.len()),
            None => any(UNIT_LABEL_FIRST, r)?,
        }
    } else {
        strip(strip(b, "科室")?, "责任")?.len()
    };
    Some(start)
}

/// Labels in order; the level prefix (市级 / 区级) is read backwards from the label word.
/// Kept inline: a text holds a few labels, and labels are read in item after item.
fn labels(content: &str) -> smallvec::SmallVec<[Label<'_>; 4]> {
    // every label ends in a colon: the cleaned text's colons are all ":" (full-width ones are
    // folded)
    memchr::memchr_iter(b':', content.as_bytes())
        .filter_map(|colon| {
            let word_start = label_before(content, colon)?;
            let end = colon + 1;
            // the label word is the match without its colon
            let label = content.get(word_start..end)?.trim_end_matches([':', ' ']);
            let before = content.get(..word_start)?;
            let mut start = word_start;
            let mut level = "";
            if let Some(b) = before.strip_suffix('级')
                && let Some(l) = LEVELS.iter().find(|l| b.ends_with(*l))
            {
                level = l;
                start -= l.len() + '级'.len_utf8();
            }
            Some(Label {
                start,
                end,
                word_start,
                level,
                label,
            })
        })
        .collect()
}

/// A responsibility clause found in an item.
#[derive(Debug, Clone)]
pub struct Clause {
    /// Byte range of the whole clause including brackets.
    pub start: usize,
    pub end: usize,
    /// Shared with every other bracket of the document that says the same.
    pub units: Rc<[UnitRef]>,
    pub warnings: Rc<[String]>,
    /// What kind of clause it was, for the item's reasons.
    pub form: &'static str,
}

// A label is a word of `LABEL`: a person's ends in 领导 or 责任人 (no unit's holds either),
// and a unit's role word is its first (牵头单位, 配合责任单位; 责任单位 has none). Read from
// its ends rather than searched: labels are parsed for item after item.

fn is_person_label(label: &str) -> bool {
    let l = label.trim_end();
    crate::text::ends(l, "领导") || crate::text::ends(l, "责任人")
}

fn role_of(label: &str) -> Role {
    let starts = |w: &str| crate::text::starts(label, w);
    if starts("牵头") || starts("主办") || starts("主责") {
        Role::Lead
    } else if ["共同", "配合", "协办", "协助", "协同", "参与"]
        .iter()
        .any(|k| starts(k))
    {
        Role::Co
    } else {
        Role::Responsible
    }
}

/// Canonical form for matching the same body written two ways.
pub fn canonical(name: &str) -> String {
    let spaced = name
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b == 0xE3 || b == 0xC2)
        && name.contains(char::is_whitespace);
    let mut s: String = if spaced {
        name.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        name.to_string()
    };
    if s.as_bytes().contains(&0xE3)
        && let (Some(a), Some(b)) = (s.find('〈'), s.find('〉'))
        && a < b
    {
        s = format!(
            "{}{}",
            s.get(..a).unwrap_or(""),
            s.get(b + '〉'.len_utf8()..).unwrap_or("")
        );
    }
    if crate::text::has(&s, "人民政府") {
        s = s.replace("人民政府", "政府");
    }
    if crate::text::has(&s, "区分局") {
        s = s.replace("区分局", "分局");
    }
    s
}

/// The unit `u` held, leaving it empty: for a reading no one else holds.
pub(crate) fn take(u: &mut UnitRef) -> UnitRef {
    UnitRef {
        name: std::mem::take(&mut u.name),
        canonical: u.canonical.take(),
        role: u.role,
        level: u.level.take(),
    }
}

fn unit(name: String, role: Role, level: Option<&'static str>) -> UnitRef {
    UnitRef {
        canonical: Some(canonical(&name)),
        name,
        role,
        level: level.map(std::borrow::Cow::Borrowed),
    }
}

const LEVEL_CHARS: &str = "省市区县镇乡";

/// Splits a unit list on 、 , , ; / and spaces (never inside brackets), keeping generic bodies
/// whole ("各县、市、区政府") and splitting "A及B" between two bodies.
pub fn split_units(list: &str) -> Vec<String> {
    // pieces as slices of the list, kept inline: names are many, copies cost
    let mut pieces: smallvec::SmallVec<[&str; 8]> = smallvec::SmallVec::new();
    let mut depth = 0i32;
    let mut start = 0usize;
    for (i, c) in list.char_indices() {
        match c {
            '〈' | '(' | '<' | '《' | '[' => depth += 1,
            '〉' | ')' | '>' | '》' | ']' => depth -= 1,
            '、' | ',' | ';' | ' ' | '/' if depth <= 0 => {
                pieces.push(list.get(start..i).unwrap_or(""));
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    pieces.push(list.get(start..).unwrap_or(""));
    let lone_level = |s: &str| {
        let s = s.trim();
        s.chars().count() == 1 && s.chars().all(|c| LEVEL_CHARS.contains(c))
    };
    let mut out = Vec::with_capacity(pieces.len());
    let mut k = 0;
    while let Some(&p) = pieces.get(k) {
        let t = p.trim();
        // "各县" "市" "区政府" → "各县、市、区政府"
        if t.starts_with('各')
            && t.chars().count() == 2
            && pieces.get(k + 1).is_some_and(|n| lone_level(n))
        {
            let mut g = t.to_string();
            k += 1;
            while let Some(n) = pieces.get(k) {
                g.push('、');
                g.push_str(n.trim());
                k += 1;
                if !lone_level(n) {
                    break;
                }
            }
            for q in split_and(&g) {
                push_unit(&mut out, q);
            }
            continue;
        }
        for q in split_and(p) {
            push_unit(&mut out, q);
        }
        k += 1;
    }
    out
}

/// "市级各有关部门及各县市区政府" → two bodies; a 及 inside one name stays.
fn split_and(p: &str) -> smallvec::SmallVec<[&str; 2]> {
    let mut out = smallvec::SmallVec::new();
    let mut rest = p;
    while let Some(i) = rest.find('及') {
        let (a, b) = (
            rest.get(..i).unwrap_or(""),
            rest.get(i + '及'.len_utf8()..).unwrap_or(""),
        );
        let a_t = a.trim();
        if a_t.chars().count() >= 2
            && b.trim().chars().count() >= 2
            && body_like(a_t)
            && body_like(strip_tails(b.trim()))
        {
            out.push(a);
            rest = b;
        } else {
            break;
        }
    }
    out.push(rest);
    out
}

/// Trailing words that are not part of a body's name: "市直有关部门按职责分工负责".
const NAME_TAILS: &[&str] = &[
    "按职责分工负责",
    "按职责分工落实",
    "按职能分工负责",
    "按职责负责",
    "按职责分工",
    "分别负责",
    "共同负责",
    "负责落实",
    "等有关部门和单位",
    "等有关单位",
    "等有关部门",
    "等相关部门",
    "等部门",
    "等单位",
    "按职责",
    "负责",
    "牵头",
    "配合",
    "等",
];

fn strip_tails(t: &str) -> &str {
    // most names end with none of the tails' last characters
    if !t.ends_with(['责', '实', '工', '头', '合', '等', '门', '位', '职']) {
        return t;
    }
    let mut t = t;
    loop {
        let before = t;
        for tail in NAME_TAILS {
            if let Some(x) = crate::text::strip_suffix(t, tail)
                && x.chars().count() >= 2
            {
                t = x.trim_end();
                break;
            }
        }
        if before == t {
            return t;
        }
    }
}

/// Bracketed notes inside a name: "县发改局(首位单位为牵头单位,下同)" → "县发改局".
fn strip_note(t: &str) -> &str {
    if let Some(open) = t.rfind('(')
        && t.ends_with(')')
    {
        let inner = t.get(open + 1..t.len() - 1).unwrap_or("");
        if ["牵头", "下同", "为准", "排名", "首位", "第一"]
            .iter()
            .any(|k| crate::text::has(inner, k))
        {
            return t.get(..open).unwrap_or(t).trim_end();
        }
    }
    t
}

fn push_unit(out: &mut Vec<String>, s: &str) {
    let mut t = s.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '。' | '.' | ':' | '】' | '【' | '[' | ']')
    });
    t = t
        .strip_prefix("和")
        .or_else(|| t.strip_prefix("及"))
        .or_else(|| t.strip_prefix("由"))
        .unwrap_or(t);
    t = strip_note(t);
    t = strip_tails(t);
    // "列第一位的为牵头单位" is a note inside the list, not a body
    let note = crate::text::has(t, "为牵头单位")
        || crate::text::has(t, "第一位")
        || crate::text::has(t, "下同");
    if !t.is_empty() && !note && crate::text::chars_at_most(t, 40) {
        out.push(t.to_string());
    }
}

/// Parses a labelled list "市级牵头单位:A、B;区级牵头单位:C" into units, with warnings where a
/// unit's own level contradicts its label (a 区 body under 市级) or a level label repeats.
pub fn parse_labelled(content: &str) -> (Vec<UnitRef>, Vec<String>) {
    let (units, warnings, _) = parse_labelled_to(content);
    (units, warnings)
}

/// `parse_labelled`, with where the last list ends (its sentence, its line or the next label
/// that is not about units).
fn parse_labelled_to(content: &str) -> (Vec<UnitRef>, Vec<String>, usize) {
    parse_labels(content, &labels(content))
}

/// `parse_labelled_to` with the labels already found.
fn parse_labels(content: &str, found: &[Label<'_>]) -> (Vec<UnitRef>, Vec<String>, usize) {
    let mut units = Vec::new();
    let mut warnings = Vec::new();
    let mut end_of_lists = 0usize;
    let mut seen_labels: smallvec::SmallVec<[(&str, &str); 4]> = smallvec::SmallVec::new();
    for (i, lab) in found.iter().enumerate() {
        let (level, label) = (lab.level, lab.label);
        let end = found.get(i + 1).map(|n| n.start).unwrap_or(content.len());
        let list = content.get(lab.end..end).unwrap_or("");
        // "责任单位:县环保局。完成时限:6月底前": the list ends at its sentence or at a label
        // that is not about units
        let list = list.get(..list_stop(list)).unwrap_or(list);
        end_of_lists = lab.end + list.len();
        // spelt out only for a warning: labels are many, warnings few
        let full_label = || {
            if level.is_empty() {
                label.to_string()
            } else {
                format!("{level}级{label}")
            }
        };
        if !level.is_empty() && seen_labels.contains(&(level, label)) {
            warnings.push(format!(
                "label {} repeated in one item: one of them may be mislabelled",
                full_label()
            ));
        }
        seen_labels.push((level, label));
        if is_person_label(label) {
            continue;
        }
        let role = role_of(label);
        // a name cut off after one character ("责任单位:区") names no one; on a page that lost
        // its line breaks the list ends where space-separated words stop being bodies
        for name in list_names(list) {
            if !level.is_empty() {
                let own = unit_level(&name);
                if let Some(own) = own
                    && own != level
                {
                    warnings.push(format!(
                        "unit {name} listed under {}: its name says {own}级",
                        full_label()
                    ));
                }
            }
            let (name, marked) = role_marker(name);
            let level = (!level.is_empty()).then_some(level);
            units.push(unit(name, marked.unwrap_or(role), level));
        }
    }
    (units, warnings, end_of_lists)
}

/// The names of a labelled list: split as any list, ending at the first space-separated run of
/// words that names no body ("配合单位:市公安局,各区政府 鄞州 海曙 …" on a run-on page).
fn list_names(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (k, chunk) in list.split(' ').filter(|c| !c.trim().is_empty()).enumerate() {
        // this chunk's names go straight to the end of `out`, and are taken back if they
        // name no body
        let before = out.len();
        out.extend(
            split_units(chunk)
                .into_iter()
                .filter(|n| crate::text::chars_at_least(n, 2)),
        );
        let names = out.get(before..).unwrap_or_default();
        if k > 0 && !names.iter().any(|n| body_like(n) || n.starts_with('各')) {
            out.truncate(before);
            break;
        }
    }
    out
}

/// "市发改委(牵头)" names the lead inside a plain list; the marker is not part of the name.
fn role_marker(name: String) -> (String, Option<Role>) {
    if !name.ends_with(')') {
        return (name, None);
    }
    for (m, role) in [
        ("(牵头)", Role::Lead),
        ("(牵头单位)", Role::Lead),
        ("(配合)", Role::Co),
        ("(协办)", Role::Co),
    ] {
        if let Some(n) = crate::text::strip_suffix(&name, m) {
            return (n.to_string(), Some(role));
        }
    }
    (name, None)
}

/// The level a unit's own name implies: 区发改局 → 区, 市发改委 → 市. Branches of a city body
/// in the district (市生态环境局武昌区分局) stay unclassified.
fn unit_level(name: &str) -> Option<&'static str> {
    if crate::text::has(name, "分局")
        || crate::text::has(name, "分中心")
        || crate::text::has(name, "各区")
    {
        return None;
    }
    if name.starts_with('区') || name.starts_with("团区委") {
        Some("区")
    } else if name.starts_with('市') || name.starts_with("团市委") {
        Some("市")
    } else if name.starts_with('省') || name.starts_with("团省委") {
        Some("省")
    } else if name.starts_with('县') {
        Some("县")
    } else {
        None
    }
}

/// The bracket at `open` and its matching close, bounded so that "((((…" stays linear. Read
/// byte by byte: the brackets are ASCII or 【】 (E3 80 90/91), and no other character's bytes
/// look like them.
fn bracket_at(text: &str, open: usize) -> Option<(usize, usize, usize)> {
    let c = text.get(open..)?.chars().next()?;
    let inner_start = open + c.len_utf8();
    let b = text.get(inner_start..)?.as_bytes();
    let mut depth = 1i32;
    let mut chars = 0usize;
    let mut i = 0usize;
    while let Some(&x) = b.get(i) {
        if chars == 1200 {
            return None;
        }
        let (opens, closes, len) = match x {
            b'(' | b'[' => (true, false, 1),
            b')' | b']' => (false, true, 1),
            b'\n' => return None,
            0xE3 if b.get(i + 1) == Some(&0x80) => match b.get(i + 2) {
                Some(0x90) => (true, false, 3),
                Some(0x91) => (false, true, 3),
                _ => (false, false, 3),
            },
            _ => (false, false, utf8_len(x)),
        };
        if opens {
            depth += 1;
        } else if closes {
            depth -= 1;
            if depth == 0 {
                return Some((inner_start, inner_start + i, inner_start + i + len));
            }
        }
        i += len;
        chars += 1;
    }
    None
}

/// The length of the character whose first byte is `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// Finds the responsibility clauses of an item, in order.
pub fn find_clauses(text: &str) -> Vec<Clause> {
    find_clauses_with(text, &mut ClauseCache::default())
}

/// What the brackets of a document said, by their inside: a decomposition repeats the same
/// clause ("(市级牵头单位:市发改委;区级牵头单位:区发改局)") for item after item.
#[derive(Default)]
pub struct ClauseCache {
    /// By whether the bracket ends the item, then by its inside.
    read: [FxHashMap<String, Option<BracketReading>>; 2],
}

type BracketReading = (Rc<[UnitRef]>, Rc<[String]>, &'static str);

fn read_bracket(inner: &str, at_end: bool) -> Option<BracketReading> {
    // the label opens the bracket, after at most a level prefix (市级 / 街道级)
    let mut head_end = inner.len().min(48);
    while !inner.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let head = inner.get(..head_end).unwrap_or("");
    // the labels are read once: the first is the head's first unless it runs past the head
    // (spaces before its colon), which the head alone is then asked about
    let found = labels(inner);
    let opens = match found.first() {
        Some(l) if l.word_start <= 12 && l.end <= head_end => true,
        Some(l) if l.word_start <= 12 => LABEL.find(head).is_some_and(|m| m.start() <= 12),
        _ => false,
    };
    if opens {
        let (units, warnings, _) = parse_labels(inner, &found);
        return Some((units.into(), warnings.into(), "labelled clause"));
    }
    bracket_list(inner, at_end).map(|(units, form)| (units.into(), Rc::from([]), form))
}

/// The search for "【", built once: items are many and short, and building a searcher costs
/// more than searching one.
static LENTICULAR: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("【"));

/// `find_clauses`, remembering what each bracket said.
pub fn find_clauses_with(text: &str, cache: &mut ClauseCache) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut search = 0usize;
    let end_of_item = text.trim_end().trim_end_matches(['。', ';']).len();
    // where brackets open, by SIMD search ('(' and '[' are bytes, '【' is three): a search for
    // a set of characters decodes every character
    let opens = crate::text::merge(
        memchr::memchr2_iter(b'(', b'[', text.as_bytes()),
        LENTICULAR.find_iter(text.as_bytes()),
    );
    for open in opens {
        if open < search {
            continue;
        }
        let Some((inner_start, close_at, after)) = bracket_at(text, open) else {
            search = open + 1;
            continue;
        };
        let inner = text.get(inner_start..close_at).unwrap_or("");
        let at_end = after >= end_of_item;
        let reading = match cache.read[usize::from(at_end)].get(inner) {
            Some(r) => r.clone(),
            None => {
                let r = read_bracket(inner, at_end);
                cache.read[usize::from(at_end)].insert(inner.to_string(), r.clone());
                r
            }
        };
        if let Some((units, warnings, form)) = reading {
            out.push(Clause {
                start: open,
                end: after,
                units,
                warnings,
                form,
            });
        }
        search = after;
    }
    if out.is_empty() {
        // unbracketed: "…任务。牵头单位:A;配合单位:B", or "X牵头,Y配合" in the sentence (also
        // after a label that names people: "分管省领导:… 部门分工:X牵头,Y配合")
        if let Some(l) = labels(text).first() {
            let (units, warnings, end) = parse_labelled_to(text.get(l.start..).unwrap_or(""));
            if !units.is_empty() || !warnings.is_empty() {
                out.push(Clause {
                    start: l.start,
                    end: l.start + end,
                    units: units.into(),
                    warnings: warnings.into(),
                    form: "labelled clause",
                });
            }
        }
        if out.is_empty()
            && let Some(c) = lead_co(text, 0)
        {
            out.push(c);
        }
    }
    out
}

/// Verbs that close a responsibility list inside brackets: "(A、B负责)".
const RESP_VERBS: &[&str] = &[
    "按职责分工负责",
    "按职责分工落实",
    "按职能分工负责",
    "按职责负责",
    "分别负责",
    "共同负责",
    "负责落实",
    "负责",
    "落实",
    "承办",
];

/// The inside of a bracket that names who answers: "A、B负责。列第一位者为牵头单位,下同",
/// "A、B牵头,C及D按职责分工负责", "A、B等和各省级人民政府负责", or (at the item's end) a bare
/// list of bodies.
fn bracket_list(inner: &str, at_end: bool) -> Option<(Vec<UnitRef>, &'static str)> {
    // notes after the list ("。列第一位者为牵头单位,下同") are not names
    let list = inner
        .split(['。', ';'])
        .map(str::trim)
        .find(|p| !p.is_empty() && !FIRST_LEAD.is_match(p))?;
    if crate::text::has(list, "牵头")
        && let Some(c) = lead_co(list, 0)
    {
        return Some((c.units.to_vec(), "X牵头,Y配合 clause"));
    }
    let verb = RESP_VERBS.iter().find(|v| list.ends_with(*v));
    let names_part = match verb {
        Some(v) => list.get(..list.len() - v.len()).unwrap_or(""),
        None if at_end => list,
        None => return None,
    };
    // "A、B等和各省级人民政府" → A, B, 各省级人民政府
    let mut names = Vec::new();
    for part in names_part.split("等和") {
        names.extend(split_units(part));
    }
    let ok = if verb.is_some() {
        plausible_units(&names) && names.iter().filter(|n| body_like(n)).count() * 2 >= names.len()
    } else {
        // "(含街道)" / "(其中…)" qualify the text, they name no one
        !["含", "包括", "其中", "不含", "如", "即", "除"]
            .iter()
            .any(|w| names_part.starts_with(w))
            && bodies(&names)
            && names.iter().any(|n| n.chars().count() >= 3)
    };
    ok.then(|| {
        (
            names
                .into_iter()
                .map(|n| unit(n, Role::Responsible, None))
                .collect(),
            if verb.is_some() {
                "(X负责) clause"
            } else {
                "bracketed list of bodies"
            },
        )
    })
}

/// Words after a co-unit list that close an "X牵头,Y配合" clause, longest first.
const CO_VERBS: &[&str] = &[
    "按职责分工负责",
    "按职责分工落实",
    "按职能分工负责",
    "按职责负责",
    "分别负责",
    "共同负责",
    "负责落实",
    "配合",
    "协助",
    "参与",
    "协办",
    "负责",
];

/// Characters that end the text before a lead list: the lead list starts after the last one.
fn is_clause_boundary(c: char) -> bool {
    matches!(
        c,
        ',' | '。' | ';' | ':' | '(' | '【' | '[' | '\n' | '!' | '?'
    )
}

/// Does this look like a list of bodies rather than prose? No digits, short names.
fn plausible_units(names: &[String]) -> bool {
    !names.is_empty()
        && names.iter().all(|n| {
            let k = n.chars().count();
            (2..=24).contains(&k)
                && !n.contains(|c: char| c.is_ascii_digit() || c == '%' || c == '“' || c == '”')
        })
}

/// "X、Y牵头,Z等按职责分工负责" / "由X牵头,Y配合" / "(X牵头)": the lead list runs back from
/// 牵头 to the previous clause break (brackets in names such as 各县(市、区)政府 are skipped),
/// the co list from the separator after it to a co verb in the same clause.
fn lead_co(text: &str, from: usize) -> Option<Clause> {
    let mut from = from;
    while let Some(rel) = text.get(from..).and_then(|t| t.find("牵头")) {
        let at = from + rel;
        from = at + "牵头".len();
        let after = text.get(from..).unwrap_or("");
        let next = after.chars().next();
        let tail_ok = next
            .is_none_or(|c| matches!(c, ',' | '、' | ';' | ')' | '】' | ']' | '。' | '\n' | ' '))
            || after.starts_with("负责");
        if !tail_ok {
            continue;
        }
        // the lead list: back to the previous boundary, skipping balanced brackets
        let before = text.get(..at).unwrap_or("");
        let mut depth = 0i32;
        let mut lead_start = 0usize;
        for (steps, (i, c)) in before.char_indices().rev().enumerate() {
            if steps >= 80 {
                lead_start = i;
                break;
            }
            match c {
                ')' => depth += 1,
                '(' if depth > 0 => depth -= 1,
                c if depth == 0 && is_clause_boundary(c) => {
                    lead_start = i + c.len_utf8();
                    break;
                }
                _ => {}
            }
        }
        let lead_text = before.get(lead_start..).unwrap_or("").trim();
        let lead_text = lead_text.strip_prefix('由').unwrap_or(lead_text);
        let leads = split_units(lead_text);
        if !bodies(&leads) {
            continue;
        }
        let mut units: Vec<UnitRef> = leads
            .into_iter()
            .map(|name| unit(name, Role::Lead, None))
            .collect();
        let mut end = from;
        // the co list, in the same clause after the separator
        let sep = after
            .chars()
            .next()
            .filter(|c| matches!(c, ',' | '、' | ';'));
        if let Some(sep) = sep {
            let co_start = from + sep.len_utf8();
            let rest = text.get(co_start..).unwrap_or("");
            let mut depth = 0i32;
            let mut clause_end = rest.len();
            for (i, c) in rest.char_indices().take(120) {
                match c {
                    '(' => depth += 1,
                    ')' if depth > 0 => depth -= 1,
                    ')' | '】' | ']' | '。' | ';' | '\n' => {
                        clause_end = i;
                        break;
                    }
                    _ => {}
                }
                clause_end = i + c.len_utf8();
            }
            let clause = rest.get(..clause_end).unwrap_or("");
            if let Some((verb_at, verb)) = CO_VERBS
                .iter()
                .filter_map(|v| clause.find(v).map(|p| (p, *v)))
                .min_by_key(|(p, v)| (*p, usize::MAX - v.len()))
            {
                let list = clause.get(..verb_at).unwrap_or("");
                let cos = split_units(list);
                if plausible_units(&cos)
                    && cos.iter().filter(|n| body_like(n)).count() * 2 >= cos.len()
                {
                    units.extend(cos.into_iter().map(|name| unit(name, Role::Co, None)));
                    end = co_start + verb_at + verb.len();
                }
            }
        }
        return Some(Clause {
            start: lead_start,
            end,
            units: units.into(),
            warnings: Rc::from([]),
            form: "X牵头,Y配合 clause",
        });
    }
    None
}

/// The last characters of government bodies' names (局, 委, 办, 中心, 公司, 政府, 办事处, 街道,
/// 管委会, 集团 …): one set lookup per name.
const BODY_LAST_CHARS: &str =
    "局委办厅部院会心司府处道队站社馆行室组团联所署台门位镇乡区县关盟校构";

/// A body's name (a unit), not a person, place or phrase?
fn body_like(n: &str) -> bool {
    let k = n.chars().count();
    (2..=24).contains(&k)
        && n.chars().next_back().is_some_and(|c| BODY_LAST_CHARS.contains(c))
        && !n.contains(|c: char| c.is_ascii_digit() || c == '%')
        // 县长, 副市长: people
        && !n.ends_with('长')
}

/// Are these all names of bodies (no digits, short, a body's name ending)?
pub fn bodies(names: &[String]) -> bool {
    plausible_units(names) && names.iter().all(|n| body_like(n))
}

/// Units from a table cell under a column header such as 牵头单位 / 配合单位.
pub fn units_from_cell(cell: &str, role: Role) -> Vec<UnitRef> {
    split_units(cell)
        .into_iter()
        .filter(|n| n != "-" && n != "—" && n != "/" && n != "无")
        // a time limit that slipped into a unit column is not a body
        .filter(|n| !n.contains(|c: char| c.is_ascii_digit()))
        .map(|name| {
            let (name, marked) = role_marker(name);
            unit(name, marked.unwrap_or(role), None)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `labels` as `LABEL`'s search finds them.
    fn labels_by_search(content: &str) -> Vec<(usize, usize, usize, &str, &str)> {
        if memchr::memchr(b':', content.as_bytes()).is_none() {
            return Vec::new();
        }
        LABEL
            .find_iter(content)
            .map(|whole| {
                let label = whole.as_str().trim_end_matches([':', ' ']);
                let before = &content[..whole.start()];
                let (mut start, mut level) = (whole.start(), "");
                if let Some(b) = before.strip_suffix('级')
                    && let Some(l) = LEVELS.iter().find(|l| b.ends_with(*l))
                {
                    level = l;
                    start -= l.len() + '级'.len_utf8();
                }
                (start, whole.end(), whole.start(), level, label)
            })
            .collect()
    }

    fn labels_read(content: &str) -> Vec<(usize, usize, usize, &str, &str)> {
        labels(content)
            .into_iter()
            .map(|l| (l.start, l.end, l.word_start, l.level, l.label))
            .collect()
    }

    #[test]
    fn the_label_pattern_is_the_one_searched_before() {
        assert_eq!(
            label_pattern(),
            r"((?:牵头|主办|主责|协同|配合|协办|协助|共同|参与|承办|实施)(?:责任)?(?:单位|部门|主体)|责任(?:单位|部门|主体|科室)|(?:牵头|责任|分管|协同|主管)?(?:负责)?领导|(?:项目|主要|具体)?责任人)\s*[::]"
        );
    }

    #[test]
    fn labels_are_read_backwards_from_their_colon() {
        let t = "(市级牵头单位:市发改委;区级牵头责任单位 :区发改局、区财政局;分管领导:张三;主要责任人:李四;责任科室:办公室)";
        let got = labels_read(t);
        assert_eq!(
            got.iter().map(|l| (l.3, l.4)).collect::<Vec<_>>(),
            vec![
                ("市", "牵头单位"),
                ("区", "牵头责任单位"),
                ("", "分管领导"),
                ("", "主要责任人"),
                ("", "责任科室")
            ]
        );
        assert_eq!(got, labels_by_search(t));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Labels read backwards from each colon are those `LABEL`'s search finds: texts of
        /// the labels' words, levels, colons, spaces and other words.
        #[test]
        fn labels_are_those_the_search_finds(
            t in "(牵头|主办|主责|协同|配合|协办|协助|共同|参与|承办|实施|责任|单位|部门|主体|科室|分管|主管|负责|领导|项目|主要|具体|责任人|人|市级|区|级|街道|:|:|[ \t]|、|A|[()]){0,14}"
        ) {
            proptest::prop_assert_eq!(labels_read(&t), labels_by_search(&t));
        }
    }

    fn names(text: &str) -> Vec<(String, Role)> {
        find_clauses(text)
            .into_iter()
            .flat_map(|c| c.units.to_vec())
            .map(|u| (u.name, u.role))
            .collect()
    }

    fn just_names(text: &str) -> Vec<String> {
        names(text).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn lead_and_co_without_labels() {
        let u = names("压缩至1个工作日以内,市政务服务和大数据局牵头,市直有关部门配合。");
        assert_eq!(
            u,
            vec![
                ("市政务服务和大数据局".to_string(), Role::Lead),
                ("市直有关部门".to_string(), Role::Co)
            ]
        );
        let u = names("(省发展改革委、省人社厅牵头,省统计局等按职责分工负责)");
        assert_eq!(u.len(), 3);
        assert_eq!(u.get(2).map(|x| x.1), Some(Role::Co));
        let u = names("实施项目30个。市住建局牵头,各县(市、区)政府配合。");
        assert_eq!(u.get(1).map(|x| x.0.as_str()), Some("各县(市、区)政府"));
        // a leader or mechanism is not a body
        assert!(names("建立市级领导牵头,部门协同的工作机制").is_empty());
        assert!(names("王丹县长牵头重点工作").is_empty());
        let u = names("(市政府办公室、市审改办牵头,市级各有关部门及各县市区政府按职责分工负责)");
        assert_eq!(
            u.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            vec!["市政府办公室", "市审改办", "市级各有关部门", "各县市区政府"]
        );
    }

    #[test]
    fn responsible_in_brackets() {
        assert_eq!(
            just_names(
                "加大稳岗支持力度。(人力资源社会保障部、财政部负责。列第一位者为牵头单位,下同)"
            ),
            vec!["人力资源社会保障部", "财政部"]
        );
        assert_eq!(
            just_names("开展培训。(人力资源社会保障部、财政部、教育部等有关部门和单位负责)"),
            vec!["人力资源社会保障部", "财政部", "教育部"]
        );
        assert_eq!(
            just_names("(扶贫办、共青团中央、全国妇联等和各有关省级人民政府负责)"),
            vec!["扶贫办", "共青团中央", "全国妇联", "各有关省级人民政府"]
        );
        assert_eq!(
            just_names("(科技部、财政部,各省级人民政府按职责分工负责)"),
            vec!["科技部", "财政部", "各省级人民政府"]
        );
        assert_eq!(
            just_names("营造环境。(市场监管总局负责)加强教育。(体育总局、教育部负责)"),
            vec!["市场监管总局", "体育总局", "教育部"]
        );
        assert_eq!(
            just_names("(各有关部门和单位按职责分工负责)"),
            vec!["各有关部门和单位"]
        );
    }

    #[test]
    fn labels_and_generic_bodies() {
        let u = names("协同责任单位:市经信局、中新苏滁高新区管委会等,各县、市、区政府。");
        assert_eq!(
            u,
            vec![
                ("市经信局".to_string(), Role::Co),
                ("中新苏滁高新区管委会".to_string(), Role::Co),
                ("各县、市、区政府".to_string(), Role::Co)
            ]
        );
        assert_eq!(
            names("牵头责任单位:市发展改革委。"),
            vec![("市发展改革委".to_string(), Role::Lead)]
        );
        assert!(names("牵头负责领导:金力。").is_empty());
        assert_eq!(
            just_names("责任单位:县发改局(首位单位为牵头单位,下同)、县财政局"),
            vec!["县发改局", "县财政局"]
        );
        assert_eq!(
            just_names(
                "责任单位:市政府办公室、各区县政府(含南太湖新区)(列第一位的为工作牵头单位或汇总单位,下同)"
            ),
            vec!["市政府办公室", "各区县政府(含南太湖新区)"]
        );
        assert!(first_is_lead_rule(
            "(列第一位的为工作牵头单位或汇总单位,下同)"
        ));
        assert_eq!(
            names("分管省领导:林克庆\n部门分工:省发展改革委牵头,各地、各部门配合。"),
            vec![
                ("省发展改革委".to_string(), Role::Lead),
                ("各地".to_string(), Role::Co),
                ("各部门".to_string(), Role::Co)
            ]
        );
        assert_eq!(
            just_names("[牵头单位:县发改局(粮食局);责任单位:各镇人民政府,嘉鱼经济开发区]"),
            vec!["县发改局(粮食局)", "各镇人民政府", "嘉鱼经济开发区"]
        );
    }

    #[test]
    fn bare_bracketed_unit_list() {
        let u = names("改造棚户区住房600套。(县住建局、县城投公司)");
        assert_eq!(u.len(), 2);
        assert!(names("覆盖全部乡镇(含街道)").is_empty());
    }
}
