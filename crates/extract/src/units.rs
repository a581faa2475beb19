//! Responsibility clauses: "(市级牵头单位:市发改委;区级牵头单位:区发改局)", "责任单位:…",
//! "X牵头,Y配合", with level labels, aliases in 〈〉 and mixed separators.

use crate::{Role, UnitRef};
use regex::Regex;
use std::sync::LazyLock;

/// A label such as 市级牵头单位 / 责任单位 / 配合单位, followed by a colon.
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(牵头单位|共同责任单位|责任单位|配合单位|协办单位|协助单位|协同单位|参与单位|主办单位|承办单位|主责单位|责任主体|牵头部门|责任部门|配合部门|协同部门|牵头领导|责任领导|分管领导)\s*[::]")
        .expect("label regex")
});

static LIST_STOP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"。|(?:完成时限|完成时间|时间节点|时限要求|完成期限|时限|责任人|联系人|督办单位|督办领导|备注)\s*[::]")
        .expect("list stop regex")
});

static LABEL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[((]?\s*(?:(?:省|市|区|县|镇|乡|街道)级)?(?:牵头|共同责任|责任|配合|协办|协助|协同|参与|主办|承办|主责)(?:单位|部门|领导|主体)\s*[::]|^(?:完成时限|完成时间|时间节点|时限要求)\s*[::]")
        .expect("label line regex")
});

/// Does this line start with a responsibility label (a clause on its own line)?
pub fn starts_with_label(s: &str) -> bool {
    LABEL_LINE.is_match(s)
}

/// A label found in a clause: byte range (including any level prefix), level and label word.
struct Label<'a> {
    start: usize,
    end: usize,
    level: &'a str,
    label: &'a str,
}

const LEVELS: &[&str] = &["街道", "省", "市", "区", "县", "镇", "乡"];

