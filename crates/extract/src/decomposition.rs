//! Responsibility-decomposition notices: attachments (plans), sections, numbered items and the
//! units answering for each, in the list layout or the table layout.

use crate::lines::{self, Line, category_of, heading_level, item_number};
use crate::units::{self, find_clauses};
use crate::{Item, PlanMeta, Role, quantity};
use regex::Regex;
use std::sync::LazyLock;

static ATTACHMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^附件\s*([0-9一二三四五六七八九十]{0,3})\s*[::]?\s*(.*)$")
        .expect("attachment regex")
});
static SOURCE_REPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:19|20)\d{2})?\s*年?\s*(国家|全国|国务院|省|市|区|县|街道|镇)?\s*[《〈]([^》〉]{2,30})[》〉]").expect("source regex")
});

const TITLE_ENDINGS: &[&str] = &["方案", "清单", "分工", "计划", "台账", "一览表", "表"];

pub struct Decomposed {
    pub plans: Vec<PlanMeta>,
    pub items: Vec<Item>,
}

fn plan_meta(title: &str, attachment: Option<String>, doc_year: Option<i32>) -> PlanMeta {
    let mut p = PlanMeta {
        title: title.to_string(),
        attachment,
        year: crate::meta::first_year(title).or(doc_year),
        ..Default::default()
    };
    if let Some(c) = SOURCE_REPORT.captures(title) {
        let level = c.get(2).map(|m| m.as_str());
        p.level = level.map(|l| match l {
            "全国" | "国务院" => "国家".to_string(),
            l => l.to_string(),
        });
        p.source_report = c.get(0).map(|m| m.as_str().trim().to_string());
    }
    p
}

/// Does a line look like a table header (序号 | 工作任务 | 牵头单位 …)?
fn table_header(cells: &[&str]) -> Option<TableCols> {
    let find = |keys: &[&str]| {
        cells
            .iter()
            .position(|c| keys.iter().any(|k| c.contains(k)))
    };
    let task = find(&["任务", "事项", "内容", "目标", "措施", "工作"])?;
    let mut unit_cols = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        // who supervises (督办单位) or which person answers (牵头领导, 责任人) is not a body
        // responsible for the task
        let not_a_body = [
            "督办",
            "督查",
            "监督",
            "考核",
            "领导",
            "责任人",
            "联系人",
            "分管",
        ]
        .iter()
        .any(|k| c.contains(k));
        if i != task
            && !not_a_body
            && (c.contains("单位")
                || c.contains("部门")
                || c.contains("牵头")
                || c.contains("配合"))
        {
            unit_cols.push((i, c.to_string()));
        }
    }
    if unit_cols.is_empty() {
        return None;
    }
    Some(TableCols {
        no: find(&["序号", "编号"]),
        task,
        units: unit_cols,
        deadline: find(&["时限", "完成时间", "期限", "时间节点"]),
        ncols: cells.len(),
    })
}

struct TableCols {
    no: Option<usize>,
    task: usize,
    units: Vec<(usize, String)>,
    deadline: Option<usize>,
    ncols: usize,
}

/// The table row being read: its item, the task text over continuation rows, and the unit
/// cells as written (a merged cell in the next row inherits them).
struct OpenRow {
    item: usize,
    task: String,
    unit_cells: Vec<String>,
}

pub fn split_cells(line: &str) -> Vec<&str> {
    let t = line.trim().trim_matches('|');
    if t.contains('|') {
        return t.split('|').map(str::trim).collect();
    }
    // runs of two or more spaces between cells
    let mut out = Vec::new();
    let mut cell_start = 0usize;
    let mut run_start: Option<usize> = None;
    for (i, c) in t.char_indices() {
        if c == ' ' {
            run_start.get_or_insert(i);
            continue;
        }
        if let Some(rs) = run_start.take()
            && i - rs >= 2
        {
            out.push(t.get(cell_start..rs).unwrap_or("").trim());
            cell_start = i;
        }
    }
    out.push(t.get(cell_start..).unwrap_or("").trim());
    out.into_iter().filter(|c| !c.is_empty()).collect()
}

