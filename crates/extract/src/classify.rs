//! Stage 5, classify: which kind of document this is, from what the earlier stages found (a
//! table with unit or progress columns, responsibility clauses) and from its title and
//! opening. The kind decides how blocks are read, not whether they are segmented.

use crate::DocKind;
use crate::segment::Segments;
use crate::segment::table::Role;
use regex::Regex;
use std::sync::LazyLock;

static LISTING_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*[\[【(]?(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?[\]】)]?\s*$").expect("listing regex")
});

/// Responsibility labels and "X牵头,Y配合" / "(A、B负责)" clauses.
static RESP_MARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:牵头|主办|协同|配合|责任)(?:责任)?(?:单位|部门)\s*[::]|牵头[,);、]|(?:配合|按职责分工负责|协办|负责)[)。;\]】]")
        .expect("responsibility mark regex")
});

/// Where an item says what was done: "完成情况:", "截至5月底", "上半年", "1—6月".
static PROGRESS_MARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:实际)?完成情况\s*:|进展情况\s*:|具体情况\s*:|截至\d|截止\d|上半年[,,]|1[-—至]\d{1,2}月|已完成")
        .expect("progress mark regex")
});

/// Words whose presence in the title or the opening decides the kind, found in one pass.
#[derive(Clone, Copy)]
enum Word {
    Decomposition,
    ProjectList,
    Progress,
    ProgressSaid,
    PlanExecution,
    WorkReport,
    Salutation,
    SpeechReport,
    SpeechDelivered,
}

const WORDS: &[(&str, Word)] = &[
    ("分解", Word::Decomposition),
    ("分工", Word::Decomposition),
    ("责任清单", Word::Decomposition),
    ("任务清单", Word::Decomposition),
    ("台账", Word::Decomposition),
    ("民生实事", Word::ProjectList),
    ("实事项目", Word::ProjectList),
    ("项目清单", Word::ProjectList),
    ("十件实事", Word::ProjectList),
    ("为民办实事", Word::ProjectList),
    ("完成情况", Word::Progress),
    ("进展情况", Word::Progress),
    ("落实情况", Word::Progress),
    ("推进情况", Word::Progress),
    ("进度表", Word::Progress),
    ("督查报告", Word::Progress),
    ("执行情况", Word::Progress),
    ("通报如下", Word::ProgressSaid),
    ("报告如下", Word::ProgressSaid),
    ("情况如下", Word::ProgressSaid),
    ("进度如下", Word::ProgressSaid),
    ("进展如下", Word::ProgressSaid),
    ("计划执行情况", Word::PlanExecution),
    ("政府工作报告", Word::WorkReport),
    ("各位代表", Word::Salutation),
    ("报告工作", Word::SpeechReport),
    ("向大会报告", Word::SpeechDelivered),
    ("作政府工作报告", Word::SpeechDelivered),
    ("作《政府工作报告》", Word::SpeechDelivered),
];

/// Finds where any of the words starts (leftmost-first: see `words_in` for the words inside
/// others).
static WORD_FINDER: LazyLock<aho_corasick::AhoCorasick> =
    LazyLock::new(|| crate::text::word_search(WORDS.iter().map(|(w, _)| *w)));

/// Which of the words a text holds, overlapping ones too ("计划执行情况" is also "执行情况"):
/// every place where one starts is found, and there every word is compared.
fn words_in(text: &str) -> [bool; 9] {
    let mut seen = [false; 9];
    let mut from = 0usize;
    while let Some(m) = WORD_FINDER.find(aho_corasick::Input::new(text).span(from..text.len())) {
        let here = text.get(m.start()..).unwrap_or("");
        for (w, word) in WORDS {
            if crate::text::starts(here, w)
                && let Some(slot) = seen.get_mut(*word as usize)
            {
                *slot = true;
            }
        }
        // the next character: a word may start inside this one
        from = m.start() + here.chars().next().map_or(1, char::len_utf8);
    }
    seen
}

/// Might `s` hold a word of progress? Each holds one of these (see `WORDS`), which a line
/// rarely does: asked of hundreds of short lines before the full search.
fn says_progress(s: &str) -> bool {
    crate::text::has(s, "情况") || crate::text::has(s, "进度表") || crate::text::has(s, "督查报告")
}

/// The first `chars` characters: a text of no more bytes holds no more characters, and a
/// longer one is counted by the bytes that start a character (decoding each cost more than
/// the search for the words in them).
fn head(text: &str, chars: usize) -> &str {
    if text.len() <= chars {
        return text;
    }
    // whole 64-byte chunks are counted by a branch-free fold (which vectorizes) while the
    // count stays short of `chars`; the chunk where it is reached is walked byte by byte
    let mut seen = 0usize;
    let mut at = 0usize;
    for chunk in text.as_bytes().chunks(64) {
        let starts = chunk
            .iter()
            .fold(0usize, |n, &b| n + usize::from(!is_continuation(b)));
        if seen + starts > chars {
            break;
        }
        seen += starts;
        at += chunk.len();
    }
    let end = text
        .bytes()
        .enumerate()
        .skip(at)
        .filter(|(_, b)| !is_continuation(*b))
        .nth(chars - seen)
        .map_or(text.len(), |(i, _)| i);
    text.get(..end).unwrap_or(text)
}

