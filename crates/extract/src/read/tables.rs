//! Table rows as items: the task cell is the item, the unit columns name who answers, the
//! time-limit column is the deadline, figures in the text cells and in the target columns are
//! targets (a bare figure takes its unit from the row's 单位 cell or the header), and the
//! actual columns are outcomes.

use super::{Doc, plans};
use crate::interpret::{deadline, outcome, quantity, units};
use crate::segment::table::{Cell, Role as Col, Table};
use crate::{Comparator, Item, PlanMeta, Quantity, Role, UnitRef};

pub fn items(doc: &Doc<'_>, plans: &[PlanMeta]) -> Vec<Item> {
    let mut out = Vec::new();
    for t in &doc.seg.tables {
        let plan = plans::plan_of_line(doc, t.first_line);
        let plan_meta = plans.get(plan);
        // the units of the row above, per unit column, for cells merged down (rowspan)
        let mut prev_cols: Vec<(usize, Vec<UnitRef>)> = Vec::new();
        let mut prev_deadline: Option<String> = None;
        let mut prev_no: Option<String> = None;
        for row in &t.rows {
            let (mut it, by_col) = row_item(doc.text, t, row);
            let sub_row = row.no.is_none();
            if sub_row {
                it.no.clone_from(&prev_no);
                it.reasons
                    .push("sub-row: the number of the row above".into());
            }
            if sub_row || row.merged {
                let mut inherited = false;
                let mut units: Vec<UnitRef> = Vec::new();
                for (col, _) in t
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.role.is_unit())
                {
                    match by_col.iter().find(|(c, _)| *c == col) {
                        Some((_, own)) => units.extend(own.iter().cloned()),
                        None => {
                            if let Some((_, above)) = prev_cols.iter().find(|(c, _)| *c == col)
                                && !above.is_empty()
                                && (row.merged || by_col.iter().all(|(_, u)| u.is_empty()))
                            {
                                units.extend(above.iter().cloned());
                                inherited = true;
                            }
                        }
                    }
                }
                if inherited {
                    it.units = units;
                    it.reasons
                        .push("units of the row above (merged cell)".into());
                }
                if it.deadline.is_none() {
                    it.deadline.clone_from(&prev_deadline);
                }
            }
            // what this row holds per column, for the rows under it
            let mut cols: Vec<(usize, Vec<UnitRef>)> = by_col;
            for (c, above) in &prev_cols {
                if !cols.iter().any(|(k, _)| k == c) && (sub_row || row.merged) {
                    cols.push((*c, above.clone()));
                }
            }
            prev_cols = cols;
            prev_deadline.clone_from(&it.deadline);
            if !sub_row {
                prev_no.clone_from(&it.no);
            }
            if let Some(sec) = &row.section {
                it.section = vec![sec.clone()];
                it.category = deadline::category_of(&it.section);
            }
            it.plan = plan_meta.map(|p| p.title.clone()).filter(|t| !t.is_empty());
            it.year = plan_meta.and_then(|p| p.year);
            out.push(it);
        }
    }
    out
}

/// The unit a bare figure in this row is counted in: the row's 单位 cell, else the column
/// header's `(万元)`, else the unit of the row's own target figure.
struct RowUnit {
    measure: Option<(String, f64)>,
}

fn bare_number(cell: &str) -> Option<(f64, Comparator, usize)> {
    let t = cell.trim();
    let digits = t
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    if digits == 0 || digits != t.len() {
        return None;
    }
    let v: f64 = t.parse().ok()?;
    Some((v, Comparator::Equal, digits))
}

fn scaled(v: f64, factor: f64) -> f64 {
    // 1361.92公里 stays; 5.2万人 → 52000, computed on decimals so it survives JSON
    if factor == 1.0 {
        return v;
    }
    let s = format!("{v}");
    let decimals = s.split_once('.').map_or(0, |(_, d)| d.len());
    let p = 10f64.powi(decimals as i32);
    (v * p).round() * factor / p
}

/// The figure of a target or actual cell: a quantity with its own unit, else a bare number in
/// the row's unit. A row with a unit column gives a bare actual the unit its target cell wrote
/// (不低于60元 / 60 → 元); a row without one leaves a bare number without a unit, as written.
fn figure(cell_text: &str, unit: &RowUnit, own_target_unit: Option<&str>) -> Option<Quantity> {
    if let Some(f) = quantity::find_quantities(cell_text).into_iter().next() {
        return Some(f.quantity);
    }
    let (v, comparator, _) = bare_number(cell_text)?;
    let (unit_name, value) = match (&unit.measure, own_target_unit) {
        (Some(_), Some(u)) => (u.to_string(), v),
        (Some((u, factor)), None) => (u.clone(), scaled(v, *factor)),
        (None, _) => (String::new(), v),
    };
    Some(Quantity {
        phrase: cell_text.trim().to_string(),
        metric: String::new(),
        value,
        value_max: None,
        unit: unit_name,
        comparator,
    })
}

