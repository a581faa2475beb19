//! All SQL of the assignments service.

use chrono::{DateTime, Utc};
use duban_db::{api_error, idempotency};
use duban_kit::{
    audit,
    list::{self, Term},
    names,
    plans::LEVELS,
};
use duban_proto::{
    ApiError,
    v1::{
        Assignment, CreateAssignmentsRequest, CreateAssignmentsResponse, ReportingSchedule, Unit,
        UnitRole,
    },
};
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder, Transaction};

use crate::{
    domain::{self, StoredSchedule},
    registry as spellings,
    schedule::{Period, Spec},
};

pub(crate) use duban_db::timestamp;

mod registry;

#[derive(FromRow)]
struct UnitRow {
    id: i64,
    display_name: String,
    level: String,
    kind: String,
    provisional: bool,
    created_at: DateTime<Utc>,
    aliases: Vec<String>,
    expands: String,
    merged_into: Option<i64>,
}

impl From<UnitRow> for Unit {
    fn from(r: UnitRow) -> Self {
        Unit {
            name: format!("units/{}", r.id),
            aliases: r
                .aliases
                .into_iter()
                .filter(|a| *a != r.display_name)
                .collect(),
            display_name: r.display_name,
            level: r.level,
            kind: r.kind,
            provisional: r.provisional,
            create_time: Some(timestamp(r.created_at)),
            merged_into: r
                .merged_into
                .map(|id| format!("units/{id}"))
                .unwrap_or_default(),
            expands: r.expands,
        }
    }
}

const UNIT_COLUMNS: &str = "u.id, u.display_name, u.level, u.kind, u.provisional, u.created_at,
    u.expands, u.merged_into,
    ARRAY(SELECT a.alias FROM unit_aliases a WHERE a.unit_id = u.id ORDER BY a.alias) AS aliases";

#[derive(FromRow)]
struct AssignmentRow {
    id: i64,
    task: String,
    unit_id: i64,
    display_name: String,
    written_name: String,
    role: String,
    level: String,
    deadline: String,
    created_at: DateTime<Utc>,
}

impl From<AssignmentRow> for Assignment {
    fn from(r: AssignmentRow) -> Self {
        Assignment {
            name: format!("assignments/{}", r.id),
            task: r.task,
            unit: format!("units/{}", r.unit_id),
            unit_display_name: r.display_name,
            written_name: r.written_name,
            role: domain::role_from_str(&r.role) as i32,
            level: r.level,
            deadline: r.deadline,
            create_time: Some(timestamp(r.created_at)),
        }
    }
}

const ASSIGNMENT_COLUMNS: &str = "a.id, a.task, a.unit_id, u.display_name, a.written_name, a.role,
    a.level, a.deadline, a.created_at";

