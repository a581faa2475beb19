//! Lines of the cleaned text as byte ranges, with run-on lines split where a scraped page
//! lost its line breaks: before an item number that continues its list, a responsibility
//! label, or an attachment heading, when a sentence or clause has just ended.

use super::markers::{self, Style};

/// A line: byte range in the cleaned text, surrounding blanks trimmed (empty when blank).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub start: usize,
    pub end: usize,
}

impl Line {
    pub fn text<'a>(&self, t: &'a str) -> &'a str {
        t.get(self.start..self.end).unwrap_or("")
    }

    pub fn is_blank(&self) -> bool {
        self.start == self.end
    }
}

/// Where a marker may begin a new line: positions found by the byte that every marker holds
/// (the "." or "、" after a number, the bracket of "(一)", the colon of a label, the
/// "附件" heading, a circled number), after a sentence or clause end or a space, then
/// confirmed by parsing what starts there — a regex over the whole text costs several times
/// more.
fn cut_candidates(text: &str) -> Vec<Cut> {
    let b = text.as_bytes();
    let mut starts: Vec<usize> = Vec::new();
    // the start of the marker holding the byte at `i`: back over digits or numerals
    let back = |i: usize, max_chars: usize| -> usize {
        let mut s = i;
        for _ in 0..max_chars {
            let Some(prev) = text.get(..s).and_then(|t| t.chars().next_back()) else {
                break;
            };
            if prev.is_ascii_digit()
                || matches!(
                    prev,
                    '一' | '二' | '三' | '四' | '五' | '六' | '七' | '八' | '九' | '十'
                )
                || prev == '('
                || crate::interpret::quantity::is_han(prev) && max_chars > 4
            {
                s -= prev.len_utf8();
            } else {
                break;
            }
        }
        s
    };
    // a "." or "、" with no number before it, or a colon with no word before it, starts nothing
    for i in memchr::memchr3_iter(b'.', b'(', b':', b) {
        let from = match b.get(i) {
            Some(b'.') => back(i, 3),
            Some(b'(') => {
                starts.push(i);
                continue;
            }
            // a label: up to eight characters of its words before the colon
            _ => back(i, 8),
        };
        if from < i {
            starts.push(from);
        }
    }
    for i in memchr::memmem::find_iter(b, "、") {
        let from = back(i, 3);
        if from < i {
            starts.push(from);
        }
    }
    starts.extend(memchr::memmem::find_iter(b, "附件"));
    // ①…⑳ are U+2460…U+2473: E2 91 A0…B3
    starts.extend(
        memchr::memmem::find_iter(b, &[0xE2, 0x91])
            .filter(|&i| b.get(i + 2).is_some_and(|n| (0xA0..=0xB3).contains(n))),
    );
    // a few sorted runs, one per search: the stable sort merges runs in linear time
    starts.sort();
    starts.dedup();
    let mut out = Vec::new();
    for s in starts {
        // the character before the marker must end a sentence or clause, or be a space
        let before = text.get(..s).unwrap_or("");
        let trimmed = before.trim_end_matches([' ', '\t']);
        // a line's own start is where the line begins already: nothing to cut
        let Some(prev) = trimmed.chars().next_back().filter(|p| *p != '\n') else {
            continue;
        };
        let after_break = matches!(prev, '。' | ';' | ')' | ']' | '】' | '!' | '?')
            || trimmed.len() < before.len();
        // glued to the text before it (`…目标1.经济增长`, `…城市更新62.深入实施`): only a
        // numbered item that continues its list, never a number inside an enumeration (`一、二、三产业`)
        let glued = !after_break && prev != '、' && !prev.is_ascii_digit();
        if !after_break && !glued {
            continue;
        }
        // the regex sees the break: the character itself, or the first space after it
        // what starts there: an item number, a responsibility label, an attachment heading
        let rest = text.get(s..).unwrap_or("");
        let marker = markers::parse(rest).is_some_and(|m| {
            !matches!(m.style, Style::Bullet | Style::CnGlued | Style::DigitGlued)
                && m.style != Style::Article
                && m.style != Style::Part
        });
        let label = !marker
            && after_break
            && !rest.starts_with(['(', '[', '【'])
            && crate::interpret::units::starts_with_label(rest);
        let attachment = !marker
            && after_break
            && !label
            && rest.starts_with("附件")
            && rest.get("附件".len()..).is_some_and(|r| {
                r.trim_start()
                    .starts_with(|c: char| c.is_ascii_digit() || "一二三四五六七八九十".contains(c))
            });
        if after_break && (marker || label || attachment) {
            out.push(Cut {
                at: s,
                glued: false,
            });
        } else if glued && marker {
            out.push(Cut { at: s, glued: true });
        }
    }
    out
}

