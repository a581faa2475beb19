//! Rules of the assignments service, free of I/O: how a written unit name is normalised, which
//! level and kind a name implies, what a valid assignment looks like.

use duban_proto::{
    ApiError, FieldViolation,
    v1::{CreateAssignmentsRequest, UnitRole},
};

pub const MAX_ASSIGNMENTS_PER_TASK: usize = 500;
const MAX_NAME_CHARS: usize = 100;

/// The lookup key of a unit name: full-width brackets and punctuation folded to their half-width
/// forms and whitespace removed, so "市委宣传部〈市文明办〉" and "市委宣传部<市文明办>" meet.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '(' => '(',
            ')' => ')',
            '〈' | '<' => '<',
            '〉' | '>' => '>',
            c => c,
        })
        .collect()
}

/// The government level a unit's name implies (区发改局 → 区), empty when it does not say.
pub fn level_of(name: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("省", "省"),
        ("市", "市"),
        ("区", "区"),
        ("县", "县"),
        ("团区委", "区"),
        ("团市委", "市"),
    ];
    if name.contains("街道") {
        return "街道";
    }
    PREFIXES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or("", |(_, level)| level)
}

/// The kind of body a name denotes, by the words such names end in.
pub fn kind_of(name: &str) -> &'static str {
    if name.starts_with('各') || name.contains("各部门") || name.contains("各单位") {
        "generic"
    } else if name.contains("街道") {
        "street_office"
    } else if name.contains("公安") {
        "police"
    } else if name.contains("集团") || name.contains("公司") {
        "state_enterprise"
    } else if name.contains("管委会") || name.contains("管理委员会") {
        "management_committee"
    } else if [
        "团区委",
        "团市委",
        "妇联",
        "总工会",
        "科协",
        "残联",
        "工商联",
        "红十字会",
        "侨联",
    ]
    .iter()
    .any(|w| name.contains(w))
    {
        "peoples_organisation"
    } else if name.starts_with("区委") || name.starts_with("市委") || name.starts_with("省委")
    {
        "party_organ"
    } else {
        "government_department"
    }
}

pub fn role_str(role: UnitRole) -> Option<&'static str> {
    match role {
        UnitRole::Lead => Some("lead"),
        UnitRole::Responsible => Some("responsible"),
        UnitRole::Cooperating => Some("cooperating"),
        UnitRole::Unspecified => None,
    }
}

pub fn role_from_str(role: &str) -> UnitRole {
    match role {
        "lead" => UnitRole::Lead,
        "responsible" => UnitRole::Responsible,
        "cooperating" => UnitRole::Cooperating,
        _ => UnitRole::Unspecified,
    }
}

pub fn validate_create(req: &CreateAssignmentsRequest) -> Result<(), ApiError> {
    let mut bad = Vec::new();
    if let Err(ApiError::InvalidArgument(v)) = duban_kit::names::parse_task("task", &req.task) {
        bad.extend(v);
    }
    if req.assignments.len() > MAX_ASSIGNMENTS_PER_TASK {
        bad.push(FieldViolation::new(
            "assignments",
            format!("at most {MAX_ASSIGNMENTS_PER_TASK} per task"),
        ));
    }
    for (i, a) in req.assignments.iter().enumerate() {
        let name = normalize(&a.written_name);
        if name.is_empty() {
            bad.push(FieldViolation::new(
                format!("assignments[{i}].written_name"),
                "is required",
            ));
        } else if name.chars().count() > MAX_NAME_CHARS {
            bad.push(FieldViolation::new(
                format!("assignments[{i}].written_name"),
                format!("must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        let role = UnitRole::try_from(a.role).unwrap_or(UnitRole::Unspecified);
        if role_str(role).is_none() {
            bad.push(FieldViolation::new(
                format!("assignments[{i}].role"),
                "must be LEAD, RESPONSIBLE or COOPERATING",
            ));
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidArgument(bad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_brackets_and_spaces() {
        assert_eq!(
            normalize("市委宣传部〈市文明办〉"),
            normalize("市委宣传部<市文明办>")
        );
        assert_eq!(normalize(" 区发改局 "), "区发改局");
    }

    #[test]
    fn infers_level_and_kind() {
        assert_eq!(level_of("区发改局"), "区");
        assert_eq!(level_of("市教育局"), "市");
        assert_eq!(level_of("中南路街道办事处"), "街道");
        assert_eq!(kind_of("各街道办事处"), "generic");
        assert_eq!(kind_of("团区委"), "peoples_organisation");
        assert_eq!(kind_of("区委宣传部〈区文明办〉"), "party_organ");
        assert_eq!(kind_of("区公安分局"), "police");
        assert_eq!(kind_of("区发改局"), "government_department");
    }
}