/// The row's item, and the units it names per unit column.
fn row_item(
    text: &str,
    t: &Table,
    row: &crate::segment::table::Row,
) -> (Item, Vec<(usize, Vec<UnitRef>)>) {
    let cell_text = |c: &Cell| c.text(text);
    let role_of = |col: usize| t.columns.get(col).map(|c| c.role);
    let mut it = Item {
        no: row.no.clone(),
        text: row.text.text(text).to_string(),
        span: [row.text.start, row.text.end],
        confidence: super::confidence::TABLE_ROW,
        ..Default::default()
    };
    it.reasons.push(
        format!(
            "table row under a header naming {}",
            t.columns
                .iter()
                .map(|c| c.header.as_str())
                .filter(|h| !h.is_empty())
                .collect::<Vec<_>>()
                .join("/")
        )
        .into(),
    );
    let measure = row
        .cells
        .iter()
        .find(|(c, _)| role_of(*c) == Some(Col::Measure))
        .and_then(|(_, cell)| measure_of(cell_text(cell)));
    let mut unit = RowUnit { measure };
    let mut target_unit: Option<String> = None;
    let mut by_col: Vec<(usize, Vec<UnitRef>)> = Vec::new();
    let mut add = |col: usize, us: Vec<UnitRef>, it: &mut Item| {
        it.units.extend(us.iter().cloned());
        match by_col.iter_mut().find(|(c, _)| *c == col) {
            Some((_, v)) => v.extend(us),
            None => by_col.push((col, us)),
        }
    };
    // text cells first: their figures are targets
    for (col, cell) in &row.cells {
        let s = cell_text(cell);
        match role_of(*col) {
            Some(Col::Task | Col::Detail) => it.targets.extend(outcome::targets(s)),
            Some(Col::Lead) => add(*col, units::units_from_cell(s, Role::Lead), &mut it),
            Some(Col::Co) => add(*col, units::units_from_cell(s, Role::Co), &mut it),
            Some(Col::Responsible) => {
                add(*col, units::units_from_cell(s, Role::Responsible), &mut it);
            }
            Some(Col::Remark) => {
                let names = units::split_units(s);
                if !names.is_empty() && units::bodies(&names) {
                    add(*col, units::units_from_cell(s, Role::Responsible), &mut it);
                    it.reasons
                        .push("the remark column names the responsible body".into());
                }
            }
            Some(Col::Deadline) if !s.is_empty() && !matches!(s, "-" | "—" | "/") => {
                it.deadline = Some(s.to_string());
            }
            _ => {}
        }
    }
    for (col, cell) in &row.cells {
        let s = cell_text(cell);
        let header_unit = t.columns.get(*col).and_then(|c| c.unit.clone());
        if let Some(h) = header_unit.clone() {
            unit.measure = Some(h);
        }
        match role_of(*col) {
            Some(Col::Target) => {
                if let Some(q) = figure(s, &unit, target_unit.as_deref()) {
                    if !q.unit.is_empty() && !quantity::find_quantities(s).is_empty() {
                        target_unit = Some(q.unit.clone());
                    }
                    it.targets.push(q);
                }
            }
            Some(Col::Actual) => {
                if let Some(q) = figure(s, &unit, target_unit.as_deref()) {
                    it.actual.push(q);
                }
            }
            _ => {}
        }
        if header_unit.is_some() {
            unit.measure = row
                .cells
                .iter()
                .find(|(c, _)| role_of(*c) == Some(Col::Measure))
                .and_then(|(_, cell)| measure_of(cell_text(cell)));
        }
    }
    if it.deadline.is_none() {
        it.deadline = row
            .cells
            .iter()
            .find(|(c, _)| role_of(*c) == Some(Col::Task))
            .and_then(|(_, c)| deadline::deadline(cell_text(c)));
    }
    for q in &it.targets {
        if let Some(w) = quantity::plausibility_warning(q) {
            it.warnings.push(w);
        }
    }
    (it, by_col)
}

/// 万人 → (人, 1e4); 元/月/人 → (元/月/人, 1); anything else: none.
fn measure_of(cell: &str) -> Option<(String, f64)> {
    let c = cell.trim();
    let (factor, rest) = if let Some(r) = c.strip_prefix('万') {
        (1e4, r)
    } else if let Some(r) = c.strip_prefix('亿') {
        (1e8, r)
    } else {
        (1.0, c)
    };
    let base = rest.split('/').next().unwrap_or(rest);
    quantity::is_measure_word(base).then(|| (rest.to_string(), factor))
}
