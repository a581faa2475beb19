//! Item numbers as official documents write them: `一、` `(一)` `1.` `1、` `(1)` `①` `第一条`,
//! numerals glued to the text (`一开展…`), and unnumbered `——` / `■` bullets. Read byte by
//! byte: this runs on every line.

/// Numbering styles, in the order GB/T 9704 nests them (a document may skip levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Style {
    /// 第一部分 / 第一章 / 第一篇
    Part,
    /// 一、
    CnComma,
    /// (一)
    CnParen,
    /// 1. / 1、
    Digit,
    /// (1)
    DigitParen,
    /// ①
    Circled,
    /// 第一条
    Article,
    /// 一开展… (a numeral glued to the text; only believed in a run 一, 二, 三…)
    CnGlued,
    /// 1优化… (digits glued to the text; only believed in a run 1, 2, 3…)
    DigitGlued,
    /// —— / -- / ■ / ● …
    Bullet,
}

impl Style {
    /// How many styles there are (for tables indexed by style): `Bullet` is the last.
    pub const COUNT: usize = Style::Bullet as usize + 1;

    /// The marker as a reader would cite it.
    pub fn cite(self, n: u32) -> String {
        match self {
            Style::Part | Style::CnComma | Style::CnParen | Style::Article | Style::CnGlued => {
                cn_numeral(n)
            }
            Style::Bullet => String::new(),
            Style::Digit | Style::DigitParen | Style::Circled | Style::DigitGlued => n.to_string(),
        }
    }

    /// Why a block numbered in this style is an item, as its reasons say.
    pub fn item_reason(self) -> &'static str {
        match self {
            Style::Part => "numbered 第一部分 item",
            Style::CnComma => "numbered 一、 item",
            Style::CnParen => "numbered (一) item",
            Style::Digit => "numbered 1. item",
            Style::DigitParen => "numbered (1) item",
            Style::Circled => "numbered ① item",
            Style::Article => "numbered 第一条 item",
            Style::CnGlued => "numbered 一… item",
            Style::DigitGlued => "numbered 1… item",
            Style::Bullet => "numbered —— item",
        }
    }
}

/// A marker at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub style: Style,
    /// The number (0 for bullets).
    pub n: u32,
    /// Bytes of the marker, with the spaces after it.
    pub len: usize,
    /// `167.100名…`: digits after the dot make it read like a decimal; believed only where
    /// the list expects that number next.
    pub decimal_like: bool,
}

fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// 一…九十九 as item numbers are written (十一, 二十, 二十三); None for anything else.
pub fn parse_cn(s: &str) -> Option<u32> {
    // read without collecting the characters: this runs on every line
    let mut cs = s.chars();
    match (cs.next(), cs.next(), cs.next(), cs.next()) {
        (Some('十'), None, _, _) => Some(10),
        (Some(a), None, _, _) => cn_digit(a),
        (Some('十'), Some(b), None, _) => Some(10 + cn_digit(b)?),
        (Some(a), Some('十'), None, _) => Some(cn_digit(a)? * 10),
        (Some(a), Some('十'), Some(b), None) => Some(cn_digit(a)? * 10 + cn_digit(b)?),
        _ => None,
    }
}

pub fn cn_numeral(n: u32) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let digit = |d: u32| D.get(d as usize).copied().unwrap_or("");
    match n {
        0 => "〇".to_string(),
        1..=9 => digit(n).to_string(),
        10..=19 => format!("十{}", digit(n - 10)),
        20..=99 => format!("{}十{}", digit(n / 10), digit(n % 10)),
        _ => n.to_string(),
    }
}

fn is_cn_num_char(c: char) -> bool {
    cn_digit(c).is_some() || c == '十'
}

/// Spaces after a marker belong to it.
fn spaces(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\u{3000}']).len()
}

