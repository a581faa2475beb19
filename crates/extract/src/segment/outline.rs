//! The document's outline: attachments (each a plan), and numbered or bulleted blocks nested
//! by their numbering style. A block owns its marker line, the paragraphs under it up to the
//! next marker, and the responsibility-label lines (`牵头单位:…`) that follow it.

use super::lines::Line;
use super::markers::{self, Marker, Style};
use crate::interpret::units;
use regex::Regex;
use std::sync::LazyLock;

/// An attachment heading (附件2 …) and the plan it opens.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub label: String,
    pub title: String,
    /// The line after the heading (and its title lines).
    pub first_line: usize,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub marker: Option<Marker>,
    /// The marker line.
    pub line: usize,
    /// One past the last line the block owns (children excluded).
    pub end_line: usize,
    pub depth: usize,
    pub parent: Option<usize>,
    /// Child blocks.
    pub children: Vec<usize>,
    /// Index into `Outline::plans` (0 before any attachment).
    pub plan: usize,
    /// Lines of the block that are responsibility labels.
    pub label_lines: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Outline {
    pub blocks: Vec<Block>,
    /// Plan boundaries; plan 0 is the text before the first attachment.
    pub attachments: Vec<Attachment>,
}

static ATTACHMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^附件\s*([0-9一二三四五六七八九十]{0,3})\s*[::]?\s*(.*)$")
        .expect("attachment regex")
});

const TITLE_ENDINGS: &[&str] = &[
    "方案",
    "清单",
    "分工",
    "计划",
    "台账",
    "一览表",
    "表",
    "分解",
];

/// An attachment heading: "附件1", "附件1:标题", "附件" — not a sentence mentioning one, nor
/// the notice's list of attachments ("附件:1.…方案").
pub fn attachment_heading(s: &str) -> Option<(String, String)> {
    if !crate::text::starts(s, "附件") {
        return None;
    }
    let c = ATTACHMENT.captures(s)?;
    let number = c.get(1).map_or("", |m| m.as_str());
    let rest = c.get(2).map_or("", |m| m.as_str()).trim();
    let listing = rest.starts_with(|c: char| c.is_ascii_digit()) && markers::parse(rest).is_some();
    let ok = crate::text::chars_at_most(rest, 60)
        && !rest.contains(['。', ','])
        && !listing
        && (!number.is_empty()
            || rest.is_empty()
            || !rest.starts_with(|c: char| c.is_ascii_digit()));
    ok.then(|| (format!("附件{number}"), rest.to_string()))
}

