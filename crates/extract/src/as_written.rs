//! Emitting items as the document wrote them. The rules run on the cleaned text (simplified
//! characters, mirror pinyin removed, half-width forms); what they found is then sliced from
//! the decoded text through the cleaning map, so a traditional-character mirror page yields
//! 區發改局 and 個, not 区发改局 and 个.
//!
//! Mirror pinyin (經(jīng)濟) is treated differently by what a value is for:
//!
//! - **Running text keeps it** — item `text` and target `phrase`: they are the contiguous source
//!   slice from the first to the last character found, which is what a labeller copying the
//!   text "as written" gets, keeps `&text[span]` equal to the item text, and keeps every phrase
//!   a verbatim substring of its item.
//! - **Names keep it too** — unit `name` and `deadline` are copied as the document wrote them
//!   (區發(fà)改局), as a labeller copies them and as the reader finds them in the page; a unit's
//!   `canonical` is the cleaned, simplified form (区发改局) that lookups and counts use.
//! - **Measure words drop it** — a target's `unit` is a short word compared as it is (個, not
//!   個(gè)): the source characters of each cleaned character, concatenated, so it keeps the
//!   document's own characters and loses only what cleaning removed.

use crate::normalize::offsets::OffsetMap;
use crate::{Item, PlanMeta, Quantity};
use std::collections::HashMap;
use std::ops::Range;

/// How far past an item a table row's unit cells may sit, and how far back a merged
/// (rowspan) cell the row inherited its units from.
const AHEAD: usize = 4096;
const BEHIND: usize = 16 * 1024;

/// Rewrites the items found in `clean` so their strings and spans refer to `orig`.
pub fn restore(
    items: &mut [Item],
    plans: &mut [PlanMeta],
    clean: &str,
    orig: &str,
    map: &OffsetMap,
) {
    // plan titles and section headings, as running text: the first occurrence after the
    // previous heading found (so the searches stay linear), else anywhere; a title joined
    // from two lines is not found and stays as cleaned
    let mut headings: HashMap<String, String> = HashMap::new();
    let mut after = 0;
    let mut heading = |h: &mut String, before: usize| {
        if let Some(w) = headings.get(h.as_str()) {
            h.clone_from(w);
            return;
        }
        let near = clean
            .get(after..before.max(after))
            .and_then(|t| t.find(h.as_str()))
            .map(|i| after + i);
        let at = near.or_else(|| clean.find(h.as_str()));
        if let Some(i) = near {
            after = i + h.len();
        }
        let w = at
            .filter(|_| !h.is_empty())
            .and_then(|i| orig.get(map.range(i..i + h.len())))
            .filter(|w| !w.trim().is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| h.clone());
        headings.insert(std::mem::replace(h, w.clone()), w);
    };
    // copies and removals only (the common case): strings within one line read the same
    let verbatim = map.verbatim();
    if !verbatim {
        for p in plans.iter_mut() {
            heading(&mut p.title, 0);
        }
    }
    for item in items.iter_mut() {
        let [s, e] = item.span;
        let (s, e) = (floor(clean, s), floor(clean, e.max(s)));
        let r = map.range(s..e);
        if verbatim && r.len() == e - s && map.pieces(s..e).len() <= 1 {
            // nothing removed inside the item, nothing rewritten: only the offsets move
            item.span = [r.start, r.end];
            if clean.get(s..e) != Some(item.text.as_str()) {
                item.text = orig.get(r).unwrap_or("").to_string();
            }
            continue;
        }
        if !verbatim {
            if let Some(p) = item.plan.as_mut() {
                heading(p, s);
            }
            for h in item.section.iter_mut() {
                heading(h, s);
            }
        }
        let item_clean = clean.get(s..e).unwrap_or("");
        // the unit cells of a table row follow the task cell on its line
        let line_end = clean
            .get(e..)
            .and_then(|t| t.find('\n'))
            .map(|i| e + i)
            .unwrap_or(clean.len());
        let ahead = floor(
            clean,
            line_end.max(e.saturating_add(AHEAD)).min(clean.len()),
        );
        let mut cursor = s;
        for u in item.units.iter_mut() {
            if let Some(r) = locate(clean, &u.name, s, cursor, ahead) {
                cursor = r.end;
                if let Some(n) = slice(orig, map, r) {
                    u.name = n;
                }
            }
        }
        if let Some(d) = item.deadline.as_mut()
            && let Some(r) = locate(clean, d, s, s, ahead)
            && let Some(w) = slice(orig, map, r)
        {
            *d = w;
        }
        for q in item.targets.iter_mut().chain(item.actual.iter_mut()) {
            restore_quantity(q, item_clean, (s, ahead), clean, orig, map);
        }
        item.text = orig.get(r.clone()).unwrap_or("").to_string();
        item.span = [r.start, r.end];
    }
}

