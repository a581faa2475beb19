//! Text clean-up for scraped pages: mirror-site pinyin, traditional characters, full-width
//! digits, stray control characters and site boilerplate lines.

use crate::offsets::{Builder, OffsetMap, StepMap};
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// "經(jīng)濟" → "經濟": mirrors insert tone-marked pinyin in parentheses after characters.
static PINYIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([\p{Han}])[((]([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňḿ]{1,7})[))]")
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

/// Cheap pre-check so the boilerplate regex only runs on lines that could match it.
static BOILERPLATE_WORDS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::new([
        "ICP",
        "公网安备",
        "版权所有",
        "Copyright",
        "技术支持",
        "网站标识码",
        "相关标签",
        "本文由",
        "联系人",
        "手机",
        "电话",
        "传真",
        "邮箱",
        "邮编",
        "地址",
        "mail",
        "主办单位",
        "承办单位",
        "责任编辑",
        "来源",
        "浏览次数",
        "点击",
        "您访问的链接",
        "分享到",
        "打印",
        "关闭",
        "上一篇",
        "下一篇",
        "返回顶部",
        "扫一扫",
    ])
    .expect("boilerplate words")
});

/// Characters that only occur in traditional-character text; their presence switches the
/// character mapping on.
static TRAD_MARKERS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::new([
        "們", "這", "發", "經", "區", "會", "國", "為", "個", "實", "產", "務",
    ])
    .expect("markers")
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

/// Anything `normalize_char` changes (full-width forms, odd spaces, zero-width and control
/// characters); one DFA pass, so clean text is copied as it is.
static NEEDS_NORMALIZING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\x00-\x09\x0B-\x1F\x7F\u{80}-\u{A0}\u{AD}\u{200B}-\u{200D}\u{3000}\u{FEFF}\u{FF01}-\u{FF5E}]")
        .expect("normalizing regex")
});

fn needs_normalizing(text: &str) -> bool {
    NEEDS_NORMALIZING.is_match(text)
}

/// Cleans decoded text for the rules, with the map from the cleaned text back to `text`
/// (what item spans index into, so items can be emitted as the document wrote them).
pub fn clean(text: &str) -> (String, OffsetMap) {
    let mut map = OffsetMap::default();
    let text: Cow<'_, str> = if text.contains('\r') {
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
    // tone-marked vowels are in Latin-1 (à á è é ì í ò ó ù ú ü: lead byte 0xC3), Latin
    // Extended-A/B (lead bytes 0xC4..=0xC9) or U+1E3F ḿ
    let has_tones = text
        .bytes()
        .any(|b| (0xC3..=0xC9).contains(&b) || b == 0xE1);
    let text = if has_tones && text.contains('(') {
        let (t, step) = strip_pinyin(&text);
        map.push(step);
        Cow::Owned(t)
    } else {
        text
    };
    // mirror sites convert to traditional characters; map back with a conversion table crate
    // a mirror converts the whole page, so its first 16 KB tell
    let sample_end = (16 * 1024..=text.len().min(16 * 1024 + 3))
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    let sample = text.get(..sample_end).unwrap_or(&text);
    let text = if TRAD_MARKERS.find_iter(sample).take(3).count() >= 3 {
        let simple = fast2s::convert(&text);
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
    let text = if needs_normalizing(&text) {
        map.mark_rewritten();
        let mut b = Builder::new();
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match normalize_char(c) {
                Some(n) => {
                    out.push(n);
                    b.replace_char(n.len_utf8(), c.len_utf8());
                }
                None => b.skip(c.len_utf8()),
            }
        }
        map.push(b.finish());
        Cow::Owned(out)
    } else {
        text
    };
    let mut b = Builder::new();
    let mut out = String::with_capacity(text.len() + 1);
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        // boilerplate lines are short; long lines are never scanned for it
        if line.len() < 360 && BOILERPLATE_WORDS.is_match(line) && BOILERPLATE.is_match(line) {
            b.skip(line.len());
        } else {
            let kept = line.trim_end();
            out.push_str(kept);
            b.copy(kept.len());
            b.skip(line.len() - kept.len());
        }
        out.push('\n');
        if lines.peek().is_some() {
            b.copy(1);
        } else {
            // the last line had no newline of its own
            b.replace(1, 0);
        }
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

    /// Every cleaned character maps back onto source text that cleans to it.
    #[test]
    fn map_points_back_to_the_source() {
        let src = "  發展經(jīng)濟\r\n\u{200B}新增１２個(gè)\r\n版权所有 某某\n地區\t ";
        let (clean, map) = clean(src);
        assert_eq!(clean, "  发展经济\n新增12个\n\n地区\n");
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
}
