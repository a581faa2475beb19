//! Rules of the targets service, free of I/O: what a valid plan, task and edit look like.

use duban_kit::plans::LEVELS;
use duban_proto::{
    ApiError, FieldViolation,
    v1::{
        Comparator, CreateObservationRequest, CreatePlanRequest, Quantity, Task, TaskStatus,
        UpdateTaskRequest,
    },
};

pub const MAX_TASKS_PER_PLAN: usize = 20_000;
const MAX_TEXT_CHARS: usize = 20_000;

pub fn comparator_str(c: Comparator) -> Option<&'static str> {
    match c {
        Comparator::About => Some("about"),
        Comparator::AtLeast => Some("at_least"),
        Comparator::AtMost => Some("at_most"),
        Comparator::Equal => Some("equal"),
        Comparator::Range => Some("range"),
        Comparator::Unspecified => None,
    }
}

pub fn comparator_from_str(s: &str) -> Comparator {
    match s {
        "about" => Comparator::About,
        "at_least" => Comparator::AtLeast,
        "at_most" => Comparator::AtMost,
        "equal" => Comparator::Equal,
        "range" => Comparator::Range,
        _ => Comparator::Unspecified,
    }
}

pub fn status_str(s: TaskStatus) -> Option<&'static str> {
    match s {
        TaskStatus::Active => Some("active"),
        TaskStatus::Withdrawn => Some("withdrawn"),
        TaskStatus::Unspecified => None,
    }
}

pub fn status_from_str(s: &str) -> TaskStatus {
    match s {
        "active" => TaskStatus::Active,
        "withdrawn" => TaskStatus::Withdrawn,
        _ => TaskStatus::Unspecified,
    }
}

/// Checks a whole CreatePlan request and reports every bad field at once.
pub fn validate_create_plan(req: &CreatePlanRequest) -> Result<(), ApiError> {
    let mut bad = Vec::new();
    match &req.plan {
        None => bad.push(FieldViolation::new("plan", "is required")),
        Some(plan) => {
            if plan.title.trim().is_empty() {
                bad.push(FieldViolation::new("plan.title", "is required"));
            }
            if !(0..=9999).contains(&plan.year) {
                bad.push(FieldViolation::new(
                    "plan.year",
                    "must be a year between 0 and 9999",
                ));
            }
            if !plan.level.is_empty() && !LEVELS.contains(&plan.level.as_str()) {
                bad.push(FieldViolation::new(
                    "plan.level",
                    format!("must be one of {}", LEVELS.join(", ")),
                ));
            }
        }
    }
    if req.tasks.len() > MAX_TASKS_PER_PLAN {
        bad.push(FieldViolation::new(
            "tasks",
            format!("at most {MAX_TASKS_PER_PLAN} tasks per plan"),
        ));
    }
    for (i, task) in req.tasks.iter().enumerate() {
        validate_task(&format!("tasks[{i}]"), task, &mut bad);
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidArgument(bad))
    }
}

fn validate_task(field: &str, task: &Task, bad: &mut Vec<FieldViolation>) {
    validate_text(&format!("{field}.text"), &task.text, bad);
    if let Some(span) = &task.source_span
        && span.start > span.end
    {
        bad.push(FieldViolation::new(
            format!("{field}.source_span"),
            "start must not be after end",
        ));
    }
    for (j, indicator) in task.indicators.iter().enumerate() {
        let field = format!("{field}.indicators[{j}].quantity");
        match &indicator.quantity {
            None => bad.push(FieldViolation::new(field, "is required")),
            Some(q) => validate_quantity(&field, q, bad),
        }
    }
}

