//! Work reports (and reports embedded in other pages): the clauses of the year's 主要预期目标
//! statement as target items, and last year's outcomes for the same indicators as actuals.
//! Plan-execution reports: per "——" line last year's target and outcome, then the new targets.

use crate::lines::{self, Line};
use crate::{Item, quantity};
use regex::Regex;
use std::sync::LazyLock;

static TARGETS_INTRO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:主要(?:预期)?性?(?:目标|指标)(?:预安排|安排)?|预期性?目标|发展目标)(?:建议|确定|拟定|初步|设定|设置|初定|拟|安排|调整|定)?(?:(?:是|为|如下)?\s*[::]|是|为)")
        .expect("targets regex")
});
static YEAR_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})年").expect("year"));
static REVIEW_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})年(?:工作|的工作)?回顾").expect("review year"));

/// Indicator families: a target clause and an outcome clause speak of the same indicator
/// when they share a family.
const FAMILIES: &[&[&str]] = &[
    &[
        "地区生产总值",
        "国内生产总值",
        "生产总值",
        "GDP",
        "经济增长",
    ],
    &["城镇新增就业", "新增就业"],
    &["居民消费价格", "CPI"],
    &["可支配收入", "居民收入", "纯收入"],
    &[
        "一般公共预算收入",
        "一般公共预算总收入",
        "公共财政预算收入",
        "财政总收入",
        "财政收入",
        "地方财政",
        "预算收入",
    ],
    &["固定资产投资"],
    &["社会消费品零售总额", "社零"],
    &["规模以上工业增加值", "规上工业增加值", "工业增加值"],
    &["服务业增加值"],
    &["失业率"],
    &["进出口", "外贸出口"],
    &["能耗"],
    &["粮食产量", "粮食总产"],
    &["招商引资", "实际利用外资", "利用外资"],
    &["PM2.5", "细颗粒物"],
    &["研发经费", "R&D"],
];

static FAMILY_WORDS: LazyLock<(aho_corasick::AhoCorasick, Vec<usize>)> = LazyLock::new(|| {
    let mut words = Vec::new();
    let mut fam = Vec::new();
    for (i, f) in FAMILIES.iter().enumerate() {
        for w in f.iter() {
            words.push(*w);
            fam.push(i);
        }
    }
    let ac = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(words)
        .expect("family words");
    (ac, fam)
});

/// The family whose keyword comes first: "城乡居民收入增长与经济增长同步" is about income.
fn family_of(s: &str) -> Option<usize> {
    // "单位地区生产总值能耗" measures energy, not output
    if s.contains("能耗") {
        return FAMILIES.iter().position(|f| f.contains(&"能耗"));
    }
    let (ac, fam) = &*FAMILY_WORDS;
    ac.find(s)
        .and_then(|m| fam.get(m.pattern().as_usize()).copied())
}

fn is_break(c: char) -> bool {
    matches!(c, ',' | ';' | '。' | '\n')
}

/// The family of each clause, from one automaton pass over the whole span rather than one
/// search per (short) clause.
fn families_of_clauses(text: &str, clauses: &[(usize, usize)]) -> Vec<Option<usize>> {
    let mut out = vec![None; clauses.len()];
    let (Some(first), Some(last)) = (clauses.first(), clauses.last()) else {
        return out;
    };
    let (ac, fam) = &*FAMILY_WORDS;
    let span = text.get(first.0..last.1).unwrap_or("");
    let mut energy = vec![false; clauses.len()];
    let mut k = 0usize;
    for m in ac.find_iter(span) {
        let at = first.0 + m.start();
        while clauses.get(k).is_some_and(|c| c.1 <= at) {
            k += 1;
        }
        let Some(c) = clauses.get(k) else { break };
        if at < c.0 || at + m.len() > c.1 {
            continue;
        }
        let f = fam.get(m.pattern().as_usize()).copied();
        if let Some(slot) = out.get_mut(k)
            && slot.is_none()
        {
            *slot = f;
        }
        if span.get(m.start()..m.end()) == Some("能耗")
            && let Some(e) = energy.get_mut(k)
        {
            *e = true;
        }
    }
    // "单位地区生产总值能耗" measures energy, as `family_of` decides
    let energy_family = FAMILIES.iter().position(|f| f.contains(&"能耗"));
    for (i, e) in energy.iter().enumerate() {
        if *e && let Some(slot) = out.get_mut(i) {
            *slot = energy_family;
        }
    }
    out
}

