//! Rules of the reporting service, free of I/O.

use duban_proto::{
    ApiError, FieldViolation,
    v1::{CreateReportRequest, ProgressStatus, ReportState},
};

const MAX_TEXT_CHARS: usize = 20_000;

pub fn status_str(s: ProgressStatus) -> Option<&'static str> {
    match s {
        ProgressStatus::NotStarted => Some("not_started"),
        ProgressStatus::OnPace => Some("on_pace"),
        ProgressStatus::Ahead => Some("ahead"),
        ProgressStatus::Behind => Some("behind"),
        ProgressStatus::Completed => Some("completed"),
        ProgressStatus::Blocked => Some("blocked"),
        ProgressStatus::Unspecified => None,
    }
}

pub fn status_from_str(s: &str) -> ProgressStatus {
    [
        ProgressStatus::NotStarted,
        ProgressStatus::OnPace,
        ProgressStatus::Ahead,
        ProgressStatus::Behind,
        ProgressStatus::Completed,
        ProgressStatus::Blocked,
    ]
    .into_iter()
    .find(|p| status_str(*p) == Some(s))
    .unwrap_or(ProgressStatus::Unspecified)
}

pub fn state_from_str(s: &str) -> ReportState {
    match s {
        "draft" => ReportState::Draft,
        "signed" => ReportState::Signed,
        "submitted" => ReportState::Submitted,
        "accepted" => ReportState::Accepted,
        "returned" => ReportState::Returned,
        _ => ReportState::Unspecified,
    }
}

/// A reporting period: a year with a quarter (2025Q2), month (2025M07) or half (2025H1).
pub fn valid_period(period: &str) -> bool {
    let (Some(year), Some(rest)) = (period.get(..4), period.get(4..)) else {
        return false;
    };
    if !year.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let number = |s: &str, max: u32| s.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n));
    match rest.split_at_checked(1) {
        Some(("Q", n)) => n.len() == 1 && number(n, 4),
        Some(("M", n)) => n.len() == 2 && number(n, 12),
        Some(("H", n)) => n.len() == 1 && number(n, 2),
        _ => false,
    }
}

pub fn validate_create(req: &CreateReportRequest) -> Result<(), ApiError> {
    let Some(report) = &req.report else {
        return Err(ApiError::invalid("report", "is required"));
    };
    let mut bad = Vec::new();
    if let Err(ApiError::InvalidArgument(v)) =
        duban_kit::names::parse("report.assignment", &report.assignment, "assignments")
    {
        bad.extend(v);
    }
    if !valid_period(&report.period) {
        bad.push(FieldViolation::new(
            "report.period",
            "must be a year with a quarter, month or half: 2025Q2, 2025M07, 2025H1",
        ));
    }
    let status = ProgressStatus::try_from(report.status).unwrap_or(ProgressStatus::Unspecified);
    if status_str(status).is_none() {
        bad.push(FieldViolation::new(
            "report.status",
            "must be NOT_STARTED, ON_PACE, AHEAD, BEHIND, COMPLETED or BLOCKED",
        ));
    }
    if report.percent_complete > 100 {
        bad.push(FieldViolation::new(
            "report.percent_complete",
            "must be between 0 and 100",
        ));
    }
    for (field, text) in [
        ("report.progress", &report.progress),
        ("report.problems", &report.problems),
        ("report.next_steps", &report.next_steps),
    ] {
        if text.chars().count() > MAX_TEXT_CHARS {
            bad.push(FieldViolation::new(
                field,
                format!("must be at most {MAX_TEXT_CHARS} characters"),
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
    fn periods() {
        for ok in ["2025Q2", "2025M07", "2025H1", "2026Q4", "2025M12"] {
            assert!(valid_period(ok), "{ok}");
        }
        for bad in [
            "2025Q5",
            "2025M13",
            "2025M7",
            "2025H3",
            "25Q1",
            "2025",
            "2025Q",
            "二〇二五Q1",
            "2025Q１",
        ] {
            assert!(!valid_period(bad), "{bad}");
        }
    }
}
