//! Rules of the ingest service, free of I/O: how an extraction becomes the plans, tasks and
//! assignments handed to the peer services.

use duban_extract::{Comparator as XComparator, DocKind, Extraction, Item, Role};
use duban_proto::v1::{
    AssignmentInput, Comparator, CreateAssignmentsRequest, CreatePlanRequest, DocumentKind,
    Indicator, Plan, Quantity, SourceSpan, Task, UnitRole,
};

/// One plan and, per task position, who answers for it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanDelivery {
    pub plan: CreatePlanRequest,
    pub assignments: Vec<CreateAssignmentsRequest>,
}

/// Whether `content` is something other than a text, HTML or DOCX document: NUL bytes or many
/// control characters in its head, and not a zip container (DOCX is one).
pub fn looks_binary(content: &[u8]) -> bool {
    if content.starts_with(b"PK\x03\x04") {
        return false;
    }
    let head = &content[..content.len().min(64 * 1024)];
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    head.contains(&0) || controls * 20 > head.len()
}

pub fn kind_str(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Decomposition => "decomposition",
        DocKind::WorkReport => "work_report",
        DocKind::PlanExecution => "plan_execution",
        DocKind::Other => "other",
    }
}

pub fn kind_from_str(kind: &str) -> DocumentKind {
    match kind {
        "decomposition" => DocumentKind::Decomposition,
        "work_report" => DocumentKind::WorkReport,
        "plan_execution" => DocumentKind::PlanExecution,
        "other" => DocumentKind::Other,
        _ => DocumentKind::Unspecified,
    }
}

fn comparator(c: XComparator) -> Comparator {
    match c {
        XComparator::About => Comparator::About,
        XComparator::AtLeast => Comparator::AtLeast,
        XComparator::AtMost => Comparator::AtMost,
        XComparator::Equal => Comparator::Equal,
        XComparator::Range => Comparator::Range,
    }
}

fn role(r: Role) -> UnitRole {
    match r {
        Role::Lead => UnitRole::Lead,
        Role::Responsible => UnitRole::Responsible,
        Role::Co => UnitRole::Cooperating,
    }
}

/// Government levels the targets service knows; anything else is left unstated rather than
/// guessed.
fn level(level: Option<&str>) -> String {
    match level {
        Some(l @ ("国家" | "省" | "市" | "区" | "县" | "街道" | "乡镇")) => l.to_string(),
        _ => String::new(),
    }
}

fn quantity(q: &duban_extract::Quantity) -> Quantity {
    Quantity {
        phrase: q.phrase.clone(),
        metric: q.metric.clone(),
        value: q.value,
        value_max: q.value_max,
        unit: q.unit.clone(),
        comparator: comparator(q.comparator) as i32,
    }
}

fn task(item: &Item, document: &str) -> Task {
    Task {
        number: item.no.clone().unwrap_or_default(),
        section_path: item.section.clone(),
        category: item.category.clone().unwrap_or_default(),
        text: item.text.clone(),
        source_span: Some(SourceSpan {
            document: document.to_string(),
            start: item.span[0] as u64,
            end: item.span[1] as u64,
        }),
        deadline: item.deadline.clone().unwrap_or_default(),
        indicators: item
            .targets
            .iter()
            // A value the targets service would refuse must not block the rest of the plan.
            .filter(|q| {
                q.value.is_finite() && q.value_max.is_none_or(|m| m.is_finite() && m >= q.value)
            })
            .filter(|q| q.comparator != XComparator::Range || q.value_max.is_some())
            .map(|q| Indicator {
                quantity: Some(quantity(q)),
                ..Default::default()
            })
            .collect(),
        actuals: item
            .actual
            .iter()
            .filter(|q| q.value.is_finite())
            .map(quantity)
            .collect(),
        warnings: item.warnings.clone(),
        year: item.year.unwrap_or_default(),
        ..Default::default()
    }
}

fn assignments(item: &Item) -> CreateAssignmentsRequest {
    CreateAssignmentsRequest {
        assignments: item
            .units
            .iter()
            .filter(|u| !u.name.trim().is_empty())
            .map(|u| AssignmentInput {
                written_name: u.name.clone(),
                normalized_name: u
                    .canonical
                    .clone()
                    .filter(|c| *c != u.name)
                    .unwrap_or_default(),
                role: role(u.role) as i32,
                level: u.level.as_deref().unwrap_or_default().to_string(),
                deadline: item.deadline.clone().unwrap_or_default(),
            })
            .collect(),
        ..Default::default()
    }
}

