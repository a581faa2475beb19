//! Stage 1, normalize: bytes to the text as written (encoding detected, HTML and DOCX turned
//! into lines, table cells joined with " | "), then a cleaned copy for the rules — full-width
//! forms folded to half-width, mirror-site pinyin glosses removed, traditional characters
//! simplified, boilerplate lines dropped — with a map from every cleaned offset back to the
//! text as written, so what the later stages find is emitted as the document wrote it.

pub mod clean;
pub mod decode;
mod docx;
mod dom;
mod html;
pub mod offsets;
mod t2s;

use offsets::OffsetMap;

/// A document ready for the rules.
pub struct Normalized {
    /// The decoded text as written: what spans index into.
    pub raw: String,
    /// The cleaned text the rules read.
    pub clean: String,
    /// From `clean` back to `raw`.
    pub map: OffsetMap,
    pub encoding: String,
    /// An HTML page's `<title>`.
    pub html_title: Option<String>,
    pub warnings: Vec<String>,
}

pub fn normalize(input: &[u8]) -> Normalized {
    let mut warnings = Vec::new();
    let (raw, encoding, html_title) = if docx::is_docx(input) {
        match docx::docx_to_text(input) {
            Ok(t) => (t, "DOCX (UTF-8)".to_string(), None),
            Err(e) => {
                warnings.push(e);
                (String::new(), "DOCX".to_string(), None)
            }
        }
    } else {
        let d = decode::decode(input);
        if html::looks_like_html(&d.text) {
            let (t, title) = html::html_to_text(&d.text);
            (t, d.encoding, title)
        } else {
            (d.text, d.encoding, None)
        }
    };
    let (clean, map) = clean::clean(&raw);
    Normalized {
        raw,
        clean,
        map,
        encoding,
        html_title,
        warnings,
    }
}
