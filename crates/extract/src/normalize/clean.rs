//! Text clean-up for scraped pages: mirror-site pinyin, traditional characters, full-width
//! digits, stray control characters and site boilerplate lines.

use super::offsets::{Builder, OffsetMap, StepMap};
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// "經(jīng)濟" → "經濟": mirrors insert tone-marked pinyin in parentheses after characters.
static PINYIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([\p{Han}])[(（]([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňḿ]{1,7})[)）]")
        .expect("pinyin regex")
});

static BOILERPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^\s*(?:
            .*ICP[备証证].*|.*公网安备.*|.*版权所有.*|Copyright.*|.*技术支持[::].*|.*网站标识码.*|
            相关标签.*|本文由.{0,40}提供.*|(?:联系人|手机|电话|传真|邮箱|邮编|地址|E-?mail)\s*[::].{0,60}|
            (?:主办单位|承办单位|责任编辑|来源|浏览次数|点击)\s*[::].{0,60}|
            .*您访问的链接即将离开.*|分享到.{0,30}|【?打印(?:本页|此页)?】?\s*【?关闭(?:窗口|本页)?】?|
            上一篇.{0,80}|下一篇.{0,80}|返回顶部|扫一扫.{0,30}
        )\s*$",
    )
    .expect("boilerplate regex")
});

/// Words of boilerplate that may stand anywhere in its line ("…ICP备…", "…版权所有…"):
/// rare, found in one pass over the whole text (a word skipped inside another lies in the
/// same line).
static BOILERPLATE_ANYWHERE: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    crate::text::word_search([
        "ICP",
        "公网安备",
        "版权所有",
        "技术支持",
        "网站标识码",
        "您访问的链接",
    ])
});

/// Boilerplate lines are shorter than this (in bytes): paragraphs are not read for it.
const BOILERPLATE_MAX: usize = 360;

/// Where the words of boilerplate that may stand anywhere in a line start, searched for in the
/// runs of short lines only: a page's paragraphs hold most of its bytes, and 技术 or 版权 are
/// words a paragraph uses.
fn anywhere_in_short_lines(text: &str, lines: &[(usize, usize)]) -> Vec<usize> {
    let mut out = Vec::new();
    let short = |&(s, e): &(usize, usize)| e - s < BOILERPLATE_MAX;
    let mut k = 0usize;
    while let Some(&first) = lines.get(k) {
        if !short(&first) {
            k += 1;
            continue;
        }
        let run = lines.get(k..).unwrap_or_default();
        let n = run.iter().take_while(|l| short(l)).count();
        let end = run.get(n.saturating_sub(1)).map_or(first.1, |l| l.1);
        let hay = text.get(first.0..end).unwrap_or("");
        out.extend(
            BOILERPLATE_ANYWHERE
                .find_iter(hay)
                .map(|m| first.0 + m.start()),
        );
        k += n.max(1);
    }
    out
}

/// Does a line (trimmed at its start) begin with a word of `BOILERPLATE_START`? Asked by its
/// first character, which for most lines no word has, before the words themselves.
fn starts_boilerplate(head: &str) -> bool {
    head.starts_with(BOILERPLATE_FIRST)
        && BOILERPLATE_START
            .iter()
            .any(|w| crate::text::starts(head, w))
}

/// The first characters of the words of `BOILERPLATE_START`.
const BOILERPLATE_FIRST: [char; 25] = [
    'C', 'E', 'e', '相', '本', '联', '手', '电', '传', '邮', '地', '主', '承', '责', '来', '浏',
    '点', '分', '【', '打', '关', '上', '下', '返', '扫',
];

/// The words that boilerplate starting its line begins with ("电话:…", "上一篇…").
const BOILERPLATE_START: &[&str] = &[
    "Copyright",
    "相关标签",
    "本文由",
    "联系人",
    "手机",
    "电话",
    "传真",
    "邮箱",
    "邮编",
    "地址",
    "Email",
    "E-mail",
    "email",
    "主办单位",
    "承办单位",
    "责任编辑",
    "来源",
    "浏览次数",
    "点击",
    "分享到",
    "【打印",
    "打印",
    "【关闭",
    "关闭",
    "上一篇",
    "下一篇",
    "返回顶部",
    "扫一扫",
];

