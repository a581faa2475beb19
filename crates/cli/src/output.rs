//! Output for people (aligned columns, CJK-aware widths) or machines (JSON lines).

use std::{
    io::Write,
    sync::atomic::{AtomicBool, Ordering},
};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::Format;

/// The widest line a table prints: a 120-column terminal. Longer cells are cut (…), the widest
/// columns first, unless `--wide` asked for every cell whole.
const TABLE_COLUMNS: usize = 120;
/// No column is cut narrower than this.
const NARROWEST: usize = 8;

static WIDE: AtomicBool = AtomicBool::new(false);

/// `--wide`: tables print every cell whole, however long the lines get.
pub fn set_wide(wide: bool) {
    WIDE.store(wide, Ordering::Relaxed);
}

/// The column widths that fit `TABLE_COLUMNS` (two spaces between columns), narrowing the
/// widest column one step at a time.
fn fit(mut widths: Vec<usize>) -> Vec<usize> {
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    while total(&widths) > TABLE_COLUMNS {
        let Some((widest, &width)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
            break;
        };
        if width <= NARROWEST {
            break;
        }
        widths[widest] = width - 1;
    }
    widths
}

/// `cell` cut to `width` display columns, ending in … when it was longer.
fn cut(cell: &str, width: usize) -> String {
    if cell.width() <= width {
        return cell.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in cell.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// One cell: text, or a count that JSON keeps a number.
pub enum Cell {
    Text(String),
    Count(i64),
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Count(n)
    }
}

impl From<i32> for Cell {
    fn from(n: i32) -> Self {
        Cell::Count(n.into())
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Self {
        Cell::Count(n.into())
    }
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Count(n) => n.to_string(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Text(text) => serde_json::Value::String(text.clone()),
            Cell::Count(n) => serde_json::Value::from(*n),
        }
    }
}

/// Prints `rows` as a table with `headers`, or as one JSON object per row keyed by the
/// lower-cased headers (counts as JSON numbers).
pub fn print<T, C: Into<Cell>>(
    format: Format,
    headers: &[&str],
    rows: &[T],
    cells: impl Fn(&T) -> Vec<C>,
) -> anyhow::Result<()> {
    let typed: Vec<Vec<Cell>> = rows
        .iter()
        .map(|row| cells(row).into_iter().map(Into::into).collect())
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            for row in &typed {
                let object: serde_json::Map<String, serde_json::Value> = headers
                    .iter()
                    .zip(row)
                    .map(|(h, c)| (h.to_lowercase().replace(' ', "_"), c.json()))
                    .collect();
                writeln!(out, "{}", serde_json::Value::Object(object))?;
            }
        }
        Format::Table => {
            let table: Vec<Vec<String>> = typed
                .iter()
                .map(|row| row.iter().map(Cell::text).collect())
                .collect();
            let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
            for row in &table {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.width());
                }
            }
            if !WIDE.load(Ordering::Relaxed) {
                widths = fit(widths);
            }
            let line = |cells: Vec<&str>| {
                let last = cells.len().saturating_sub(1);
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let c = cut(c, widths[i]);
                        if i == last {
                            c
                        } else {
                            let pad = widths[i] - c.width() + 2;
                            format!("{c}{}", " ".repeat(pad))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tables_fit_120_columns() {
        let widths = fit(vec![12, 8, 300, 40]);
        assert!(
            widths.iter().sum::<usize>() + 6 <= TABLE_COLUMNS,
            "{widths:?}"
        );
        assert_eq!(&widths[..2], &[12, 8], "short columns stay whole");
        let cut = cut("武昌区发展和改革局牵头负责推进", 9);
        assert_eq!(cut, "武昌区发…");
        assert!(cut.width() <= 9);
        assert_eq!(super::cut("区发改局", 8), "区发改局");
    }
}
