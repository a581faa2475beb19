//! Comparisons of short strings, inlined. The rules compare thousands of short words per
//! document; `str::starts_with` calls libc's memcmp each time, which costs more than the
//! comparison itself for words of a few bytes.

/// Does `h` start with `n`?
#[inline]
pub fn starts(h: &str, n: &str) -> bool {
    let (h, n) = (h.as_bytes(), n.as_bytes());
    h.len() >= n.len() && h.iter().zip(n).all(|(a, b)| a == b)
}

/// Does `h` end with `n`?
#[inline]
pub fn ends(h: &str, n: &str) -> bool {
    let (h, n) = (h.as_bytes(), n.as_bytes());
    h.len() >= n.len() && h.iter().rev().zip(n.iter().rev()).all(|(a, b)| a == b)
}

/// Does `h` end with any of `ns`?
#[inline]
pub fn ends_any(h: &str, ns: &[&str]) -> bool {
    ns.iter().any(|n| ends(h, n))
}

/// `h` without the prefix `n`, if it has it.
#[inline]
pub fn strip_prefix<'a>(h: &'a str, n: &str) -> Option<&'a str> {
    if starts(h, n) { h.get(n.len()..) } else { None }
}

/// `h` without the suffix `n`, if it has it.
#[inline]
pub fn strip_suffix<'a>(h: &'a str, n: &str) -> Option<&'a str> {
    if ends(h, n) {
        h.get(..h.len() - n.len())
    } else {
        None
    }
}

/// Does `h` hold `n`? std's search, which takes SIMD steps for short needles: on the unit
/// names, lines and items of the seeds it ran as fast as a first-byte search on names of up to
/// 48 bytes and two to three times as fast as a first-byte search or memchr's `memmem` on
/// anything longer (an in-process comparison, the fastest of 300 runs each). A short text
/// (a unit's name) is first asked whether it holds every byte of `n` by their low six bits,
/// which most names asked about a word do not: a quarter less time on the seeds' names.
#[inline]
pub fn has(h: &str, n: &str) -> bool {
    if h.len() <= 48 && low_bits(n) & !low_bits(h) != 0 {
        return false;
    }
    h.contains(n)
}

/// The set of a string's bytes by their low six bits.
#[inline]
fn low_bits(s: &str) -> u64 {
    s.bytes().fold(0, |set, b| set | 1 << (b & 63))
}

/// Does `s` hold at least `n` characters? Counts no further than the `n`th: some callers
/// hold the rest of the document, where a full count makes a pass over it per call.
pub fn chars_at_least(s: &str, n: usize) -> bool {
    // a character is one to four bytes
    n == 0 || s.len() >= 4 * n || s.len() >= n && s.chars().nth(n - 1).is_some()
}

/// Does `s` hold at most `n` characters? (See `chars_at_least`.)
pub fn chars_at_most(s: &str, n: usize) -> bool {
    !chars_at_least(s, n + 1)
}

/// The search for "。", built once: sentences are cut in paragraph after paragraph.
pub static FULL_STOP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("。"));

/// A search for any of `words` that aho-corasick runs with its SIMD prefilter (Teddy), which
/// it uses only for the leftmost match kinds: the standard kind steps a DFA through every
/// byte. One such search over a line beats a substring search per word. Leftmost-first
/// answers "is any there?" as the standard kind does, and finds every word where none can
/// overlap another.
pub fn word_search<I, P>(words: I) -> aho_corasick::AhoCorasick
where
    I: IntoIterator<Item = P>,
    P: AsRef<[u8]>,
{
    aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(words)
        .expect("a short word list builds")
}

/// At most the first `n` bytes, cut back to a character boundary (cheaper than counting
/// characters).
pub fn head_bytes(text: &str, n: usize) -> &str {
    let mut end = n.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or(text)
}

/// The lines of a text as byte ranges without their newline, as `split('\n')` yields them,
/// found by SIMD search (std's search for a character goes a word at a time).
pub fn line_ranges(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0usize;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            let line = (start, end);
            start = end + 1;
            line
        })
}

/// The lines of a text, as `split('\n')` yields them (see `line_ranges`).
pub fn lines(text: &str) -> impl Iterator<Item = &str> + '_ {
    line_ranges(text).map(|(s, e)| text.get(s..e).unwrap_or(""))
}

/// Two ascending sequences (positions found by two searches) as one ascending sequence.
pub fn merge<T: Ord>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y < x => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_std_does() {
        for (h, n) in [
            ("增长6%", "增长"),
            ("增", "增长"),
            ("", ""),
            ("abc", ""),
            ("以上", "以上"),
        ] {
            assert_eq!(starts(h, n), h.starts_with(n));
            assert_eq!(ends(h, n), h.ends_with(n));
            assert_eq!(strip_prefix(h, n), h.strip_prefix(n));
            assert_eq!(strip_suffix(h, n), h.strip_suffix(n));
            assert_eq!(has(h, n), h.contains(n));
        }
        assert!(has("地区生产总值增长6%", "总值"));
        for t in ["", "a", "一", "一二三", "ab一二", "𠀀𠀀𠀀𠀀𠀀"] {
            for n in 0..8 {
                let count = t.chars().count();
                assert_eq!(chars_at_least(t, n), count >= n, "{t:?} {n}");
                assert_eq!(chars_at_most(t, n), count <= n, "{t:?} {n}");
            }
        }
        for t in ["", "\n", "a", "a\n", "一\n\n二三\n", "\n\nx"] {
            let ours: Vec<&str> = line_ranges(t).map(|(s, e)| &t[s..e]).collect();
            assert_eq!(ours, t.split('\n').collect::<Vec<_>>(), "{t:?}");
        }
        assert!(!has("地区生产总值", "总额"));
    }

    use proptest::prelude::*;

    proptest! {
        /// The byte-set test only ever says no where std's search says no: names and words
        /// from a few characters that share bytes (位 E4 BD 8D, 分 E5 88 86, 区 E5 8C BA …).
        #[test]
        fn has_is_contains(h in "[位为牵头单第一下同人民政府区分局各a ]{0,20}", n in "[位一下区分局人 ]{0,4}") {
            prop_assert_eq!(has(&h, &n), h.contains(n.as_str()));
        }
    }
}