pub fn extract(
    text: &str,
    doc_title: Option<&str>,
    doc_year: Option<i32>,
    first_is_lead: bool,
    rest_co: bool,
) -> Decomposed {
    let all = split_run_on(lines::lines(text));
    let has_attachments = all
        .iter()
        .any(|l| is_attachment_heading(lines::trim_start(*l).text));
    let mut plans: Vec<PlanMeta> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    let mut sections: Vec<String> = Vec::new();
    let mut in_plan = !has_attachments;
    let mut table: Option<TableCols> = None;
    let mut open_row: Option<OpenRow> = None;
    // where items are "1." and "(1)" both occur, "(1)" numbers sub-points inside an item
    let dotted = all
        .iter()
        .filter(|l| {
            lines::trim_start(**l)
                .text
                .starts_with(|c: char| c.is_ascii_digit())
                && item_number(lines::trim_start(**l).text).is_some()
        })
        .take(3)
        .count();
    let sub_points = dotted >= 3;
    let item_no = |s: &str| item_number(s).filter(|_| !(sub_points && s.starts_with('(')));
    let mut i = 0usize;
    let mut last_no = 0u32;
    if !has_attachments {
        plans.push(plan_meta(doc_title.unwrap_or(""), None, doc_year));
    }
    while i < all.len() {
        let Some(&raw) = all.get(i) else { break };
        let line = lines::trim_start(raw);
        i += 1;
        let s = line.text;
        if s.is_empty() {
            continue;
        }
        if is_attachment_heading(s)
            && let Some(c) = ATTACHMENT.captures(s)
        {
            let att = format!("附件{}", c.get(1).map(|m| m.as_str()).unwrap_or(""));
            let mut title = c
                .get(2)
                .map(|m| m.as_str().trim().to_string())
                .unwrap_or_default();
            // "附件:" over a numbered list of attachments is the notice's list, not a heading
            if title.is_empty()
                && all
                    .get(i)
                    .map(|l| lines::trim_start(*l))
                    .is_some_and(|n| item_number(n.text).is_some())
            {
                continue;
            }
            if title.is_empty()
                && let Some(next) = all.get(i).map(|l| lines::trim_start(*l))
            {
                title = next.text.to_string();
                i += 1;
            }
            // a title broken over two lines: "…目标任务及民生实事" / "责任分解方案"
            if !TITLE_ENDINGS.iter().any(|e| title.ends_with(e))
                && let Some(next) = all.get(i).map(|l| lines::trim_start(*l))
                && next.text.chars().count() <= 16
                && heading_level(next.text).is_none()
                && item_number(next.text).is_none()
                && TITLE_ENDINGS.iter().any(|e| next.text.ends_with(e))
            {
                title.push_str(next.text);
                i += 1;
            }
            plans.push(plan_meta(&title, Some(att), doc_year));
            last_no = 0;
            sections.clear();
            table = None;
            in_plan = true;
            continue;
        }
        if !in_plan {
            continue;
        }
        if s.contains('|') || s.contains("  ") {
            let cells = split_cells(s);
            if cells.len() >= 3
                && let Some(t) = table_header(&cells)
            {
                table = Some(t);
                open_row = None;
                continue;
            }
            if let Some(t) = &table
                && cells.len() >= 2
            {
                let aligned = align_row(&cells, t);
                let no_cell = t.no.and_then(|c| aligned.get(c).copied().flatten());
                if t.no.is_some()
                    && no_cell.is_none_or(str::is_empty)
                    && let Some(row) = open_row.as_mut()
                {
                    // a row without its own number continues the row above
                    continue_row(row, &aligned, t, &mut items);
                    continue;
                }
                let inherited = open_row.as_ref().map(|r| r.unit_cells.as_slice());
                if let Some((mut item, unit_cells)) =
                    table_row(line, &aligned, t, &plans, &sections, inherited)
                {
                    if first_is_lead {
                        mark_first_lead(&mut item, rest_co);
                    }
                    let task = aligned
                        .get(t.task)
                        .copied()
                        .flatten()
                        .unwrap_or("")
                        .to_string();
                    items.push(item);
                    open_row = Some(OpenRow {
                        item: items.len() - 1,
                        task,
                        unit_cells,
                    });
                }
                continue;
            }
        }
        // a wrapped cell of a space-aligned table: an indented line under the row
        if table.is_some()
            && let Some(row) = open_row.as_mut()
            && raw.text.starts_with("  ")
            && heading_level(s).is_none()
            && item_no(s).is_none()
            && !is_attachment_heading(s)
            && s.chars().count() <= 60
        {
            if let Some(t) = &table {
                let mut aligned = vec![None; t.ncols];
                if let Some(slot) = aligned.get_mut(t.task) {
                    *slot = Some(s);
                }
                continue_row(row, &aligned, t, &mut items);
            }
            continue;
        }
        open_row = None;
        let clauses_here = find_clauses(s);
        // "一、新建幼儿园3所" over a line "牵头单位:…" is an item (十件实事), not a heading
        let label_next = all
            .get(i)
            .is_some_and(|n| units::starts_with_label(lines::trim_start(*n).text));
        if let Some(level) = heading_level(s)
            && clauses_here.is_empty()
            && !label_next
        {
            sections.truncate(level);
            while sections.len() < level {
                sections.push(String::new());
            }
            sections.push(s.trim_start_matches(['—', '-']).trim().to_string());
            continue;
        }
        let numbered = item_no(s)
            .or_else(|| expected_number(s, last_no))
            .or_else(|| label_next.then(|| chinese_item_number(s)).flatten());
        let mut end_line = line;
        let mut clauses = clauses_here;
        if numbered.is_none() && clauses.is_empty() {
            continue;
        }
        // an item may run over several lines until its responsibility clause
        let mut j = i;
        while clauses.is_empty() && j < all.len() && j < i + 12 {
            let Some(&raw_next) = all.get(j) else { break };
            let next = lines::trim_start(raw_next);
            if next.text.is_empty()
                || item_no(next.text).is_some()
                || heading_level(next.text).is_some()
                || is_attachment_heading(next.text)
            {
                break;
            }
            end_line = next;
            j += 1;
            let span_text = text.get(line.start..end_line.end()).unwrap_or("");
            clauses = find_clauses(span_text);
        }
        if !clauses.is_empty() {
            i = j;
            // "牵头单位:X" / "配合单位:Y" / "完成时限:…" each on its own line
            while let Some(next) = all.get(i).map(|l| lines::trim_start(*l)) {
                if !units::starts_with_label(next.text) {
                    break;
                }
                end_line = next;
                i += 1;
            }
        } else {
            end_line = line;
        }
        let item_text = text.get(line.start..end_line.end()).unwrap_or(s);
        let prefix = numbered.as_ref().map(|n| n.1).unwrap_or(0);
        let mut item = build_item(
            item_text,
            line.start,
            prefix,
            numbered.map(|n| n.0),
            &plans,
            &sections,
        );
        let clauses = if item_text.len() == s.len() {
            clauses
        } else {
            find_clauses(item_text)
        };
        for c in clauses {
            item.units.extend(c.units);
            item.warnings.extend(c.warnings);
        }
        if first_is_lead {
            mark_first_lead(&mut item, rest_co);
        }
        if let Some(n) = item.no.as_deref().and_then(|n| n.parse().ok()) {
            last_no = n;
        }
        items.push(item);
    }
    drop_unitless_preamble(&mut items);
    for p in plans.iter_mut() {
        p.items = items
            .iter()
            .filter(|it| {
                it.plan.as_deref() == Some(p.title.as_str())
                    || (p.title.is_empty() && it.plan.is_none())
            })
            .count();
    }
    if plans.iter().any(|p| p.items > 0) {
        plans.retain(|p| p.items > 0);
    }
    Decomposed { plans, items }
}

