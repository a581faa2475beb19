//! Numbered lists as items. The item level is the numbering style whose blocks name who
//! answers (or, in a list that names no one, the innermost style); a heading with no numbered
//! items under it but a paragraph of its own is an item too ("三、推进水浸黑点治理 / 完成…").
//! Lists of the notice itself (一、工作要求…) and of requirements are not items.

use super::{Doc, append, plans};
use crate::interpret::{deadline, outcome, quantity, units};
use crate::segment::markers::Style;
use crate::segment::outline::Block;
use crate::{Item, PlanMeta};
use rustc_hash::FxHashMap as HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// a decomposition or a project list: figures are targets
    Tasks,
    /// a progress report: figures after the turn to outcomes are results
    Progress,
}

/// What one block says.
struct Facts {
    /// Start of the marker line, start after the marker, end of the block's own text.
    start: usize,
    body: usize,
    end: usize,
    clauses: Vec<units::Clause>,
    /// End of the first line (the marker line).
    first_line_end: usize,
}

/// One past the last line of a block and everything nested under it.
fn subtree_end(blocks: &[Block], i: usize) -> usize {
    let mut end = blocks.get(i).map_or(0, |b| b.end_line);
    let mut stack: Vec<usize> = blocks
        .get(i)
        .map(|b| b.children.clone())
        .unwrap_or_default();
    while let Some(c) = stack.pop() {
        if let Some(b) = blocks.get(c) {
            end = end.max(b.end_line);
            stack.extend(b.children.iter().copied());
        }
    }
    end
}

/// What a block says, with the sub-points nested under it ("1.推进城市更新: (1)… (2)…").
fn facts(doc: &Doc<'_>, b: &Block, end_line: usize, cache: &mut units::ClauseCache) -> Facts {
    let lines = &doc.seg.lines;
    let first = lines.get(b.line).copied();
    let last = lines.get(end_line.saturating_sub(1)).copied();
    let start = first.map_or(0, |l| l.start);
    let end = last.map_or(start, |l| l.end).max(start);
    let body = start + b.marker.map_or(0, |m| m.len);
    let own = doc.text.get(start..end).unwrap_or("");
    let clauses = units::find_clauses_with(own, cache)
        .into_iter()
        .map(|mut c| {
            c.start += start;
            c.end += start;
            c
        })
        .collect();
    Facts {
        start,
        body: body.min(end),
        end,
        clauses,
        first_line_end: first.map_or(start, |l| l.end),
    }
}

/// Headings over the requirements of a notice that names no one: not tasks.
const NOT_TASKS: &[&str] = &[
    "具体要求",
    "工作要求",
    "有关要求",
    "保障措施",
    "工作机制",
    "组织领导",
    "有关事项",
    "工作措施",
    "组织保障",
    "注意事项",
];

