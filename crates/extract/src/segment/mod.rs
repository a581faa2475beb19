//! Stage 2, segment: every candidate block with its evidence, whatever the document's kind —
//! lines (run-on lines split), tables in any form with their column roles, and the numbered
//! outline with the responsibility-label lines under each item. Work-report statements
//! (主要预期目标…) are segmented into clauses by [`statement`].

pub mod lines;
pub mod markers;
pub mod outline;
pub mod statement;
pub mod table;

use lines::Line;
use outline::Outline;
use table::Table;

pub struct Segments {
    pub lines: Vec<Line>,
    pub tables: Vec<Table>,
    pub outline: Outline,
}

pub fn segment(text: &str) -> Segments {
    let lines = lines::split(text);
    let tables = table::find(text, &lines);
    let mut in_table = vec![false; lines.len()];
    for t in &tables {
        for slot in in_table.iter_mut().take(t.end_line).skip(t.first_line) {
            *slot = true;
        }
    }
    let outline = outline::build(text, &lines, &in_table);
    Segments {
        lines,
        tables,
        outline,
    }
}