fn restore_quantity(
    q: &mut Quantity,
    item_clean: &str,
    (base, ahead): (usize, usize),
    clean: &str,
    orig: &str,
    map: &OffsetMap,
) {
    let Some(at) = item_clean
        .find(q.phrase.as_str())
        .filter(|_| !q.phrase.is_empty())
    else {
        // a phrase joined across a table row's continuation line: the measure word as the
        // document writes it, from its first occurrence near the item (else anywhere)
        let r = locate(clean, &q.unit, base, base, ahead).or_else(|| {
            let i = clean.find(q.unit.as_str()).filter(|_| !q.unit.is_empty())?;
            Some(i..i + q.unit.len())
        });
        if let Some(w) = r.and_then(|r| pieces(orig, map, r)) {
            q.unit = w;
        }
        return;
    };
    let phrase = base + at..base + at + q.phrase.len();
    // the measure word follows the number: look for it after the phrase's last digit
    let digits = q
        .phrase
        .rfind(|c: char| c.is_ascii_digit())
        .map(|i| i + 1)
        .unwrap_or(0);
    if let Some(i) = q
        .phrase
        .get(digits..)
        .and_then(|t| t.find(q.unit.as_str()))
        .filter(|_| !q.unit.is_empty())
    {
        let u = phrase.start + digits + i;
        if let Some(w) = pieces(orig, map, u..u + q.unit.len()) {
            q.unit = w;
        }
    }
    let r = map.range(phrase);
    if let Some(p) = orig.get(r) {
        q.phrase = p.to_string();
    }
}

/// Where `needle` sits in the cleaned text for an item starting at `start`: from `cursor` on
/// (names in order), else anywhere from the item's start to `ahead`, else the nearest
/// occurrence before the item.
fn locate(
    clean: &str,
    needle: &str,
    start: usize,
    cursor: usize,
    ahead: usize,
) -> Option<Range<usize>> {
    if needle.is_empty() {
        return None;
    }
    let found = |from: usize| {
        clean
            .get(from..ahead)
            .and_then(|t| t.find(needle))
            .map(|i| from + i)
    };
    let at = found(cursor).or_else(|| found(start)).or_else(|| {
        let from = floor(clean, start.saturating_sub(BEHIND));
        clean
            .get(from..start)
            .and_then(|t| t.rfind(needle))
            .map(|i| from + i)
    })?;
    Some(at..at + needle.len())
}

/// The source text a cleaned range came from, as one slice (insertions inside it kept).
fn slice(orig: &str, map: &OffsetMap, r: Range<usize>) -> Option<String> {
    orig.get(map.range(r))
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// The source characters of a cleaned range, concatenated (removed insertions left out).
fn pieces(orig: &str, map: &OffsetMap, r: Range<usize>) -> Option<String> {
    let s: String = map
        .pieces(r)
        .into_iter()
        .filter_map(|p| orig.get(p))
        .collect();
    (!s.trim().is_empty()).then_some(s)
}

fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}