/// Characters that only occur in traditional-character text; their presence switches the
/// character mapping on. Single characters never overlap: every one is counted.
static TRAD_MARKERS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    crate::text::word_search([
        "們", "這", "發", "經", "區", "會", "國", "為", "個", "實", "產", "務",
    ])
});

const PINYIN_TONE: &str = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňḿ";

fn normalize_char(c: char) -> Option<char> {
    match c {
        // full-width ASCII forms (digits, letters, ,:;()%) become half-width, as NFKC would
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{3000}' | '\u{00A0}' | '\t' => Some(' '),
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' | '\u{00AD}' => None,
        '\r' => Some('\n'),
        c if c.is_control() && c != '\n' => None,
        c => Some(c),
    }
}

/// Is this byte a control character (not the newline), DEL or C2 (U+0080–U+00BF: C1 controls,
/// the no-break space, the soft hyphen)? Such characters are rare, and `normalize_char` may
/// change them; so it may those starting with E2 (zero-width spaces), E3 (the ideographic
/// space) and EF (the BOM, full-width forms), which are common.
fn is_rare_change(b: u8) -> bool {
    (b < 0x20) & (b != b'\n') | (b == 0x7F) | (b == 0xC2)
}

/// Where a character that `normalize_char` may change starts, in order: the common lead bytes
/// by SIMD search, the rare ones from the 64-byte chunks that hold any (a branch-free test
/// over each chunk, which vectorizes). Each such byte is ASCII or a lead byte, so each position
/// is a character's start.
fn may_change_at(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let rare = bytes
        .chunks(64)
        .enumerate()
        .filter(|(_, ch)| ch.iter().fold(false, |acc, &b| acc | is_rare_change(b)))
        .flat_map(|(k, ch)| {
            ch.iter()
                .enumerate()
                .filter(|(_, b)| is_rare_change(**b))
                .map(move |(j, _)| k * 64 + j)
        });
    // of the characters led by E3 only the ideographic space (E3 80 80) changes. Searched by
    // its last two bytes: 、。《》 share its first two (E3 80), which a search for all three
    // stops at every few words, while 80 80 ends only a few rare characters (退, 怀, 耀)
    let ideographic_space = memchr::memmem::find_iter(bytes, &[0x80, 0x80])
        .filter_map(|i| i.checked_sub(1))
        .filter(|&i| bytes.get(i) == Some(&0xE3));
    let common = crate::text::merge(memchr::memchr2_iter(0xE2, 0xEF, bytes), ideographic_space);
    crate::text::merge(common, rare)
}

/// `text` with `normalize_char` applied, and the step's map; None when nothing changes. One
/// pass: the runs between changed characters are copied whole (in Chinese text the full-width
/// comma alone comes every few words, so the runs are short but many).
fn normalize_chars(text: &str) -> Option<(String, StepMap)> {
    apply_at(text, may_change_at(text.as_bytes()))
}

/// `normalize_char` applied to the characters starting at `starts` (ascending).
fn apply_at(text: &str, starts: impl Iterator<Item = usize>) -> Option<(String, StepMap)> {
    let mut out: Option<(String, Builder)> = None;
    let mut copied = 0usize;
    for i in starts {
        let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
            continue;
        };
        let len = c.len_utf8();
        let n = normalize_char(c);
        if n != Some(c) {
            let (o, b) =
                out.get_or_insert_with(|| (String::with_capacity(text.len()), Builder::new()));
            o.push_str(text.get(copied..i).unwrap_or(""));
            b.copy(i - copied);
            match n {
                Some(n) => {
                    o.push(n);
                    b.replace_char(n.len_utf8(), len);
                }
                None => b.skip(len),
            }
            copied = i + len;
        }
    }
    let (mut o, mut b) = out?;
    o.push_str(text.get(copied..).unwrap_or(""));
    b.copy(text.len() - copied);
    Some((o, b.finish()))
}