pub fn items(doc: &Doc<'_>, plans: &[PlanMeta], mode: Mode, claimed: &[Item]) -> Vec<Item> {
    let blocks = &doc.seg.outline.blocks;
    // a block's own text first: which style names who answers is decided on it
    let mut cache = units::ClauseCache::default();
    let mut own: Vec<Facts> = blocks
        .iter()
        .map(|b| facts(doc, b, b.end_line, &mut cache))
        .collect();

    let overlaps_claimed = |f: &Facts| {
        claimed.iter().any(|c| {
            c.span[0] < f.end && f.start < c.span[1] || (f.start <= c.span[0] && c.span[1] <= f.end)
        })
    };
    // a block is at most one item; items are large, and growing the list copies them all
    let mut out = Vec::with_capacity(blocks.len());
    let n_plans = doc.seg.outline.attachments.len() + 1;
    // a document that names who answers somewhere reads only such lists as tasks
    let names_anyone = own.iter().zip(blocks).any(|(f, b)| {
        (b.marker.is_some() || !b.label_lines.is_empty())
            && f.clauses.iter().any(|c| !c.units.is_empty())
    }) || !claimed.is_empty() && claimed.iter().any(|c| !c.units.is_empty());
    // does a block, or anything nested under it, name who answers?
    let mut named_below: Vec<bool> = own
        .iter()
        .map(|f| f.clauses.iter().any(|c| !c.units.is_empty()))
        .collect();
    for i in (0..blocks.len()).rev() {
        if named_below.get(i).copied().unwrap_or(false)
            && let Some(p) = blocks.get(i).and_then(|b| b.parent)
            && let Some(slot) = named_below.get_mut(p)
        {
            *slot = true;
        }
    }
    // unnumbered tasks with their label lines ("市区新增学位2.36万个。/ 责任单位:市教育局")
    if names_anyone {
        // the readings the cache shares are no longer needed: an item takes its units
        // from a clause no other holds rather than copying them
        cache = units::ClauseCache::default();
        for (i, b) in blocks.iter().enumerate() {
            let Some(f) = own.get_mut(i) else { continue };
            if b.marker.is_some()
                || b.label_lines.is_empty()
                || b.label_lines.first() == Some(&b.line)
                || !f.clauses.iter().any(|c| !c.units.is_empty())
                || overlaps_claimed(f)
            {
                continue;
            }
            if let Some(mut it) = build(doc, b, f, false, mode, true) {
                let meta = plans.get(plans::plan_of_line(doc, b.line));
                it.plan = meta.map(|p| p.title.clone()).filter(|t| !t.is_empty());
                it.year = meta.and_then(|p| p.year);
                it.reasons
                    .push("an unnumbered task followed by its label lines".into());
                out.push(it);
            }
        }
    }
    let mut sections: HashMap<Option<usize>, (Vec<String>, Option<String>)> = HashMap::default();
    for plan in 0..n_plans {
        let in_plan: Vec<usize> = (0..blocks.len())
            .filter(|&i| {
                blocks
                    .get(i)
                    .is_some_and(|b| b.plan == plan && b.marker.is_some())
            })
            .collect();
        if in_plan.is_empty() {
            continue;
        }
        // the item style: the one whose blocks (with what is nested under them) name who
        // answers, else the innermost list
        let mut with_clauses: HashMap<Style, usize> = HashMap::default();
        let mut count: HashMap<Style, (usize, usize)> = HashMap::default();
        for &i in &in_plan {
            let Some(b) = blocks.get(i) else { continue };
            let Some(m) = b.marker else { continue };
            let e = count.entry(m.style).or_insert((0, 0));
            e.0 += 1;
            e.1 += b.depth;
            if named_below.get(i).copied().unwrap_or(false) {
                *with_clauses.entry(m.style).or_insert(0) += 1;
            }
        }
        let responsibility = !with_clauses.is_empty();
        if names_anyone && !responsibility {
            continue;
        }
        let style = if responsibility {
            with_clauses
                .iter()
                .max_by_key(|(s, n)| (**n, **s))
                .map(|(s, _)| *s)
        } else {
            count
                .iter()
                .filter(|(s, (n, _))| **s != Style::Bullet && *n >= 2)
                .max_by(|a, b| {
                    let da = a.1.1 as f64 / a.1.0 as f64;
                    let db = b.1.1 as f64 / b.1.0 as f64;
                    da.total_cmp(&db).then(a.0.cmp(b.0))
                })
                .map(|(s, _)| *s)
        };
        let Some(style) = style else { continue };
        let item_blocks: Vec<usize> = in_plan
            .iter()
            .copied()
            .filter(|&i| {
                blocks
                    .get(i)
                    .and_then(|b| b.marker)
                    .is_some_and(|m| m.style == style)
            })
            .collect();
        // each item with the sub-points nested under it
        let mut sub: HashMap<usize, Facts> = item_blocks
            .iter()
            .filter_map(|&i| {
                let b = blocks.get(i)?;
                // nothing nested under it: what it says is what its own lines say
                (!b.children.is_empty())
                    .then(|| (i, facts(doc, b, subtree_end(blocks, i), &mut cache)))
            })
            .collect();
        // as above: the items of this plan take their units from clauses the cache no
        // longer shares
        cache = units::ClauseCache::default();
        let sub_of = |i: usize| sub.get(&i).or_else(|| own.get(i));
        // runs: a list restarts at 1; a run is kept when one of its items names who answers
        let mut keep = vec![false; blocks.len()];
        let mut run: Vec<usize> = Vec::new();
        let flush = |run: &mut Vec<usize>, keep: &mut Vec<bool>| {
            let named = run
                .iter()
                .any(|&i| sub_of(i).is_some_and(|f| f.clauses.iter().any(|c| !c.units.is_empty())));
            if named || !responsibility {
                for &i in run.iter() {
                    if let Some(k) = keep.get_mut(i) {
                        *k = true;
                    }
                }
            }
            run.clear();
        };
        for &i in &item_blocks {
            let n = blocks.get(i).and_then(|b| b.marker).map_or(0, |m| m.n);
            if n == 1 || style == Style::Bullet && run.is_empty() {
                flush(&mut run, &mut keep);
            }
            run.push(i);
        }
        flush(&mut run, &mut keep);
        // headings with no items under them but a paragraph (or a clause) of their own
        let mut leaf_heading = vec![false; blocks.len()];
        let mut ancestor_styles: Vec<Style> = Vec::new();
        for &j in &item_blocks {
            for a in ancestors(blocks, j) {
                if let Some(m) = blocks.get(a).and_then(|x| x.marker)
                    && !ancestor_styles.contains(&m.style)
                {
                    ancestor_styles.push(m.style);
                }
            }
        }
        for &i in &in_plan {
            let Some(b) = blocks.get(i) else { continue };
            let Some(m) = b.marker else { continue };
            if m.style == style || m.style == Style::Bullet || i > *item_blocks.last().unwrap_or(&0)
            {
                continue;
            }
            let is_ancestor_style = ancestor_styles.contains(&m.style);
            if !is_ancestor_style || has_descendant_of(blocks, i, style) {
                continue;
            }
            let Some(f) = own.get(i) else { continue };
            let has_body = b.end_line > b.line + 1;
            let named = f.clauses.iter().any(|c| !c.units.is_empty());
            if (responsibility && named) || (!responsibility && has_body) {
                leaf_heading[i] = true;
            }
        }
        for &i in &in_plan {
            let Some(b) = blocks.get(i) else { continue };
            if !(keep.get(i).copied().unwrap_or(false)
                || leaf_heading.get(i).copied().unwrap_or(false))
            {
                continue;
            }
            if !responsibility
                && ancestors(blocks, i).any(|a| {
                    heading_text(doc, a)
                        .is_some_and(|h| NOT_TASKS.iter().any(|w| crate::text::has(&h, w)))
                })
            {
                continue;
            }
            let leaf = leaf_heading.get(i).copied().unwrap_or(false);
            let f = match sub.get_mut(&i) {
                Some(f) if !leaf => Some(f),
                _ => own.get_mut(i),
            };
            let Some(f) = f else {
                continue;
            };
            if overlaps_claimed(f) {
                continue;
            }
            let leaf = leaf && !responsibility;
            if let Some(mut it) = build(doc, b, f, leaf, mode, responsibility) {
                let meta = plans.get(plans::plan_of_line(doc, b.line));
                it.plan = meta.map(|p| p.title.clone()).filter(|t| !t.is_empty());
                it.year = meta.and_then(|p| p.year);
                // items under one heading share its sections: worked out once per heading
                let parent = b.parent;
                let (section, category) = sections.entry(parent).or_insert_with(|| {
                    let section: Vec<String> = ancestors(blocks, i)
                        .filter_map(|a| heading_text(doc, a))
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    let category = deadline::category_of(&section);
                    (section, category)
                });
                it.section.clone_from(section);
                it.category.clone_from(category);
                out.push(it);
            }
        }
    }
    out
}

