//! A work report (or any page quoting one): one item per clause of the year's 主要预期目标
//! statement, then last year's results for the same indicators as outcome items — from a
//! results block under its heading ("2020年成就:"), else from the first mention of each
//! indicator with a figure in the review before the statement.

use super::Doc;
use crate::interpret::{indicator, outcome, quantity};
use crate::segment::statement::{self, Sense, Statement};
use crate::{Comparator, Item, Quantity};
use regex::Regex;
use std::sync::LazyLock;

static YEAR_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})年").expect("year"));
static REVIEW_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})年(?:工作|的工作)?回顾").expect("review year"));
static ORDINAL_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[一二三四五六七八九十]{1,2}是|其[一二三四五六七八九十]{1,2}[,、]?)")
        .expect("ordinal lead")
});

const CATEGORY: &str = "主要预期目标";

fn clause_item(text: &str, s: usize, e: usize, year: Option<i32>) -> Item {
    // "一是地区生产总值增长6%": the clause starts after its ordinal
    let s = ORDINAL_LEAD
        .find(text.get(s..e).unwrap_or(""))
        .map_or(s, |m| s + m.end());
    // the clause as written, with the separator that ends it
    let e = match text.get(e..).and_then(|t| t.chars().next()) {
        Some(c @ (',' | ';' | '。' | '、')) => e + c.len_utf8(),
        _ => e,
    };
    Item {
        text: text.get(s..e).unwrap_or("").to_string(),
        span: [s, e],
        year,
        category: Some(CATEGORY.to_string()),
        confidence: super::confidence::STATEMENT,
        ..Default::default()
    }
}

/// The year the statement sets targets for.
fn targets_year(text: &str, intro: usize, title_year: Option<i32>) -> Option<i32> {
    let before = text.get(..intro).unwrap_or("");
    let window_start = before.char_indices().rev().nth(30).map_or(0, |(i, _)| i);
    let window = before.get(window_start..).unwrap_or("");
    let window = window.rsplit(['。', '\n']).next().unwrap_or(window);
    if let Some(y) = YEAR_BEFORE
        .captures_iter(window)
        .last()
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
    {
        return Some(y);
    }
    let review = REVIEW_YEAR
        .captures(text)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse::<i32>().ok());
    if (crate::text::has(window, "明年") || crate::text::has(window, "新的一年"))
        && let Some(r) = review
    {
        return Some(r + 1);
    }
    // a heading such as "二、2025年工作安排" shortly before the statement
    let near_start = (intro.saturating_sub(600)..=intro)
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(intro);
    let near = YEAR_BEFORE
        .captures_iter(text.get(near_start..intro).unwrap_or(""))
        .last()
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok());
    title_year.or(near).or(review.map(|r| r + 1))
}

/// The targets a clause sets. "城镇调查失业率和登记失业率稳定在4.3%左右": one value for two
/// indicators, a target each; "分别增长7%和8%左右": 左右 written once holds for both.
fn clause_targets(clause: &str) -> Vec<Quantity> {
    let mut qs: Vec<Quantity> = quantity::find_quantities(clause)
        .into_iter()
        .map(|f| f.quantity)
        .collect();
    if crate::text::has(clause, "分别")
        && qs.len() >= 2
        && let Some(last) = qs.last().map(|q| q.comparator)
        && last != Comparator::Equal
        && last != Comparator::Range
    {
        let unit = qs.last().map(|q| q.unit.clone()).unwrap_or_default();
        if qs.iter().all(|q| q.unit == unit) {
            let n = qs.len();
            for q in qs.iter_mut().take(n - 1) {
                if q.comparator == Comparator::Equal {
                    q.comparator = last;
                }
            }
        }
    }
    if qs.len() == 1 && !crate::text::has(clause, "分别") {
        let name = indicator::name_of(clause);
        let parts: Vec<&str> = name.split(['和', '、']).filter(|p| !p.is_empty()).collect();
        if parts.len() == 2
            && parts.iter().all(|p| indicator::has_indicator(p))
            && let Some(q) = qs.first().cloned()
        {
            qs.push(q);
        }
    }
    qs
}

