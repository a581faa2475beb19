//! Text clean-up for scraped pages: mirror-site pinyin, traditional characters, full-width
//! digits, stray control characters and site boilerplate lines.

use regex::Regex;
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

/// Cleans decoded text: the result is what item spans index into.
pub fn clean(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    // tone-marked vowels are in Latin Extended-A/B (lead bytes 0xC4..=0xC9) or U+1E3F
    let has_tones = text.bytes().any(|b| (0xC4..=0xC9).contains(&b));
    let text = if has_tones && text.contains('(') {
        PINYIN
            .replace_all(&text, |caps: &regex::Captures| {
                let py = caps.get(2).map(|m| m.as_str()).unwrap_or("");
                let han = caps.get(1).map(|m| m.as_str()).unwrap_or("");
                if py.contains(|c: char| PINYIN_TONE.contains(c)) {
                    han.to_string()
                } else {
                    caps.get(0).map(|m| m.as_str()).unwrap_or("").to_string()
                }
            })
            .into_owned()
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
        fast2s::convert(&text)
    } else {
        text
    };
    let text = if needs_normalizing(&text) {
        text.chars().filter_map(normalize_char).collect()
    } else {
        text
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        // boilerplate lines are short; long lines are never scanned for it
        if line.len() < 360 && BOILERPLATE_WORDS.is_match(line) && BOILERPLATE.is_match(line) {
            out.push('\n');
            continue;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
