//! All SQL of the reporting service.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, NaiveDate, Utc};
use duban_db::{api_error, idempotency};
use duban_kit::{
    audit,
    list::{self, Term},
    names,
};
use duban_proto::{
    ApiError,
    v1::{
        Actor, Assignment, Event, EventKind, Evidence, Extension, ExtensionState, Figure, Light,
        OverdueItem, ProgressStatus, Report, ReportState, ReportVersion, Signature,
        SupervisionSettings, TaskLight, UnitRole,
    },
};
use prost::Message;
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder, Row, Transaction};
use tokio::sync::Notify;

use crate::domain::{self, Settings, Step};

pub(crate) use duban_db::timestamp;

#[derive(Serialize, Deserialize)]
pub struct FigureJson {
    pub indicator: String,
    pub value: f64,
    pub as_of: String,
}

/// An accepted report whose figures targets has not yet received.
pub struct AcceptedFigures {
    pub position: i64,
    pub report: String,
    pub figures: Vec<FigureJson>,
}

fn figures_json(figures: &[Figure]) -> serde_json::Value {
    serde_json::to_value(
        figures
            .iter()
            .map(|f| FigureJson {
                indicator: f.indicator.clone(),
                value: f.value,
                as_of: f.as_of.clone(),
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

/// A report's status as its column holds it.
fn status_column(report: &Report) -> &'static str {
    ProgressStatus::try_from(report.status)
        .ok()
        .and_then(domain::status_str)
        .unwrap_or("not_started")
}

/// The plan a task name (`plans/1/tasks/2`) is under.
fn plan_of_task(task: &str) -> &str {
    task.split("/tasks/").next().unwrap_or_default()
}

/// Whether a statement undid itself (migration 0005's `undo_statement`).
fn undone(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "DU001")
}

fn actor(name: String, role: String) -> Option<Actor> {
    (!name.is_empty()).then_some(Actor { name, role })
}

#[derive(FromRow)]
struct ReportRow {
    id: i64,
    assignment: String,
    period: String,
    status: String,
    state: String,
    progress: String,
    problems: String,
    next_steps: String,
    percent_complete: i32,
    drafter: String,
    created_at: DateTime<Utc>,
    task: String,
    unit: String,
    unit_display_name: String,
    role: String,
    figures: serde_json::Value,
    signer_name: String,
    signer_role: String,
    signed_at: Option<DateTime<Utc>>,
    signed_by: String,
    submit_date: Option<NaiveDate>,
    reviewer_name: String,
    reviewer_role: String,
    return_reason: String,
    contributions: Vec<String>,
    version: i32,
    updated_at: DateTime<Utc>,
}

impl From<ReportRow> for Report {
    fn from(r: ReportRow) -> Self {
        let figures: Vec<FigureJson> = serde_json::from_value(r.figures).unwrap_or_default();
        Report {
            name: format!("reports/{}", r.id),
            assignment: r.assignment,
            period: r.period,
            status: domain::status_from_str(&r.status) as i32,
            state: domain::state_from_str(&r.state) as i32,
            progress: r.progress,
            problems: r.problems,
            next_steps: r.next_steps,
            percent_complete: u32::try_from(r.percent_complete).unwrap_or(0),
            drafter: r.drafter,
            create_time: Some(timestamp(r.created_at)),
            task: r.task,
            unit: r.unit,
            unit_display_name: r.unit_display_name,
            role: domain::role_from_str(&r.role) as i32,
            figures: figures
                .into_iter()
                .map(|f| Figure {
                    indicator: f.indicator,
                    value: f.value,
                    as_of: f.as_of,
                })
                .collect(),
            evidence: Vec::new(),
            signature: actor(r.signer_name, r.signer_role).map(|signer| Signature {
                signer: Some(signer),
                sign_time: r.signed_at.map(timestamp),
                signed_by: r.signed_by,
            }),
            submit_date: r.submit_date.map(domain::date_string).unwrap_or_default(),
            reviewer: actor(r.reviewer_name, r.reviewer_role),
            return_reason: r.return_reason,
            contributions: r.contributions,
            version: u32::try_from(r.version).unwrap_or(0),
            update_time: Some(timestamp(r.updated_at)),
        }
    }
}

const COLUMNS: &str = "id, assignment, period, status, state, progress, problems, next_steps,
    percent_complete, drafter, created_at, task, unit, unit_display_name, role, figures,
    signer_name, signer_role, signed_at, signed_by, submit_date, reviewer_name, reviewer_role,
    return_reason, contributions, version, updated_at";

#[derive(FromRow)]
struct EvidenceRow {
    id: i64,
    report: i64,
    filename: String,
    media_type: String,
    size_bytes: i32,
    sha256: String,
    created_at: DateTime<Utc>,
    /// Only GetEvidence reads the bytes.
    #[sqlx(default)]
    content: Vec<u8>,
}

impl From<EvidenceRow> for Evidence {
    fn from(e: EvidenceRow) -> Self {
        Evidence {
            name: format!("reports/{}/evidence/{}", e.report, e.id),
            filename: e.filename,
            media_type: e.media_type,
            size_bytes: u64::try_from(e.size_bytes).unwrap_or(0),
            sha256: e.sha256,
            content: e.content,
            create_time: Some(timestamp(e.created_at)),
        }
    }
}

#[derive(FromRow)]
struct ExtensionRow {
    id: i64,
    assignment: String,
    period: String,
    requested_due_date: NaiveDate,
    reason: String,
    requester_name: String,
    requester_role: String,
    state: String,
    decider_name: String,
    decider_role: String,
    decision_reason: String,
    created_at: DateTime<Utc>,
}

impl From<ExtensionRow> for Extension {
    fn from(e: ExtensionRow) -> Self {
        Extension {
            name: format!("extensions/{}", e.id),
            assignment: e.assignment,
            period: e.period,
            requested_due_date: domain::date_string(e.requested_due_date),
            reason: e.reason,
            requester: actor(e.requester_name, e.requester_role),
            state: match e.state.as_str() {
                "pending" => ExtensionState::ExtensionPending,
                "approved" => ExtensionState::ExtensionApproved,
                "rejected" => ExtensionState::ExtensionRejected,
                _ => ExtensionState::Unspecified,
            } as i32,
            decider: actor(e.decider_name, e.decider_role),
            decision_reason: e.decision_reason,
            create_time: Some(timestamp(e.created_at)),
        }
    }
}

const EXTENSION_COLUMNS: &str = "id, assignment, period, requested_due_date, reason,
    requester_name, requester_role, state, decider_name, decider_role, decision_reason,
    created_at";

/// An extension with the plan it belongs to, which the scope of reads needs and the API does not
/// show.
pub struct PlannedExtension {
    pub plan: String,
    pub extension: Extension,
}

#[derive(FromRow)]
struct PlannedExtensionRow {
    plan: String,
    #[sqlx(flatten)]
    row: ExtensionRow,
}

#[derive(FromRow)]
struct VersionRow {
    version: i32,
    action: String,
    actor_name: String,
    actor_role: String,
    reason: String,
    snapshot: Vec<u8>,
    created_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct EventRow {
    position: i64,
    kind: String,
    plan: String,
    period: String,
    task: String,
    assignment: String,
    report: String,
    light: String,
    detail: String,
    created_at: DateTime<Utc>,
}

fn event_kind(kind: &str) -> EventKind {
    match kind {
        "report_signed" => EventKind::ReportSigned,
        "report_submitted" => EventKind::ReportSubmitted,
        "report_returned" => EventKind::ReportReturned,
        "report_accepted" => EventKind::ReportAccepted,
        "item_overdue" => EventKind::ItemOverdue,
        "light_changed" => EventKind::LightChanged,
        _ => EventKind::Unspecified,
    }
}

impl From<EventRow> for Event {
    fn from(e: EventRow) -> Self {
        Event {
            position: e.position,
            kind: event_kind(&e.kind) as i32,
            plan: e.plan,
            period: e.period,
            task: e.task,
            assignment: e.assignment,
            report: e.report,
            light: domain::light_from_str(&e.light) as i32,
            detail: e.detail,
            create_time: Some(timestamp(e.created_at)),
        }
    }
}

/// One event to append.
#[derive(Default)]
struct NewEvent<'a> {
    kind: &'a str,
    plan: &'a str,
    period: &'a str,
    task: &'a str,
    assignment: &'a str,
    report: &'a str,
    light: &'a str,
    detail: &'a str,
}

async fn append_event(tx: &mut Transaction<'_, Postgres>, e: NewEvent<'_>) -> Result<(), ApiError> {
    // Positions come from a sequence; without this lock a later position could commit before an
    // earlier one and a subscriber reading in between would skip the earlier one for good.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('duban.reporting.events'))")
        .execute(&mut **tx)
        .await
        .map_err(api_error)?;
    sqlx::query(
        "INSERT INTO events (kind, plan, period, task, assignment, report, light, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.kind)
    .bind(e.plan)
    .bind(e.period)
    .bind(e.task)
    .bind(e.assignment)
    .bind(e.report)
    .bind(e.light)
    .bind(e.detail)
    .execute(&mut **tx)
    .await
    .map_err(api_error)?;
    Ok(())
}

/// A workflow step with what it carries.
pub enum Change<'a> {
    Update {
        patch: &'a Report,
        paths: &'a [String],
    },
    Sign {
        signer: &'a Actor,
        /// The caller as its credential names it (see `Signature.signed_by`).
        signed_by: &'a str,
    },
    Submit {
        submitter: &'a Actor,
        date: NaiveDate,
    },
    Accept {
        reviewer: &'a Actor,
    },
    Return {
        reviewer: &'a Actor,
        reason: &'a str,
    },
}

impl Change<'_> {
    fn step(&self) -> Step {
        match self {
            Change::Update { .. } => Step::Update,
            Change::Sign { .. } => Step::Sign,
            Change::Submit { .. } => Step::Submit,
            Change::Accept { .. } => Step::Accept,
            Change::Return { .. } => Step::Return,
        }
    }

    fn actor(&self) -> Actor {
        match self {
            Change::Update { patch, .. } => Actor {
                name: patch.drafter.clone(),
                role: String::new(),
            },
            Change::Sign { signer: a, .. }
            | Change::Submit { submitter: a, .. }
            | Change::Accept { reviewer: a }
            | Change::Return { reviewer: a, .. } => (*a).clone(),
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: PgPool,
    /// Wakes event subscribers of this process as soon as an event commits.
    pub events_written: Arc<Notify>,
}

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            events_written: Arc::new(Notify::new()),
        }
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, ApiError> {
        self.pool.begin().await.map_err(api_error)
    }

    /// What a new report of `assignment` for `period` needs before it is written: the id it
    /// will have, and the assignment's latest report for an earlier period (carry-over).
    pub async fn prepare_report(
        &self,
        assignment: &str,
        period: &str,
    ) -> Result<(i64, Option<Report>), ApiError> {
        let row = sqlx::query(&format!(
            "SELECT next.id AS next_id, previous.*
             FROM (SELECT nextval('reports_id_seq') AS id) next
             LEFT JOIN LATERAL (
                 SELECT {COLUMNS} FROM reports WHERE assignment = $1 AND period < $2
                 ORDER BY period DESC LIMIT 1
             ) previous ON true"
        ))
        .bind(assignment)
        .bind(period)
        .fetch_one(&self.pool)
        .await
        .map_err(api_error)?;
        let next: i64 = row.try_get("next_id").map_err(api_error)?;
        let previous = match row.try_get::<Option<i64>, _>("id").map_err(api_error)? {
            Some(_) => Some(Report::from(ReportRow::from_row(&row).map_err(api_error)?)),
            None => None,
        };
        Ok((next, previous))
    }

    /// Stores a new draft under the id [`Store::prepare_report`] gave; `report` is complete
    /// (the assignment's task, unit and role filled in, carried-over fields applied).
    pub async fn create_report(
        &self,
        id: i64,
        request_id: &str,
        print: &[u8],
        report: &Report,
    ) -> Result<Report, ApiError> {
        idempotency::check(request_id)?;
        // What stood in the way of a write may roll back before it is looked at; then the way
        // is clear and the write is tried again.
        for _ in 0..3 {
            if let Some(created) = self.write_report(id, request_id, print, report).await? {
                return Ok(created);
            }
            if let Some(first) = self.refusal(request_id, print, report).await? {
                return Ok(first);
            }
        }
        Err(ApiError::unavailable(
            "the report's period or request_id kept changing hands; retry",
        ))
    }

    /// The report, its first version, its request_id and its audit event, as one statement;
    /// `None` when it wrote nothing because the period has its report or the request_id is
    /// taken.
    async fn write_report(
        &self,
        id: i64,
        request_id: &str,
        print: &[u8],
        report: &Report,
    ) -> Result<Option<Report>, ApiError> {
        let now = audit::now_micros();
        let status = status_column(report);
        let role = domain::role_str(UnitRole::try_from(report.role).unwrap_or_default());
        let percent = i32::try_from(report.percent_complete).unwrap_or(100);
        let figures = figures_json(&report.figures);
        let created = Report::from(ReportRow {
            id,
            assignment: report.assignment.clone(),
            period: report.period.clone(),
            status: status.into(),
            state: "draft".into(),
            progress: report.progress.clone(),
            problems: report.problems.clone(),
            next_steps: report.next_steps.clone(),
            percent_complete: percent,
            drafter: report.drafter.clone(),
            created_at: now,
            task: report.task.clone(),
            unit: report.unit.clone(),
            unit_display_name: report.unit_display_name.clone(),
            role: role.into(),
            figures: figures.clone(),
            signer_name: String::new(),
            signer_role: String::new(),
            signed_at: None,
            signed_by: String::new(),
            submit_date: None,
            reviewer_name: String::new(),
            reviewer_role: String::new(),
            return_reason: String::new(),
            contributions: Vec::new(),
            version: 1,
            updated_at: now,
        });
        let response = created.encode_to_vec();
        let event = audit::Outcome::of(&response);
        let entry = event.as_ref().map(|e| e.entry.clone()).unwrap_or_default();
        let sql = format!(
            "WITH report AS (
                 INSERT INTO reports (id, assignment, period, status, progress, problems,
                                      next_steps, percent_complete, drafter, plan, task, unit,
                                      unit_display_name, role, figures, created_at, updated_at)
                 OVERRIDING SYSTEM VALUE
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                         $16, $16)
                 ON CONFLICT (assignment, period) DO NOTHING
                 RETURNING id
             ), claim AS (
                 INSERT INTO request_log (method, request_id, fingerprint, response)
                 SELECT 'CreateReport', $17, $18, $19 FROM report WHERE $17 <> ''
                 ON CONFLICT (method, request_id) DO NOTHING
                 RETURNING 1
             ), version AS (
                 INSERT INTO report_versions (report, version, action, actor_name, snapshot,
                                              created_at)
                 SELECT id, 1, 'created', $9, $19, $16 FROM report
             ), event AS (
                 INSERT INTO audit_pending ({})
                 SELECT $16, $21, $22, $23, $24, $25, $26, $27, $28 FROM report WHERE $20
             )
             SELECT id FROM report
             WHERE CASE WHEN $17 = '' OR EXISTS (SELECT FROM claim) THEN true
                        ELSE undo_statement('request_id belongs to another request') END",
            audit::PENDING_COLUMNS
        );
        let written = sqlx::query(&sql)
            .bind(id)
            .bind(&report.assignment)
            .bind(&report.period)
            .bind(status)
            .bind(&report.progress)
            .bind(&report.problems)
            .bind(&report.next_steps)
            .bind(percent)
            .bind(&report.drafter)
            .bind(plan_of_task(&report.task))
            .bind(&report.task)
            .bind(&report.unit)
            .bind(&report.unit_display_name)
            .bind(role)
            .bind(&figures)
            .bind(now)
            .bind(request_id)
            .bind(print)
            .bind(&response)
            .bind(event.is_some());
        let written = entry.bind(written).fetch_optional(&self.pool).await;
        match written {
            Ok(Some(_)) => {
                if let Some(event) = event {
                    event.staged();
                }
                Ok(Some(created))
            }
            Ok(None) => Ok(None),
            Err(err) if undone(&err) => Ok(None),
            Err(err) => Err(api_error(err)),
        }
    }

    /// Why a CreateReport statement wrote nothing: the call's request_id was used before (its
    /// first answer, or FAILED_PRECONDITION for another request), or the period has its report
    /// (ALREADY_EXISTS); `None` when neither holds any more (what stood in the way rolled back).
    async fn refusal(
        &self,
        request_id: &str,
        print: &[u8],
        report: &Report,
    ) -> Result<Option<Report>, ApiError> {
        if !request_id.is_empty()
            && let Some(first) =
                idempotency::replay(&self.pool, "CreateReport", request_id, print).await?
        {
            return Ok(Some(first));
        }
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM reports WHERE assignment = $1 AND period = $2")
                .bind(&report.assignment)
                .bind(&report.period)
                .fetch_optional(&self.pool)
                .await
                .map_err(api_error)?;
        if let Some(id) = existing {
            return Err(ApiError::AlreadyExists {
                resource: format!("{} {}", report.assignment, report.period),
                message: format!(
                    "{} already has a report for {}: reports/{id}; change that one with \
                     UpdateReport (duban report edit reports/{id})",
                    report.assignment, report.period
                ),
            });
        }
        Ok(None)
    }

    async fn evidence_of(&self, ids: &[i64]) -> Result<Vec<EvidenceRow>, ApiError> {
        sqlx::query_as(
            "SELECT id, report, filename, media_type, size_bytes, sha256, created_at
             FROM evidence WHERE report = ANY($1) ORDER BY id",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)
    }

    async fn with_evidence(&self, rows: Vec<ReportRow>) -> Result<Vec<Report>, ApiError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut files: HashMap<i64, Vec<Evidence>> = HashMap::new();
        for e in self.evidence_of(&ids).await? {
            files.entry(e.report).or_default().push(e.into());
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let id = r.id;
                let mut report = Report::from(r);
                report.evidence = files.remove(&id).unwrap_or_default();
                report
            })
            .collect())
    }

    pub async fn get_report(&self, id: i64) -> Result<Report, ApiError> {
        let row: Option<ReportRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM reports WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(api_error)?;
        let row = row.ok_or_else(|| ApiError::not_found(format!("reports/{id}")))?;
        Ok(self.with_evidence(vec![row]).await?.remove(0))
    }

    /// A page of reports matching `terms`; with `unit`, only that unit's (by name or display
    /// name).
    pub async fn list_reports(
        &self,
        terms: &[Term],
        unit: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Report>, ApiError> {
        let mut q =
            QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM reports WHERE true"));
        if let Some(after) = after {
            q.push(" AND id > ").push_bind(after);
        }
        push_unit(&mut q, unit);
        for term in terms {
            let value = term.value.clone();
            match term.field.as_str() {
                "assignment" => {
                    names::parse("filter", &value, "assignments")?;
                    q.push(" AND assignment = ").push_bind(value);
                }
                "task" => {
                    names::parse_task("filter", &value)?;
                    q.push(" AND task = ").push_bind(value);
                }
                "plan" => {
                    names::parse("filter", &value, "plans")?;
                    q.push(" AND plan = ").push_bind(value);
                }
                "unit" => {
                    names::parse("filter", &value, "units")?;
                    q.push(" AND unit = ").push_bind(value);
                }
                "period" => {
                    domain::check_period("filter", &value)?;
                    q.push(" AND period = ").push_bind(value);
                }
                "state" => {
                    let state = list::one_of("filter", "state", &value, domain::STATES)?;
                    q.push(" AND state = ")
                        .push_bind(state.to_ascii_lowercase());
                }
                "status" => {
                    let status = list::one_of("filter", "status", &value, domain::STATUSES)?;
                    q.push(" AND status = ")
                        .push_bind(status.to_ascii_lowercase());
                }
                "role" => {
                    let role = list::one_of("filter", "role", &value, domain::ROLES)?;
                    q.push(" AND role = ").push_bind(role.to_ascii_lowercase());
                }
                other => {
                    return Err(ApiError::invalid(
                        "filter",
                        format!("{other:?} is not filterable"),
                    ));
                }
            }
        }
        q.push(" ORDER BY id LIMIT ").push_bind(limit);
        let rows: Vec<ReportRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
        self.with_evidence(rows).await
    }

    /// Every report of a plan, for supervision.
    pub async fn reports_of_plan(&self, plan: &str) -> Result<Vec<Report>, ApiError> {
        let rows: Vec<ReportRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM reports WHERE plan = $1 ORDER BY id"
        ))
        .bind(plan)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        Ok(rows.into_iter().map(Report::from).collect())
    }

    /// One workflow step: checks the state, applies the change, appends a version and the
    /// step's event, all in one transaction.
    pub async fn step(
        &self,
        method: &str,
        request_id: &str,
        print: &[u8],
        id: i64,
        change: Change<'_>,
    ) -> Result<Report, ApiError> {
        let mut tx = self.begin().await?;
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Report>(&mut tx, method, request_id, print).await?
        {
            return Ok(done);
        }
        let row: Option<ReportRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM reports WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(api_error)?;
        let name = format!("reports/{id}");
        let mut report = Report::from(row.ok_or_else(|| ApiError::not_found(name.clone()))?);
        let step = change.step();
        let from = ReportState::try_from(report.state).unwrap_or_default();
        let next = domain::transition(&name, from, step)?;
        let actor = change.actor();
        let mut reason = String::new();
        let mut signed = false;
        let mut signed_by = "";
        let mut submit_date = None;
        match &change {
            Change::Update { patch, paths } => {
                domain::apply_update(&mut report, patch, paths);
                domain::check_figures_belong(&report)?;
                // An edited report is a different report: the head signs again.
                report.signature = None;
            }
            Change::Sign { signed_by: by, .. } => {
                signed = true;
                signed_by = by;
            }
            Change::Submit { date, .. } => {
                submit_date = Some(*date);
                if report.role == UnitRole::Lead as i32 {
                    report.contributions = sqlx::query_scalar(
                        "SELECT 'reports/' || id FROM reports
                         WHERE task = $1 AND period = $2 AND role = 'cooperating'
                           AND state IN ('submitted', 'accepted') ORDER BY id",
                    )
                    .bind(&report.task)
                    .bind(&report.period)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(api_error)?;
                }
            }
            Change::Accept { reviewer } => {
                report.reviewer = Some((*reviewer).clone());
                // the last review accepted it: an earlier return's reason stays in its versions
                report.return_reason.clear();
            }
            Change::Return {
                reviewer,
                reason: why,
            } => {
                report.reviewer = Some((*reviewer).clone());
                report.return_reason = (*why).to_string();
                reason = (*why).to_string();
            }
        }
        let status = ProgressStatus::try_from(report.status)
            .ok()
            .and_then(domain::status_str)
            .unwrap_or("not_started");
        let reviewer = report.reviewer.clone().unwrap_or_default();
        let row: ReportRow = sqlx::query_as(&format!(
            "UPDATE reports SET state = $2, status = $3, progress = $4, problems = $5,
                 next_steps = $6, percent_complete = $7, drafter = $8, figures = $9,
                 signer_name = CASE WHEN $10 THEN $11 WHEN $12 THEN '' ELSE signer_name END,
                 signer_role = CASE WHEN $10 THEN $13 WHEN $12 THEN '' ELSE signer_role END,
                 signed_at = CASE WHEN $10 THEN now() WHEN $12 THEN NULL ELSE signed_at END,
                 signed_by = CASE WHEN $10 THEN $19 WHEN $12 THEN '' ELSE signed_by END,
                 submit_date = COALESCE(submit_date, $14),
                 reviewer_name = $15, reviewer_role = $16, return_reason = $17,
                 contributions = $18, version = version + 1, updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(domain::state_str(next))
        .bind(status)
        .bind(&report.progress)
        .bind(&report.problems)
        .bind(&report.next_steps)
        .bind(i32::try_from(report.percent_complete).unwrap_or(100))
        .bind(&report.drafter)
        .bind(figures_json(&report.figures))
        .bind(signed)
        .bind(&actor.name)
        .bind(step == Step::Update)
        .bind(&actor.role)
        .bind(submit_date)
        .bind(&reviewer.name)
        .bind(&reviewer.role)
        .bind(&report.return_reason)
        .bind(&report.contributions)
        .bind(signed_by)
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        let plan: String = sqlx::query_scalar("SELECT plan FROM reports WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(api_error)?;
        let updated = Report::from(row);
        append_version(&mut tx, &updated, step.action(), &actor, &reason).await?;
        if let Some(kind) = step.event() {
            append_event(
                &mut tx,
                NewEvent {
                    kind,
                    plan: &plan,
                    period: &updated.period,
                    task: &updated.task,
                    assignment: &updated.assignment,
                    report: &updated.name,
                    detail: &reason,
                    ..Default::default()
                },
            )
            .await?;
        }
        audit::record(&mut tx, method, request_id, &updated).await?;
        tx.commit().await.map_err(api_error)?;
        self.events_written.notify_waiters();
        Ok(updated)
    }

    pub async fn list_versions(
        &self,
        id: i64,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ReportVersion>, ApiError> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM reports WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(api_error)?;
        if exists.is_none() {
            return Err(ApiError::not_found(format!("reports/{id}")));
        }
        let rows: Vec<VersionRow> = sqlx::query_as(
            "SELECT version, action, actor_name, actor_role, reason, snapshot, created_at
                 FROM report_versions WHERE report = $1 AND version > $2
                 ORDER BY version LIMIT $3",
        )
        .bind(id)
        .bind(after.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        rows.into_iter()
            .map(
                |VersionRow {
                     version,
                     action,
                     actor_name: name,
                     actor_role: role,
                     reason,
                     snapshot,
                     created_at: at,
                 }| {
                    Ok(ReportVersion {
                        name: format!("reports/{id}/versions/{version}"),
                        version: u32::try_from(version).unwrap_or(0),
                        action,
                        actor: actor(name, role),
                        reason,
                        report: Some(Report::decode(snapshot.as_slice()).map_err(|e| {
                            ApiError::internal(format!("stored report version unreadable: {e}"))
                        })?),
                        create_time: Some(timestamp(at)),
                    })
                },
            )
            .collect()
    }

    pub async fn create_evidence(
        &self,
        request_id: &str,
        print: &[u8],
        report: i64,
        evidence: &Evidence,
        sha256: &str,
    ) -> Result<Evidence, ApiError> {
        let mut tx = self.begin().await?;
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Evidence>(&mut tx, "CreateEvidence", request_id, print).await?
        {
            return Ok(done);
        }
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM reports WHERE id = $1 FOR UPDATE")
                .bind(report)
                .fetch_optional(&mut *tx)
                .await
                .map_err(api_error)?;
        let name = format!("reports/{report}");
        let state =
            domain::state_from_str(&state.ok_or_else(|| ApiError::not_found(name.clone()))?);
        domain::transition(&name, state, Step::Update)?;
        let row: EvidenceRow = sqlx::query_as(
            "INSERT INTO evidence (report, filename, media_type, size_bytes, sha256, content)
             VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING id, report, filename, media_type, size_bytes, sha256, created_at",
        )
        .bind(report)
        .bind(&evidence.filename)
        .bind(&evidence.media_type)
        .bind(i32::try_from(evidence.content.len()).unwrap_or(i32::MAX))
        .bind(sha256)
        .bind(&evidence.content)
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        let created = Evidence::from(row);
        audit::record(&mut tx, "CreateEvidence", request_id, &created).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(created)
    }

    pub async fn get_evidence(&self, report: i64, id: i64) -> Result<Evidence, ApiError> {
        let row: Option<EvidenceRow> = sqlx::query_as(
            "SELECT id, report, filename, media_type, size_bytes, sha256, created_at, content
             FROM evidence WHERE report = $1 AND id = $2",
        )
        .bind(report)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(api_error)?;
        row.map(Evidence::from)
            .ok_or_else(|| ApiError::not_found(format!("reports/{report}/evidence/{id}")))
    }

    /// Stores a new extension request on `assignment` (whose plan and unit it records).
    pub async fn create_extension(
        &self,
        request_id: &str,
        print: &[u8],
        e: &Extension,
        due: NaiveDate,
        assignment: &Assignment,
    ) -> Result<Extension, ApiError> {
        let mut tx = self.begin().await?;
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Extension>(&mut tx, "CreateExtension", request_id, print).await?
        {
            return Ok(done);
        }
        let requester = e.requester.clone().unwrap_or_default();
        let row: ExtensionRow = sqlx::query_as(&format!(
            "INSERT INTO extensions (assignment, period, requested_due_date, reason,
                                     requester_name, requester_role, plan, unit,
                                     unit_display_name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {EXTENSION_COLUMNS}"
        ))
        .bind(&e.assignment)
        .bind(&e.period)
        .bind(due)
        .bind(&e.reason)
        .bind(&requester.name)
        .bind(&requester.role)
        .bind(
            names::plan_of(&assignment.task)
                .map(names::plan)
                .unwrap_or_default(),
        )
        .bind(&assignment.unit)
        .bind(&assignment.unit_display_name)
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        let created = Extension::from(row);
        audit::record(&mut tx, "CreateExtension", request_id, &created).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(created)
    }

    /// The plan extension `id` belongs to; empty for an extension that records none.
    pub async fn extension_plan(&self, id: i64) -> Result<String, ApiError> {
        sqlx::query_scalar("SELECT plan FROM extensions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(api_error)?
            .ok_or_else(|| ApiError::not_found(format!("extensions/{id}")))
    }

    pub async fn decide_extension(
        &self,
        request_id: &str,
        print: &[u8],
        id: i64,
        approve: bool,
        decider: &Actor,
        reason: &str,
    ) -> Result<Extension, ApiError> {
        let mut tx = self.begin().await?;
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Extension>(&mut tx, "DecideExtension", request_id, print).await?
        {
            return Ok(done);
        }
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM extensions WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(api_error)?;
        let name = format!("extensions/{id}");
        match state.as_deref() {
            None => return Err(ApiError::not_found(name)),
            Some("pending") => {}
            Some(other) => {
                return Err(ApiError::FailedPrecondition {
                    reason: "EXTENSION_DECIDED",
                    message: format!("{name} was already {other}"),
                });
            }
        }
        let row: ExtensionRow = sqlx::query_as(&format!(
            "UPDATE extensions SET state = $2, decider_name = $3, decider_role = $4,
                 decision_reason = $5, decided_at = now()
             WHERE id = $1 RETURNING {EXTENSION_COLUMNS}"
        ))
        .bind(id)
        .bind(if approve { "approved" } else { "rejected" })
        .bind(&decider.name)
        .bind(&decider.role)
        .bind(reason)
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        let decided = Extension::from(row);
        audit::record(&mut tx, "DecideExtension", request_id, &decided).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(decided)
    }

    /// A page of extensions matching `terms`; with `unit`, only that unit's (by name or display
    /// name).
    pub async fn list_extensions(
        &self,
        terms: &[Term],
        unit: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PlannedExtension>, ApiError> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT plan, {EXTENSION_COLUMNS} FROM extensions WHERE true"
        ));
        if let Some(after) = after {
            q.push(" AND id > ").push_bind(after);
        }
        push_unit(&mut q, unit);
        for term in terms {
            let value = term.value.clone();
            match term.field.as_str() {
                "assignment" => {
                    names::parse("filter", &value, "assignments")?;
                    q.push(" AND assignment = ").push_bind(value);
                }
                "period" => {
                    domain::check_period("filter", &value)?;
                    q.push(" AND period = ").push_bind(value);
                }
                "state" => {
                    // EXTENSION_APPROVED as the API spells it, or APPROVED
                    let upper = value.to_ascii_uppercase();
                    let bare = upper.strip_prefix("EXTENSION_").unwrap_or(&upper);
                    let state = list::one_of("filter", "state", bare, domain::EXTENSION_STATES)?;
                    q.push(" AND state = ")
                        .push_bind(state.to_ascii_lowercase());
                }
                other => {
                    return Err(ApiError::invalid(
                        "filter",
                        format!("{other:?} is not filterable"),
                    ));
                }
            }
        }
        q.push(" ORDER BY id LIMIT ").push_bind(limit);
        let rows: Vec<PlannedExtensionRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
        Ok(rows
            .into_iter()
            .map(|r| PlannedExtension {
                plan: r.plan,
                extension: r.row.into(),
            })
            .collect())
    }

    /// Approved extensions of these assignments: the latest decision per assignment and period.
    pub async fn approved_extensions(
        &self,
        assignments: &[String],
    ) -> Result<HashMap<(String, String), NaiveDate>, ApiError> {
        let rows: Vec<(String, String, NaiveDate)> = sqlx::query_as(
            "SELECT DISTINCT ON (assignment, period) assignment, period, requested_due_date
             FROM extensions WHERE state = 'approved' AND assignment = ANY($1)
             ORDER BY assignment, period, decided_at DESC",
        )
        .bind(assignments)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        Ok(rows.into_iter().map(|(a, p, d)| ((a, p), d)).collect())
    }

    pub async fn settings(&self, plan: &str) -> Result<Settings, ApiError> {
        let row: Option<(i32, i32, i32)> = sqlx::query_as(
            "SELECT red_after_overdue_days, red_after_behind_periods, pace_tolerance_percent
             FROM supervision_settings WHERE plan = $1",
        )
        .bind(plan)
        .fetch_optional(&self.pool)
        .await
        .map_err(api_error)?;
        Ok(row.map_or_else(Settings::default, |(a, b, c)| Settings {
            red_after_overdue_days: a,
            red_after_behind_periods: b,
            pace_tolerance_percent: c,
        }))
    }

    pub async fn update_settings(
        &self,
        request_id: &str,
        print: &[u8],
        plan: &str,
        s: &SupervisionSettings,
    ) -> Result<SupervisionSettings, ApiError> {
        let mut tx = self.begin().await?;
        if let idempotency::Replay::Done(done) = idempotency::claim::<SupervisionSettings>(
            &mut tx,
            "UpdateSupervisionSettings",
            request_id,
            print,
        )
        .await?
        {
            return Ok(done);
        }
        sqlx::query(
            "INSERT INTO supervision_settings (plan, red_after_overdue_days,
                 red_after_behind_periods, pace_tolerance_percent)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (plan) DO UPDATE SET red_after_overdue_days = $2,
                 red_after_behind_periods = $3, pace_tolerance_percent = $4, updated_at = now()",
        )
        .bind(plan)
        .bind(s.red_after_overdue_days)
        .bind(s.red_after_behind_periods)
        .bind(s.pace_tolerance_percent)
        .execute(&mut *tx)
        .await
        .map_err(api_error)?;
        audit::record(&mut tx, "UpdateSupervisionSettings", request_id, s).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(s.clone())
    }

    /// Records what supervision saw on `as_of` and appends an event for every task whose light
    /// changed and every item newly overdue. An observation older than the last one recorded
    /// for the plan changes nothing: events follow the calendar forwards only.
    pub async fn observe(
        &self,
        plan: &str,
        as_of: NaiveDate,
        period_lights: Option<(&str, &[TaskLight])>,
        overdue: &[OverdueItem],
    ) -> Result<(), ApiError> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('duban.reporting.observe.' || $1))")
            .bind(plan)
            .execute(&mut *tx)
            .await
            .map_err(api_error)?;
        let last: Option<NaiveDate> =
            sqlx::query_scalar("SELECT as_of FROM observed_through WHERE plan = $1")
                .bind(plan)
                .fetch_optional(&mut *tx)
                .await
                .map_err(api_error)?;
        if last.is_some_and(|last| as_of < last) {
            return Ok(());
        }
        let mut wrote = false;
        if let Some((period, lights)) = period_lights {
            for l in lights {
                let light = domain::light_str(Light::try_from(l.light).unwrap_or_default());
                let before: Option<String> = sqlx::query_scalar(
                    "SELECT value FROM observed
                     WHERE plan = $1 AND period = $2 AND kind = 'light' AND subject = $3",
                )
                .bind(plan)
                .bind(period)
                .bind(&l.task)
                .fetch_optional(&mut *tx)
                .await
                .map_err(api_error)?;
                if before.as_deref().unwrap_or("none") == light {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO observed (plan, period, kind, subject, value)
                     VALUES ($1, $2, 'light', $3, $4)
                     ON CONFLICT (plan, period, kind, subject) DO UPDATE SET value = $4",
                )
                .bind(plan)
                .bind(period)
                .bind(&l.task)
                .bind(light)
                .execute(&mut *tx)
                .await
                .map_err(api_error)?;
                append_event(
                    &mut tx,
                    NewEvent {
                        kind: "light_changed",
                        plan,
                        period,
                        task: &l.task,
                        light,
                        detail: &l.reasons.join("；"),
                        ..Default::default()
                    },
                )
                .await?;
                wrote = true;
            }
        }
        for o in overdue {
            let inserted = sqlx::query(
                "INSERT INTO observed (plan, period, kind, subject, value)
                 VALUES ($1, $2, 'overdue', $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(plan)
            .bind(&o.period)
            .bind(&o.assignment)
            .bind(&o.due_date)
            .execute(&mut *tx)
            .await
            .map_err(api_error)?
            .rows_affected();
            if inserted == 1 {
                append_event(
                    &mut tx,
                    NewEvent {
                        kind: "item_overdue",
                        plan,
                        period: &o.period,
                        task: &o.task,
                        assignment: &o.assignment,
                        report: &o.report,
                        detail: &format!("{}应于{}前报送", o.unit_display_name, o.due_date),
                        ..Default::default()
                    },
                )
                .await?;
                wrote = true;
            }
        }
        sqlx::query(
            "INSERT INTO observed_through (plan, as_of) VALUES ($1, $2)
             ON CONFLICT (plan) DO UPDATE SET as_of = $2",
        )
        .bind(plan)
        .bind(as_of)
        .execute(&mut *tx)
        .await
        .map_err(api_error)?;
        tx.commit().await.map_err(api_error)?;
        if wrote {
            self.events_written.notify_waiters();
        }
        Ok(())
    }

    pub async fn events_after(
        &self,
        after: i64,
        plan: &str,
        limit: i64,
    ) -> Result<Vec<Event>, ApiError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT position, kind, plan, period, task, assignment, report, light, detail,
                    created_at
             FROM events WHERE position > $1 AND ($2 = '' OR plan = $2)
             ORDER BY position LIMIT $3",
        )
        .bind(after)
        .bind(plan)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        Ok(rows.into_iter().map(Event::from).collect())
    }
}