/// Builds the outline over the lines not taken by tables.
pub fn build(text: &str, lines: &[Line], in_table: &[bool]) -> Outline {
    // a line opens at most one block
    let mut out = Outline {
        blocks: Vec::with_capacity(lines.len()),
        attachments: Vec::new(),
    };
    // each line's marker, parsed once: the glued runs and the blocks both ask
    let markers: Vec<Option<Marker>> = lines.iter().map(|l| markers::parse(l.text(text))).collect();
    let glued_ok = glued_runs(&markers);
    // open blocks by style, outermost first
    let mut stack: Vec<(Style, usize)> = Vec::new();
    let mut current: Option<usize> = None;
    // the last unnumbered paragraph, which label lines after it attach to
    let mut para: Option<usize> = None;
    let mut plan = 0usize;
    let mut last_digit: Option<u32> = None;
    let mut i = 0usize;
    while i < lines.len() {
        let Some(&line) = lines.get(i) else { break };
        if in_table.get(i).copied().unwrap_or(false) {
            current = None;
            i += 1;
            continue;
        }
        let s = line.text(text);
        if s.is_empty() {
            i += 1;
            continue;
        }
        if let Some((label, mut title)) = attachment_heading(s) {
            // "附件:" over a numbered list is the notice's list of attachments
            let next = next_text(text, lines, i + 1);
            if title.is_empty() && next.is_some_and(|(_, n)| markers::parse(n).is_some()) {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            if title.is_empty()
                && let Some((k, n)) = next
            {
                title = n.to_string();
                j = k + 1;
            }
            // a title broken over two lines: "…目标任务及民生实事" / "责任分解方案"
            if !TITLE_ENDINGS.iter().any(|e| title.ends_with(e))
                && let Some((k, n)) = next_text(text, lines, j)
                && n.chars().count() <= 16
                && markers::parse(n).is_none()
                && TITLE_ENDINGS.iter().any(|e| n.ends_with(e))
            {
                title.push_str(n);
                j = k + 1;
            }
            out.attachments.push(Attachment {
                label,
                title,
                first_line: j,
            });
            plan = out.attachments.len();
            stack.clear();
            current = None;
            last_digit = None;
            i = j;
            continue;
        }
        let marker = markers.get(i).copied().flatten().filter(|m| match m.style {
            Style::CnGlued | Style::DigitGlued => glued_ok.get(i).copied().unwrap_or(false),
            Style::Digit if m.decimal_like => last_digit.is_some_and(|d| d + 1 == m.n),
            _ => true,
        });
        if let Some(m) = marker {
            if m.style == Style::Digit {
                last_digit = Some(m.n);
            }
            // siblings close the deeper blocks; a new style opens under the current one
            if let Some(pos) = stack.iter().position(|(st, _)| *st == m.style) {
                stack.truncate(pos);
            }
            let parent = stack.last().map(|(_, b)| *b);
            let idx = out.blocks.len();
            if let Some(p) = parent.and_then(|p| out.blocks.get_mut(p)) {
                p.children.push(idx);
            }
            out.blocks.push(Block {
                marker: Some(m),
                line: i,
                end_line: i + 1,
                depth: stack.len(),
                parent,
                children: Vec::new(),
                plan,
                label_lines: Vec::new(),
            });
            stack.push((m.style, idx));
            current = Some(idx);
            i += 1;
            continue;
        }
        let label = units::starts_with_label(s);
        match current.and_then(|c| out.blocks.get_mut(c)) {
            Some(b) => {
                b.end_line = i + 1;
                if label {
                    b.label_lines.push(i);
                }
            }
            None => match para.and_then(|p| out.blocks.get_mut(p)) {
                // "责任单位:…" under an unnumbered task belongs to it
                Some(b) if label => {
                    b.end_line = i + 1;
                    b.label_lines.push(i);
                }
                _ => {
                    // an unnumbered paragraph outside any list
                    para = Some(out.blocks.len());
                    out.blocks.push(Block {
                        marker: None,
                        line: i,
                        end_line: i + 1,
                        depth: stack.len(),
                        parent: stack.last().map(|(_, b)| *b),
                        children: Vec::new(),
                        plan,
                        label_lines: if label { vec![i] } else { Vec::new() },
                    });
                }
            },
        }
        i += 1;
    }
    out
}

fn next_text<'a>(text: &'a str, lines: &[Line], from: usize) -> Option<(usize, &'a str)> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| !l.is_blank())
        .map(|(k, l)| (k, l.text(text)))
}

/// Lines whose glued numeral (一开展…) is believed: runs 一, 二, 三… of such lines in order.
fn glued_runs(markers: &[Option<Marker>]) -> Vec<bool> {
    let mut ok = vec![false; markers.len()];
    for style in [Style::CnGlued, Style::DigitGlued] {
        let cands: Vec<(usize, u32)> = markers
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.filter(|m| m.style == style).map(|m| (i, m.n)))
            .collect();
        let mut k = 0;
        while k < cands.len() {
            let Some(&(_, n0)) = cands.get(k) else { break };
            if n0 != 1 {
                k += 1;
                continue;
            }
            let mut end = k + 1;
            while cands
                .get(end)
                .zip(cands.get(end - 1))
                .is_some_and(|(b, a)| b.1 == a.1 + 1)
            {
                end += 1;
            }
            if end - k >= 2 {
                for &(i, _) in cands.get(k..end).unwrap_or_default() {
                    if let Some(slot) = ok.get_mut(i) {
                        *slot = true;
                    }
                }
            }
            k = end;
        }
    }
    ok
}
