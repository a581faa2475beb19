//! Traditional → simplified characters, for pages a mirror site converted to traditional.
//!
//! The character table is fast2s 0.3.1's (`data/t2s.txt`, MIT licence in
//! `data/t2s.LICENSE.md`): the crate itself is unmaintained and brought an unmaintained
//! serializer, so its table is kept here and read with the standard library. One character
//! maps to one character of the same UTF-8 length, so offsets into the text stay put. A few
//! characters simplify differently, or not at all, inside certain words (乾隆 keeps 乾, 計畫
//! is 计划); those words are listed below, as fast2s listed them.

use rustc_hash::FxHashMap;
use std::sync::LazyLock;

/// Asked once per character of a converted page: hashed with Fx, which for a `char` is one
/// multiplication (the standard SipHash took most of the conversion's time).
static TABLE: LazyLock<FxHashMap<char, char>> = LazyLock::new(|| {
    include_str!("../../data/t2s.txt")
        .lines()
        .filter_map(|line| {
            let mut chars = line.chars();
            let traditional = chars.next()?;
            let simplified = chars.nth(1)?;
            Some((traditional, simplified))
        })
        .collect()
});

/// Words in which the character stays as written: (the character, the word).
const KEEP: &[(char, [char; 2])] = &[
    ('兒', ['兒', '寬']),
    ('覆', ['答', '覆']),
    ('覆', ['批', '覆']),
    ('覆', ['回', '覆']),
    ('夥', ['甚', '夥']),
    ('藉', ['慰', '藉']),
    ('藉', ['狼', '藉']),
    ('瞭', ['瞭', '望']),
    ('麽', ['幺', '麽']),
    ('幺', ['幺', '麽']),
    ('於', ['樊', '於']),
    ('乾', ['乾', '隆']),
    ('乾', ['乾', '坤']),
    ('乾', ['乾', '卦']),
];

/// Words in which the character becomes another than the table says: (the character, the
/// word, what it becomes).
const IN_WORDS: &[(char, [char; 2], char)] = &[
    ('藉', ['藉', '口'], '借'),
    ('藉', ['憑', '藉'], '借'),
    ('著', ['看', '著'], '着'),
    ('苧', ['苧', '麻'], '苎'),
    ('闔', ['闔', '家'], '合'),
    ('鍾', ['鍾', '書'], '锺'),
    ('讎', ['校', '讎'], '雠'),
    ('讎', ['讎', '定'], '雠'),
    ('讎', ['仇', '讎'], '雠'),
    ('畫', ['計', '畫'], '划'),
    ('畫', ['企', '畫'], '划'),
];

/// `text` with its traditional characters simplified; every character keeps its UTF-8 length.
pub fn simplify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev = '\0';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied().unwrap_or('\0');
        out.push(simplified(prev, c, next));
        prev = c;
    }
    out
}

fn simplified(prev: char, c: char, next: char) -> char {
    // ASCII and the other short characters are never traditional forms.
    if c.len_utf8() != 3 {
        return c;
    }
    if !in_word_lists(c) {
        return from_table(c);
    }
    let words = [[prev, c], [c, next]];
    if KEEP.iter().any(|(k, word)| *k == c && words.contains(word)) {
        return c;
    }
    if let Some((_, _, to)) = IN_WORDS
        .iter()
        .find(|(k, word, _)| *k == c && words.contains(word))
    {
        return *to;
    }
    from_table(c)
}

/// Is `c` one of the few characters that `KEEP` or `IN_WORDS` treat differently in some words?
/// Asked of every character before the lists are searched.
fn in_word_lists(c: char) -> bool {
    matches!(
        c,
        '兒' | '覆'
            | '夥'
            | '藉'
            | '瞭'
            | '麽'
            | '幺'
            | '於'
            | '乾'
            | '著'
            | '苧'
            | '闔'
            | '鍾'
            | '讎'
            | '畫'
    )
}

fn from_table(c: char) -> char {
    TABLE
        .get(&c)
        .copied()
        .filter(|s| s.len_utf8() == c.len_utf8())
        .unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sentences fast2s's own tests check, with the output it gave.
    #[test]
    fn simplifies_as_fast2s_did() {
        for (traditional, simplified) in [
            (
                "《第一批异体字整理表》已將「託」與「托」合併為「托」",
                "《第一批异体字整理表》已将「托」与「托」合并为「托」",
            ),
            (
                "企畫 計畫 企劃 計劃 畫圖 畫畫",
                "企划 计划 企划 计划 画图 画画",
            ),
            (
                "hello world！this is a 非常特殊的企畫。",
                "hello world！this is a 非常特殊的企划。",
            ),
            (
                "乾隆的乾兒子一邊乾淨利落地擲出了一個乾卦，一邊嘴裡嚼着芒果乾。",
                "乾隆的干儿子一边干净利落地掷出了一个乾卦，一边嘴里嚼着芒果干。",
            ),
            // fast2s listed 藉口 and 憑藉 but never reached them (藉 also has words it keeps):
            // here they simplify as the 通用规范汉字表 has them, 借口 and 凭借.
            (
                "「藉」其他意义仍然保留的，藉口、憑藉的藉（jiè）简化作借，慰藉（jiè）、狼藉（jí）等的藉仍用藉。",
                "「藉」其他意义仍然保留的，借口、凭借的藉（jiè）简化作借，慰藉（jiè）、狼藉（jí）等的藉仍用藉。",
            ),
            (
                "2025年經濟增長目標為6%左右，區發改局牽頭",
                "2025年经济增长目标为6%左右，区发改局牵头",
            ),
        ] {
            assert_eq!(simplify(traditional), simplified);
        }
    }

    /// Every character of the word lists is asked about its words.
    #[test]
    fn the_word_lists_characters_are_asked_about() {
        // the characters before and after `k` that make up `word`
        let around = |k: char, word: [char; 2]| {
            if word[0] == k {
                ('\0', word[1])
            } else {
                (word[0], '\0')
            }
        };
        for (k, word) in KEEP {
            assert!(in_word_lists(*k), "{k}");
            let (p, n) = around(*k, *word);
            assert_eq!(simplified(p, *k, n), *k, "{k} in {word:?}");
        }
        for (k, word, to) in IN_WORDS {
            assert!(in_word_lists(*k), "{k}");
            let (p, n) = around(*k, *word);
            assert_eq!(simplified(p, *k, n), *to, "{k} in {word:?}");
        }
    }

    #[test]
    fn every_character_keeps_its_length() {
        assert!(TABLE.len() > 2700, "the table has {} entries", TABLE.len());
        for (t, s) in TABLE.iter() {
            assert_eq!(t.len_utf8(), s.len_utf8(), "{t} → {s}");
        }
    }
}