fn ancestors(blocks: &[Block], i: usize) -> impl Iterator<Item = usize> + '_ {
    std::iter::successors(blocks.get(i).and_then(|b| b.parent), move |p| {
        blocks.get(*p).and_then(|b| b.parent)
    })
}

fn has_descendant_of(blocks: &[Block], i: usize, style: Style) -> bool {
    let mut stack: Vec<usize> = blocks
        .get(i)
        .map(|b| b.children.clone())
        .unwrap_or_default();
    while let Some(c) = stack.pop() {
        let Some(b) = blocks.get(c) else { continue };
        if b.marker.is_some_and(|m| m.style == style) {
            return true;
        }
        stack.extend(b.children.iter().copied());
    }
    false
}

/// A heading's own line as written ("二、重点任务"), without a leading dash.
fn heading_text(doc: &Doc<'_>, i: usize) -> Option<String> {
    let b = doc.seg.outline.blocks.get(i)?;
    let l = doc.seg.lines.get(b.line)?;
    let t = l.text(doc.text).trim_start_matches(['—', '-']).trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn build(
    doc: &Doc<'_>,
    b: &Block,
    f: &mut Facts,
    leaf_heading: bool,
    mode: Mode,
    responsibility: bool,
) -> Option<Item> {
    let text = doc.text;
    // a heading's paragraph is the item; else the block from its marker on
    let start = if leaf_heading {
        let l = doc
            .seg
            .lines
            .get(b.line + 1..b.end_line)?
            .iter()
            .find(|l| !l.is_blank())?;
        l.start
    } else {
        f.start
    };
    let body = if leaf_heading { start } else { f.body };
    let end = f.end;
    let item_text = text.get(start..end)?.trim_end();
    if text.get(body..end).is_none_or(|t| t.trim().is_empty()) {
        return None;
    }
    let m = b.marker;
    let mut it = Item {
        no: m
            .filter(|m| m.style != Style::Bullet)
            .map(|m| m.style.cite(m.n)),
        text: item_text.to_string(),
        span: [start, start + item_text.len()],
        confidence: super::confidence::NUMBERED,
        ..Default::default()
    };
    if let Some(m) = m {
        it.reasons.push(m.style.item_reason().into());
    }
    if leaf_heading {
        it.reasons
            .push("the paragraph under a heading with no numbered items".into());
    }
    // units: every clause inside the item (the list sized once: units are many)
    it.units.reserve_exact(
        f.clauses
            .iter()
            .filter(|c| c.start < end)
            .map(|c| c.units.len())
            .sum(),
    );
    for c in f.clauses.iter_mut().filter(|c| c.start < end) {
        // a clause read for this item alone gives its units up; one shared with other items
        // (the same bracket repeated) is copied
        match std::rc::Rc::get_mut(&mut c.units) {
            Some(units) => it.units.extend(units.iter_mut().map(units::take)),
            None => it.units.extend(c.units.iter().cloned()),
        }
        it.warnings.extend(c.warnings.iter().cloned());
        if !c.units.is_empty() {
            it.reasons.push(c.form.into());
        }
    }
    // the figures: the item's text without its clauses and label lines
    // an item has a few clauses and pieces: kept inline, as items are many
    let mut pieces: smallvec::SmallVec<[(usize, usize); 4]> = smallvec::SmallVec::new();
    let mut at = body;
    let mut cl: smallvec::SmallVec<[(usize, usize); 4]> = f
        .clauses
        .iter()
        .filter(|c| c.start < end)
        .map(|c| (c.start, c.end.min(end)))
        .collect();
    // the item's own lines (found by position: items are many, lines more)
    let first_line = doc.seg.lines.partition_point(|l| l.start < body);
    for l in doc.seg.lines.get(first_line..).unwrap_or_default() {
        if l.end > end {
            break;
        }
        // a line inside a clause already cut out ("(市级牵头单位:…)" split onto its own line)
        // cuts nothing more: not read again
        let inside_clause = cl.iter().any(|&(s, e)| s <= l.start && l.end <= e);
        if !inside_clause && units::starts_with_label(l.text(text)) {
            cl.push((l.start, l.start + units::label_line_len(l.text(text))));
        }
    }
    cl.sort_unstable();
    for (s, e) in cl {
        if s > at {
            pieces.push((at, s));
        }
        at = at.max(e);
    }
    if at < end {
        pieces.push((at, end));
    }
    let figures_text = |from: usize, to: usize| -> String {
        pieces
            .iter()
            .filter_map(|&(s, e)| {
                let (s, e) = (s.max(from), e.min(to));
                (s < e).then(|| text.get(s..e).unwrap_or(""))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    match mode {
        Mode::Tasks => {
            for piece in &pieces {
                let t = text.get(piece.0..piece.1).unwrap_or("");
                append(&mut it.targets, outcome::targets(t));
                if it.deadline.is_none() {
                    it.deadline = deadline::deadline(t);
                }
            }
        }
        Mode::Progress => {
            let all = figures_text(body, end);
            let turn = outcome::outcome_start(&all).or_else(|| {
                // a title line over paragraphs of results
                (!leaf_heading && b.end_line > b.line + 1 && f.first_line_end < end)
                    .then(|| all.find('\n').map(|p| p + 1))
                    .flatten()
            });
            match turn {
                Some(p) => {
                    let (plan, done) = all.split_at(p.min(all.len()));
                    append(&mut it.targets, outcome::targets(plan));
                    let (results, stated) = outcome::outcomes(done);
                    it.actual = results;
                    append(&mut it.targets, stated);
                    it.reasons
                        .push("figures after the turn to results are outcomes".into());
                }
                None => append(&mut it.targets, outcome::targets(&all)),
            }
        }
    }
    for q in &it.targets {
        if let Some(w) = quantity::plausibility_warning(q) {
            it.warnings.push(w);
        }
    }
    if mode == Mode::Progress {
        it.deadline = deadline::deadline(&figures_text(body, end));
    }
    if responsibility && it.units.is_empty() {
        it.reasons
            .push("names no unit (cut off or stated elsewhere)".into());
    }
    Some(it)
}
