//! Statements of indicators: the year's 主要预期目标 ("主要预期目标是:地区生产总值增长6%左右,
//! …") written as a sentence, a paragraph of sentences, a bullet paragraph under a heading, or
//! one indicator per line under a heading ("2021年目标:"); and blocks of last year's results
//! under a heading ("2020年成就:"). Each statement is cut into indicator clauses.

use super::lines::Line;
use super::markers;
use regex::Regex;
use std::sync::LazyLock;

static TARGETS_INTRO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:主要(?:预期)?性?(?:目标|指标)(?:预安排|安排)?|预期性?目标|发展目标)(?:建议|确定|拟定|初步|设定|设置|初定|拟|安排|调整|定)?(?:(?:是|为|如下)?\s*[::]|是|为)")
        .expect("targets regex")
});

/// A heading line naming a year's targets or results: "2021年目标:", "今年预期目标",
/// "2020年成就:", "“十三五”成就:".
static BLOCK_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[■●◆\s]*(?:(?P<year>(?:19|20)\d{2})年|(?P<now>今年|明年|本年度?)|(?P<plan>“?十[一二三四五六]五”?|五年))(?:的)?(?:经济社会发展|全市|全省|全区|全县|主要)?(?:(?P<t>(?:主要)?(?:预期)?(?:目标|指标))|(?P<r>成就|成绩|主要成绩|完成情况|发展成就))\s*[::]?$")
        .expect("block heading regex")
});

const PLAN_WORDS: &[&str] = &[
    "五年",
    "十一五",
    "十二五",
    "十三五",
    "十四五",
    "十五五",
    "十六五",
    "到20",
    "规划",
    "远景",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    /// the year's targets
    Targets,
    /// a past year's results
    Results,
}

/// A statement and its clauses (byte ranges in the cleaned text).
#[derive(Debug, Clone)]
pub struct Statement {
    pub sense: Sense,
    /// Where the intro (or heading) starts.
    pub intro: usize,
    pub clauses: Vec<(usize, usize)>,
    /// The year a heading names ("2021年目标"), else None.
    pub year: Option<i32>,
    /// Written one indicator per line.
    pub per_line: bool,
}

/// Does the sentence before `at` speak of a multi-year plan rather than the year?
fn speaks_of_plan(text: &str, at: usize) -> bool {
    let before = text.get(..at).unwrap_or("");
    let from = before
        .char_indices()
        .rev()
        .nth(40)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let w = before.get(from..).unwrap_or("");
    let sentence = w.rsplit(['。', '\n']).next().unwrap_or(w);
    let clause = sentence.rsplit([',', ';', ':']).next().unwrap_or(sentence);
    let plan = |t: &str| PLAN_WORDS.iter().any(|k| crate::text::has(t, k));
    // "今年是实施“十一五”规划的关键一年,全县…主要预期目标是": the plan only places the year
    let one_year = ["今年", "明年", "一年", "之年", "年度"]
        .iter()
        .any(|k| crate::text::has(sentence, k));
    plan(clause) || (plan(sentence) && !one_year)
}

/// The year's targets statement, if the text has one.
pub fn targets(text: &str, lines: &[Line]) -> Option<Statement> {
    // a heading line over the indicators: "2021年目标:" / "今年预期目标"
    let headed = block_statements(text, lines)
        .into_iter()
        .find(|s| s.sense == Sense::Targets);
    let inline = TARGETS_INTRO
        .find_iter(text)
        .find(|m| !speaks_of_plan(text, m.start()))
        .and_then(|m| inline_statement(text, lines, m.start(), m.end()));
    match (headed, inline) {
        (Some(h), Some(i)) => Some(if i.intro < h.intro { i } else { h }),
        (h, i) => h.or(i),
    }
}

/// The words a heading over a block of indicators holds.
static BLOCK_WORDS: LazyLock<aho_corasick::AhoCorasick> =
    LazyLock::new(|| crate::text::word_search(["目标", "指标", "成就", "成绩", "完成情况"]));