/// Tone-marked vowels are in Latin-1 (à á è é ì í ò ó ù ú ü: lead byte 0xC3), Latin
/// Extended-A/B (lead bytes 0xC4..=0xC9) or U+1E3F ḿ (lead byte 0xE1).
fn may_have_tones(text: &str) -> bool {
    // branch-free over each chunk, so the loop vectorizes
    text.as_bytes().chunks(64).any(|ch| {
        ch.iter().fold(0u8, |acc, &c| {
            acc | ((c.wrapping_sub(0xC3) <= 6) | (c == 0xE1)) as u8
        }) != 0
    })
}

/// Cleans decoded text for the rules, with the map from the cleaned text back to `text`
/// (what item spans index into, so items can be emitted as the document wrote them).
pub fn clean(text: &str) -> (String, OffsetMap) {
    let mut map = OffsetMap::default();
    let text: Cow<'_, str> = if memchr::memchr(b'\r', text.as_bytes()).is_some() {
        // "\r\n" → "\n": the "\r" is dropped, the newline maps to itself
        let mut b = Builder::new();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (i, _) in text.match_indices("\r\n") {
            out.push_str(text.get(last..i).unwrap_or(""));
            b.copy(i - last);
            b.skip(1);
            last = i + 1;
        }
        out.push_str(text.get(last..).unwrap_or(""));
        b.copy(text.len() - last);
        map.push(b.finish());
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    };
    let text = if may_have_tones(&text) && text.contains(['(', '（']) {
        let (t, step) = strip_pinyin(&text);
        map.push(step);
        Cow::Owned(t)
    } else {
        text
    };
    // mirror sites convert to traditional characters; map back with fast2s's table
    // a mirror converts the whole page, so its first 4 KB tell
    let sample_end = (4 * 1024..=text.len().min(4 * 1024 + 3))
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    let sample = text.get(..sample_end).unwrap_or(&text);
    let text = if TRAD_MARKERS.find_iter(sample).take(3).count() >= 3 {
        let simple = super::t2s::simplify(&text);
        map.mark_rewritten();
        // the table maps one 3-byte character to one 3-byte character, so offsets stay put;
        // should that ever change, the map is built character by character
        if simple.len() != text.len() {
            let mut b = Builder::new();
            for (t, s) in text.chars().zip(simple.chars()) {
                b.replace_char(s.len_utf8(), t.len_utf8());
            }
            map.push(b.finish());
        }
        Cow::Owned(simple)
    } else {
        text
    };
    let text = match normalize_chars(&text) {
        Some((t, step)) => {
            map.mark_rewritten();
            map.push(step);
            Cow::Owned(t)
        }
        None => text,
    };
    // boilerplate lines are short: only those are checked, and the text between them is
    // copied in one piece (trailing blanks stay; lines are trimmed where they are read)
    let mut b = Builder::new();
    let mut out = String::with_capacity(text.len() + 1);
    let mut copied = 0usize;
    let lines: Vec<(usize, usize)> = crate::text::line_ranges(&text).collect();
    let mut anywhere = anywhere_in_short_lines(&text, &lines)
        .into_iter()
        .peekable();
    for &(ls, le) in &lines {
        let line = text.get(ls..le).unwrap_or("");
        let head = line.trim_start();
        let candidate = line.len() < BOILERPLATE_MAX
            && (starts_boilerplate(head) || anywhere.peek().is_some_and(|&a| a < le));
        while anywhere.peek().is_some_and(|&a| a < le) {
            anywhere.next();
        }
        if candidate && BOILERPLATE.is_match(line) {
            out.push_str(text.get(copied..ls).unwrap_or(""));
            b.copy(ls - copied);
            b.skip(le - ls);
            copied = le;
        }
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    b.copy(text.len() - copied);
    if !out.ends_with('\n') {
        // the last line had no newline of its own
        out.push('\n');
        b.replace(1, 0);
    }
    map.push(b.finish());
    (out, map)
}