/// Splits `text[start..end]` into clauses on , ; 。 with their byte ranges, trimmed.
fn clauses(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let Some(seg) = text.get(start..end) else {
        return out;
    };
    let mut cs = 0usize;
    for (i, c) in seg.char_indices() {
        if is_break(c) {
            push_trimmed(seg, start, cs, i, &mut out);
            cs = i + c.len_utf8();
        }
    }
    push_trimmed(seg, start, cs, seg.len(), &mut out);
    out
}

fn push_trimmed(seg: &str, base: usize, s: usize, e: usize, out: &mut Vec<(usize, usize)>) {
    let Some(t) = seg.get(s..e) else { return };
    let lead = t.len()
        - t.trim_start_matches(|c: char| c.is_whitespace() || c == '—' || c == '-')
            .len();
    let trimmed = t
        .trim_start_matches(|c: char| c.is_whitespace() || c == '—' || c == '-')
        .trim_end();
    if !trimmed.is_empty() {
        out.push((base + s + lead, base + s + lead + trimmed.len()));
    }
}

static ORDINAL_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[一二三四五六七八九十]{1,2}是|其[一二三四五六七八九十]{1,2}[,、]?)")
        .expect("ordinal lead")
});

fn make_item(text: &str, s: usize, e: usize, year: Option<i32>, category: &str) -> Item {
    // "一是地区生产总值增长6%": the clause starts after its ordinal
    let s = ORDINAL_LEAD
        .find(text.get(s..e).unwrap_or(""))
        .map(|m| s + m.end())
        .unwrap_or(s);
    let t = text.get(s..e).unwrap_or("").to_string();
    Item {
        text: t,
        span: [s, e],
        year,
        category: Some(category.to_string()),
        ..Default::default()
    }
}

fn targets_year(text: &str, intro_start: usize, title_year: Option<i32>) -> Option<i32> {
    let before = text.get(..intro_start).unwrap_or("");
    let window_start = before
        .char_indices()
        .rev()
        .nth(30)
        .map(|(i, _)| i)
        .unwrap_or(0);
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
    if (window.contains("明年") || window.contains("新的一年"))
        && let Some(r) = review
    {
        return Some(r + 1);
    }
    // a heading such as "二、2025年工作安排" shortly before the statement
    let near_start = (intro_start.saturating_sub(600)..=intro_start)
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(intro_start);
    let near = YEAR_BEFORE
        .captures_iter(text.get(near_start..intro_start).unwrap_or(""))
        .last()
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok());
    title_year.or(near).or(review.map(|r| r + 1))
}