static NEXT_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:\d{1,3}\s*[.、．]|[一二三四五六七八九十]{1,3}、|[((][一二三四五六七八九十]{1,3}[))]|——|附件\s*\d)")
        .expect("next marker regex")
});
/// Cheap pre-check: a closing bracket followed by something that could start the next item.
static CLOSE_THEN_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\)\s*(?:\d|[一二三四五六七八九十]{1,3}、|\(|——|附件)")
        .expect("close-then-marker regex")
});
static SPACED_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s+(?:\d{1,3}\s*[.、．][^\s]|[一二三四五六七八九十]{1,3}、|[((][一二三四五六七八九十]{1,3}[))]|——)")
            .expect("spaced item regex")
});

/// Scraped pages sometimes run a whole list into one line. Items end with their responsibility
/// clause, so a clause followed by the next item number or heading marks a line break; a
/// heading followed by a spaced item number does too.
fn split_run_on(all: Vec<Line<'_>>) -> Vec<Line<'_>> {
    let mut out = Vec::with_capacity(all.len());
    for line in all {
        let mut rest = line;
        loop {
            let t = rest.text;
            let maybe_run_on = CLOSE_THEN_MARKER.is_match(t);
            let after_clause = (if maybe_run_on {
                find_clauses(t)
            } else {
                Vec::new()
            })
            .iter()
            .map(|c| c.end)
            .find(|&e| e < t.len() && t.get(e..).is_some_and(|r| NEXT_MARKER.is_match(r)));
            let lead = t.trim_start();
            let is_head = heading_level(lead).is_some() || lead.starts_with("附件");
            let after_head = SPACED_ITEM.find(t).filter(|_| is_head).map(|m| m.start());
            let cut = match (after_clause, after_head) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Some(cut) = cut.filter(|&c| c > 0) else {
                out.push(rest);
                break;
            };
            let head = t.get(..cut).unwrap_or(t);
            out.push(Line {
                start: rest.start,
                text: head,
            });
            let tail = t.get(cut..).unwrap_or("");
            let trimmed = tail.trim_start();
            rest = Line {
                start: rest.start + cut + (tail.len() - trimmed.len()),
                text: trimmed,
            };
            if rest.text.is_empty() {
                break;
            }
        }
    }
    out
}

/// "167.100名园艺师…": a number followed by digits is the next item number, not a decimal,
/// when it continues the list.
fn expected_number(s: &str, last_no: u32) -> Option<(String, usize)> {
    let want = (last_no + 1).to_string();
    let rest = s.strip_prefix(want.as_str())?;
    let sep = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '.' | '、' | '．'))?;
    (last_no > 0).then(|| (want.clone(), want.len() + sep.len_utf8()))
}