/// "經(jīng)濟" → "經濟", with the step's map (the pinyin maps from nothing).
fn strip_pinyin(text: &str) -> (String, StepMap) {
    let mut b = Builder::new();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in PINYIN.captures_iter(text) {
        let (Some(m), Some(han), Some(py)) = (caps.get(0), caps.get(1), caps.get(2)) else {
            continue;
        };
        out.push_str(text.get(last..m.start()).unwrap_or(""));
        b.copy(m.start() - last);
        if py.as_str().contains(|c: char| PINYIN_TONE.contains(c)) {
            out.push_str(han.as_str());
            b.copy(han.len());
            b.skip(m.len() - han.len());
        } else {
            out.push_str(m.as_str());
            b.copy(m.len());
        }
        last = m.end();
    }
    out.push_str(text.get(last..).unwrap_or(""));
    b.copy(text.len() - last);
    (out, b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_boilerplate_start_begins_with_a_listed_character() {
        for w in BOILERPLATE_START {
            let first = w.chars().next().unwrap();
            assert!(BOILERPLATE_FIRST.contains(&first), "{w}");
            assert!(starts_boilerplate(&format!("{w}:某某")), "{w}");
        }
        assert!(!starts_boilerplate("一、总体要求"));
    }

    proptest::proptest! {
        /// The words found in the runs of short lines are those a search of the whole text
        /// finds in short lines.
        #[test]
        fn short_lines_are_searched_as_the_whole_text_is(
            t in "(ICP|公网安备|版权所有|技术支持|网站标识码|您访问的链接|技术|版权|\n|\n\n|字{1,130}|a{1,400}){0,12}"
        ) {
            let lines: Vec<(usize, usize)> = crate::text::line_ranges(&t).collect();
            let whole: Vec<usize> = BOILERPLATE_ANYWHERE
                .find_iter(t.as_str())
                .map(|m| m.start())
                .filter(|&a| {
                    lines
                        .iter()
                        .any(|&(s, e)| s <= a && a < e && e - s < BOILERPLATE_MAX)
                })
                .collect();
            proptest::prop_assert_eq!(anywhere_in_short_lines(&t, &lines), whole);
        }
    }

    /// Every cleaned character maps back onto source text that cleans to it.
    #[test]
    fn the_byte_scan_finds_what_normalizing_changes() {
        for (s, want) in [
            ("地区生产总值增长6%", false),
            ("增长６％", true),
            ("a\tb", true),
            ("全角\u{3000}空格", true),
            ("零\u{200B}宽", true),
            ("\u{FEFF}BOM", true),
            ("不换\u{00A0}行", true),
            ("soft\u{00AD}hyphen", true),
            ("é", false),
            ("—— 〈〉 《》", false),
        ] {
            assert_eq!(normalize_chars(s).is_some(), want, "{s}");
            let changed = s.chars().any(|c| normalize_char(c) != Some(c));
            assert_eq!(changed, want, "{s}");
        }
    }

    #[test]
    fn map_points_back_to_the_source() {
        let src = "  發展經(jīng)濟\r\n\u{200B}新增１２個(gè)\r\n版权所有 某某\n地區\t ";
        let (clean, map) = clean(src);
        assert_eq!(clean, "  发展经济\n新增12个\n\n地区  \n");
        let piece = |s: &str| {
            let i = clean.find(s).expect("in clean");
            let r = map.range(i..i + s.len());
            src.get(r).expect("boundary").to_string()
        };
        assert_eq!(piece("经济"), "經(jīng)濟");
        // pinyin after the last character is not part of the range
        assert_eq!(piece("新增12个"), "新增１２個");
        assert_eq!(piece("地区"), "地區");
        let i = clean.find("12个").expect("in clean");
        let names: String = map
            .pieces(i..i + "12个".len())
            .into_iter()
            .filter_map(|r| src.get(r))
            .collect();
        assert_eq!(names, "１２個");
        assert_eq!(map.range(clean.len() - 1..clean.len()).start, src.len());
    }

    /// Glosses in full-width parentheses go too (issue 25).
    #[test]
    fn full_width_pinyin_glosses_are_removed() {
        let (glossed, _) = clean("地区生产总值增长（zhǎng）6%，区长（zhǎng）负责\n");
        assert_eq!(glossed, "地区生产总值增长6%,区长负责\n");
        // a parenthesis of words, not of pinyin, stays
        let (worded, _) = clean("（一）稳增长（含投资）\n");
        assert_eq!(worded, "(一)稳增长(含投资)\n");
    }
}
