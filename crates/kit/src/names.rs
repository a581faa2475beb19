//! Resource names (AIP-122): "plans/12", "plans/12/tasks/345", "units/7". Ids are positive
//! integers; anything else is INVALID_ARGUMENT naming the field.

use duban_proto::{ApiError, quote};

fn id(field: &str, name: &str, raw: &str) -> Result<i64, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::invalid(
            field,
            format!(
                "{} is not a valid resource name: the id must be a positive integer",
                quote(name)
            ),
        )),
    }
}

/// The id in `{collection}/{id}`.
pub fn parse(field: &str, name: &str, collection: &str) -> Result<i64, ApiError> {
    if name.is_empty() {
        return Err(ApiError::invalid(field, "is required"));
    }
    match name.split_once('/') {
        Some((c, raw)) if c == collection && !raw.contains('/') => id(field, name, raw),
        _ => Err(ApiError::invalid(
            field,
            format!(
                "{} is not a valid resource name: expected \"{collection}/{{id}}\"",
                quote(name)
            ),
        )),
    }
}

/// The plan and task ids in `plans/{plan}/tasks/{task}`.
pub fn parse_task(field: &str, name: &str) -> Result<(i64, i64), ApiError> {
    if name.is_empty() {
        return Err(ApiError::invalid(field, "is required"));
    }
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["plans", plan, "tasks", task] => Ok((id(field, name, plan)?, id(field, name, task)?)),
        _ => Err(ApiError::invalid(
            field,
            format!(
                "{} is not a valid task name: expected \"plans/{{plan}}/tasks/{{task}}\"",
                quote(name)
            ),
        )),
    }
}

/// The plan, task and indicator ids in `plans/{plan}/tasks/{task}/indicators/{indicator}`.
pub fn parse_indicator(field: &str, name: &str) -> Result<(i64, i64, i64), ApiError> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["plans", plan, "tasks", task, "indicators", indicator] => Ok((
            id(field, name, plan)?,
            id(field, name, task)?,
            id(field, name, indicator)?,
        )),
        _ => Err(ApiError::invalid(
            field,
            format!(
                "{} is not a valid indicator name: expected \"plans/{{plan}}/tasks/{{task}}/indicators/{{indicator}}\"",
                quote(name)
            ),
        )),
    }
}

pub fn plan(id: i64) -> String {
    format!("plans/{id}")
}

pub fn task(plan: i64, task: i64) -> String {
    format!("plans/{plan}/tasks/{task}")
}

/// The plan a resource under `plans/{plan}/…` belongs to (a plan, task, indicator or
/// observation name); None for anything else.
pub fn plan_of(name: &str) -> Option<i64> {
    let id = name.strip_prefix("plans/")?.split('/').next()?;
    id.parse().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(parse("name", "plans/12", "plans").unwrap(), 12);
        assert!(parse("name", "plans/0", "plans").is_err());
        assert!(parse("name", "units/1", "plans").is_err());
        assert!(parse("name", "plans/1/x", "plans").is_err());
        assert!(parse("name", "", "plans").is_err());
        assert_eq!(parse_task("task", "plans/3/tasks/9").unwrap(), (3, 9));
        assert!(parse_task("task", "plans/3/tasks/").is_err());
        assert_eq!(task(3, 9), "plans/3/tasks/9");
        assert_eq!(
            plan_of("plans/3/tasks/9/indicators/4/observations/2"),
            Some(3)
        );
        assert_eq!(plan_of("plans/3"), Some(3));
        assert_eq!(plan_of("plans/-/tasks/9"), None);
        assert_eq!(plan_of("units/3"), None);
    }
}