/// "三、…": the item number of a line numbered in Chinese numerals, with the prefix length.
fn chinese_item_number(s: &str) -> Option<(String, usize)> {
    let (head, _) = s.split_once('、')?;
    let n = quantity::parse_chinese_numeral(head).filter(|_| head.chars().count() <= 3)?;
    Some(((n as u32).to_string(), head.len() + '、'.len_utf8()))
}

/// Numbered paragraphs of the notice itself (一、工作要求 1.提高认识…) come before the first item
/// that names a unit; in a plan where items carry units, those are not items.
fn drop_unitless_preamble(items: &mut Vec<Item>) {
    let mut keep = Vec::with_capacity(items.len());
    let mut seen_units: Vec<Option<String>> = Vec::new();
    for it in items.drain(..) {
        let started = seen_units.contains(&it.plan);
        if !it.units.is_empty() && !started {
            seen_units.push(it.plan.clone());
        }
        if started || !it.units.is_empty() {
            keep.push(it);
        }
    }
    *items = keep;
}

fn is_attachment_heading(s: &str) -> bool {
    ATTACHMENT.captures(s).is_some_and(|c| {
        let rest = c.get(2).map(|m| m.as_str()).unwrap_or("");
        let number = c.get(1).map(|m| m.as_str()).unwrap_or("");
        // "附件1" alone, or "附件1:title" — not a running sentence mentioning an attachment,
        // nor the notice's list of attachments ("附件:1.…方案 2.…方案")
        let listing = rest.starts_with(|c: char| c.is_ascii_digit())
            && crate::lines::item_number(rest).is_some();
        let bare = number.is_empty()
            && !rest.is_empty()
            && !rest.starts_with(|c: char| c.is_ascii_digit());
        rest.chars().count() <= 60
            && !rest.contains(['。', ','])
            && !listing
            && (!number.is_empty() || rest.is_empty() || bare)
    })
}

fn mark_first_lead(item: &mut Item, rest_co: bool) {
    if item.units.iter().any(|u| u.role == Role::Lead) {
        return;
    }
    for (i, u) in item.units.iter_mut().enumerate() {
        if i == 0 {
            u.role = Role::Lead;
        } else if rest_co && u.role == Role::Responsible {
            u.role = Role::Co;
        }
    }
}

fn build_item(
    text: &str,
    start: usize,
    prefix: usize,
    no: Option<String>,
    plans: &[PlanMeta],
    sections: &[String],
) -> Item {
    let plan = plans.last();
    let mut item = Item {
        plan: plan.map(|p| p.title.clone()).filter(|t| !t.is_empty()),
        no,
        section: sections.iter().filter(|s| !s.is_empty()).cloned().collect(),
        text: text.to_string(),
        category: category_of(sections),
        year: plan.and_then(|p| p.year),
        span: [start, start + text.len()],
        deadline: lines::deadline(text),
        ..Default::default()
    };
    for f in quantity::find_quantities(text.get(prefix..).unwrap_or(text)) {
        if let Some(w) = quantity::plausibility_warning(&f.quantity) {
            item.warnings.push(w);
        }
        item.targets.push(f.quantity);
    }
    item
}

/// Does a cell read as a time limit (2021年12月, 10月底前, 长期)?
fn deadline_like(cell: &str) -> bool {
    cell.chars().count() <= 20
        && ["年", "月", "底", "前", "长期", "持续", "季度", "日"]
            .iter()
            .any(|k| cell.contains(k))
        && !cell.contains(['局', '委', '办', '厅'])
}