/// Labels in order. The regex starts with the label word so it can use a literal prefilter;
/// the level prefix (市级 / 区级) is read backwards from there.
fn labels(content: &str) -> Vec<Label<'_>> {
    LABEL
        .captures_iter(content)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let label = c.get(1)?.as_str();
            let before = content.get(..whole.start())?;
            let mut start = whole.start();
            let mut level = "";
            if let Some(b) = before.strip_suffix('级')
                && let Some(l) = LEVELS.iter().find(|l| b.ends_with(*l))
            {
                level = l;
                start -= l.len() + '级'.len_utf8();
            }
            Some(Label {
                start,
                end: whole.end(),
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
    pub units: Vec<UnitRef>,
    pub warnings: Vec<String>,
}

fn role_of(label: &str) -> Role {
    if label.contains("牵头") || label.contains("主办") || label.contains("主责") {
        Role::Lead
    } else if label.contains("共同责任")
        || label.contains("配合")
        || label.contains("协办")
        || label.contains("协助")
        || label.contains("协同")
        || label.contains("参与")
    {
        Role::Co
    } else {
        Role::Responsible
    }
}

fn level_name(prefix: &str) -> Option<String> {
    match prefix {
        "" => None,
        p => Some(p.to_string()),
    }
}

/// Canonical form for matching the same body written two ways.
pub fn canonical(name: &str) -> String {
    let mut s: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    if let (Some(a), Some(b)) = (s.find('〈'), s.find('〉'))
        && a < b
    {
        s = format!(
            "{}{}",
            s.get(..a).unwrap_or(""),
            s.get(b + '〉'.len_utf8()..).unwrap_or("")
        );
    }
    s.replace("人民政府", "政府").replace("区分局", "分局")
}

/// Splits a unit list on 、 , , ; and spaces, never inside 〈〉 or ().
pub fn split_units(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in list.chars() {
        match c {
            '〈' | '(' | '<' | '《' => {
                depth += 1;
                cur.push(c);
            }
            '〉' | ')' | '>' | '》' => {
                depth -= 1;
                cur.push(c);
            }
            '、' | ',' | ';' | ' ' | '/' if depth <= 0 => {
                push_unit(&mut out, &cur);
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    push_unit(&mut out, &cur);
    out
}

/// Trailing words that are not part of a body's name: "市直有关部门按职责分工负责".
const NAME_TAILS: &[&str] = &[
    "按职责分工负责",
    "按职责分工落实",
    "按职责负责",
    "分别负责",
    "按职责",
    "负责",
    "等单位",
    "等部门",
    "等",
];

fn push_unit(out: &mut Vec<String>, s: &str) {
    let mut t = s.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '。' | '.' | ':' | '】' | '【' | '[' | ']')
    });
    t = t
        .strip_prefix("和")
        .or_else(|| t.strip_prefix("及"))
        .unwrap_or(t);
    for tail in NAME_TAILS {
        if let Some(x) = t.strip_suffix(tail)
            && x.chars().count() >= 2
        {
            t = x;
            break;
        }
    }
    // "列第一位的为牵头单位" is a note inside the list, not a body
    let note = t.contains("为牵头单位") || t.contains("第一位");
    if !t.is_empty() && !note && t.chars().count() <= 40 {
        out.push(t.to_string());
    }
}

/// Parses a labelled list "市级牵头单位:A、B;区级牵头单位:C" into units, with warnings where a
/// unit's own level contradicts its label (a 区 body under 市级) or a level label repeats.
pub fn parse_labelled(content: &str) -> (Vec<UnitRef>, Vec<String>) {
    let mut units = Vec::new();
    let mut warnings = Vec::new();
    let found = labels(content);
    let mut seen_labels: Vec<String> = Vec::new();
    for (i, lab) in found.iter().enumerate() {
        let (level, label) = (lab.level, lab.label);
        let end = found.get(i + 1).map(|n| n.start).unwrap_or(content.len());
        let list = content.get(lab.end..end).unwrap_or("");
        // "责任单位:县环保局。完成时限:6月底前": the list ends at its sentence or at a label
        // that is not about units
        let list = list
            .get(..LIST_STOP.find(list).map_or(list.len(), |m| m.start()))
            .unwrap_or(list);
        let full_label = format!("{level}{}", if level.is_empty() { "" } else { "级" }) + label;
        if !level.is_empty() && seen_labels.contains(&full_label) {
            warnings.push(format!(
                "label {full_label} repeated in one item: one of them may be mislabelled"
            ));
        }
        seen_labels.push(full_label.clone());
        if label.contains("领导") {
            continue;
        }
        for name in split_units(list) {
            if !level.is_empty() {
                let own = unit_level(&name);
                if let Some(own) = own
                    && own != level
                {
                    warnings.push(format!(
                        "unit {name} listed under {full_label}: its name says {own}级"
                    ));
                }
            }
            let (name, marked) = role_marker(&name);
            units.push(UnitRef {
                canonical: Some(canonical(&name)),
                name,
                role: marked.unwrap_or_else(|| role_of(label)),
                level: level_name(level),
            });
        }
    }
    (units, warnings)
}

/// "市发改委(牵头)" names the lead inside a plain list; the marker is not part of the name.
fn role_marker(name: &str) -> (String, Option<Role>) {
    for (m, role) in [
        ("(牵头)", Role::Lead),
        ("(牵头单位)", Role::Lead),
        ("(配合)", Role::Co),
        ("(协办)", Role::Co),
    ] {
        if let Some(n) = name.strip_suffix(m) {
            return (n.to_string(), Some(role));
        }
    }
    (name.to_string(), None)
}

/// The level a unit's own name implies: 区发改局 → 区, 市发改委 → 市. Branches of a city body
/// in the district (市生态环境局武昌区分局) stay unclassified.
fn unit_level(name: &str) -> Option<&'static str> {
    if name.contains("分局") || name.contains("分中心") || name.contains("各区") {
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

/// Finds the bracketed responsibility clauses in an item, in order.
pub fn find_clauses(text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut search = 0usize;
    while let Some(rel) = text.get(search..).and_then(|s| s.find(['(', '【', '['])) {
        let open = search + rel;
        let open_len = text
            .get(open..)
            .and_then(|s| s.chars().next())
            .map(char::len_utf8)
            .unwrap_or(1);
        let inner_start = open + open_len;
        // find the matching close bracket
        let mut depth = 1i32;
        let mut close = None;
        // a clause is short: bounding the scan keeps "((((…" linear
        for (i, c) in text
            .get(inner_start..)
            .unwrap_or("")
            .char_indices()
            .take(1200)
        {
            match c {
                '(' | '【' | '[' => depth += 1,
                ')' | '】' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some((inner_start + i, c.len_utf8()));
                        break;
                    }
                }
                '\n' => break,
                _ => {}
            }
        }
        let Some((close_at, close_len)) = close else {
            search = inner_start;
            continue;
        };
        let inner = text.get(inner_start..close_at).unwrap_or("");
        // the label opens the bracket, after at most a level prefix (市级 / 街道级)
        if LABEL.find(inner).is_some_and(|m| m.start() <= 12) {
            let (units, warnings) = parse_labelled(inner);
            out.push(Clause {
                start: open,
                end: close_at + close_len,
                units,
                warnings,
            });
        }
        search = close_at + close_len;
    }
    if out.is_empty() {
        // unbracketed: "…任务。牵头单位:A;配合单位:B"
        if let Some(l) = labels(text).first() {
            let (units, warnings) = parse_labelled(text.get(l.start..).unwrap_or(""));
            out.push(Clause {
                start: l.start,
                end: text.len(),
                units,
                warnings,
            });
        } else if let Some(c) = lead_co(text) {
            out.push(c);
        } else if let Some(c) = bare_unit_list(text) {
            out.push(c);
        }
    }
    out
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
fn lead_co(text: &str) -> Option<Clause> {
    let mut from = 0usize;
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
        let mut steps = 0usize;
        for (i, c) in before.char_indices().rev() {
            steps += 1;
            if steps > 80 {
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
            .map(|name| UnitRef {
                canonical: Some(canonical(&name)),
                name,
                role: Role::Lead,
                level: None,
            })
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
                let list = list
                    .strip_suffix("等单位")
                    .or_else(|| list.strip_suffix("等部门"))
                    .or_else(|| list.strip_suffix('等'))
                    .unwrap_or(list);
                let cos = split_units(list);
                if bodies(&cos) {
                    units.extend(cos.into_iter().map(|name| UnitRef {
                        canonical: Some(canonical(&name)),
                        name,
                        role: Role::Co,
                        level: None,
                    }));
                    end = co_start + verb_at + verb.len();
                }
            }
        }
        return Some(Clause {
            start: lead_start,
            end,
            units,
            warnings: Vec::new(),
        });
    }
    None
}