/// Work-report extraction; `title_year` is the year in the title, if any.
pub fn extract_work_report(text: &str, title_year: Option<i32>) -> Vec<Item> {
    let mut items = Vec::new();
    // the year's targets, not a five-year plan's ("十四五"时期主要目标是…)
    let Some(intro) = TARGETS_INTRO.find_iter(text).find(|m| {
        let before = text.get(..m.start()).unwrap_or("");
        let from = before
            .char_indices()
            .rev()
            .nth(40)
            .map(|(i, _)| i)
            .unwrap_or(0);
        let w = before.get(from..).unwrap_or("");
        let sentence = w.rsplit(['。', '\n']).next().unwrap_or(w);
        let clause = sentence.rsplit([',', ';', ':']).next().unwrap_or(sentence);
        let plan_words = [
            "五年",
            "十一五",
            "十二五",
            "十三五",
            "十四五",
            "十五五",
            "十六五",
            "到20",
            "规划",
        ];
        let speaks_of_plan = |t: &str| plan_words.iter().any(|k| t.contains(k));
        // "今年是实施“十一五”规划的关键一年,全县…主要预期目标是": the plan is named only to
        // place the year; the targets are the year's own
        let one_year = ["今年", "明年", "一年", "之年", "年度"]
            .iter()
            .any(|k| sentence.contains(k));
        !(speaks_of_plan(clause) || (speaks_of_plan(sentence) && !one_year))
    }) else {
        return items;
    };
    let year = targets_year(text, intro.start(), title_year);
    let after = intro.end();
    let rest = text.get(after..).unwrap_or("");
    let first_line = rest.split('\n').next().unwrap_or("");
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    if first_line.trim().is_empty() {
        // targets listed one per line ("——地区生产总值增长6%左右;")
        let ls = lines::lines(rest);
        for l in ls.iter().skip(1).take(30) {
            let l: Line<'_> = lines::trim_start(*l);
            if l.text.is_empty() {
                continue;
            }
            if !(l.text.starts_with('—')
                || l.text.starts_with('-')
                || lines::item_number(l.text).is_some())
            {
                break;
            }
            let body_off = match lines::item_number(l.text) {
                Some((_, p)) => p,
                None => l.text.len() - l.text.trim_start_matches(['—', '-']).len(),
            };
            for r in clauses(text, after + l.start + body_off, after + l.end()) {
                ranges.push(r);
            }
        }
    } else {
        let end_rel = statement_end(rest);
        ranges = clauses(text, after, after + end_rel);
        // "…同步。全面完成省下达的节能减排任务。": a short trailing sentence on binding quotas
        let next_start = after
            + end_rel
            + rest
                .get(end_rel..)
                .and_then(|s| s.chars().next())
                .map(char::len_utf8)
                .unwrap_or(0);
        if let Some(next) = text.get(next_start..) {
            let n_end = next.find(['。', '\n']).unwrap_or(next.len());
            let sent = next.get(..n_end).unwrap_or("");
            if sent.chars().count() <= 30 && (sent.contains("下达") || sent.contains("约束性"))
            {
                ranges.extend(clauses(text, next_start, next_start + n_end));
            }
        }
    }
    let mut families: Vec<usize> = Vec::new();
    for (s, e) in ranges {
        let mut item = make_item(text, s, e, year, "主要预期目标");
        for f in quantity::find_quantities(&item.text) {
            if let Some(w) = quantity::plausibility_warning(&f.quantity) {
                item.warnings.push(w);
            }
            item.targets.push(f.quantity);
        }
        if let Some(f) = family_of(&item.text)
            && !families.contains(&f)
        {
            families.push(f);
        }
        items.push(item);
    }
    items.extend(actuals(text, intro.start(), &families, year.map(|y| y - 1)));
    items
}

/// Where a run-on targets statement ends: at its "。", or at a line break unless the paragraph
/// stops on ";" or "," and the next one goes on with the list (the statement spans paragraphs).
fn statement_end(rest: &str) -> usize {
    let mut from = 0usize;
    for _ in 0..4 {
        let Some(p) = rest.get(from..).and_then(|r| r.find(['。', '\n'])) else {
            return rest.len();
        };
        let end = from + p;
        if rest.get(end..).is_some_and(|r| r.starts_with('。')) {
            return end;
        }
        let before = rest.get(..end).unwrap_or("").trim_end();
        let next = rest.get(end + 1..).unwrap_or("");
        let next_line = next.split('\n').next().unwrap_or("").trim();
        let goes_on = before.ends_with([';', ';', ',', ','])
            && !next_line.is_empty()
            && lines::heading_level(next_line).is_none()
            && lines::item_number(next_line).is_none()
            && !quantity::find_quantities(
                next_line
                    .get(..next_line.find(['。', ';', ';']).unwrap_or(next_line.len()))
                    .unwrap_or(""),
            )
            .is_empty();
        if !goes_on {
            return end;
        }
        from = end + 1;
    }
    rest.get(from..)
        .and_then(|r| r.find(['。', '\n']))
        .map(|p| from + p)
        .unwrap_or(rest.len())
}

