//! Rules of the reporting service, free of I/O: validation, the report workflow, carrying a
//! report over from the previous period, and supervision (overdue items, lights, pace shares,
//! the pro-rata rule).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use duban_kit::calendar::Period;
use duban_proto::{
    ApiError, FieldViolation,
    v1::{
        Actor, AggregateGroup, AggregateRow, Comparator, CreateReportRequest, Light, OverdueItem,
        Pace, ProgressStatus, Quantity, Report, ReportState, TaskLight, UnitRole,
        UpdateReportRequest,
    },
};

const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// The enums as the API spells them, for filters; stored in lower case.
pub const STATUSES: &[&str] = &[
    "NOT_STARTED",
    "ON_PACE",
    "AHEAD",
    "BEHIND",
    "COMPLETED",
    "BLOCKED",
];
pub const STATES: &[&str] = &["DRAFT", "SIGNED", "SUBMITTED", "ACCEPTED", "RETURNED"];
pub const ROLES: &[&str] = &["LEAD", "RESPONSIBLE", "COOPERATING"];
/// Without the EXTENSION_ prefix, which a filter may leave out.
pub const EXTENSION_STATES: &[&str] = &["PENDING", "APPROVED", "REJECTED"];

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

pub fn state_str(s: ReportState) -> &'static str {
    match s {
        ReportState::Draft => "draft",
        ReportState::Signed => "signed",
        ReportState::Submitted => "submitted",
        ReportState::Accepted => "accepted",
        ReportState::Returned => "returned",
        ReportState::Unspecified => "",
    }
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

pub fn role_str(r: UnitRole) -> &'static str {
    match r {
        UnitRole::Lead => "lead",
        UnitRole::Responsible => "responsible",
        UnitRole::Cooperating => "cooperating",
        UnitRole::Unspecified => "",
    }
}

pub fn role_from_str(s: &str) -> UnitRole {
    match s {
        "lead" => UnitRole::Lead,
        "responsible" => UnitRole::Responsible,
        "cooperating" => UnitRole::Cooperating,
        _ => UnitRole::Unspecified,
    }
}

/// A reporting period: a year with a quarter (2025Q2), month (2025M07) or half (2025H1).
pub fn check_period(field: &str, period: &str) -> Result<(), ApiError> {
    if Period::parse(period).is_some() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "must be a year with a quarter, month or half: 2025Q2, 2025M07, 2025H1",
        ))
    }
}

/// A view of a period the plan does not report on would be all grey: `period` must be one of
/// the plan's reporting periods (any, for a plan without a schedule, as for reports).
pub fn check_scheduled(field: &str, snapshot: &Snapshot, period: &str) -> Result<(), ApiError> {
    if snapshot.schedule.is_empty() || snapshot.schedule.iter().any(|d| d.period == period) {
        return Ok(());
    }
    let periods: Vec<&str> = snapshot
        .schedule
        .iter()
        .map(|d| d.period.as_str())
        .collect();
    Err(ApiError::invalid(
        field,
        format!(
            "{} reports on {}, not {period}",
            snapshot.plan,
            periods.join(", ")
        ),
    ))
}

/// The period as a bulletin writes it: 2025年第二季度, 2025年上半年, 2025年7月.
pub fn period_label(period: &str) -> String {
    Period::parse(period).map_or_else(|| period.to_string(), Period::label)
}

pub fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10)
        .ok_or_else(|| ApiError::invalid(field, format!("{raw:?} is not a date: use YYYY-MM-DD")))
}

/// The date a time-dependent call is evaluated at: `raw`, or `today` when empty.
pub fn as_of(field: &str, raw: &str, today: NaiveDate) -> Result<NaiveDate, ApiError> {
    if raw.is_empty() {
        Ok(today)
    } else {
        parse_date(field, raw)
    }
}

pub fn date_string(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn bad_request(bad: Vec<FieldViolation>) -> Result<(), ApiError> {
    if bad.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidArgument(bad))
    }
}