/// Name endings of government bodies, for a bracketed list without a label: "(县住建局、县城投公司)".
const BODY_ENDINGS: &[&str] = &[
    "局",
    "委",
    "办",
    "厅",
    "部",
    "院",
    "会",
    "中心",
    "公司",
    "政府",
    "办事处",
    "街道",
    "队",
    "站",
    "社",
    "馆",
    "行",
    "室",
    "组",
    "处",
    "集团",
    "联",
    "团",
    "管委会",
    "所",
    "署",
    "台",
    "门",
    "位",
    "镇",
    "乡",
    "区",
    "县",
];

fn bodies(names: &[String]) -> bool {
    plausible_units(names)
        && names
            .iter()
            .all(|n| BODY_ENDINGS.iter().any(|e| n.ends_with(e)))
}

/// A bracket at the end of an item holding only names of bodies is its responsibility clause.
fn bare_unit_list(text: &str) -> Option<Clause> {
    let t = text.trim_end().trim_end_matches(['。', ';']);
    let inner_end = t.len().checked_sub(')'.len_utf8())?;
    if !t.ends_with(')') {
        return None;
    }
    let open = t.get(..inner_end)?.rfind('(')?;
    let inner = t.get(open + 1..inner_end)?;
    // "(含街道)" / "(其中…)" qualify the text, they name no one
    if ["含", "包括", "其中", "不含", "如", "即", "除"]
        .iter()
        .any(|w| inner.starts_with(w))
    {
        return None;
    }
    let names = split_units(inner);
    if !bodies(&names) || names.iter().all(|n| n.chars().count() < 3) {
        return None;
    }
    Some(Clause {
        start: open,
        end: t.len(),
        units: names
            .into_iter()
            .map(|name| UnitRef {
                canonical: Some(canonical(&name)),
                name,
                role: Role::Responsible,
                level: None,
            })
            .collect(),
        warnings: Vec::new(),
    })
}

/// Units from a table cell under a column header such as 牵头单位 / 配合单位.
pub fn units_from_cell(cell: &str, header: &str) -> Vec<UnitRef> {
    let role = role_of(header);
    split_units(cell)
        .into_iter()
        .filter(|n| n != "-" && n != "—" && n != "/" && n != "无")
        // a time limit that slipped into a unit column is not a body
        .filter(|n| !n.contains(|c: char| c.is_ascii_digit()))
        .map(|name| {
            let (name, marked) = role_marker(&name);
            UnitRef {
                canonical: Some(canonical(&name)),
                name,
                role: marked.unwrap_or(role),
                level: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, Role)> {
        find_clauses(text)
            .into_iter()
            .flat_map(|c| c.units)
            .map(|u| (u.name, u.role))
            .collect()
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
    }

    #[test]
    fn bare_bracketed_unit_list() {
        let u = names("改造棚户区住房600套。(县住建局、县城投公司)");
        assert_eq!(u.len(), 2);
        assert!(names("覆盖全部乡镇(含街道)").is_empty());
    }
}
