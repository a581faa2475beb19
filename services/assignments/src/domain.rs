//! Rules of the assignments service, free of I/O: how a written unit name is normalised, which
//! level and kind a name implies, what a valid assignment looks like.

use duban_proto::{
    ApiError, FieldViolation,
    v1::{
        CreateAssignmentsRequest, ReportingFrequency, ReportingPeriod, ReportingSchedule, UnitRole,
        UpdateReportingScheduleRequest,
    },
};

use crate::schedule::{self, Frequency, Period, Spec};

pub const MAX_ASSIGNMENTS_PER_TASK: usize = 500;
const MAX_NAME_CHARS: usize = 100;

/// The lookup key of a unit name: full-width brackets and punctuation folded to their half-width
/// forms and whitespace removed, so "市委宣传部〈市文明办〉" and "市委宣传部<市文明办>" meet.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
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

/// Every kind `kind_of` gives.
pub const KINDS: &[&str] = &[
    "generic",
    "street_office",
    "police",
    "state_enterprise",
    "management_committee",
    "peoples_organisation",
    "party_organ",
    "government_department",
];

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

/// `UnitRole` as the API spells it, for filters.
pub const ROLES: &[&str] = &["LEAD", "RESPONSIBLE", "COOPERATING"];

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
    if req.assignments.is_empty() {
        bad.push(FieldViolation::new(
            "assignments",
            "at least one unit is required",
        ));
    } else if req.assignments.len() > MAX_ASSIGNMENTS_PER_TASK {
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

/// A date given as YYYY-MM-DD, or today in China Standard Time when empty, whatever the
/// server's clock zone.
pub fn as_of_date(field: &str, value: &str) -> Result<chrono::NaiveDate, ApiError> {
    if value.is_empty() {
        return Ok(duban_kit::calendar::today_in_china());
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, "must be a date YYYY-MM-DD"))
}

/// The plan id in "plans/{plan}/reportingSchedule".
pub fn schedule_plan(field: &str, name: &str) -> Result<i64, ApiError> {
    let plan = name.strip_suffix("/reportingSchedule").ok_or_else(|| {
        ApiError::invalid(
            field,
            format!(
                "{name:?} is not a schedule name: expected \"plans/{{plan}}/reportingSchedule\""
            ),
        )
    })?;
    duban_kit::names::parse(field, plan, "plans")
}

pub fn frequency_str(f: Frequency) -> &'static str {
    match f {
        Frequency::Monthly => "monthly",
        Frequency::Quarterly => "quarterly",
        Frequency::HalfYearly => "half_yearly",
    }
}

pub fn frequency_from_str(f: &str) -> Option<Frequency> {
    match f {
        "monthly" => Some(Frequency::Monthly),
        "quarterly" => Some(Frequency::Quarterly),
        "half_yearly" => Some(Frequency::HalfYearly),
        _ => None,
    }
}

fn frequency_to_proto(f: Frequency) -> ReportingFrequency {
    match f {
        Frequency::Monthly => ReportingFrequency::Monthly,
        Frequency::Quarterly => ReportingFrequency::Quarterly,
        Frequency::HalfYearly => ReportingFrequency::HalfYearly,
    }
}

fn frequency_from_proto(f: ReportingFrequency) -> Option<Frequency> {
    match f {
        ReportingFrequency::Monthly => Some(Frequency::Monthly),
        ReportingFrequency::Quarterly => Some(Frequency::Quarterly),
        ReportingFrequency::HalfYearly => Some(Frequency::HalfYearly),
        ReportingFrequency::Unspecified => None,
    }
}

/// A stored schedule: its rule, its plan's year and the spec in force.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSchedule {
    pub plan: i64,
    pub year: i32,
    pub rule: String,
    pub spec: Spec,
}

pub fn schedule_to_proto(
    s: &StoredSchedule,
    update_time: Option<prost_types::Timestamp>,
) -> ReportingSchedule {
    ReportingSchedule {
        name: format!("plans/{}/reportingSchedule", s.plan),
        rule: s.rule.clone(),
        frequency: frequency_to_proto(s.spec.frequency) as i32,
        first_period: s.spec.first.to_string(),
        last_period: s.spec.last.to_string(),
        due_day: i32::try_from(s.spec.due_day).unwrap_or(0),
        due_month_after: i32::try_from(s.spec.due_month_after).unwrap_or(0),
        periods: s
            .spec
            .slots()
            .into_iter()
            .map(|slot| ReportingPeriod {
                period: slot.period.to_string(),
                start_date: slot.start.to_string(),
                end_date: slot.end.to_string(),
                due_date: slot.due.to_string(),
            })
            .collect(),
        update_time,
        year: s.year,
    }
}