/// Last year's outcomes: for each indicator family of the targets, its first mention with a
/// figure in the text before the targets statement.
fn actuals(text: &str, limit: usize, families: &[usize], year: Option<i32>) -> Vec<Item> {
    // the speech starts at its salutation; on a listing page the news entries come before it
    let body_start = ["各位代表", "我代表", "报告工作"]
        .iter()
        .filter_map(|k| text.find(k))
        .filter(|&p| p < limit)
        .min()
        .unwrap_or(0);
    // "报告回顾了2023年工作:全县地区生产总值完成…": the outcome starts after the colon
    let all: Vec<(usize, usize)> = clauses(text, body_start, limit)
        .into_iter()
        .map(|(s, e)| {
            let c = text.get(s..e).unwrap_or("");
            match c.rfind([':', ':']) {
                Some(p) if p > 0 => {
                    let after = p + c
                        .get(p..)
                        .and_then(|t| t.chars().next())
                        .map_or(1, char::len_utf8);
                    let lead = c.get(after..).map_or(0, |t| t.len() - t.trim_start().len());
                    if after + lead < c.len() {
                        (s + after + lead, e)
                    } else {
                        (s, e)
                    }
                }
                _ => (s, e),
            }
        })
        .collect();
    let fams = families_of_clauses(text, &all);
    let has_q = |r: &(usize, usize)| {
        !quantity::find_quantities(text.get(r.0..r.1).unwrap_or("")).is_empty()
    };
    let same_sentence = |a: &(usize, usize), b: &(usize, usize)| {
        text.get(a.1..b.0)
            .is_some_and(|gap| !gap.contains(['。', '\n', ';', ';']))
    };
    let same_sentence_or_semicolon = |a: &(usize, usize), b: &(usize, usize)| {
        text.get(a.1..b.0)
            .is_some_and(|gap| !gap.contains(['。', '\n']))
    };
    let mut out = Vec::new();
    for &fam in families {
        let Some(idx) = (0..all.len()).find(|&i| {
            fams.get(i) == Some(&Some(fam))
                && all
                    .get(i)
                    .is_some_and(|r| has_q(r) && !multi_year(text, body_start, r.0))
        }) else {
            continue;
        };
        let mut k = idx;
        while let Some(&r) = all.get(k) {
            let mut s = r.0;
            let mut e = r.1;
            // "全年增长5.7%,地区生产总值突破2万亿元": the year's rate stated just before
            if k == idx
                && let Some(prev) = k.checked_sub(1).and_then(|p| all.get(p))
                && same_sentence(prev, &r)
                && text
                    .get(prev.0..prev.1)
                    .is_some_and(|p| p.starts_with("全年") && family_of(p).is_none())
                && has_q(prev)
            {
                s = prev.0;
            }
            // ",增长5.5%" / ",同比增长0.8%" belong to the indicator before them
            let mut n = k + 1;
            while let Some(next) = all.get(n) {
                let nt = text.get(next.0..next.1).unwrap_or("");
                if all.get(n - 1).is_some_and(|p| same_sentence(p, next))
                    && family_of(nt).is_none()
                    && has_q(next)
                    && nt.chars().count() <= 12
                    && ["增长", "下降", "增加", "提高", "减少", "上涨", "回落"]
                        .iter()
                        .any(|w| nt.contains(w))
                {
                    e = next.1;
                    n += 1;
                } else {
                    break;
                }
            }
            let mut item = make_item(text, s, e, year, "主要预期目标");
            item.actual = quantity::find_quantities(&item.text)
                .into_iter()
                .map(|f| f.quantity)
                .collect();
            out.push(item);
            // an adjacent clause on the same indicator (城镇… / 农村…可支配收入) is its own outcome,
            // also after a semicolon
            match all.get(n) {
                Some(next)
                    if all
                        .get(n - 1)
                        .is_some_and(|p| same_sentence_or_semicolon(p, next))
                        && family_of(text.get(next.0..next.1).unwrap_or("")) == Some(fam)
                        && has_q(next) =>
                {
                    k = n
                }
                _ => break,
            }
        }
    }
    out
}

/// Is the clause at `pos` in a sentence about several years ("五年来…年均增长6.5%")? Those
/// figures are not last year's outcome.
fn multi_year(text: &str, floor: usize, pos: usize) -> bool {
    let before = text.get(floor..pos).unwrap_or("");
    let from = before
        .char_indices()
        .rev()
        .nth(80)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let window = before.get(from..).unwrap_or("");
    let sentence = window.rsplit(['。', '\n']).next().unwrap_or(window);
    let clause_end = text
        .get(pos..)
        .and_then(|t| t.find(['。', ',', ';', '\n']))
        .map(|e| pos + e)
        .unwrap_or(text.len());
    let clause = text.get(pos..clause_end).unwrap_or("");
    ["五年", "年均", "十三五", "十四五", "十二五", "累计"]
        .iter()
        .any(|k| sentence.contains(k) || clause.contains(k))
}