pub fn items(doc: &Doc<'_>) -> Vec<Item> {
    let text = doc.text;
    let lines = &doc.seg.lines;
    let Some(st) = statement::targets(text, lines) else {
        return Vec::new();
    };
    let year = st
        .year
        .or_else(|| targets_year(text, st.intro, doc.title_year));
    let mut items = Vec::new();
    for &(s, e) in &st.clauses {
        let mut it = clause_item(text, s, e, year);
        it.targets = clause_targets(&it.text);
        for q in &it.targets {
            if let Some(w) = quantity::plausibility_warning(q) {
                it.warnings.push(w);
            }
        }
        it.reasons.push(if st.per_line {
            "indicator line of the year's targets".into()
        } else {
            "clause of the 主要预期目标 statement".into()
        });
        items.push(it);
    }
    let last_year = year.map(|y| y - 1);
    let block = statement::block_statements(text, lines)
        .into_iter()
        .find(|b| {
            b.sense == Sense::Results
                && b.intro < st.intro
                && (b.year.is_none() || b.year == last_year)
        });
    match block {
        Some(b) => items.extend(results_block(text, &b, b.year.or(last_year))),
        None => items.extend(prior_results(text, &st, last_year)),
    }
    items
}

/// Every line of a results block that states a figure.
fn results_block(text: &str, b: &Statement, year: Option<i32>) -> Vec<Item> {
    let mut out = Vec::new();
    for &(s, e) in &b.clauses {
        let mut it = clause_item(text, s, e, year);
        let (results, _) = outcome::outcomes(&it.text);
        if results.is_empty() {
            continue;
        }
        it.actual = results;
        it.confidence = super::confidence::RESULT;
        it.reasons
            .push("a line of last year's results under its heading".into());
        out.push(it);
    }
    out
}

fn clauses(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let Some(seg) = text.get(start..end) else {
        return out;
    };
    // the separators are ASCII or "。", found by SIMD search and taken in order
    let b = seg.as_bytes();
    let ascii = memchr::memchr3_iter(b',', b';', b'\n', b).map(|at| (at, 1));
    let stops = crate::text::FULL_STOP
        .find_iter(b)
        .map(|at| (at, "。".len()));
    let mut cs = 0usize;
    for (at, len) in crate::text::merge(ascii, stops) {
        push_trimmed(seg, start, cs, at, &mut out);
        cs = at + len;
    }
    push_trimmed(seg, start, cs, seg.len(), &mut out);
    out
}

fn push_trimmed(seg: &str, base: usize, s: usize, e: usize, out: &mut Vec<(usize, usize)>) {
    let Some(t) = seg.get(s..e) else { return };
    let is_lead = |c: char| c.is_whitespace() || c == '—' || c == '-';
    let from_lead = t.trim_start_matches(is_lead);
    let lead = t.len() - from_lead.len();
    let trimmed = from_lead.trim_end();
    if !trimmed.is_empty() {
        out.push((base + s + lead, base + s + lead + trimmed.len()));
    }
}

/// The clauses (sorted, disjoint) that hold `needle`, in order, each once: one SIMD search
/// over the text they span rather than a search in each.
fn clauses_holding<'a>(
    text: &'a str,
    clauses: &'a [(usize, usize)],
    needle: &'a str,
) -> impl Iterator<Item = usize> + 'a {
    let (from, to) = match (clauses.first(), clauses.last()) {
        (Some(f), Some(l)) if !needle.is_empty() => (f.0, l.1),
        _ => (0, 0),
    };
    let hay = text.as_bytes().get(from..to).unwrap_or_default();
    let mut last: Option<usize> = None;
    memchr::memmem::find_iter(hay, needle.as_bytes()).filter_map(move |p| {
        let at = from + p;
        let i = clauses.partition_point(|c| c.1 <= at);
        let c = clauses.get(i)?;
        let inside = c.0 <= at && at + needle.len() <= c.1;
        (inside && last != Some(i)).then(|| {
            last = Some(i);
            i
        })
    })
}

