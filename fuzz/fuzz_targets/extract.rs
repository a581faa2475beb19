#![no_main]
//! Any bytes, read as text, HTML or DOCX, extract without panicking, and every span lies within
//! the decoded text on character boundaries.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the name the document arrives under (it steers format detection).
    let (name, body) = match data.split_first() {
        Some((b, rest)) if b % 3 == 0 => ("fuzz.html", rest),
        Some((b, rest)) if b % 3 == 1 => ("fuzz.docx", rest),
        Some((_, rest)) => ("fuzz.txt", rest),
        None => ("fuzz.txt", data),
    };
    let x = duban_extract::extract(body, name);
    // extract() turns an internal panic into a warning so users never see one; here it is a
    // finding.
    assert!(
        !x.warnings.iter().any(|w| w.starts_with("internal error")),
        "extraction panicked inside: {:?}",
        x.warnings
    );
    for item in &x.items {
        let [start, end] = item.span;
        assert!(start <= end && end <= x.text.len(), "span {start}..{end} outside the text");
        assert!(x.text.is_char_boundary(start) && x.text.is_char_boundary(end));
    }
});