/// Applies an UpdateReportingSchedule to the stored schedule (None when the plan has none yet).
pub fn apply_schedule_update(
    plan: i64,
    current: Option<StoredSchedule>,
    req: &UpdateReportingScheduleRequest,
) -> Result<StoredSchedule, ApiError> {
    let input = req
        .schedule
        .as_ref()
        .ok_or_else(|| ApiError::invalid("schedule", "is required"))?;
    let paths: Vec<&str> = req
        .update_mask
        .as_ref()
        .map(|m| m.paths.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut next = match current {
        Some(current) => current,
        None if req.allow_missing => {
            if !(1900..=9999).contains(&input.year) {
                return Err(ApiError::invalid(
                    "schedule.year",
                    "is required (1900-9999) when creating a schedule",
                ));
            }
            StoredSchedule {
                plan,
                year: input.year,
                rule: input.rule.clone(),
                spec: schedule::from_rule(&input.rule, input.year),
            }
        }
        None => {
            return Err(ApiError::not_found(format!(
                "plans/{plan}/reportingSchedule"
            )));
        }
    };
    if paths.is_empty() && !req.allow_missing {
        return Err(ApiError::invalid(
            "update_mask",
            "name the fields to change: rule, frequency, first_period, last_period, due_day, due_month_after",
        ));
    }
    let mut bad = Vec::new();
    if paths.contains(&"rule") {
        next.rule = input.rule.clone();
        next.spec = schedule::from_rule(&input.rule, next.year);
    }
    for path in paths {
        match path {
            "rule" => {}
            "frequency" => match ReportingFrequency::try_from(input.frequency).ok().and_then(frequency_from_proto) {
                Some(f) => next.spec.frequency = f,
                None => bad.push(FieldViolation::new("schedule.frequency", "must be MONTHLY, QUARTERLY or HALF_YEARLY")),
            },
            "first_period" | "last_period" => {
                let (field, value) = if path == "first_period" {
                    ("schedule.first_period", &input.first_period)
                } else {
                    ("schedule.last_period", &input.last_period)
                };
                match Period::parse(value) {
                    Some(p) if path == "first_period" => next.spec.first = p,
                    Some(p) => next.spec.last = p,
                    None => bad.push(FieldViolation::new(field, "must be a period such as 2025Q2, 2025M07 or 2025H1")),
                }
            }
            "due_day" => match u32::try_from(input.due_day) {
                Ok(d) if (1..=31).contains(&d) => next.spec.due_day = d,
                _ => bad.push(FieldViolation::new("schedule.due_day", "must be between 1 and 31")),
            },
            "due_month_after" => match u32::try_from(input.due_month_after) {
                Ok(m) if m <= 12 => next.spec.due_month_after = m,
                _ => bad.push(FieldViolation::new("schedule.due_month_after", "must be between 0 and 12")),
            },
            other => bad.push(FieldViolation::new(
                "update_mask",
                format!("{other:?} cannot be updated; updatable: rule, frequency, first_period, last_period, due_day, due_month_after"),
            )),
        }
    }
    let spec = &next.spec;
    if bad.is_empty()
        && (spec.first.frequency != spec.frequency || spec.last.frequency != spec.frequency)
    {
        bad.push(FieldViolation::new(
            "schedule.first_period",
            "first and last period must match the frequency",
        ));
    }
    if bad.is_empty() && (spec.first.year, spec.first.index) > (spec.last.year, spec.last.index) {
        bad.push(FieldViolation::new(
            "schedule.last_period",
            "must not be before first_period",
        ));
    }
    if bad.is_empty() {
        Ok(next)
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
        // issue 25: full-width parentheses fold as the doc comment says
        assert_eq!(normalize("区委办（区政府办）"), "区委办(区政府办)");
        assert_eq!(
            normalize("区委办（区政府办）"),
            normalize("区委办(区政府办)")
        );
    }

    #[test]
    fn every_kind_given_is_listed() {
        for name in [
            "各街道办事处",
            "中南路街道办事处",
            "区公安分局",
            "武汉地铁集团",
            "东湖高新区管委会",
            "团区委",
            "区委宣传部",
            "区发改局",
        ] {
            assert!(KINDS.contains(&kind_of(name)), "{name}: {}", kind_of(name));
        }
        assert_eq!(KINDS.len(), 8);
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