/// Is the clause at `pos` in a sentence about several years ("五年来…年均增长6.5%")?
fn multi_year(text: &str, floor: usize, pos: usize) -> bool {
    let before = text.get(floor..pos).unwrap_or("");
    let from = before.char_indices().rev().nth(80).map_or(0, |(i, _)| i);
    let window = before.get(from..).unwrap_or("");
    let sentence = window.rsplit(['。', '\n']).next().unwrap_or(window);
    let rest = text.get(pos..).unwrap_or("");
    let to = rest.char_indices().nth(120).map_or(rest.len(), |(i, _)| i);
    let rest = rest.get(..to).unwrap_or("");
    let sentence_end = rest.find(['。', '\n']).map_or(rest.len(), |e| e);
    let after = rest.get(..sentence_end).unwrap_or("");
    // "年均增长" averages several years; "年均浓度" is one year's average
    let multi = |t: &str| {
        ["五年", "十三五", "十四五", "十二五", "十五五", "累计"]
            .iter()
            .any(|k| crate::text::has(t, k))
            || t.match_indices("年均").any(|(i, _)| {
                !t.get(i..)
                    .is_some_and(|r| r.starts_with("年均浓度") || r.starts_with("年均值"))
            })
    };
    multi(sentence) || multi(after)
}

/// A clause that restates a target ("今年GDP预期增长7.5%左右") rather than a result.
fn speaks_of_target(clause: &str) -> bool {
    ["预期", "目标", "力争", "计划", "今年", "明年", "将"]
        .iter()
        .any(|w| crate::text::has(clause, w))
}

const RATE_WORDS: &[&str] = &["增长", "下降", "增加", "提高", "减少", "上涨", "回落"];