/// The plans a document yields: one per attachment (附件) of a decomposition notice, or one for
/// the whole document. Items whose text is empty are dropped; a document without items yields
/// no plan. request_ids are derived from the document and the plan's position, so a redelivery
/// is recognised by the peers.
pub fn deliveries(extraction: &Extraction, document_name: &str) -> Vec<PlanDelivery> {
    let items: Vec<&Item> = extraction
        .items
        .iter()
        .filter(|i| !i.text.trim().is_empty())
        .collect();
    if items.is_empty() {
        return Vec::new();
    }
    let doc = &extraction.document;
    let mut groups: Vec<(Plan, Vec<&Item>)> = extraction
        .plans
        .iter()
        .map(|p| {
            let plan = Plan {
                title: p.title.clone(),
                year: p.year.or(doc.year).unwrap_or_default(),
                issuer: doc.issuer.clone().unwrap_or_default(),
                level: level(p.level.as_deref()),
                source_report: p.source_report.clone().unwrap_or_default(),
                source_document: document_name.to_string(),
                attachment: p.attachment.clone().unwrap_or_default(),
                reporting_rule: doc.reporting_rule.clone().unwrap_or_default(),
                ..Default::default()
            };
            (plan, Vec::new())
        })
        .collect();
    let mut loose = Vec::new();
    for item in items {
        let home = item
            .plan
            .as_deref()
            .and_then(|title| groups.iter_mut().find(|(p, _)| p.title == title));
        match home {
            Some((_, members)) => members.push(item),
            None => loose.push(item),
        }
    }
    if !loose.is_empty() {
        let title = doc
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| extraction.source.clone());
        groups.push((
            Plan {
                title: if title.trim().is_empty() {
                    document_name.to_string()
                } else {
                    title
                },
                year: doc.year.unwrap_or_default(),
                issuer: doc.issuer.clone().unwrap_or_default(),
                source_document: document_name.to_string(),
                reporting_rule: doc.reporting_rule.clone().unwrap_or_default(),
                ..Default::default()
            },
            loose,
        ));
    }
    groups
        .into_iter()
        .filter(|(_, members)| !members.is_empty())
        .enumerate()
        .map(|(index, (plan, members))| PlanDelivery {
            plan: CreatePlanRequest {
                plan: Some(plan),
                tasks: members.iter().map(|i| task(i, document_name)).collect(),
                request_id: format!("ingest:{document_name}:plan:{index}"),
            },
            assignments: members.iter().map(|i| assignments(i)).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use duban_extract::{PlanMeta, UnitRef};

    fn item(plan: Option<&str>, text: &str, unit: Option<&str>) -> Item {
        Item {
            plan: plan.map(str::to_string),
            text: text.to_string(),
            units: unit
                .map(|u| UnitRef {
                    name: u.to_string(),
                    canonical: None,
                    role: Role::Lead,
                    level: Some("区级".into()),
                })
                .into_iter()
                .collect(),
            span: [0, text.len()],
            ..Default::default()
        }
    }

    #[test]
    fn binary_content_is_told_apart_from_documents() {
        assert!(looks_binary(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(looks_binary(&[1, 2, 3, 4, 5, 6, 7, 8]));
        assert!(!looks_binary("一、经济增长6%左右。\r\n".as_bytes()));
        assert!(!looks_binary(b"PK\x03\x04\0\0word/document.xml"));
        assert!(!looks_binary(&[0xb9, 0xa4, 0xd7, 0xf7, 0x0d, 0x0a]));
    }

    #[test]
    fn one_plan_per_attachment_in_order() {
        let extraction = Extraction {
            plans: vec![
                PlanMeta {
                    title: "附件一".into(),
                    level: Some("省".into()),
                    ..Default::default()
                },
                PlanMeta {
                    title: "附件二".into(),
                    level: Some("外星".into()),
                    ..Default::default()
                },
            ],
            items: vec![
                item(Some("附件一"), "经济增长6%左右", Some("区发改局")),
                item(Some("附件二"), "城镇新增就业", None),
                item(Some("附件一"), "   ", None),
            ],
            ..Default::default()
        };
        let out = deliveries(&extraction, "documents/7");
        assert_eq!(out.len(), 2);
        let first = out[0].plan.plan.as_ref().unwrap();
        assert_eq!(first.level, "省");
        assert_eq!(out[0].plan.tasks.len(), 1);
        assert_eq!(
            out[0].assignments[0].assignments[0].written_name,
            "区发改局"
        );
        assert_eq!(out[1].plan.plan.as_ref().unwrap().level, "");
        assert_eq!(out[1].plan.request_id, "ingest:documents/7:plan:1");
    }

    #[test]
    fn items_outside_any_plan_form_the_document_plan() {
        let extraction = Extraction {
            source: "report.txt".into(),
            items: vec![item(None, "地区生产总值增长6%左右", None)],
            ..Default::default()
        };
        let out = deliveries(&extraction, "documents/1");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].plan.plan.as_ref().unwrap().title, "report.txt");
    }
}
