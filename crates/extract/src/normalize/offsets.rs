//! Offset maps from the cleaned text back to the decoded text it was cleaned from.
//!
//! Each clean-up step records, for its output, where every piece came from in its input:
//! copied runs map byte for byte, a character replaced by one of the same UTF-8 length (the
//! traditional → simplified table, a lone `\r` → `\n`) maps 1:1, a replacement of another
//! length (full-width → half-width) maps as a whole onto its source character, and removed
//! input (mirror pinyin, `\r` of `\r\n`, control characters, trimmed blanks, boilerplate
//! lines) maps from nothing. Runs that copy are merged, so a clean page costs a handful of
//! segments per step; a step that changes nothing stores nothing. Lookups go back through the
//! steps one binary search each, so the map is never composed.

use smallvec::SmallVec;
use std::ops::Range;

/// Source pieces of a cleaned range: nearly always one or two (a range is looked up for every
/// item, unit and figure), kept inline rather than allocated.
pub type Pieces = SmallVec<[Range<usize>; 2]>;

#[derive(Debug, Clone, Copy)]
struct Seg {
    out: usize,
    inp: usize,
    out_len: usize,
    inp_len: usize,
    /// byte for byte (same length, same character boundaries) rather than as a whole
    linear: bool,
}

impl Seg {
    fn out_end(&self) -> usize {
        self.out + self.out_len
    }
}

/// One step's map: segments sorted by output offset, covering the whole output.
#[derive(Debug, Clone, Default)]
pub struct StepMap {
    segs: Vec<Seg>,
    out_len: usize,
    inp_len: usize,
}

impl StepMap {
    /// The input offset a point of the output maps to.
    fn point(&self, p: usize) -> usize {
        if p >= self.out_len {
            return self.inp_len;
        }
        let i = self.segs.partition_point(|s| s.out_end() <= p);
        match self.segs.get(i) {
            Some(s) if s.linear => s.inp + (p - s.out),
            Some(s) => s.inp,
            None => self.inp_len,
        }
    }

    /// Maps output ranges (sorted, disjoint) to the input ranges they came from, merging
    /// pieces that touch. Empty ranges and removed input produce no piece.
    fn ranges(&self, rs: &[Range<usize>]) -> Pieces {
        let mut out = Pieces::new();
        for r in rs {
            if r.start >= r.end {
                continue;
            }
            let mut i = self.segs.partition_point(|s| s.out_end() <= r.start);
            while let Some(s) = self.segs.get(i) {
                if s.out >= r.end {
                    break;
                }
                let piece = if s.linear {
                    let lo = r.start.max(s.out);
                    let hi = r.end.min(s.out_end());
                    s.inp + (lo - s.out)..s.inp + (hi - s.out)
                } else {
                    s.inp..s.inp + s.inp_len
                };
                if piece.start < piece.end {
                    match out.last_mut() {
                        Some(last) if piece.start <= last.end => {
                            last.end = last.end.max(piece.end);
                        }
                        _ => out.push(piece),
                    }
                }
                i += 1;
            }
        }
        out
    }
}

/// Records one step's map while the step writes its output.
#[derive(Debug, Default)]
pub struct Builder {
    map: StepMap,
    out: usize,
    inp: usize,
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    /// `len` bytes copied unchanged (or replaced character by character with the same lengths).
    pub fn copy(&mut self, len: usize) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.map.segs.last_mut()
            && last.linear
            && last.out_end() == self.out
            && last.inp + last.inp_len == self.inp
        {
            last.out_len += len;
            last.inp_len += len;
        } else {
            self.map.segs.push(Seg {
                out: self.out,
                inp: self.inp,
                out_len: len,
                inp_len: len,
                linear: true,
            });
        }
        self.out += len;
        self.inp += len;
    }

    /// One character (`out_len` bytes) written for one source character (`inp_len` bytes).
    pub fn replace_char(&mut self, out_len: usize, inp_len: usize) {
        if out_len == inp_len {
            self.copy(out_len);
        } else {
            self.replace(out_len, inp_len);
        }
    }

    /// `out_len` bytes written for `inp_len` source bytes, mapped as a whole.
    pub fn replace(&mut self, out_len: usize, inp_len: usize) {
        if out_len > 0 {
            self.map.segs.push(Seg {
                out: self.out,
                inp: self.inp,
                out_len,
                inp_len,
                linear: false,
            });
        }
        self.out += out_len;
        self.inp += inp_len;
    }

    /// `len` source bytes dropped.
    pub fn skip(&mut self, len: usize) {
        self.inp += len;
    }

    pub fn finish(mut self) -> StepMap {
        self.map.out_len = self.out;
        self.map.inp_len = self.inp;
        self.map
    }
}

/// The cleaned text's way back to the decoded text: the steps in the order they ran.
#[derive(Debug, Clone, Default)]
pub struct OffsetMap {
    steps: Vec<StepMap>,
    rewritten: bool,
}

impl OffsetMap {
    /// Records that a step replaced characters (rather than only copying and dropping them).
    pub fn mark_rewritten(&mut self) {
        self.rewritten = true;
    }

    /// Only copies and removals: every cleaned character is the source character itself, so
    /// the source pieces of any cleaned range spell the same string.
    pub fn verbatim(&self) -> bool {
        !self.rewritten
    }

    pub fn push(&mut self, step: StepMap) {
        self.steps.push(step);
    }

    /// The source pieces a cleaned range was made from, in order, without removed input.
    pub fn pieces(&self, r: Range<usize>) -> Pieces {
        let mut rs: Pieces = smallvec::smallvec![r];
        for step in self.steps.iter().rev() {
            rs = step.ranges(&rs);
        }
        rs
    }

    /// The contiguous source range a cleaned range was made from, removed input inside it
    /// included. An empty range (or one made only of inserted text) maps to a point.
    pub fn range(&self, r: Range<usize>) -> Range<usize> {
        let p = self.pieces(r.clone());
        match (p.first(), p.last()) {
            (Some(a), Some(b)) => a.start..b.end,
            _ => {
                let s = self.point(r.start);
                s..s
            }
        }
    }

    /// The source offset a cleaned offset maps to.
    pub fn point(&self, p: usize) -> usize {
        self.steps.iter().rev().fold(p, |p, step| step.point(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_skip_replace_compose() {
        // step 1: "ab(x)c" → "abc" ; step 2: "abc" → "aBBc" (b → two bytes, as a whole)
        let mut b1 = Builder::new();
        b1.copy(2);
        b1.skip(3);
        b1.copy(1);
        let mut b2 = Builder::new();
        b2.copy(1);
        b2.replace(2, 1);
        b2.copy(1);
        let mut m = OffsetMap::default();
        m.push(b1.finish());
        m.push(b2.finish());
        assert_eq!(m.pieces(0..4).as_slice(), [0..2, 5..6]);
        assert_eq!(m.range(1..4), 1..6);
        assert_eq!(m.range(2..3), 1..2);
        assert_eq!(m.point(3), 5);
        assert_eq!(m.range(4..4), 6..6);
    }
}