/// Maps a row's cells to the header's columns. A row with fewer cells than the header lost
/// them to cells merged from the row above (rowspan): the number and task stay on the left;
/// a trailing time limit goes to the time-limit column; the remaining cells fill the unit
/// columns from the right, so a merged lead column is the one left empty.
fn align_row<'a>(cells: &[&'a str], t: &TableCols) -> Vec<Option<&'a str>> {
    let n = t.ncols.max(cells.len());
    let mut out: Vec<Option<&'a str>> = vec![None; n];
    let before_units = t.units.iter().all(|(c, _)| *c > t.task)
        && t.no.is_none_or(|c| c < t.task)
        && t.deadline.is_none_or(|d| d > t.task);
    if cells.len() >= t.ncols || !before_units {
        for (slot, c) in out.iter_mut().zip(cells.iter()) {
            *slot = Some(*c);
        }
        return out;
    }
    for (k, c) in cells.iter().enumerate().take(t.task + 1) {
        if let Some(slot) = out.get_mut(k) {
            *slot = Some(*c);
        }
    }
    let mut rest: Vec<&'a str> = cells.get(t.task + 1..).unwrap_or_default().to_vec();
    if let Some(d) = t.deadline
        && rest.last().is_some_and(|c| deadline_like(c))
        && let Some(c) = rest.pop()
        && let Some(slot) = out.get_mut(d)
    {
        *slot = Some(c);
    }
    let mut unit_cols: Vec<usize> = t.units.iter().map(|(c, _)| *c).collect();
    unit_cols.sort_unstable();
    for (col, c) in unit_cols.iter().rev().zip(rest.iter().rev()) {
        if let Some(slot) = out.get_mut(*col) {
            *slot = Some(*c);
        }
    }
    out
}

/// A continuation row: its task text joins the item's, its unit cells add units.
fn continue_row(row: &mut OpenRow, aligned: &[Option<&str>], t: &TableCols, items: &mut [Item]) {
    let Some(item) = items.get_mut(row.item) else {
        return;
    };
    if let Some(extra) = aligned.get(t.task).copied().flatten()
        && !extra.is_empty()
    {
        row.task.push_str(extra);
        item.targets.clear();
        item.warnings
            .retain(|w| !w.starts_with("implausible value"));
        for f in quantity::find_quantities(&row.task) {
            if let Some(w) = quantity::plausibility_warning(&f.quantity) {
                item.warnings.push(w);
            }
            item.targets.push(f.quantity);
        }
    }
    for (k, (col, header)) in t.units.iter().enumerate() {
        if let Some(cell) = aligned.get(*col).copied().flatten()
            && !cell.is_empty()
        {
            item.units.extend(units::units_from_cell(cell, header));
            if let Some(w) = row.unit_cells.get_mut(k) {
                w.push_str(cell);
            }
        }
    }
}

fn table_row(
    line: Line<'_>,
    cells: &[Option<&str>],
    t: &TableCols,
    plans: &[PlanMeta],
    sections: &[String],
    inherited: Option<&[String]>,
) -> Option<(Item, Vec<String>)> {
    let task = cells.get(t.task).copied().flatten().unwrap_or("");
    if task.is_empty() {
        return None;
    }
    let no =
        t.no.and_then(|c| cells.get(c).copied().flatten())
            .map(|s| s.to_string())
            .filter(|s| s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty());
    // the item is the task cell; its offset inside the line keeps the span exact
    let offset = (task.as_ptr() as usize).wrapping_sub(line.text.as_ptr() as usize);
    let (start, text) = if line.text.get(offset..offset + task.len()) == Some(task) {
        (line.start + offset, task)
    } else {
        (line.start, line.text)
    };
    let mut item = build_item(text, start, 0, no, plans, sections);
    item.targets.clear();
    item.warnings.clear();
    for f in quantity::find_quantities(task) {
        if let Some(w) = quantity::plausibility_warning(&f.quantity) {
            item.warnings.push(w);
        }
        item.targets.push(f.quantity);
    }
    let mut unit_cells = Vec::with_capacity(t.units.len());
    for (k, (col, header)) in t.units.iter().enumerate() {
        let own = cells.get(*col).copied().flatten();
        // a merged cell: the row above's units hold for this row too
        let cell = match own {
            Some(c) => c.to_string(),
            None => inherited
                .and_then(|p| p.get(k))
                .cloned()
                .unwrap_or_default(),
        };
        item.units.extend(units::units_from_cell(&cell, header));
        unit_cells.push(cell);
    }
    item.deadline = t
        .deadline
        .and_then(|c| cells.get(c).copied().flatten())
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
        .or(item.deadline);
    Some((item, unit_cells))
}