/// Plan-execution reports: "——target:outcome" lines, then the new year's "——" target lines.
/// Only blocks of "——" lines that speak of indicators count; "——加快推进…" task bullets do not.
pub fn extract_plan_execution(text: &str, report_year: Option<i32>) -> Vec<Item> {
    // "——" segments anywhere (a scraped page may run the list into one line); a segment ends
    // at the next "——", a line break or its first "。"
    let mut blocks: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut prev_end: Option<usize> = None;
    let mut from = 0usize;
    while let Some(rel) = text.get(from..).and_then(|t| t.find("——")) {
        let dash = from + rel;
        let body_start = dash
            + text
                .get(dash..)
                .map(|t| t.len() - t.trim_start_matches('—').len())
                .unwrap_or(0);
        let rest = text.get(body_start..).unwrap_or("");
        let mut seg_len = rest.find(['\n']).unwrap_or(rest.len());
        if let Some(p) = rest.get(..seg_len).and_then(|r| r.find("——")) {
            seg_len = p;
        }
        if let Some(p) = rest.get(..seg_len).and_then(|r| r.find('。')) {
            seg_len = p + '。'.len_utf8();
        }
        from = (body_start + seg_len).max(dash + 1);
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
        let body = rest.get(..seg_len).unwrap_or("").trim_end();
        // the subtitle "——2023年12月25日在…人民代表大会" is not an item
        if body.is_empty()
            || body.contains("人民代表大会")
            || crate::meta::date_to_iso(body)
                .is_some_and(|_| body.starts_with(|c: char| c.is_ascii_digit()))
        {
            prev_end = None;
            continue;
        }
        let end = body_start + body.trim_end_matches(['。', ';', ',']).len();
        let adjacent =
            prev_end.is_some_and(|p| text.get(p..dash).is_some_and(|gap| gap.trim().is_empty()));
        match blocks.last_mut() {
            Some(b) if adjacent => b.push((body_start, end)),
            _ => blocks.push(vec![(body_start, end)]),
        }
        prev_end = Some(body_start + body.len());
    }
    let mut items = Vec::new();
    for block in blocks {
        let with_family = block
            .iter()
            .filter(|(s, e)| family_of(text.get(*s..*e).unwrap_or("")).is_some())
            .count();
        if with_family * 2 < block.len() {
            continue;
        }
        for (s, e) in block {
            items.push(execution_item(text, s, e, report_year));
        }
    }
    items
}

fn execution_item(text: &str, s: usize, e: usize, report_year: Option<i32>) -> Item {
    let content = text.get(s..e).unwrap_or("");
    let outcome_words = ["预计", "实际", "完成", "实现"];
    let split = content
        .find(':')
        .filter(|&p| {
            let after = content.get(p..).unwrap_or("");
            outcome_words.iter().any(|w| after.contains(w))
        })
        .or_else(|| {
            // "…增长6.5%,预计全年增长6.5%左右": the outcome after a clause break
            content
                .find("预计")
                .or_else(|| content.find("实际"))
                .filter(|&p| {
                    p > 0
                        && content
                            .get(..p)
                            .is_some_and(|b| b.ends_with([',', ';', '。']))
                })
        });
    let mut item = make_item(text, s, e, None, "主要预期目标");
    let qs = |t: &str| {
        quantity::find_quantities(t)
            .into_iter()
            .map(|f| f.quantity)
            .collect::<Vec<_>>()
    };
    match split {
        Some(p) => {
            item.year = report_year;
            item.targets = qs(content.get(..p).unwrap_or(""));
            item.actual = qs(content.get(p..).unwrap_or(""));
        }
        None => {
            item.year = report_year.map(|y| y + 1);
            item.targets = qs(content);
        }
    }
    for q in &item.targets {
        if let Some(w) = quantity::plausibility_warning(q) {
            item.warnings.push(w);
        }
    }
    item
}