/// The marker at the start of `s` (already trimmed), if any.
pub fn parse(s: &str) -> Option<Marker> {
    let first = s.chars().next()?;
    let mk = |style, n, used: usize, decimal_like| {
        let rest = s.get(used..).unwrap_or("");
        Some(Marker {
            style,
            n,
            len: used + spaces(rest),
            decimal_like,
        })
    };
    match first {
        '0'..='9' => {
            let d = s.bytes().take_while(u8::is_ascii_digit).count();
            if d > 3 {
                return None;
            }
            let n: u32 = s.get(..d)?.parse().ok()?;
            let rest = s.get(d..)?;
            let sep = rest.chars().next()?;
            if n > 0 && d <= 2 && crate::interpret::quantity::is_han(sep) && glued(sep, rest) {
                return mk(Style::DigitGlued, n, d, false);
            }
            if !matches!(sep, '.' | '、' | '．') || n == 0 {
                return None;
            }
            let after = rest.get(sep.len_utf8()..).unwrap_or("");
            let decimal_like = sep == '.' && after.starts_with(|c: char| c.is_ascii_digit());
            mk(Style::Digit, n, d + sep.len_utf8(), decimal_like)
        }
        '(' => {
            // the numeral inside is short: look no further than a few characters for the close
            let window = crate::text::head_bytes(s.get(1..)?, 16);
            let close = window.find(')')? + 1;
            let inner = s.get(1..close)?.trim();
            if inner.is_empty() || inner.len() > 9 {
                return None;
            }
            if inner.bytes().all(|b| b.is_ascii_digit()) {
                let n: u32 = inner.parse().ok()?;
                (n > 0 && inner.len() <= 3)
                    .then_some(())
                    .and_then(|_| mk(Style::DigitParen, n, close + 1, false))
            } else {
                let n = parse_cn(inner)?;
                mk(Style::CnParen, n, close + 1, false)
            }
        }
        '①'..='⑳' => {
            let n = first as u32 - '①' as u32 + 1;
            mk(Style::Circled, n, first.len_utf8(), false)
        }
        '第' => {
            let rest = s.get('第'.len_utf8()..)?;
            let k = rest.chars().take_while(|c| is_cn_num_char(*c)).count();
            if k == 0 || k > 3 {
                return None;
            }
            let num_len: usize = rest.chars().take(k).map(char::len_utf8).sum();
            let n = parse_cn(rest.get(..num_len)?)?;
            let tail = rest.get(num_len..)?;
            let (style, word) = ["部分", "章", "篇", "条"]
                .iter()
                .find(|w| tail.starts_with(*w))
                .map(|w| {
                    (
                        if *w == "条" {
                            Style::Article
                        } else {
                            Style::Part
                        },
                        *w,
                    )
                })?;
            mk(style, n, '第'.len_utf8() + num_len + word.len(), false)
        }
        '—' | '-' => {
            let dashes = s.chars().take_while(|c| *c == '—' || *c == '-').count();
            if dashes < 2 {
                return None;
            }
            let used: usize = s.chars().take(dashes).map(char::len_utf8).sum();
            if s.get(used..)?.trim().is_empty() {
                return None;
            }
            mk(Style::Bullet, 0, used, false)
        }
        '■' | '●' | '◆' | '•' | '▲' | '★' | '◇' | '□' | '○' | '▶' | '►' | '◎' => {
            mk(Style::Bullet, 0, first.len_utf8(), false)
        }
        c if is_cn_num_char(c) => {
            let k = s.chars().take_while(|c| is_cn_num_char(*c)).count();
            if k > 3 {
                return None;
            }
            let num_len: usize = s.chars().take(k).map(char::len_utf8).sum();
            let n = parse_cn(s.get(..num_len)?)?;
            let rest = s.get(num_len..)?;
            let next = rest.chars().next()?;
            if matches!(next, '、' | '.' | '．') {
                return mk(Style::CnComma, n, num_len + next.len_utf8(), false);
            }
            // "一是…", "一批", "十件实事", "一系列": words, not numbers
            glued(next, rest).then(|| mk(Style::CnGlued, n, num_len, false))?
        }
        _ => None,
    }
}

/// Can a Chinese numeral glued to what follows be an item number? Not before the words a
/// numeral forms with the next character (一是, 一批, 十件, 三个, 一年).
fn glued(next: char, rest: &str) -> bool {
    const WORDS: &str = "是要批些系流体般律直贯切致道起同定方年月日季次个件项大条所座家名位种类点场户人万千百亿倍成层级期号届门线轮份样把句页张部天周元公亩吨米辆台套间处栋宗片批剂株棵艘架口";
    crate::interpret::quantity::is_han(next)
        && !WORDS.contains(next)
        && crate::text::chars_at_least(rest, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(s: &str) -> Option<(Style, u32)> {
        parse(s).map(|m| (m.style, m.n))
    }

    #[test]
    fn styles() {
        assert_eq!(st("一、总体要求"), Some((Style::CnComma, 1)));
        assert_eq!(st("(十二)深化改革"), Some((Style::CnParen, 12)));
        assert_eq!(st("12.加快建设"), Some((Style::Digit, 12)));
        assert_eq!(st("3、完成"), Some((Style::Digit, 3)));
        assert_eq!(st("(3)完成"), Some((Style::DigitParen, 3)));
        assert_eq!(st("②完成"), Some((Style::Circled, 2)));
        assert_eq!(st("第三条 本办法"), Some((Style::Article, 3)));
        assert_eq!(st("第二部分 重点工作"), Some((Style::Part, 2)));
        assert_eq!(st("——做强消费"), Some((Style::Bullet, 0)));
        assert_eq!(st("二开展缓解“停车难”行动"), Some((Style::CnGlued, 2)));
        assert_eq!(st("1优化就业创业服务"), Some((Style::DigitGlued, 1)));
        assert_eq!(st("3万人就业"), None);
        assert_eq!(parse("1. 地区").map(|m| m.len), Some(3));
    }

    #[test]
    fn not_markers() {
        for s in [
            "2025年",
            "一是坚持",
            "一批项目",
            "十件实事",
            "三个方面",
            "1.5万",
            "(含街道)",
            "第八届",
            "—",
            "(市、区)",
        ] {
            let m = parse(s);
            assert!(
                m.is_none() || m.is_some_and(|m| m.decimal_like),
                "{s}: {m:?}"
            );
        }
    }

    #[test]
    fn numerals() {
        assert_eq!(parse_cn("二十三"), Some(23));
        assert_eq!(parse_cn("十"), Some(10));
        assert_eq!(parse_cn("十九"), Some(19));
        for s in ["", "十十", "一二", "二十三四", "零", "十一十"] {
            assert_eq!(parse_cn(s), None, "{s}");
        }
        assert_eq!(parse_cn("二十"), Some(20));
        assert_eq!(parse_cn("七"), Some(7));
        assert_eq!(cn_numeral(19), "十九");
        assert_eq!(cn_numeral(23), "二十三");
    }
}