/// Blocks of indicators under a heading line, targets and results alike.
pub fn block_statements(text: &str, lines: &[Line]) -> Vec<Statement> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let s = l.text(text);
        // a heading over a block of indicators is short and names targets or results
        if s.is_empty() || s.len() > 90 || !BLOCK_WORDS.is_match(s) {
            continue;
        }
        let Some(c) = BLOCK_HEADING.captures(s) else {
            continue;
        };
        if c.name("plan").is_some() {
            continue;
        }
        let sense = if c.name("t").is_some() {
            Sense::Targets
        } else {
            Sense::Results
        };
        let year = c.name("year").and_then(|y| y.as_str().parse().ok());
        // the indicators: the lines that follow, up to a blank line or the next heading
        let mut clauses = Vec::new();
        let mut per_line = true;
        let mut j = i + 1;
        while let Some(n) = lines.get(j) {
            let t = n.text(text);
            if t.is_empty() {
                if clauses.is_empty() {
                    j += 1;
                    continue;
                }
                break;
            }
            if BLOCK_HEADING.is_match(t) || t.ends_with([':', ':']) {
                break;
            }
            let body = n.start + bullet_len(t);
            if clauses.is_empty() && crate::text::chars_at_least(t, 41) {
                // a paragraph under the heading: its clauses are the statement
                let cs = clauses_in(text, body, n.end);
                if cs.len() > 1 {
                    per_line = false;
                    clauses = cs;
                    break;
                }
            }
            // one indicator per line: the line is the clause
            let t = text
                .get(body..n.end)
                .unwrap_or("")
                .trim_end_matches([';', ',', '。']);
            if !t.trim().is_empty() {
                clauses.push((body, body + t.len()));
            }
            j += 1;
            if clauses.len() > 40 {
                break;
            }
        }
        if !clauses.is_empty() {
            out.push(Statement {
                sense,
                intro: l.start,
                clauses,
                year,
                per_line,
            });
        }
    }
    out
}

/// A bullet or number in front of an indicator line; not a numeral that starts the text
/// ("十四运会…") nor a decimal ("18.34万…").
/// "经济增长:地区生产总值增长7%左右": a short label before the indicators is not one.
fn label_len(t: &str) -> usize {
    match t.find(':') {
        Some(p)
            if t.get(..p).is_some_and(|l| {
                let n = l.chars().count();
                (2..=8).contains(&n) && !l.contains(|c: char| c.is_ascii_digit())
            }) =>
        {
            p + 1
        }
        _ => 0,
    }
}

fn bullet_len(t: &str) -> usize {
    markers::parse(t)
        .filter(|m| {
            !matches!(
                m.style,
                markers::Style::CnGlued | markers::Style::DigitGlued
            ) && !m.decimal_like
        })
        .map_or(0, |m| m.len)
}

/// "主要预期目标是:…" running on in its paragraph.
fn inline_statement(text: &str, lines: &[Line], intro: usize, after: usize) -> Option<Statement> {
    let rest = text.get(after..)?;
    let first_line = rest.split('\n').next().unwrap_or("");
    if first_line.trim().is_empty() {
        // targets listed one per line ("——地区生产总值增长6%左右;", "1.…;"), all in one style
        let from = lines
            .iter()
            .position(|l| l.end >= after)
            .unwrap_or(lines.len());
        let mut clauses = Vec::new();
        let mut style = None;
        for l in lines.iter().skip(from + 1).take(30) {
            let t = l.text(text);
            if t.is_empty() {
                if clauses.is_empty() {
                    continue;
                }
                break;
            }
            let Some(m) = markers::parse(t).filter(|m| !m.decimal_like) else {
                break;
            };
            if *style.get_or_insert(m.style) != m.style {
                break;
            }
            let body = l.start + m.len;
            let body = body + label_len(text.get(body..l.end).unwrap_or(""));
            clauses.extend(clauses_in(text, body, l.end));
        }
        return (!clauses.is_empty()).then_some(Statement {
            sense: Sense::Targets,
            intro,
            clauses,
            year: None,
            per_line: true,
        });
    }
    let end = after + statement_end(rest);
    let clauses = clauses_in(text, after, end);
    (!clauses.is_empty()).then_some(Statement {
        sense: Sense::Targets,
        intro,
        clauses,
        year: None,
        per_line: false,
    })
}

/// Words that open the sentence after a statement: the work plan begins.
const AFTER_STATEMENT: &[&str] = &[
    "为实现",
    "为完成",
    "实现上述",
    "完成上述",
    "确定上述",
    "上述",
    "围绕上述",
    "做好",
    "重点",
    "今年要",
    "我们",
    "为此",
    "要",
    "综合考虑",
    "这些",
    "同时",
    "在实际工作中",
];