pub struct Store {
    pool: PgPool,
}

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn create_assignments(
        &self,
        req: &CreateAssignmentsRequest,
    ) -> Result<CreateAssignmentsResponse, ApiError> {
        let (plan, _) = names::parse_task("task", &req.task)?;
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        let print = idempotency::fingerprint(req);
        if let idempotency::Replay::Done(done) = idempotency::claim::<CreateAssignmentsResponse>(
            &mut tx,
            "CreateAssignments",
            &req.request_id,
            &print,
        )
        .await?
        {
            return Ok(done);
        }
        let base: i32 = sqlx::query_scalar(
            "SELECT coalesce(max(position) + 1, 0) FROM assignments WHERE task = $1",
        )
        .bind(&req.task)
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        let mut ids = Vec::with_capacity(req.assignments.len());
        for (i, input) in req.assignments.iter().enumerate() {
            let unit_id =
                resolve_unit(&mut tx, &input.written_name, &input.normalized_name).await?;
            let role = UnitRole::try_from(input.role)
                .ok()
                .and_then(domain::role_str)
                .unwrap_or("responsible");
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO assignments (task, plan_id, unit_id, written_name, role, level, deadline, position)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(&req.task)
            .bind(plan)
            .bind(unit_id)
            .bind(input.written_name.trim())
            .bind(role)
            .bind(&input.level)
            .bind(&input.deadline)
            .bind(base.saturating_add(i32::try_from(i).unwrap_or(i32::MAX)))
            .fetch_one(&mut *tx)
            .await
            .map_err(api_error)?;
            ids.push(id);
        }
        let rows: Vec<AssignmentRow> = sqlx::query_as(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a JOIN units u ON u.id = a.unit_id
             WHERE a.id = ANY($1) ORDER BY a.position"
        ))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(api_error)?;
        let response = CreateAssignmentsResponse {
            assignments: rows.into_iter().map(Assignment::from).collect(),
        };
        audit::record(&mut tx, "CreateAssignments", &req.request_id, &response).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(response)
    }

    pub async fn get_assignment(&self, id: i64) -> Result<Assignment, ApiError> {
        let row: Option<AssignmentRow> = sqlx::query_as(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a JOIN units u ON u.id = a.unit_id WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(api_error)?;
        row.map(Assignment::from)
            .ok_or_else(|| ApiError::not_found(format!("assignments/{id}")))
    }

    pub async fn get_unit(&self, id: i64) -> Result<Unit, ApiError> {
        let row: Option<UnitRow> = sqlx::query_as(&format!(
            "SELECT {UNIT_COLUMNS} FROM units u WHERE u.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(api_error)?;
        row.map(Unit::from)
            .ok_or_else(|| ApiError::not_found(format!("units/{id}")))
    }

    pub async fn list_units(
        &self,
        terms: &[Term],
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Unit>, ApiError> {
        let mut q =
            QueryBuilder::<Postgres>::new(format!("SELECT {UNIT_COLUMNS} FROM units u WHERE true"));
        if let Some(after) = after {
            q.push(" AND u.id > ").push_bind(after);
        }
        for term in terms {
            match term.field.as_str() {
                "provisional" => {
                    q.push(" AND u.provisional = ")
                        .push_bind(duban_kit::list::parse_bool(&term.value)?);
                }
                "level" => {
                    let level = list::one_of("filter", "level", &term.value, LEVELS)?;
                    q.push(" AND u.level = ").push_bind(level);
                }
                "kind" => {
                    let kind = list::one_of("filter", "kind", &term.value, domain::KINDS)?;
                    q.push(" AND u.kind = ").push_bind(kind);
                }
                "display_name" => {
                    q.push(" AND EXISTS (SELECT 1 FROM unit_aliases a WHERE a.unit_id = u.id AND a.alias = ")
                        .push_bind(domain::normalize(&term.value))
                        .push(")");
                }
                other => {
                    return Err(ApiError::invalid(
                        "filter",
                        format!("{other:?} is not filterable"),
                    ));
                }
            }
        }
        q.push(" ORDER BY u.id LIMIT ").push_bind(limit);
        let rows: Vec<UnitRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
        Ok(rows.into_iter().map(Unit::from).collect())
    }

    pub async fn list_assignments(
        &self,
        terms: &[Term],
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Assignment>, ApiError> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a JOIN units u ON u.id = a.unit_id WHERE true"
        ));
        if let Some(after) = after {
            q.push(" AND a.id > ").push_bind(after);
        }
        for term in terms {
            match term.field.as_str() {
                "unit" => {
                    let id = names::parse("filter", &term.value, "units")?;
                    q.push(" AND a.unit_id = ").push_bind(id);
                }
                "unit_name" => {
                    q.push(" AND a.unit_id = (SELECT unit_id FROM unit_aliases WHERE alias = ")
                        .push_bind(domain::normalize(&term.value))
                        .push(")");
                }
                "plan" => {
                    let id = names::parse("filter", &term.value, "plans")?;
                    q.push(" AND a.plan_id = ").push_bind(id);
                }
                "task" => {
                    names::parse_task("filter", &term.value)?;
                    q.push(" AND a.task = ").push_bind(term.value.clone());
                }
                "role" => {
                    let role = list::one_of("filter", "role", &term.value, domain::ROLES)?;
                    q.push(" AND a.role = ")
                        .push_bind(role.to_ascii_lowercase());
                }
                "level" => {
                    let level = list::one_of("filter", "level", &term.value, LEVELS)?;
                    q.push(" AND a.level = ").push_bind(level);
                }
                other => {
                    return Err(ApiError::invalid(
                        "filter",
                        format!("{other:?} is not filterable"),
                    ));
                }
            }
        }
        q.push(" ORDER BY a.id LIMIT ").push_bind(limit);
        let rows: Vec<AssignmentRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
        Ok(rows.into_iter().map(Assignment::from).collect())
    }
}

#[derive(FromRow)]
struct ScheduleRow {
    plan_id: i64,
    year: i32,
    rule: String,
    frequency: String,
    first_period: String,
    last_period: String,
    due_day: i32,
    due_month_after: i32,
    updated_at: DateTime<Utc>,
}

impl ScheduleRow {
    fn into_domain(self) -> Result<(StoredSchedule, DateTime<Utc>), ApiError> {
        let corrupt = || {
            ApiError::internal(format!(
                "stored schedule of plans/{} is invalid",
                self.plan_id
            ))
        };
        let spec = Spec {
            frequency: domain::frequency_from_str(&self.frequency).ok_or_else(corrupt)?,
            first: Period::parse(&self.first_period).ok_or_else(corrupt)?,
            last: Period::parse(&self.last_period).ok_or_else(corrupt)?,
            due_day: u32::try_from(self.due_day).map_err(|_| corrupt())?,
            due_month_after: u32::try_from(self.due_month_after).map_err(|_| corrupt())?,
        };
        Ok((
            StoredSchedule {
                plan: self.plan_id,
                year: self.year,
                rule: self.rule,
                spec,
            },
            self.updated_at,
        ))
    }
}

impl Store {
    pub async fn get_schedule(
        &self,
        plan: i64,
    ) -> Result<Option<(StoredSchedule, DateTime<Utc>)>, ApiError> {
        let row: Option<ScheduleRow> = sqlx::query_as("SELECT * FROM schedules WHERE plan_id = $1")
            .bind(plan)
            .fetch_optional(&self.pool)
            .await
            .map_err(api_error)?;
        row.map(ScheduleRow::into_domain).transpose()
    }

    /// Reads the schedule (locked), lets `change` compute the new one, stores it.
    pub async fn update_schedule(
        &self,
        plan: i64,
        request_id: &str,
        fingerprint: &[u8],
        change: impl FnOnce(Option<StoredSchedule>) -> Result<StoredSchedule, ApiError>,
    ) -> Result<ReportingSchedule, ApiError> {
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        if let idempotency::Replay::Done(done) = idempotency::claim::<ReportingSchedule>(
            &mut tx,
            "UpdateReportingSchedule",
            request_id,
            fingerprint,
        )
        .await?
        {
            return Ok(done);
        }
        let row: Option<ScheduleRow> =
            sqlx::query_as("SELECT * FROM schedules WHERE plan_id = $1 FOR UPDATE")
                .bind(plan)
                .fetch_optional(&mut *tx)
                .await
                .map_err(api_error)?;
        let current = row
            .map(ScheduleRow::into_domain)
            .transpose()?
            .map(|(s, _)| s);
        let next = change(current)?;
        let updated_at: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO schedules (plan_id, year, rule, frequency, first_period, last_period, due_day, due_month_after)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (plan_id) DO UPDATE SET year = $2, rule = $3, frequency = $4, first_period = $5,
                 last_period = $6, due_day = $7, due_month_after = $8, updated_at = now()
             RETURNING updated_at",
        )
        .bind(plan)
        .bind(next.year)
        .bind(&next.rule)
        .bind(domain::frequency_str(next.spec.frequency))
        .bind(next.spec.first.to_string())
        .bind(next.spec.last.to_string())
        .bind(i32::try_from(next.spec.due_day).unwrap_or(10))
        .bind(i32::try_from(next.spec.due_month_after).unwrap_or(1))
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        let response = domain::schedule_to_proto(&next, Some(timestamp(updated_at)));
        audit::record(&mut tx, "UpdateReportingSchedule", request_id, &response).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(response)
    }
}