fn check_content(prefix: &str, report: &Report, paths: &[&str], bad: &mut Vec<FieldViolation>) {
    let wants = |p: &str| paths.contains(&p);
    let status = ProgressStatus::try_from(report.status).unwrap_or(ProgressStatus::Unspecified);
    if wants("status")
        && (ProgressStatus::try_from(report.status).is_err()
            || (prefix == "report.update" && status_str(status).is_none()))
    {
        bad.push(FieldViolation::new(
            "report.status",
            "must be NOT_STARTED, ON_PACE, AHEAD, BEHIND, COMPLETED or BLOCKED",
        ));
    }
    if wants("percent_complete") && report.percent_complete > 100 {
        bad.push(FieldViolation::new(
            "report.percent_complete",
            "must be between 0 and 100",
        ));
    }
    for (path, text) in [
        ("progress", &report.progress),
        ("problems", &report.problems),
        ("next_steps", &report.next_steps),
        ("drafter", &report.drafter),
    ] {
        if wants(path) && text.chars().count() > MAX_TEXT_CHARS {
            bad.push(FieldViolation::new(
                format!("report.{path}"),
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            ));
        }
    }
    if wants("figures") {
        for (i, f) in report.figures.iter().enumerate() {
            if indicator_task(&f.indicator).is_none() {
                bad.push(FieldViolation::new(
                    format!("report.figures[{i}].indicator"),
                    "must be \"plans/{plan}/tasks/{task}/indicators/{indicator}\"",
                ));
            }
            if !f.value.is_finite() {
                bad.push(FieldViolation::new(
                    format!("report.figures[{i}].value"),
                    "must be a finite number",
                ));
            }
            if let Err(ApiError::InvalidArgument(v)) =
                parse_date(&format!("report.figures[{i}].as_of"), &f.as_of)
            {
                bad.extend(v);
            }
        }
    }
}

const CONTENT_PATHS: &[&str] = &[
    "status",
    "progress",
    "problems",
    "next_steps",
    "percent_complete",
    "figures",
    "drafter",
];

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
    if let Err(ApiError::InvalidArgument(v)) = check_period("report.period", &report.period) {
        bad.extend(v);
    }
    check_content("report", report, CONTENT_PATHS, &mut bad);
    bad_request(bad)
}

/// The report id and the mask's paths of a valid UpdateReport.
pub fn validate_update(req: &UpdateReportRequest) -> Result<(i64, Vec<String>), ApiError> {
    let Some(report) = &req.report else {
        return Err(ApiError::invalid("report", "is required"));
    };
    let id = duban_kit::names::parse("report.name", &report.name, "reports")?;
    let paths = req
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    if paths.is_empty() {
        return Err(ApiError::invalid(
            "update_mask",
            "must name the fields to replace",
        ));
    }
    let mut bad = Vec::new();
    for p in &paths {
        if !CONTENT_PATHS.contains(&p.as_str()) {
            bad.push(FieldViolation::new(
                "update_mask",
                format!(
                    "{p:?} cannot be updated; supported: {}",
                    CONTENT_PATHS.join(", ")
                ),
            ));
        }
    }
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    check_content("report.update", report, &refs, &mut bad);
    bad_request(bad)?;
    Ok((id, paths))
}

/// Replaces the masked fields of `current` with those of `patch`.
pub fn apply_update(current: &mut Report, patch: &Report, paths: &[String]) {
    for p in paths {
        match p.as_str() {
            "status" => current.status = patch.status,
            "progress" => current.progress.clone_from(&patch.progress),
            "problems" => current.problems.clone_from(&patch.problems),
            "next_steps" => current.next_steps.clone_from(&patch.next_steps),
            "percent_complete" => current.percent_complete = patch.percent_complete,
            "figures" => current.figures.clone_from(&patch.figures),
            "drafter" => current.drafter.clone_from(&patch.drafter),
            _ => {}
        }
    }
}

/// The task an indicator name belongs to: "plans/1/tasks/2/indicators/3" -> "plans/1/tasks/2".
pub fn indicator_task(indicator: &str) -> Option<&str> {
    let (task, id) = indicator.rsplit_once("/indicators/")?;
    let valid_id = id.parse::<i64>().is_ok_and(|n| n > 0);
    (valid_id && duban_kit::names::parse_task("indicator", task).is_ok()).then_some(task)
}

/// Figures must be for the report's own task.
pub fn check_figures_belong(report: &Report) -> Result<(), ApiError> {
    let bad: Vec<FieldViolation> = report
        .figures
        .iter()
        .enumerate()
        .filter(|(_, f)| indicator_task(&f.indicator) != Some(report.task.as_str()))
        .map(|(i, f)| {
            FieldViolation::new(
                format!("report.figures[{i}].indicator"),
                format!("{} is not an indicator of {}", f.indicator, report.task),
            )
        })
        .collect();
    bad_request(bad)
}

/// Report once: what the unit left empty is taken from its report of the previous period.
pub fn carry_over(report: &mut Report, previous: &Report) {
    if report.status == ProgressStatus::Unspecified as i32 {
        report.status = previous.status;
    }
    for (field, before) in [
        (&mut report.progress, &previous.progress),
        (&mut report.problems, &previous.problems),
        (&mut report.next_steps, &previous.next_steps),
        (&mut report.drafter, &previous.drafter),
    ] {
        if field.is_empty() {
            field.clone_from(before);
        }
    }
    if report.percent_complete == 0 {
        report.percent_complete = previous.percent_complete;
    }
    if report.figures.is_empty() {
        report.figures.clone_from(&previous.figures);
    }
}

/// The workflow steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Update,
    Sign,
    Submit,
    Accept,
    Return,
}

