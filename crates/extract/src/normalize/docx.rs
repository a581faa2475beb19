//! DOCX: paragraphs become lines; a table row becomes one line with cells joined by " | ".
//! A vertically merged cell (w:vMerge) repeats the text of the cell that starts the merge, so
//! every row carries its own units and time limit.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::{Cursor, Read};

/// Decompressed XML larger than this is refused: a zip can claim anything.
const MAX_XML: u64 = 32 * 1024 * 1024;

pub fn is_docx(input: &[u8]) -> bool {
    input.starts_with(b"PK\x03\x04") && memfind(input, b"word/document.xml")
}

fn memfind(h: &[u8], n: &[u8]) -> bool {
    h.windows(n.len()).any(|w| w == n)
}

/// Extracts the document text, or an error message.
pub fn docx_to_text(input: &[u8]) -> Result<String, String> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(input)).map_err(|e| format!("docx: not a zip: {e}"))?;
    let file = zip
        .by_name("word/document.xml")
        .map_err(|e| format!("docx: no document.xml: {e}"))?;
    let mut xml = Vec::new();
    file.take(MAX_XML + 1)
        .read_to_end(&mut xml)
        .map_err(|e| format!("docx: unreadable: {e}"))?;
    if xml.len() as u64 > MAX_XML {
        return Err("docx: document.xml exceeds the size limit".to_string());
    }
    Ok(xml_to_text(&xml))
}

fn xml_to_text(xml: &[u8]) -> String {
    // A stray invalid byte costs one character, not the rest of the document.
    let xml = String::from_utf8_lossy(xml);
    let mut reader = Reader::from_str(&xml);
    let mut buf = Vec::new();
    let mut out = String::new();
    let mut para = String::new();
    let mut cell = String::new();
    let mut row: Vec<String> = Vec::new();
    let mut table_depth = 0usize;
    let mut in_text = false;
    // per grid column: the text of the vertical merge that is open there
    let mut merged: Vec<Option<String>> = Vec::new();
    let mut col = 0usize;
    let mut span = 1usize;
    // Some(true): the cell starts a vertical merge; Some(false): it continues one
    let mut vmerge: Option<bool> = None;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => match e.local_name().into_inner() {
                "t" => in_text = true,
                "tbl" => table_depth += 1,
                "tr" => {
                    row.clear();
                    col = 0;
                }
                "tc" => {
                    cell.clear();
                    span = 1;
                    vmerge = None;
                }
                "vMerge" => vmerge = Some(attr_val(&e).as_deref() == Some("restart")),
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.local_name().into_inner() {
                "vMerge" => vmerge = Some(attr_val(&e).as_deref() == Some("restart")),
                "gridSpan" => {
                    span = attr_val(&e)
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, 64)
                }
                "tab" => para.push(' '),
                "br" | "cr" => para.push(' '),
                _ => {}
            },
            // quick-xml hands text and entity references over apart: XML's own entities and
            // character references are resolved here; anything else stays as written.
            Ok(Event::Text(t)) if in_text => para.push_str(t.as_ref()),
            Ok(Event::GeneralRef(r)) if in_text => {
                let name: &str = r.as_ref();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => para.push(c),
                    _ => match quick_xml::escape::resolve_predefined_entity(name) {
                        Some(text) => para.push_str(text),
                        None => para.push_str(&format!("&{name};")),
                    },
                }
            }
            Ok(Event::End(e)) => match e.local_name().into_inner() {
                "t" => in_text = false,
                "p" => {
                    if table_depth > 0 {
                        if !cell.is_empty() && !para.is_empty() {
                            cell.push(' ');
                        }
                        cell.push_str(para.trim());
                    } else if !para.trim().is_empty() {
                        out.push_str(para.trim());
                        out.push('\n');
                    }
                    para.clear();
                }
                "tc" => {
                    let mut text = std::mem::take(&mut cell);
                    if merged.len() < col + 1 {
                        merged.resize(col + 1, None);
                    }
                    match vmerge {
                        Some(false) if text.trim().is_empty() => {
                            if let Some(Some(m)) = merged.get(col) {
                                text = m.clone();
                            }
                        }
                        Some(true) => {
                            if let Some(slot) = merged.get_mut(col) {
                                *slot = Some(text.clone());
                            }
                        }
                        _ => {
                            if let Some(slot) = merged.get_mut(col) {
                                *slot = None;
                            }
                        }
                    }
                    row.push(text);
                    col = col.saturating_add(span);
                }
                "tr" => {
                    if row.iter().any(|c| !c.is_empty()) {
                        out.push_str(&row.join(" | "));
                        out.push('\n');
                    }
                    row.clear();
                }
                "tbl" => {
                    table_depth = table_depth.saturating_sub(1);
                    merged.clear();
                }
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

/// The `w:val` attribute of an element, if any.
fn attr_val(e: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == "val")
        .map(|a| a.value.into_owned())
}