/// A place where a new line may begin.
#[derive(Debug, Clone, Copy)]
struct Cut {
    at: usize,
    /// No sentence end or space before it: believed only as the next number of a list.
    glued: bool,
}

fn trimmed(text: &str, start: usize, end: usize) -> Line {
    let s = text.get(start..end).unwrap_or("");
    let from_lead = s.trim_start();
    let lead = s.len() - from_lead.len();
    Line {
        start: start + lead,
        end: start + lead + from_lead.trim_end().len(),
    }
}

/// The last number seen in each marker style.
#[derive(Default)]
struct LastNumbers([Option<u32>; Style::COUNT]);

impl LastNumbers {
    fn get(&self, s: Style) -> Option<u32> {
        self.0.get(s as usize).copied().flatten()
    }

    fn set(&mut self, s: Style, n: u32) {
        if let Some(slot) = self.0.get_mut(s as usize) {
            *slot = Some(n);
        }
    }
}

/// Splits the text into lines, then splits run-on lines.
pub fn split(text: &str) -> Vec<Line> {
    let mut out = Vec::with_capacity(text.len() / 40 + 1);
    // the last number seen per style, to tell a list going on from a number in running text
    let mut last = LastNumbers::default();
    // where a new line may begin inside a line: one pass over the whole text
    let mut cuts = cut_candidates(text).into_iter().peekable();
    for (start, end) in crate::text::line_ranges(text) {
        let line = trimmed(text, start, end);
        let s = line.text(text);
        if let Some(m) = markers::parse(s)
            && !m.decimal_like
        {
            last.set(m.style, m.n);
        }
        let mut cut_from = line.start;
        while let Some(&Cut { at, glued }) = cuts.peek() {
            if at >= line.end {
                break;
            }
            cuts.next();
            if at <= cut_from {
                continue;
            }
            let rest = text.get(at..line.end).unwrap_or("");
            let accept = match markers::parse(rest) {
                Some(m)
                    if !matches!(m.style, Style::Bullet | Style::CnGlued | Style::DigitGlued) =>
                {
                    let want = last.get(m.style).map_or(1, |n| n + 1);
                    let ok = if glued {
                        !m.decimal_like
                            && !rest
                                .get(m.len..)
                                .and_then(|r| r.chars().next())
                                .is_some_and(|c| c.is_ascii_digit() || c == '、')
                            && (m.n == want
                                || m.n == 1 && heading_so_far(text, cut_from, at, m.style))
                    } else {
                        m.n == want || (m.n == 1 && !m.decimal_like)
                    };
                    if ok {
                        last.set(m.style, m.n);
                    }
                    ok
                }
                Some(_) => false,
                // a label or an attachment heading
                None => true,
            };
            if accept {
                out.push(trimmed(text, cut_from, at));
                cut_from = at;
            }
        }
        out.push(trimmed(text, cut_from, line.end.max(cut_from)));
    }
    out
}

/// `一、主要预期目标1.经济增长…`: the first item of a list glued to the heading before it —
/// the text since the last cut is a short heading of a higher style.
fn heading_so_far(text: &str, from: usize, at: usize, style: Style) -> bool {
    let so_far = text.get(from..at).unwrap_or("");
    so_far.len() <= 40 * 3
        && !so_far.contains(['。', ';', ','])
        && markers::parse(so_far).is_some_and(|h| {
            h.style != style && matches!(h.style, Style::CnComma | Style::CnParen | Style::Part)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str) -> Vec<&str> {
        split(t).iter().map(|l| l.text(t)).collect()
    }

    #[test]
    fn run_on_items_and_labels_split() {
        let t = "一、总体 1.增长7.5%左右。 责任单位:县发改局 2.落实过紧日子。 责任单位:县财政局";
        assert_eq!(
            texts(t),
            vec![
                "一、总体",
                "1.增长7.5%左右。",
                "责任单位:县发改局",
                "2.落实过紧日子。",
                "责任单位:县财政局"
            ]
        );
    }

    #[test]
    fn numbers_in_running_text_stay() {
        let t = "1.新建学校。共有 18.34万人脱贫,完成 5.实现";
        assert_eq!(texts(t), vec!["1.新建学校。共有 18.34万人脱贫,完成 5.实现"]);
        let t = "167.100名园艺师。(区级牵头单位:区城管局)附件3";
        assert_eq!(
            texts(t),
            vec!["167.100名园艺师。(区级牵头单位:区城管局)", "附件3"]
        );
    }
}