/// The unit a written name denotes; an unknown name becomes a provisional unit for review.
async fn resolve_unit(
    tx: &mut Transaction<'_, Postgres>,
    written: &str,
    normalized: &str,
) -> Result<i64, ApiError> {
    let key = domain::normalize(written);
    let mut keys = vec![key.clone()];
    keys.extend(spellings::variants(&key));
    let normalized = domain::normalize(normalized);
    if !normalized.is_empty() && normalized != key {
        keys.extend(spellings::variants(&normalized));
        keys.push(normalized);
    }
    let known: Option<i64> = sqlx::query_scalar(
        "SELECT unit_id FROM unit_aliases WHERE alias = ANY($1) ORDER BY alias = $2 DESC LIMIT 1",
    )
    .bind(&keys)
    .bind(&key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(api_error)?;
    if let Some(id) = known {
        // Remember this spelling, so the next lookup is exact.
        sqlx::query("INSERT INTO unit_aliases (alias, unit_id) VALUES ($1, $2) ON CONFLICT (alias) DO NOTHING")
            .bind(&key)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(api_error)?;
        return Ok(id);
    }
    // A concurrent delivery may create the same unit: the unique display name decides the winner.
    sqlx::query(
        "INSERT INTO units (display_name, level, kind, provisional) VALUES ($1, $2, $3, true)
         ON CONFLICT (display_name) DO NOTHING",
    )
    .bind(&key)
    .bind(domain::level_of(&key))
    .bind(domain::kind_of(&key))
    .execute(&mut **tx)
    .await
    .map_err(api_error)?;
    let id: i64 = sqlx::query_scalar("SELECT id FROM units WHERE display_name = $1")
        .bind(&key)
        .fetch_one(&mut **tx)
        .await
        .map_err(api_error)?;
    sqlx::query(
        "INSERT INTO unit_aliases (alias, unit_id) VALUES ($1, $2) ON CONFLICT (alias) DO NOTHING",
    )
    .bind(&key)
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(api_error)?;
    Ok(id)
}