impl Step {
    pub fn action(self) -> &'static str {
        match self {
            Step::Update => "updated",
            Step::Sign => "signed",
            Step::Submit => "submitted",
            Step::Accept => "accepted",
            Step::Return => "returned",
        }
    }

    /// The event a step emits; edits emit none.
    pub fn event(self) -> Option<&'static str> {
        match self {
            Step::Update => None,
            Step::Sign => Some("report_signed"),
            Step::Submit => Some("report_submitted"),
            Step::Accept => Some("report_accepted"),
            Step::Return => Some("report_returned"),
        }
    }
}

/// The state after `step`, or FAILED_PRECONDITION naming the step that must come first.
pub fn transition(name: &str, from: ReportState, step: Step) -> Result<ReportState, ApiError> {
    use ReportState as S;
    let next = match (step, from) {
        (Step::Update, S::Draft | S::Returned) => Some(S::Draft),
        (Step::Sign, S::Draft) => Some(S::Signed),
        (Step::Submit, S::Signed) => Some(S::Submitted),
        (Step::Accept, S::Submitted) => Some(S::Accepted),
        (Step::Return, S::Submitted) => Some(S::Returned),
        _ => None,
    };
    next.ok_or_else(|| {
        let needs = match step {
            Step::Update => "only a DRAFT or RETURNED report can be edited",
            Step::Sign => "only a DRAFT can be signed; a returned report must be edited first",
            Step::Submit => "only a SIGNED report can be submitted: the unit head signs first",
            Step::Accept | Step::Return => "only a SUBMITTED report can be reviewed",
        };
        ApiError::FailedPrecondition {
            reason: "REPORT_STATE",
            message: format!("{name} is {}: {needs}", state_str(from).to_uppercase()),
        }
    })
}

/// An actor whose name (and, for a sign-off, role) is given.
pub fn check_actor(
    field: &str,
    actor: Option<&Actor>,
    role_required: bool,
) -> Result<(), ApiError> {
    let actor = actor.cloned().unwrap_or_default();
    let mut bad = Vec::new();
    if actor.name.trim().is_empty() {
        bad.push(FieldViolation::new(format!("{field}.name"), "is required"));
    }
    if role_required && actor.role.trim().is_empty() {
        bad.push(FieldViolation::new(
            format!("{field}.role"),
            "is required: the signer's position, e.g. 局长",
        ));
    }
    bad_request(bad)
}

// ---- supervision -------------------------------------------------------------------------

/// A plan's light thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub red_after_overdue_days: i32,
    pub red_after_behind_periods: i32,
    pub pace_tolerance_percent: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            red_after_overdue_days: 7,
            red_after_behind_periods: 2,
            pace_tolerance_percent: 0,
        }
    }
}

/// One assignment of the plan.
#[derive(Clone, Debug)]
pub struct Duty {
    pub assignment: String,
    pub task: String,
    pub unit: String,
    pub unit_display_name: String,
    pub role: UnitRole,
    pub level: String,
}

#[derive(Clone, Debug)]
pub struct TaskInfo {
    pub name: String,
    pub number: String,
    pub text: String,
    pub section: String,
    /// Indicator name and its target.
    pub indicators: Vec<(String, Quantity)>,
}

#[derive(Clone, Debug)]
pub struct Due {
    pub period: String,
    pub due: NaiveDate,
}

/// What the supervision rules look at: one plan, everything known about it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub plan: String,
    pub year: i32,
    pub tasks: Vec<TaskInfo>,
    pub duties: Vec<Duty>,
    /// The plan's reporting periods in order.
    pub schedule: Vec<Due>,
    pub reports: Vec<Report>,
    /// Approved extensions: (assignment, period) -> new due date.
    pub extensions: HashMap<(String, String), NaiveDate>,
    pub settings: Settings,
}

impl Snapshot {
    /// The duties that owe a report: a task's lead units, or its responsible units when it
    /// names no lead. Cooperating units give their input to the lead, which reports once.
    pub fn owing(&self) -> Vec<&Duty> {
        let mut by_task: BTreeMap<&str, Vec<&Duty>> = BTreeMap::new();
        for d in &self.duties {
            by_task.entry(d.task.as_str()).or_default().push(d);
        }
        let mut owing = Vec::new();
        for duties in by_task.values() {
            let leads: Vec<&Duty> = duties
                .iter()
                .copied()
                .filter(|d| d.role == UnitRole::Lead)
                .collect();
            if leads.is_empty() {
                owing.extend(duties.iter().filter(|d| d.role == UnitRole::Responsible));
            } else {
                owing.extend(leads);
            }
        }
        owing.sort_by_key(|d| assignment_id(&d.assignment));
        owing
    }

