//! How sure the reading of an item is, from 0 to 1, and why. Readers set a base for the
//! structure they read the item from; the evidence inside the item moves it: a unit clause
//! and figures raise it, a list that names units elsewhere but none here, a value that looks
//! like a typo, or an item that runs on for a page lower it.

use crate::Item;
use std::borrow::Cow;

/// Base confidence of each reading.
pub const TABLE_ROW: f64 = 0.8;
pub const NUMBERED: f64 = 0.65;
pub const STATEMENT: f64 = 0.8;
pub const RESULT: f64 = 0.7;

/// "3 unit(s) named": spelt out for the few counts items have, since formatting one costs
/// more than the rest of scoring the item.
fn units_named(n: usize) -> Cow<'static, str> {
    const NAMED: [&str; 13] = [
        "0 unit(s) named",
        "1 unit(s) named",
        "2 unit(s) named",
        "3 unit(s) named",
        "4 unit(s) named",
        "5 unit(s) named",
        "6 unit(s) named",
        "7 unit(s) named",
        "8 unit(s) named",
        "9 unit(s) named",
        "10 unit(s) named",
        "11 unit(s) named",
        "12 unit(s) named",
    ];
    match NAMED.get(n) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(format!("{n} unit(s) named")),
    }
}

pub fn score(it: &mut Item) {
    let mut c = if it.confidence > 0.0 {
        it.confidence
    } else {
        0.5
    };
    if !it.units.is_empty() {
        c += 0.15;
        it.reasons.push(units_named(it.units.len()));
    }
    if !it.targets.is_empty() || !it.actual.is_empty() {
        c += 0.05;
    }
    if it.reasons.iter().any(|r| r.starts_with("names no unit")) {
        c -= 0.15;
    }
    if !it.warnings.is_empty() {
        c -= 0.2;
        it.reasons.push("a warning about a value or a label".into());
    }
    // counted in full only when the item is long enough to say so
    if crate::text::chars_at_least(&it.text, 601) {
        let n = it.text.chars().count();
        c -= 0.1;
        it.reasons
            .push(format!("long item ({n} characters): boundaries may be wrong").into());
    } else if !crate::text::chars_at_least(&it.text, 6) {
        c -= 0.2;
        it.reasons.push("very short item".into());
    }
    it.confidence = (c.clamp(0.05, 0.99) * 100.0).round() / 100.0;
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_count_reads_as_formatted() {
        for n in 0..40 {
            assert_eq!(super::units_named(n), format!("{n} unit(s) named"));
        }
    }
}