fn validate_text(field: &str, text: &str, bad: &mut Vec<FieldViolation>) {
    if text.trim().is_empty() {
        bad.push(FieldViolation::new(field, "is required"));
    } else if text.chars().count() > MAX_TEXT_CHARS {
        bad.push(FieldViolation::new(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
}

fn validate_quantity(field: &str, q: &Quantity, bad: &mut Vec<FieldViolation>) {
    if !q.value.is_finite() {
        bad.push(FieldViolation::new(
            format!("{field}.value"),
            "must be a finite number",
        ));
    }
    let comparator = Comparator::try_from(q.comparator).unwrap_or(Comparator::Unspecified);
    if comparator_str(comparator).is_none() {
        bad.push(FieldViolation::new(
            format!("{field}.comparator"),
            "must be ABOUT, AT_LEAST, AT_MOST, EQUAL or RANGE",
        ));
    }
    match (comparator, q.value_max) {
        (Comparator::Range, None) => bad.push(FieldViolation::new(
            format!("{field}.value_max"),
            "is required for a RANGE",
        )),
        (_, Some(max)) if !max.is_finite() || max < q.value => bad.push(FieldViolation::new(
            format!("{field}.value_max"),
            "must be a finite number not below value",
        )),
        _ => {}
    }
}

pub fn validate_year(field: &str, year: i32) -> Result<(), ApiError> {
    if (1900..=9999).contains(&year) {
        Ok(())
    } else {
        Err(ApiError::invalid(field, "must be a year such as 2025"))
    }
}

/// A progress figure or outcome: a finite value, a date it holds for, where it comes from.
pub fn validate_observation(req: &CreateObservationRequest) -> Result<(), ApiError> {
    let Some(o) = &req.observation else {
        return Err(ApiError::invalid("observation", "is required"));
    };
    let mut bad = Vec::new();
    match &o.quantity {
        Some(q) if q.value.is_finite() => {}
        _ => bad.push(FieldViolation::new(
            "observation.quantity.value",
            "a finite value is required",
        )),
    }
    if chrono::NaiveDate::parse_from_str(&o.as_of, "%Y-%m-%d").is_err() {
        bad.push(FieldViolation::new(
            "observation.as_of",
            "must be a date YYYY-MM-DD",
        ));
    }
    if o.source.is_empty() || o.source.len() > 200 {
        bad.push(FieldViolation::new(
            "observation.source",
            "name where the value comes from, e.g. reports/12",
        ));
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidArgument(bad))
    }
}

/// The fields an UpdateTask may replace.
#[derive(Debug, Default, PartialEq)]
pub struct TaskEdit {
    pub text: Option<String>,
    pub deadline: Option<String>,
    pub status: Option<&'static str>,
    pub category: Option<String>,
}

pub fn validate_update(req: &UpdateTaskRequest) -> Result<TaskEdit, ApiError> {
    let task = req
        .task
        .as_ref()
        .ok_or_else(|| ApiError::invalid("task", "is required"))?;
    let mask = req
        .update_mask
        .as_ref()
        .filter(|m| !m.paths.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "update_mask",
                "name the fields to change: text, deadline, status, category",
            )
        })?;
    let mut edit = TaskEdit::default();
    let mut bad = Vec::new();
    for path in &mask.paths {
        match path.as_str() {
            "text" => {
                validate_text("task.text", &task.text, &mut bad);
                edit.text = Some(task.text.clone());
            }
            "deadline" => edit.deadline = Some(task.deadline.clone()),
            "category" => edit.category = Some(task.category.clone()),
            "status" => {
                let status = TaskStatus::try_from(task.status).unwrap_or(TaskStatus::Unspecified);
                match status_str(status) {
                    Some(s) => edit.status = Some(s),
                    None => bad.push(FieldViolation::new(
                        "task.status",
                        "must be ACTIVE or WITHDRAWN",
                    )),
                }
            }
            other => bad.push(FieldViolation::new(
                "update_mask",
                format!("{other:?} cannot be updated; updatable: text, deadline, status, category"),
            )),
        }
    }
    if bad.is_empty() {
        Ok(edit)
    } else {
        Err(ApiError::InvalidArgument(bad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duban_proto::v1::{Indicator, Plan};

    fn plan_request() -> CreatePlanRequest {
        CreatePlanRequest {
            plan: Some(Plan {
                title: "2025年区《政府工作报告》目标任务责任分解方案".into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            tasks: vec![Task {
                text: "地区生产总值增长6%左右".into(),
                indicators: vec![Indicator {
                    quantity: Some(Quantity {
                        value: 6.0,
                        unit: "%".into(),
                        comparator: Comparator::About as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            request_id: String::new(),
        }
    }

    #[test]
    fn accepts_a_valid_plan() {
        assert!(validate_create_plan(&plan_request()).is_ok());
    }

    #[test]
    fn reports_every_bad_field() {
        let mut req = plan_request();
        req.tasks[0].text.clear();
        req.tasks[0].indicators[0]
            .quantity
            .as_mut()
            .unwrap()
            .comparator = Comparator::Range as i32;
        let Err(ApiError::InvalidArgument(bad)) = validate_create_plan(&req) else {
            panic!("expected INVALID_ARGUMENT");
        };
        let fields: Vec<_> = bad.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["tasks[0].text", "tasks[0].indicators[0].quantity.value_max"]
        );
    }

    #[test]
    fn update_needs_a_known_mask() {
        let req = UpdateTaskRequest {
            task: Some(Task::default()),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["number".into()],
            }),
            request_id: String::new(),
        };
        assert!(validate_update(&req).is_err());
    }
}