/// A UTF-8 continuation byte (10xxxxxx).
fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

pub fn classify(text: &str, title: Option<&str>, seg: &Segments) -> DocKind {
    let head3k = head(text, 3000);
    let title = title.unwrap_or("");
    let in_title = words_in(title);
    let in_head = words_in(head3k);
    let either = |w: Word| in_title[w as usize] || in_head[w as usize];
    let has_targets = memchr::memmem::find(text.as_bytes(), "预期目标".as_bytes()).is_some();
    // a table that says how far each task has come is a progress report
    let progress_table = seg
        .tables
        .iter()
        .any(|t| t.columns.iter().any(|c| c.role == Role::Actual) && t.rows.len() >= 2);
    if progress_table {
        return DocKind::PlanExecution;
    }
    let speech = in_head[Word::Salutation as usize] && in_head[Word::SpeechReport as usize]
        || in_head[Word::SpeechDelivered as usize];
    if speech && has_targets && !either(Word::Decomposition) {
        return DocKind::WorkReport;
    }
    // a report on how far the tasks have come, even where it names who answers for each:
    // the title or a heading says so and the items say what was done
    let progress_line = |max_lines: usize, max_chars: usize| {
        seg.lines.iter().take(max_lines).any(|l| {
            let s = l.text(text);
            s.len() <= max_chars * 3
                && says_progress(s)
                && s.chars().count() <= max_chars
                && words_in(s)[Word::Progress as usize]
                && !s.contains("通知")
        })
    };
    let progress_title = in_title[Word::Progress as usize] || progress_line(60, 60);
    let opening = crate::text::head_bytes(text, 32 * 1024);
    // the results are counted only when the title asks: a search over the opening costs
    let results_said = || PROGRESS_MARK.find_iter(opening).take(2).count();
    if progress_title && !either(Word::Decomposition) && results_said() >= 2 {
        return DocKind::PlanExecution;
    }
    let unit_table = seg
        .tables
        .iter()
        .any(|t| t.columns.iter().any(|c| c.role.is_unit()) && !t.rows.is_empty());
    // a decomposition names who answers from its first items on: its opening tells
    let marks = RESP_MARK.find_iter(opening).take(8).count();
    if unit_table
        || marks >= 8
        || (marks >= 2 && (either(Word::Decomposition) || marks >= 3))
        || (marks >= 1 && either(Word::Decomposition))
    {
        return DocKind::Decomposition;
    }
    let date_lines = seg
        .lines
        .iter()
        .map(|l| l.text(text))
        .filter(|l| {
            l.len() <= 40 && l.starts_with(['1', '2', '[', '【', '(']) && LISTING_DATE.is_match(l)
        })
        .take(3)
        .count();
    if date_lines >= 3 {
        return DocKind::Other;
    }
    if either(Word::PlanExecution) {
        return DocKind::PlanExecution;
    }
    if in_title[Word::WorkReport as usize] && !either(Word::Decomposition) || speech && has_targets
    {
        return DocKind::WorkReport;
    }
    // a report on how far the year's tasks have come
    if progress_line(400, 50) || in_head[Word::ProgressSaid as usize] {
        return DocKind::PlanExecution;
    }
    if either(Word::ProjectList) || either(Word::Decomposition) {
        return DocKind::Decomposition;
    }
    if either(Word::WorkReport) {
        return DocKind::WorkReport;
    }
    DocKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_ends_where_the_characters_do() {
        let long = "2025年,经济增长6%左右。".repeat(40);
        for text in [
            "",
            "abc",
            "政府工作报告",
            "2025年,经济增长6%",
            "a政b府c",
            &long,
        ] {
            for n in (0..10).chain([20, 21, 22, 63, 64, 65, 100, 127, 128, 129, 300, 1000]) {
                let want = text.char_indices().nth(n).map_or(text, |(i, _)| &text[..i]);
                assert_eq!(head(text, n), want, "{text} {n}");
            }
        }
    }

    #[test]
    fn words_in_finds_every_word_held_overlapping_ones_too() {
        for text in [
            "关于2024年国民经济和社会发展计划执行情况的报告",
            "作政府工作报告。各位代表:现在,我代表市人民政府,向大会报告工作",
            "进展如下:报告如下",
            "",
            "没有任何词",
        ] {
            let mut expected = [false; 9];
            for (w, word) in WORDS {
                if text.contains(w) {
                    expected[*word as usize] = true;
                }
            }
            assert_eq!(words_in(text), expected, "{text}");
        }
        // every word of progress is one `says_progress` lets through
        for (w, word) in WORDS {
            if matches!(word, Word::Progress) {
                assert!(says_progress(w), "{w}");
            }
        }
        let both = words_in("计划执行情况");
        assert!(both[Word::PlanExecution as usize] && both[Word::Progress as usize]);
    }
}