/// Limits a query of reports or extensions to `unit`'s rows: their unit or its display name, the
/// two names a unit's token may carry.
fn push_unit(q: &mut QueryBuilder<'_, Postgres>, unit: Option<&str>) {
    if let Some(unit) = unit {
        q.push(" AND (unit = ")
            .push_bind(unit.to_string())
            .push(" OR unit_display_name = ")
            .push_bind(unit.to_string())
            .push(")");
    }
}

async fn append_version(
    tx: &mut Transaction<'_, Postgres>,
    report: &Report,
    action: &str,
    actor: &Actor,
    reason: &str,
) -> Result<(), ApiError> {
    let id = names::parse("name", &report.name, "reports")?;
    sqlx::query(
        "INSERT INTO report_versions (report, version, action, actor_name, actor_role, reason,
                                      snapshot)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(i32::try_from(report.version).unwrap_or(i32::MAX))
    .bind(action)
    .bind(&actor.name)
    .bind(&actor.role)
    .bind(reason)
    .bind(report.encode_to_vec())
    .execute(&mut **tx)
    .await
    .map_err(api_error)?;
    Ok(())
}

impl Store {
    /// The next report_accepted events past the figures cursor, with their reports' figures.
    pub async fn accepted_figures_after_cursor(
        &self,
        limit: i64,
    ) -> Result<Vec<AcceptedFigures>, sqlx::Error> {
        let rows: Vec<(i64, String, serde_json::Value)> = sqlx::query_as(
            "SELECT e.position, e.report, coalesce(r.figures, '[]'::jsonb)
             FROM events e LEFT JOIN reports r ON 'reports/' || r.id = e.report
             WHERE e.kind = 'report_accepted'
               AND e.position > (SELECT position FROM figures_cursor)
             ORDER BY e.position LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(position, report, figures)| AcceptedFigures {
                position,
                report,
                figures: serde_json::from_value(figures).unwrap_or_default(),
            })
            .collect())
    }

    pub async fn advance_figures_cursor(&self, position: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE figures_cursor SET position = greatest(position, $1)")
            .bind(position)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