/// Where the statement ends: the end of its paragraph — or of the next, when the paragraph
/// stops on ";" or "," and the next goes on with indicators — but a paragraph runs on only
/// through sentences that still state indicators.
fn statement_end(rest: &str) -> usize {
    let mut para = rest.find('\n').unwrap_or(rest.len());
    for _ in 0..3 {
        let before = rest.get(..para).unwrap_or("").trim_end();
        let next = rest.get(para + 1..).unwrap_or("");
        let next_line = next.split('\n').next().unwrap_or("").trim();
        let goes_on = (before.ends_with([';', ','])
            || before.ends_with('。')
                && !AFTER_STATEMENT.iter().any(|w| next_line.starts_with(w))
                && crate::text::chars_at_most(next_line, 400))
            && !next_line.is_empty()
            && markers::parse(next_line).is_none()
            && next_line.split([';', '。']).next().is_some_and(|c| {
                states_indicators(c)
                    && (c.contains(|ch: char| ch.is_ascii_digit())
                        || c.split(',')
                            .any(super::super::interpret::indicator::has_indicator))
            });
        if !goes_on {
            break;
        }
        para = para + 1 + next.find('\n').unwrap_or(next.len());
    }
    let mut end = 0usize;
    let mut from = 0usize;
    let mut sentences = 0;
    while from < para {
        let s = rest.get(from..para).unwrap_or("");
        let stop = s.find('。').map_or(s.len(), |p| p + '。'.len_utf8());
        let sentence = s.get(..stop).unwrap_or(s);
        if sentences > 0 {
            let t = sentence.trim_start();
            if AFTER_STATEMENT.iter().any(|w| t.starts_with(w)) || !states_indicators(sentence) {
                break;
            }
        }
        sentences += 1;
        end = from + sentence.trim_end_matches('。').len();
        from += stop;
        if sentences >= 8 {
            break;
        }
    }
    end
}

