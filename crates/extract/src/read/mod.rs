//! Stage 4, read: the document's kind decides how the segmented blocks are read — a
//! decomposition's numbered items and table rows as tasks with their units, a progress
//! report's figures as outcomes, a work report's 主要预期目标 clauses as targets with last
//! year's results — and every item gets a confidence and the evidence behind it.

mod confidence;
mod execution;
mod lists;
mod plans;
mod report;
mod tables;

use crate::segment::Segments;
use crate::{DocKind, Item, PlanMeta, Role};

/// What the readers know of the document.
pub struct Doc<'a> {
    /// The cleaned text.
    pub text: &'a str,
    pub seg: &'a Segments,
    pub title: Option<&'a str>,
    pub title_year: Option<i32>,
    pub kind: DocKind,
}

pub struct Read {
    pub plans: Vec<PlanMeta>,
    pub items: Vec<Item>,
}

pub fn read(doc: &Doc<'_>) -> Read {
    let plans = plans::plans(doc);
    let mut items = match doc.kind {
        DocKind::Decomposition => {
            let mut v = tables::items(doc, &plans);
            let listed = lists::items(doc, &plans, lists::Mode::Tasks, &v);
            append(&mut v, listed);
            if v.is_empty() {
                v = report::items(doc);
            }
            v
        }
        DocKind::PlanExecution if execution::is_plan_report(doc) => {
            // a report to the congress on the year's plan: its "——" lines, else its targets
            let v = execution::items(doc);
            if v.is_empty() { report::items(doc) } else { v }
        }
        DocKind::PlanExecution => {
            let mut v = tables::items(doc, &plans);
            append(&mut v, execution::items(doc));
            let listed = lists::items(doc, &plans, lists::Mode::Progress, &v);
            append(&mut v, listed);
            let paragraphs = execution::progress_paragraphs(doc, &v);
            append(&mut v, paragraphs);
            if v.is_empty() {
                v = report::items(doc);
            }
            v
        }
        DocKind::WorkReport | DocKind::Other => report::items(doc),
    };
    items.sort_by_key(|i| i.span[0]);
    // "列第一位的为牵头单位" stated in the document: asked only for an item that names no lead
    // (a search of the whole text, which a decomposition whose items name leads never needs)
    let first_is_lead = std::cell::OnceCell::new();
    for it in items.iter_mut() {
        settle_roles(it, || {
            *first_is_lead.get_or_init(|| crate::interpret::units::first_is_lead_rule(doc.text))
        });
        confidence::score(it);
    }
    let mut plans = plans;
    for p in plans.iter_mut() {
        p.items = items
            .iter()
            .filter(|it| it.plan.as_deref() == Some(p.title.as_str()))
            .count();
    }
    plans.retain(|p| p.items > 0);
    Read { plans, items }
}

/// `more` after `list`, moved rather than copied where `list` is empty (as it mostly is: a
/// document's items come from one reader, an item's figures from one piece of its text).
fn append<T>(list: &mut Vec<T>, more: Vec<T>) {
    if list.is_empty() {
        *list = more;
    } else {
        list.extend(more);
    }
}

/// The document's rules for roles: where it says the first unit listed leads, the others
/// co-operate; a 责任单位 list beside a 牵头单位 co-operates with the lead.
fn settle_roles(item: &mut Item, first_is_lead: impl FnOnce() -> bool) {
    let has_lead = item.units.iter().any(|u| u.role == Role::Lead);
    if !has_lead && first_is_lead() {
        for (i, u) in item.units.iter_mut().enumerate() {
            u.role = if i == 0 { Role::Lead } else { Role::Co };
        }
        item.reasons
            .push("the document says the unit listed first leads".into());
        return;
    }
    if has_lead {
        for u in item.units.iter_mut() {
            if u.role == Role::Responsible && u.level.is_none() {
                u.role = Role::Co;
            }
        }
    }
    // one body named twice in one item (several clauses): once, where it is first named; the
    // first `kept` places hold the units kept so far, in order
    let units = &mut item.units;
    let mut kept = 0usize;
    for i in 0..units.len() {
        let first = units.get(i).is_some_and(|u| {
            !units
                .get(..kept)
                .unwrap_or_default()
                .iter()
                .any(|k| k.name == u.name && k.level == u.level)
        });
        if first {
            units.swap(kept, i);
            kept += 1;
        }
    }
    units.truncate(kept);
}