    pub fn due_date(&self, assignment: &str, period: &str) -> Option<NaiveDate> {
        let scheduled = self.schedule.iter().find(|d| d.period == period)?.due;
        Some(
            self.extensions
                .get(&(assignment.to_string(), period.to_string()))
                .copied()
                .unwrap_or(scheduled),
        )
    }

    fn report(&self, assignment: &str, period: &str) -> Option<&Report> {
        self.reports
            .iter()
            .find(|r| r.assignment == assignment && r.period == period)
    }

    /// The report as the office knows it on `as_of`: handed in on or before that day.
    fn filed(&self, assignment: &str, period: &str, as_of: NaiveDate) -> Option<&Report> {
        self.report(assignment, period)
            .filter(|r| submitted_by(r, as_of))
    }
}

fn assignment_id(name: &str) -> i64 {
    duban_kit::names::parse("assignment", name, "assignments").unwrap_or(0)
}

fn submitted_by(r: &Report, as_of: NaiveDate) -> bool {
    NaiveDate::parse_from_str(&r.submit_date, "%Y-%m-%d").is_ok_and(|d| d <= as_of)
}

/// Every report owed on `as_of` and not yet handed in, oldest first.
pub fn overdue(s: &Snapshot, as_of: NaiveDate) -> Vec<OverdueItem> {
    let mut items = Vec::new();
    for due in &s.schedule {
        for duty in s.owing() {
            let Some(due_date) = s.due_date(&duty.assignment, &due.period) else {
                continue;
            };
            if as_of <= due_date || s.filed(&duty.assignment, &due.period, as_of).is_some() {
                continue;
            }
            items.push(OverdueItem {
                assignment: duty.assignment.clone(),
                task: duty.task.clone(),
                unit: duty.unit.clone(),
                unit_display_name: duty.unit_display_name.clone(),
                period: due.period.clone(),
                due_date: date_string(due_date),
                overdue_since: due_date.succ_opt().map(date_string).unwrap_or_default(),
                days_overdue: i32::try_from((as_of - due_date).num_days()).unwrap_or(i32::MAX),
                report: s
                    .report(&duty.assignment, &due.period)
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
            });
        }
    }
    items
}

/// Share of the year elapsed at the end of `date` in a plan of `year`: 11/12 at the end of
/// November (序时进度).
pub fn elapsed_share(date: NaiveDate, year: i32) -> f64 {
    if date.year() < year {
        return 0.0;
    }
    if date.year() > year {
        return 1.0;
    }
    let next_month = NaiveDate::from_ymd_opt(
        date.year() + i32::from(date.month() == 12),
        date.month() % 12 + 1,
        1,
    );
    let month_days = next_month
        .and_then(|n| n.pred_opt())
        .map_or(30, |last| last.day());
    (f64::from(date.month0()) + f64::from(date.day()) / f64::from(month_days)) / 12.0
}

/// Whether a target accumulates over the year (a count or an amount: 新增就业25万人), so that a
/// figure can be held against the elapsed share of the year. Rates, growth percentages and caps
/// do not accumulate.
pub fn is_cumulative(q: &Quantity) -> bool {
    const RATE_UNITS: [&str; 4] = ["%", "个百分点", "‰", "倍"];
    let comparator = Comparator::try_from(q.comparator).unwrap_or(Comparator::Unspecified);
    q.value > 0.0
        && !RATE_UNITS.contains(&q.unit.as_str())
        && !q.unit.contains('/')
        && comparator != Comparator::AtMost
        && !q.metric.contains("增长")
        && !q.metric.contains("增速")
        && !q.metric.ends_with('率')
}

/// The pro-rata value a figure falls short of, if it does: a cumulative figure below the
/// target's elapsed share of the year, less the tolerance.
pub fn below_pro_rata(
    target: &Quantity,
    value: f64,
    date: NaiveDate,
    year: i32,
    tolerance_percent: i32,
) -> Option<f64> {
    if !is_cumulative(target) {
        return None;
    }
    let expected = target.value * elapsed_share(date, year);
    let floor = expected * (1.0 - f64::from(tolerance_percent.clamp(0, 100)) / 100.0);
    (value < floor).then_some(expected)
}

fn pace_of(status: ProgressStatus) -> Pace {
    match status {
        ProgressStatus::OnPace => Pace::On,
        ProgressStatus::Ahead => Pace::Ahead,
        ProgressStatus::Completed => Pace::Completed,
        // Not started or blocked while a report is due is behind the year's pace.
        ProgressStatus::Behind
        | ProgressStatus::NotStarted
        | ProgressStatus::Blocked
        | ProgressStatus::Unspecified => Pace::Behind,
    }
}

/// Several lead units' paces make the item's pace: the slowest counts.
fn slowest(paces: impl IntoIterator<Item = Pace>) -> Pace {
    let rank = |p: Pace| match p {
        Pace::Behind => 0,
        Pace::On => 1,
        Pace::Ahead => 2,
        Pace::Completed => 3,
        Pace::NotReported | Pace::Unspecified => 4,
    };
    paces
        .into_iter()
        .min_by_key(|p| rank(*p))
        .unwrap_or(Pace::NotReported)
}