/// Does a sentence read as a list of indicators? Short clauses, each with a figure or an
/// indicator's predicate (增长, 控制在, 同步, 完成…目标).
fn states_indicators(sentence: &str) -> bool {
    let clauses: Vec<&str> = sentence
        .split([',', ';', '。'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    if clauses.is_empty() {
        return false;
    }
    let indicator = |c: &&str| {
        c.contains(|ch: char| ch.is_ascii_digit())
            || [
                "增长", "下降", "同步", "控制", "持平", "指标", "达到", "完成", "提高", "实现",
            ]
            .iter()
            .any(|w| crate::text::has(c, w))
    };
    let long = clauses
        .iter()
        .filter(|c| {
            crate::text::chars_at_least(c, 41) && !c.contains(|ch: char| ch.is_ascii_digit())
        })
        .count();
    clauses.iter().filter(|c| indicator(c)).count() * 2 >= clauses.len() && long == 0
}

fn is_break(c: char) -> bool {
    matches!(c, ',' | ';' | '。' | '\n')
}

/// Predicates of an indicator clause: a clause without one (and without a figure) only names
/// indicators, and joins the clause after it ("城镇新增就业人数,城镇登记失业率…等约束性指标完成…").
const PREDICATES: &[&str] = &[
    "增长",
    "下降",
    "达到",
    "控制",
    "完成",
    "实现",
    "保持",
    "同步",
    "提高",
    "降低",
    "稳定",
    "持平",
    "衔接",
    "改善",
    "减少",
    "增加",
    "扭转",
    "突破",
    "确保",
    "力争",
    "争取",
    "为",
    "在",
    "涨幅",
    "进一步",
    "缩小",
    "提升",
    "上涨",
    "超出",
    "高于",
    "低于",
    "快于",
    "前列",
    "增幅",
    "增速",
];

/// Words that open a framing clause of the statement rather than an indicator.
const FRAMING: &[&str] = &[
    "锚定",
    "坚持",
    "努力",
    "力争取得",
    "争取",
    "奋力",
    "全力",
    "围绕",
    "聚焦",
    "紧扣",
    "推动",
    "确保完成",
];

/// Clauses that qualify the one before ("力争取得更好结果", "达到282亿元" after a rate).
const QUALIFIERS: &[&str] = &[
    "力争",
    "努力",
    "争取",
    "在实际工作中",
    "确保",
    "力求",
    "达到",
    "实现",
    "总量",
    "规模达",
    "其中",
];

/// Splits `text[start..end]` into indicator clauses at , ; 。 (never inside brackets), joining
/// qualifier clauses to the clause before and bare indicator names to the clause after.
pub fn clauses_in(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut raw: Vec<(usize, usize, char)> = Vec::new();
    let Some(seg) = text.get(start..end) else {
        return Vec::new();
    };
    let mut cs = 0usize;
    let mut depth = 0i32;
    for (i, c) in seg.char_indices() {
        match c {
            '(' | '“' | '《' => depth += 1,
            ')' | '”' | '》' => depth = (depth - 1).max(0),
            c if is_break(c) && depth == 0 => {
                push_trimmed(seg, start, cs, i, c, &mut raw);
                cs = i + c.len_utf8();
            }
            _ => {}
        }
    }
    push_trimmed(seg, start, cs, seg.len(), '\n', &mut raw);
    // "固定资产投资增幅16%以上、规上工业产值增幅13%以上": two indicators, each with its figure
    let raw: Vec<(usize, usize, char)> = raw
        .into_iter()
        .flat_map(|(s, e, sep)| split_enumerated(text, s, e, sep))
        .collect();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(raw.len());
    // the separator that ended the previous clause: only a comma joins qualifiers
    let mut prev_sep = '\n';
    let mut carry: Option<usize> = None;
    for (s, e, sep) in raw {
        let c = text.get(s..e).unwrap_or("");
        let s = carry.take().unwrap_or(s);
        let has_number = c.contains(|ch: char| ch.is_ascii_digit());
        let names_only = !has_number
            && !PREDICATES.iter().any(|p| crate::text::has(c, p))
            && super::super::interpret::indicator::has_indicator(c);
        // "锚定…的目标", "坚持稳字当头": framing, not an indicator
        let framing = !has_number && FRAMING.iter().any(|w| c.starts_with(w));
        let qualifier = matches!(prev_sep, ',' | '、')
            && QUALIFIERS.iter().any(|q| c.starts_with(q))
            && !super::super::interpret::indicator::has_indicator(c);
        match out.last_mut() {
            Some(last) if qualifier => last.1 = e,
            _ if framing => {}
            _ if names_only && sep == ',' => carry = Some(s),
            _ => out.push((s, e)),
        }
        prev_sep = sep;
    }
    if let Some(s) = carry
        && let Some(last) = out.last_mut()
    {
        last.0 = last.0.min(s);
    }
    out
}

/// Splits a clause at "、" where both sides name an indicator and state a figure of their own
/// (not "分别…" lists, not a level and its rate: "达到20亿元、增幅12%以上").
fn split_enumerated(text: &str, s: usize, e: usize, sep: char) -> Vec<(usize, usize, char)> {
    let c = text.get(s..e).unwrap_or("");
    if !c.contains('、') || crate::text::has(c, "分别") {
        return vec![(s, e, sep)];
    }
    let own_figure = |t: &str| {
        t.contains(|ch: char| ch.is_ascii_digit())
            && !super::super::interpret::indicator::name_of(t).is_empty()
            && super::super::interpret::indicator::has_indicator(t)
    };
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut from = 0usize;
    for (i, _) in c.match_indices('、') {
        let (a, b) = (
            c.get(from..i).unwrap_or(""),
            c.get(i + '、'.len_utf8()..).unwrap_or(""),
        );
        let b_head = b.split('、').next().unwrap_or(b);
        if own_figure(a) && own_figure(b_head) {
            parts.push((s + from, s + i));
            from = i + '、'.len_utf8();
        }
    }
    if parts.is_empty() {
        return vec![(s, e, sep)];
    }
    let mut out: Vec<(usize, usize, char)> = parts.into_iter().map(|(a, b)| (a, b, '、')).collect();
    out.push((s + from, e, sep));
    out
}

fn push_trimmed(
    seg: &str,
    base: usize,
    s: usize,
    e: usize,
    sep: char,
    out: &mut Vec<(usize, usize, char)>,
) {
    let Some(t) = seg.get(s..e) else { return };
    let is_lead = |c: char| c.is_whitespace() || matches!(c, '—' | '-' | '■' | '●' | '◆' | '•');
    let lead = t.len() - t.trim_start_matches(is_lead).len();
    let trimmed = t.trim_start_matches(is_lead).trim_end();
    if !trimmed.is_empty() {
        out.push((base + s + lead, base + s + lead + trimmed.len(), sep));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::lines;

    fn clause_texts(t: &str) -> Vec<String> {
        let ls = lines::split(t);
        targets(t, &ls)
            .map(|s| {
                s.clauses
                    .iter()
                    .map(|(a, b)| t[*a..*b].to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn rate_and_level_stay_one_clause() {
        let c = clause_texts(
            "主要预期目标是:地区生产总值增长11%,达到282亿元;城镇居民人均可支配收入增长12%,农民人均纯收入增长14%,主要约束性指标达到上级要求。\n为实现上述目标,要…",
        );
        assert_eq!(
            c,
            vec![
                "地区生产总值增长11%,达到282亿元",
                "城镇居民人均可支配收入增长12%",
                "农民人均纯收入增长14%",
                "主要约束性指标达到上级要求"
            ]
        );
    }

    #[test]
    fn sentences_of_indicators_run_on() {
        let c = clause_texts(
            "经济主要预期目标是:地区生产总值增长5%左右,力争取得更好结果。规模以上工业增加值增长6%左右。城镇新增就业人数,城镇登记失业率等约束性指标完成上级确定的目标。确定上述目标,坚持实事求是。",
        );
        assert_eq!(
            c,
            vec![
                "地区生产总值增长5%左右,力争取得更好结果",
                "规模以上工业增加值增长6%左右",
                "城镇新增就业人数,城镇登记失业率等约束性指标完成上级确定的目标"
            ]
        );
    }

    #[test]
    fn heading_over_lines() {
        let c = clause_texts(
            "2020年成就:\n增长2.2%\n2021年目标:\n生产总值增长6.5%左右\n城镇新增就业40万人\n",
        );
        assert_eq!(c, vec!["生产总值增长6.5%左右", "城镇新增就业40万人"]);
    }
}