/// Last year's results: for each indicator of the targets, its first mention with a figure
/// in the review before the statement, with the rate clauses that follow it.
fn prior_results(text: &str, st: &Statement, year: Option<i32>) -> Vec<Item> {
    let limit = st.intro;
    // the speech starts at its salutation; on a listing page the news entries come before it
    let body_start = ["各位代表", "我代表", "报告工作"]
        .iter()
        .filter_map(|k| memchr::memmem::find(text.as_bytes(), k.as_bytes()))
        .filter(|&p| p < limit)
        .min()
        .unwrap_or(0);
    // "报告回顾了2023年工作:全县地区生产总值完成…": the outcome starts after the colon
    let all: Vec<(usize, usize)> = clauses(text, body_start, limit)
        .into_iter()
        .map(|(s, e)| {
            let c = text.get(s..e).unwrap_or("");
            match memchr::memrchr(b':', c.as_bytes()) {
                Some(p) if p > 0 && p + 1 < c.len() => {
                    let lead = c.get(p + 1..).map_or(0, |t| t.len() - t.trim_start().len());
                    (s + p + 1 + lead, e)
                }
                _ => (s, e),
            }
        })
        .collect();
    let fams = indicator::families_of_clauses(text, &all);

    let clause_text = |r: &(usize, usize)| text.get(r.0..r.1).unwrap_or("");
    // what each clause says, worked out once: clauses are many, targets few
    // an indicator's name, worked out for the clauses that hold one's words only
    let names: Vec<std::cell::OnceCell<&str>> =
        all.iter().map(|_| std::cell::OnceCell::new()).collect();
    let name_at = |i: usize| -> &str {
        names.get(i).map_or("", |c| {
            *c.get_or_init(|| {
                all.get(i)
                    .map_or("", |r| indicator::name_of(clause_text(r)))
            })
        })
    };
    let figures: Vec<std::cell::OnceCell<bool>> =
        all.iter().map(|_| std::cell::OnceCell::new()).collect();
    let has_q = |r: &(usize, usize)| {
        let i = all.partition_point(|c| c.0 < r.0);
        match figures.get(i).filter(|_| all.get(i) == Some(r)) {
            Some(cell) => *cell.get_or_init(|| !outcome::outcomes(clause_text(r)).0.is_empty()),
            None => !outcome::outcomes(clause_text(r)).0.is_empty(),
        }
    };
    let same_sentence = |a: &(usize, usize), b: &(usize, usize)| {
        text.get(a.1..b.0)
            .is_some_and(|gap| !gap.contains(['。', '\n', ';']))
    };
    let same_sentence_or_semicolon = |a: &(usize, usize), b: &(usize, usize)| {
        text.get(a.1..b.0)
            .is_some_and(|gap| !gap.contains(['。', '\n']))
    };
    let mut out: Vec<Item> = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    for &(ts, te) in &st.clauses {
        let target = text.get(ts..te).unwrap_or("");
        let fam = indicator::family_of(target);
        // "…等约束性指标完成上级下达的目标": a summary of quotas, no indicator of its own
        let summary = target.contains('等') && crate::text::has(target, "指标");
        if summary || fam.is_none() && !indicator::has_indicator(target) {
            continue;
        }
        let name = indicator::name_of(target);
        let matches = |i: usize| -> bool {
            let Some(r) = all.get(i) else { return false };
            let same = match fam {
                Some(f) => fams.get(i) == Some(&Some(f)),
                None => indicator::same_name(name, name_at(i)),
            };
            same && has_q(r)
                && !speaks_of_target(clause_text(r))
                && !multi_year(text, body_start, r.0)
        };
        // the indicator by its own name first ("公共财政预算收入" over "地方财政总收入"), else any
        // clause of its family (or, with no family, of the same name: its last two characters
        // are in the clause)
        let by_name = (name.chars().count() >= 3)
            .then(|| clauses_holding(text, &all, name).find(|&i| name_at(i) == name && matches(i)))
            .flatten();
        let any = || match fam {
            Some(_) => (0..all.len()).find(|&i| matches(i)),
            None => {
                let tail_at = name.char_indices().rev().nth(1).map_or(0, |(i, _)| i);
                let tail = name.get(tail_at..).unwrap_or(name);
                clauses_holding(text, &all, tail).find(|&i| matches(i))
            }
        };
        let Some(idx) = by_name.or_else(any) else {
            continue;
        };
        if used.contains(&idx) {
            continue;
        }
        let mut k = idx;
        while let Some(&r) = all.get(k) {
            let mut s = r.0;
            let mut e = r.1;
            let cur_family = indicator::family_of;
            // "全年增长5.7%,地区生产总值突破2万亿元": the year's rate stated just before
            if k == idx
                && let Some(prev) = k.checked_sub(1).and_then(|p| all.get(p))
                && same_sentence(prev, &r)
                && clause_text(prev).starts_with("全年")
                && RATE_WORDS.iter().any(|w| clause_text(prev).contains(w))
                && indicator::family_of(clause_text(prev)).is_none()
                && has_q(prev)
            {
                s = prev.0;
            }
            // ",增长5.5%" / ",按可比价计算,同比增长0.8%" belong to the indicator before them
            let mut n = k + 1;
            while let Some(next) = all.get(n) {
                let nt = clause_text(next);
                let rate = |t: &str| {
                    indicator::family_of(t).is_none()
                        && !indicator::has_indicator(t)
                        && t.chars().count() <= 20
                        && RATE_WORDS.iter().any(|w| crate::text::has(t, w))
                };
                let joined = all.get(n - 1).is_some_and(|p| same_sentence(p, next));
                if joined && rate(nt) && has_q(next) {
                    e = next.1;
                    n += 1;
                } else if joined
                    && !has_q(next)
                    && nt.chars().count() <= 8
                    && all.get(n + 1).is_some_and(|after| {
                        same_sentence(next, after) && rate(clause_text(after)) && has_q(after)
                    })
                {
                    // "按可比价计算": a qualifier between the level and the rate
                    n += 1;
                } else {
                    break;
                }
            }
            // "城镇…39363元,农村…17573元,分别增长8.3%和7.7%": the rates of both, one outcome
            if let (Some(next), Some(after)) = (all.get(n), all.get(n + 1))
                && cur_family(clause_text(&r)).is_some()
                && cur_family(clause_text(next)) == cur_family(clause_text(&r))
                && clause_text(after).starts_with("分别")
                && same_sentence(next, after)
                && has_q(next)
            {
                e = after.1;
                n += 2;
            }
            used.extend(k..n);
            let mut it = clause_item(text, s, e, year);
            it.actual = outcome::outcomes(&it.text).0;
            it.confidence = super::confidence::RESULT;
            it.reasons.push(
                "last year's result for an indicator of the targets, stated before them".into(),
            );
            out.push(it);
            // an adjacent clause on the same indicator (城镇… / 农村…可支配收入) is its own outcome
            let cur_fam = indicator::family_of(clause_text(&r)).or(fam);
            match all.get(n) {
                Some(next)
                    if all.get(n - 1).is_some_and(|p| {
                        same_sentence_or_semicolon(p, next)
                            && cur_fam.is_some()
                            && indicator::family_of(clause_text(next)) == cur_fam
                    }) && has_q(next)
                        && !speaks_of_target(clause_text(next))
                        && !used.contains(&n) =>
                {
                    k = n;
                }
                _ => break,
            }
        }
    }
    out.sort_by_key(|i| i.span[0]);
    out
}