fn format_number(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The pace of one duty in a period, with the pro-rata shortfalls of its figures.
fn duty_pace(
    s: &Snapshot,
    duty: &Duty,
    task: Option<&TaskInfo>,
    period: &str,
    as_of: NaiveDate,
) -> (Pace, Vec<String>) {
    let Some(report) = s.filed(&duty.assignment, period, as_of) else {
        return (Pace::NotReported, Vec::new());
    };
    let mut pace = pace_of(ProgressStatus::try_from(report.status).unwrap_or_default());
    let mut short = Vec::new();
    for figure in &report.figures {
        let target = task.and_then(|t| t.indicators.iter().find(|(n, _)| *n == figure.indicator));
        let (Some((_, target)), Ok(date)) = (target, parse_date("as_of", &figure.as_of)) else {
            continue;
        };
        if let Some(expected) = below_pro_rata(
            target,
            figure.value,
            date,
            s.year,
            s.settings.pace_tolerance_percent,
        ) {
            pace = Pace::Behind;
            short.push(format!(
                "{}低于序时进度（{}{}，应达{}{}）",
                if target.metric.is_empty() {
                    &target.phrase
                } else {
                    &target.metric
                },
                format_number(figure.value),
                target.unit,
                format_number(expected),
                target.unit
            ));
        }
    }
    (pace, short)
}

/// The light of every task of the plan in `period`, in the plan's order.
pub fn lights(s: &Snapshot, period: &str, as_of: NaiveDate) -> Vec<TaskLight> {
    let owing = s.owing();
    let overdue = overdue(s, as_of);
    let position = s.schedule.iter().position(|d| d.period == period);
    let earlier: Vec<&str> = position
        .map(|i| {
            s.schedule[..i]
                .iter()
                .rev()
                .map(|d| d.period.as_str())
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for task in &s.tasks {
        let duties: Vec<&Duty> = owing
            .iter()
            .copied()
            .filter(|d| d.task == task.name)
            .collect();
        if duties.is_empty() {
            continue;
        }
        let task_pace = |p: &str| {
            let results: Vec<(Pace, Vec<String>)> = duties
                .iter()
                .map(|d| duty_pace(s, d, Some(task), p, as_of))
                .collect();
            let reported: Vec<Pace> = results
                .iter()
                .map(|(p, _)| *p)
                .filter(|p| *p != Pace::NotReported)
                .collect();
            let short: Vec<String> = results.into_iter().flat_map(|(_, s)| s).collect();
            (slowest(reported), short)
        };
        let (pace, short) = task_pace(period);
        let mut reasons = Vec::new();
        let mut light = match pace {
            Pace::On | Pace::Ahead | Pace::Completed => Light::Green,
            Pace::Behind => {
                reasons.push("进度滞后".to_string());
                Light::Yellow
            }
            Pace::NotReported | Pace::Unspecified => Light::None,
        };
        let behind_run = 1 + earlier
            .iter()
            .take_while(|p| task_pace(p).0 == Pace::Behind)
            .count();
        if pace == Pace::Behind
            && behind_run >= usize::try_from(s.settings.red_after_behind_periods).unwrap_or(2)
        {
            reasons.push(format!("连续{behind_run}期滞后"));
            light = Light::Red;
        }
        if !short.is_empty() {
            light = Light::Red;
            reasons.extend(short);
        }
        let late = overdue
            .iter()
            .filter(|o| o.task == task.name && o.period == period)
            .map(|o| o.days_overdue)
            .max();
        if let Some(days) = late {
            reasons.push(format!("逾期{days}天未报送"));
            light = if days > s.settings.red_after_overdue_days || light == Light::Red {
                Light::Red
            } else {
                Light::Yellow
            };
        }
        out.push(TaskLight {
            task: task.name.clone(),
            task_number: task.number.clone(),
            task_text: task.text.clone(),
            light: light as i32,
            pace: pace as i32,
            reasons,
            lead_units: duties.iter().map(|d| d.unit_display_name.clone()).collect(),
        });
    }
    out
}

fn percent(part: i32, total: i32) -> f64 {
    if total == 0 {
        0.0
    } else {
        (f64::from(part) * 1000.0 / f64::from(total)).round() / 10.0
    }
}

fn add(row: &mut AggregateRow, pace: Pace) {
    row.total += 1;
    match pace {
        Pace::Behind => row.behind += 1,
        Pace::On => row.on_pace += 1,
        Pace::Ahead => row.ahead += 1,
        Pace::Completed => row.completed += 1,
        Pace::NotReported | Pace::Unspecified => row.not_reported += 1,
    }
}

/// Shares behind / on pace / ahead / completed in `period`, grouped. Plan and section count
/// items (tasks); unit and level count each lead unit's own duty.
pub fn aggregates(
    s: &Snapshot,
    period: &str,
    group: AggregateGroup,
    as_of: NaiveDate,
) -> Vec<AggregateRow> {
    let mut rows: BTreeMap<String, AggregateRow> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut count = |key: String, pace: Pace| {
        if !rows.contains_key(&key) {
            order.push(key.clone());
        }
        let row = rows.entry(key.clone()).or_insert_with(|| AggregateRow {
            key,
            ..Default::default()
        });
        add(row, pace);
    };
    match group {
        AggregateGroup::GroupPlan | AggregateGroup::GroupSection | AggregateGroup::Unspecified => {
            for light in lights(s, period, as_of) {
                let key = if group == AggregateGroup::GroupSection {
                    s.tasks
                        .iter()
                        .find(|t| t.name == light.task)
                        .map(|t| t.section.clone())
                        .unwrap_or_default()
                } else {
                    s.plan.clone()
                };
                count(key, Pace::try_from(light.pace).unwrap_or_default());
            }
        }
        AggregateGroup::GroupUnit | AggregateGroup::GroupLevel => {
            for duty in s.owing() {
                let task = s.tasks.iter().find(|t| t.name == duty.task);
                let (pace, _) = duty_pace(s, duty, task, period, as_of);
                let key = if group == AggregateGroup::GroupUnit {
                    duty.unit_display_name.clone()
                } else {
                    duty.level.clone()
                };
                count(key, pace);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| rows.remove(&k))
        .map(|mut r| {
            r.behind_percent = percent(r.behind, r.total);
            r.on_pace_percent = percent(r.on_pace, r.total);
            r.ahead_percent = percent(r.ahead, r.total);
            r.completed_percent = percent(r.completed, r.total);
            r
        })
        .collect()
}

/// A unit that reported late in `period`: (unit, due date, handed in on, days late).
pub struct Late {
    pub unit: String,
    pub due: NaiveDate,
    pub submitted: Option<NaiveDate>,
    pub days: i64,
}

/// Units whose report for `period` came after its due date, or has not come by `as_of`.
pub fn late_units(s: &Snapshot, period: &str, as_of: NaiveDate) -> Vec<Late> {
    let mut out = Vec::new();
    for duty in s.owing() {
        let Some(due) = s.due_date(&duty.assignment, period) else {
            continue;
        };
        let submitted = s
            .filed(&duty.assignment, period, as_of)
            .and_then(|r| NaiveDate::parse_from_str(&r.submit_date, "%Y-%m-%d").ok());
        let until = submitted.unwrap_or(as_of);
        if until > due {
            out.push(Late {
                unit: duty.unit_display_name.clone(),
                due,
                submitted,
                days: (until - due).num_days(),
            });
        }
    }
    out
}

/// Units that reported every item of theirs in `period` on time and none behind: commended.
pub fn commended_units(s: &Snapshot, period: &str, as_of: NaiveDate) -> Vec<String> {
    let late: Vec<String> = late_units(s, period, as_of)
        .into_iter()
        .map(|l| l.unit)
        .collect();
    let mut verdict: BTreeMap<String, bool> = BTreeMap::new();
    let mut order = Vec::new();
    for duty in s.owing() {
        let task = s.tasks.iter().find(|t| t.name == duty.task);
        let (pace, _) = duty_pace(s, duty, task, period, as_of);
        let good = matches!(pace, Pace::On | Pace::Ahead | Pace::Completed)
            && !late.contains(&duty.unit_display_name);
        if !verdict.contains_key(&duty.unit_display_name) {
            order.push(duty.unit_display_name.clone());
        }
        let v = verdict
            .entry(duty.unit_display_name.clone())
            .or_insert(true);
        *v = *v && good;
    }
    order.into_iter().filter(|u| verdict[u]).collect()
}

/// The problems the lead units reported for a task in `period`.
pub fn problems(s: &Snapshot, task: &str, period: &str, as_of: NaiveDate) -> Vec<String> {
    s.owing()
        .into_iter()
        .filter(|d| d.task == task)
        .filter_map(|d| s.filed(&d.assignment, period, as_of))
        .map(|r| r.problems.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

pub fn light_str(l: Light) -> &'static str {
    match l {
        Light::None => "none",
        Light::Green => "green",
        Light::Yellow => "yellow",
        Light::Red => "red",
        Light::Unspecified => "",
    }
}

pub fn light_from_str(s: &str) -> Light {
    match s {
        "none" => Light::None,
        "green" => Light::Green,
        "yellow" => Light::Yellow,
        "red" => Light::Red,
        _ => Light::Unspecified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duban_proto::v1::Figure;

    fn figure(indicator: &str, value: f64, as_of: &str) -> Figure {
        Figure {
            indicator: indicator.to_string(),
            value,
            as_of: as_of.to_string(),
        }
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn jobs() -> Quantity {
        Quantity {
            phrase: "城镇新增就业25万人以上".into(),
            metric: "城镇新增就业".into(),
            value: 250_000.0,
            unit: "人".into(),
            comparator: Comparator::AtLeast as i32,
            ..Default::default()
        }
    }

    #[test]
    fn periods() {
        assert!(check_period("period", "2025Q2").is_ok());
        assert!(check_period("period", "2025Q１").is_err());
        assert_eq!(period_label("2025Q2"), "2025年第二季度");
        assert_eq!(period_label("2025H1"), "2025年上半年");
        assert_eq!(period_label("2025M07"), "2025年7月");
    }

    #[test]
    fn the_elapsed_share_of_the_year_is_counted_in_months() {
        assert!((elapsed_share(date("2025-11-30"), 2025) - 11.0 / 12.0).abs() < 1e-9);
        assert!((elapsed_share(date("2025-06-30"), 2025) - 0.5).abs() < 1e-9);
        assert!((elapsed_share(date("2025-12-31"), 2025) - 1.0).abs() < 1e-9);
        assert!((elapsed_share(date("2024-02-29"), 2024) - (1.0 + 1.0) / 12.0).abs() < 1e-9);
        assert_eq!(elapsed_share(date("2026-01-05"), 2025), 1.0);
        assert_eq!(elapsed_share(date("2024-12-31"), 2025), 0.0);
    }

    #[test]
    fn a_cumulative_count_below_its_pro_rata_pace_is_behind() {
        let target = jobs();
        // Half the year gone: 125,000 jobs expected.
        assert_eq!(
            below_pro_rata(&target, 100_000.0, date("2025-06-30"), 2025, 0),
            Some(125_000.0)
        );
        assert_eq!(
            below_pro_rata(&target, 130_000.0, date("2025-06-30"), 2025, 0),
            None
        );
        assert_eq!(
            below_pro_rata(&target, 125_000.0, date("2025-06-30"), 2025, 0),
            None
        );
        // A 20% tolerance lets 100,000 pass (floor 100,000).
        assert_eq!(
            below_pro_rata(&target, 100_000.0, date("2025-06-30"), 2025, 20),
            None
        );
        // 11/12 of the year by the end of November.
        assert!(below_pro_rata(&target, 220_000.0, date("2025-11-30"), 2025, 0).is_some());
    }

    #[test]
    fn rates_growth_and_caps_are_not_held_to_a_pro_rata_pace() {
        let growth = Quantity {
            metric: "地区生产总值增长".into(),
            value: 6.0,
            unit: "%".into(),
            comparator: Comparator::About as i32,
            ..Default::default()
        };
        assert!(!is_cumulative(&growth));
        assert_eq!(
            below_pro_rata(&growth, 1.0, date("2025-06-30"), 2025, 0),
            None
        );
        let cap = Quantity {
            metric: "PM2.5浓度".into(),
            value: 35.0,
            unit: "微克/立方米".into(),
            comparator: Comparator::AtMost as i32,
            ..Default::default()
        };
        assert!(!is_cumulative(&cap));
        let rate = Quantity {
            metric: "城镇调查失业率".into(),
            value: 5.5,
            unit: "".into(),
            ..Default::default()
        };
        assert!(!is_cumulative(&rate));
        assert!(is_cumulative(&jobs()));
    }

    #[test]
    fn the_workflow_refuses_steps_out_of_order() {
        use ReportState as S;
        assert_eq!(transition("r", S::Draft, Step::Sign).unwrap(), S::Signed);
        assert_eq!(
            transition("r", S::Signed, Step::Submit).unwrap(),
            S::Submitted
        );
        assert_eq!(
            transition("r", S::Submitted, Step::Return).unwrap(),
            S::Returned
        );
        assert_eq!(
            transition("r", S::Returned, Step::Update).unwrap(),
            S::Draft
        );
        assert_eq!(
            transition("r", S::Submitted, Step::Accept).unwrap(),
            S::Accepted
        );
        for (from, step) in [
            (S::Draft, Step::Submit),
            (S::Returned, Step::Sign),
            (S::Accepted, Step::Update),
            (S::Signed, Step::Accept),
            (S::Draft, Step::Return),
        ] {
            assert!(matches!(
                transition("r", from, step),
                Err(ApiError::FailedPrecondition { .. })
            ));
        }
    }

    fn snapshot() -> Snapshot {
        let duty = |a: &str, task: &str, unit: &str, role| Duty {
            assignment: a.into(),
            task: task.into(),
            unit: format!("units/{a}"),
            unit_display_name: unit.into(),
            role,
            level: "区级".into(),
        };
        let task = |n: &str| TaskInfo {
            name: format!("plans/1/tasks/{n}"),
            number: n.into(),
            text: format!("任务{n}"),
            section: "重点工作".into(),
            indicators: vec![("plans/1/tasks/1/indicators/1".into(), jobs())],
        };
        Snapshot {
            plan: "plans/1".into(),
            year: 2025,
            tasks: vec![task("1"), task("2"), task("3")],
            duties: vec![
                duty(
                    "assignments/1",
                    "plans/1/tasks/1",
                    "区人社局",
                    UnitRole::Lead,
                ),
                duty(
                    "assignments/2",
                    "plans/1/tasks/1",
                    "区财政局",
                    UnitRole::Cooperating,
                ),
                duty(
                    "assignments/3",
                    "plans/1/tasks/2",
                    "区发改局",
                    UnitRole::Lead,
                ),
                duty(
                    "assignments/4",
                    "plans/1/tasks/3",
                    "区教育局",
                    UnitRole::Responsible,
                ),
            ],
            schedule: vec![
                Due {
                    period: "2025Q2".into(),
                    due: date("2025-07-10"),
                },
                Due {
                    period: "2025Q3".into(),
                    due: date("2025-10-10"),
                },
            ],
            reports: Vec::new(),
            extensions: HashMap::new(),
            settings: Settings::default(),
        }
    }

    fn filed(a: &str, period: &str, status: ProgressStatus, on: &str) -> Report {
        Report {
            name: format!("reports/{a}{period}"),
            assignment: a.into(),
            period: period.into(),
            status: status as i32,
            state: ReportState::Submitted as i32,
            submit_date: on.into(),
            ..Default::default()
        }
    }

    #[test]
    fn lights_follow_pace_overdue_days_and_figures() {
        let mut s = snapshot();
        s.reports = vec![
            filed(
                "assignments/1",
                "2025Q2",
                ProgressStatus::OnPace,
                "2025-07-08",
            ),
            filed(
                "assignments/3",
                "2025Q2",
                ProgressStatus::Behind,
                "2025-07-09",
            ),
            filed(
                "assignments/3",
                "2025Q3",
                ProgressStatus::Behind,
                "2025-10-09",
            ),
        ];
        // Cooperating units owe nothing; the responsible unit of a task without lead does.
        let owing: Vec<&str> = s.owing().iter().map(|d| d.assignment.as_str()).collect();
        assert_eq!(owing, ["assignments/1", "assignments/3", "assignments/4"]);

        let q2 = lights(&s, "2025Q2", date("2025-07-15"));
        let l: Vec<Light> = q2
            .iter()
            .map(|l| Light::try_from(l.light).unwrap())
            .collect();
        assert_eq!(l, [Light::Green, Light::Yellow, Light::Yellow]);
        assert_eq!(q2[2].reasons, ["逾期5天未报送"]);
        let q2_late = lights(&s, "2025Q2", date("2025-07-18"));
        assert_eq!(q2_late[2].light, Light::Red as i32);

        // Behind two periods running is red.
        let q3 = lights(&s, "2025Q3", date("2025-10-10"));
        assert_eq!(q3[1].light, Light::Red as i32);
        assert!(q3[1].reasons.contains(&"连续2期滞后".to_string()));
        // Not due yet and not reported: no light.
        assert_eq!(q3[0].light, Light::None as i32);

        // A figure below the pro-rata pace turns an on-pace report red.
        s.reports[0].figures = vec![figure(
            "plans/1/tasks/1/indicators/1",
            100_000.0,
            "2025-06-30",
        )];
        let q2 = lights(&s, "2025Q2", date("2025-07-15"));
        assert_eq!(q2[0].light, Light::Red as i32);
        assert_eq!(q2[0].pace, Pace::Behind as i32);
    }

    #[test]
    fn overdue_counts_from_the_extended_due_date_and_aggregates_share_by_pace() {
        let mut s = snapshot();
        s.reports = vec![filed(
            "assignments/1",
            "2025Q2",
            ProgressStatus::Completed,
            "2025-07-01",
        )];
        s.extensions.insert(
            ("assignments/3".into(), "2025Q2".into()),
            date("2025-07-20"),
        );
        let items = overdue(&s, date("2025-07-15"));
        assert_eq!(items.len(), 1);
        assert_eq!(
            (
                items[0].assignment.as_str(),
                items[0].overdue_since.as_str(),
                items[0].days_overdue
            ),
            ("assignments/4", "2025-07-11", 5)
        );
        let rows = aggregates(&s, "2025Q2", AggregateGroup::GroupPlan, date("2025-07-15"));
        assert_eq!(
            (rows[0].total, rows[0].completed, rows[0].not_reported),
            (3, 1, 2)
        );
        assert_eq!(rows[0].completed_percent, 33.3);
    }
}
