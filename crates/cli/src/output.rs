//! Output for people (aligned columns, CJK-aware widths) or machines (JSON lines).

use std::io::Write;

use unicode_width::UnicodeWidthStr;

use crate::Format;

/// Prints `rows` as a table with `headers`, or as one JSON object per row keyed by the
/// lower-cased headers.
pub fn print<T>(
    format: Format,
    headers: &[&str],
    rows: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    let table: Vec<Vec<String>> = rows.iter().map(&cells).collect();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            for row in &table {
                let object: serde_json::Map<String, serde_json::Value> = headers
                    .iter()
                    .zip(row)
                    .map(|(h, c)| (h.to_lowercase(), serde_json::Value::String(c.clone())))
                    .collect();
                writeln!(out, "{}", serde_json::Value::Object(object))?;
            }
        }
        Format::Table => {
            let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
            for row in &table {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.width());
                }
            }
            let line = |cells: Vec<&str>| {
                let last = cells.len().saturating_sub(1);
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == last {
                            c.to_string()
                        } else {
                            format!("{c}{}", " ".repeat(widths[i] - c.width() + 2))
                        }
                    })
                    .collect::<String>()
            };
            writeln!(out, "{}", line(headers.to_vec()))?;
            for row in &table {
                writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
            }
        }
    }
    Ok(())
}

pub use duban_kit::text::clip;
