//! All SQL of the targets service.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use duban_db::{api_error, idempotency};
use duban_kit::{
    audit, calendar,
    list::{self, Op, Term},
    names,
    plans::LEVELS,
};
use duban_proto::{
    ApiError,
    v1::{Comparator, CreatePlanRequest, Indicator, Plan, Quantity, SourceSpan, Task},
};
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};

use crate::{
    cache::TaskCache,
    domain::{self, TaskEdit},
    indicators,
};

pub mod observations;

pub(crate) use duban_db::timestamp;

#[derive(FromRow)]
struct PlanRow {
    id: i64,
    title: String,
    year: i32,
    issuer: String,
    level: String,
    source_report: String,
    source_document: String,
    attachment: String,
    reporting_rule: String,
    created_at: DateTime<Utc>,
    task_count: i64,
}

impl From<PlanRow> for Plan {
    fn from(r: PlanRow) -> Self {
        Plan {
            name: names::plan(r.id),
            title: r.title,
            year: r.year,
            issuer: r.issuer,
            level: r.level,
            source_report: r.source_report,
            source_document: r.source_document,
            attachment: r.attachment,
            reporting_rule: r.reporting_rule,
            task_count: u32::try_from(r.task_count).unwrap_or(u32::MAX),
            create_time: Some(timestamp(r.created_at)),
        }
    }
}

const PLAN_COLUMNS: &str =
    "p.id, p.title, p.year, p.issuer, p.level, p.source_report, p.source_document,
    p.attachment, p.reporting_rule, p.created_at,
    (SELECT count(*) FROM tasks t WHERE t.plan_id = p.id) AS task_count";

#[derive(FromRow)]
struct TaskRow {
    id: i64,
    plan_id: i64,
    number: String,
    section_path: Vec<String>,
    category: String,
    text: String,
    span_document: String,
    span_start: i64,
    span_end: i64,
    deadline: String,
    status: String,
    warnings: Vec<String>,
    year: i32,
    revision: i32,
    updated_at: DateTime<Utc>,
}

/// A task joined with one of its indicators; the indicator columns are NULL for a task without
/// any. Reading tasks and indicators in one query saves a round trip per read.
#[derive(FromRow)]
struct TaskIndicatorRow {
    #[sqlx(flatten)]
    task: TaskRow,
    #[sqlx(flatten)]
    indicator: JoinedIndicator,
}

#[derive(FromRow)]
struct JoinedIndicator {
    i_id: Option<i64>,
    i_phrase: Option<String>,
    i_metric: Option<String>,
    i_value: Option<f64>,
    i_value_max: Option<f64>,
    i_unit: Option<String>,
    i_comparator: Option<String>,
    i_warnings: Option<Vec<String>>,
    i_metric_key: Option<String>,
    i_year: Option<i32>,
}

/// The select list of a [`TaskIndicatorRow`] over `tasks t LEFT JOIN indicators i`.
const TASK_INDICATOR_COLUMNS: &str = "t.id, t.plan_id, t.number, t.section_path, t.category,
    t.text, t.span_document, t.span_start, t.span_end, t.deadline, t.status, t.warnings, t.year,
    t.revision, t.updated_at, i.id AS i_id, i.phrase AS i_phrase, i.metric AS i_metric,
    i.value AS i_value, i.value_max AS i_value_max, i.unit AS i_unit,
    i.comparator AS i_comparator, i.warnings AS i_warnings, i.metric_key AS i_metric_key,
    i.year AS i_year";

impl JoinedIndicator {
    fn into_indicator(self, task_name: &str) -> Option<Indicator> {
        Some(Indicator {
            name: format!("{task_name}/indicators/{}", self.i_id?),
            quantity: Some(Quantity {
                phrase: self.i_phrase.unwrap_or_default(),
                metric: self.i_metric.unwrap_or_default(),
                value: self.i_value.unwrap_or_default(),
                value_max: self.i_value_max,
                unit: self.i_unit.unwrap_or_default(),
                comparator: domain::comparator_from_str(&self.i_comparator.unwrap_or_default())
                    as i32,
            }),
            warnings: self.i_warnings.unwrap_or_default(),
            metric_key: self.i_metric_key.unwrap_or_default(),
            year: self.i_year.unwrap_or_default(),
        })
    }
}

/// Tasks with their ids, from joined rows ordered by task (then indicator position).
fn tasks_from_rows(rows: Vec<TaskIndicatorRow>) -> Vec<(i64, Task)> {
    let mut tasks: Vec<(i64, Task)> = Vec::new();
    for TaskIndicatorRow { task, indicator } in rows {
        if tasks.last().is_none_or(|(id, _)| *id != task.id) {
            tasks.push((task.id, task_from_row(task)));
        }
        if let Some((_, current)) = tasks.last_mut()
            && let Some(indicator) = indicator.into_indicator(&current.name)
        {
            current.indicators.push(indicator);
        }
    }
    tasks
}

fn task_from_row(r: TaskRow) -> Task {
    let name = names::task(r.plan_id, r.id);
    // what the deadline means is read from it each time, so an edited deadline says so too
    let due = calendar::due(&r.deadline, r.year);
    Task {
        indicators: Vec::new(),
        name,
        number: r.number,
        section_path: r.section_path,
        category: r.category,
        text: r.text,
        source_span: (!r.span_document.is_empty()).then(|| SourceSpan {
            document: r.span_document,
            start: u64::try_from(r.span_start).unwrap_or(0),
            end: u64::try_from(r.span_end).unwrap_or(0),
        }),
        deadline: r.deadline,
        status: domain::status_from_str(&r.status) as i32,
        warnings: r.warnings,
        year: r.year,
        update_time: Some(timestamp(r.updated_at)),
        revision: u32::try_from(r.revision).unwrap_or(0),
        actuals: Vec::new(),
        due_date: due.date.map(|d| d.to_string()).unwrap_or_default(),
        ongoing: due.ongoing,
    }
}

/// One task with its indicators, read through `executor`.
async fn fetch_task<'e, E>(executor: E, plan: i64, task: i64) -> Result<Task, ApiError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let rows: Vec<TaskIndicatorRow> = sqlx::query_as(&format!(
        "SELECT {TASK_INDICATOR_COLUMNS}
         FROM tasks t LEFT JOIN indicators i ON i.task_id = t.id
         WHERE t.plan_id = $1 AND t.id = $2
         ORDER BY i.position"
    ))
    .bind(plan)
    .bind(task)
    .fetch_all(executor)
    .await
    .map_err(api_error)?;
    tasks_from_rows(rows)
        .pop()
        .map(|(_, task)| task)
        .ok_or_else(|| ApiError::not_found(names::task(plan, task)))
}

pub struct Store {
    pool: PgPool,
    cache: Arc<TaskCache>,
}

impl Store {
    pub fn new(pool: PgPool, cache: Arc<TaskCache>) -> Self {
        Self { pool, cache }
    }

    /// Creates the plan, its tasks and indicators in one transaction, or nothing at all.
    pub async fn create_plan(&self, req: &CreatePlanRequest) -> Result<Plan, ApiError> {
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        let print = idempotency::fingerprint(req);
        if let idempotency::Replay::Done(plan) =
            idempotency::claim::<Plan>(&mut tx, "CreatePlan", &req.request_id, &print).await?
        {
            return Ok(plan);
        }
        let plan = req.plan.clone().unwrap_or_default();
        let plan_id: i64 = sqlx::query_scalar(
            "INSERT INTO plans (title, year, issuer, level, source_report, source_document,
                                attachment, reporting_rule)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&plan.title)
        .bind(plan.year)
        .bind(&plan.issuer)
        .bind(&plan.level)
        .bind(&plan.source_report)
        .bind(&plan.source_document)
        .bind(&plan.attachment)
        .bind(&plan.reporting_rule)
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        for (position, task) in req.tasks.iter().enumerate() {
            let span = task.source_span.clone().unwrap_or_default();
            let task_id: i64 = sqlx::query_scalar(
                "INSERT INTO tasks (plan_id, position, number, section_path, category, text,
                                    span_document, span_start, span_end, deadline, warnings, year)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(plan_id)
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .bind(&task.number)
            .bind(&task.section_path)
            .bind(&task.category)
            .bind(&task.text)
            .bind(&span.document)
            .bind(i64::try_from(span.start).unwrap_or(i64::MAX))
            .bind(i64::try_from(span.end).unwrap_or(i64::MAX))
            .bind(&task.deadline)
            .bind(&task.warnings)
            .bind(task.year)
            .fetch_one(&mut *tx)
            .await
            .map_err(api_error)?;
            let year = if task.year > 0 { task.year } else { plan.year };
            let mut own = Vec::with_capacity(task.indicators.len());
            for (position, indicator) in task.indicators.iter().enumerate() {
                let q = indicator.quantity.clone().unwrap_or_default();
                let comparator = Comparator::try_from(q.comparator)
                    .ok()
                    .and_then(domain::comparator_str)
                    .unwrap_or("equal");
                let indicator_id: i64 = sqlx::query_scalar(
                    "INSERT INTO indicators (task_id, position, phrase, metric, value, value_max,
                                             unit, comparator, warnings, metric_key, year)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(task_id)
                .bind(i32::try_from(position).unwrap_or(i32::MAX))
                .bind(&q.phrase)
                .bind(&q.metric)
                .bind(q.value)
                .bind(q.value_max)
                .bind(&q.unit)
                .bind(comparator)
                .bind(&indicator.warnings)
                .bind(indicators::metric_key(&q.metric, &q.unit))
                .bind(year)
                .fetch_one(&mut *tx)
                .await
                .map_err(api_error)?;
                own.push((indicator_id, q));
            }
            let outcomes = observations::Outcomes {
                task_id,
                year,
                issuer: &plan.issuer,
                plan_id,
                source: &plan.source_document,
                span: &span,
            };
            observations::record_outcomes(&mut tx, &outcomes, &own, &task.actuals).await?;
        }
        let created = fetch_plan(&mut *tx, plan_id)
            .await?
            .ok_or_else(|| ApiError::internal("plan vanished inside its own transaction"))?;
        audit::record(&mut tx, "CreatePlan", &req.request_id, &created).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(created)
    }

    pub async fn get_plan(&self, id: i64) -> Result<Plan, ApiError> {
        fetch_plan(&self.pool, id)
            .await?
            .ok_or_else(|| ApiError::not_found(names::plan(id)))
    }

    pub async fn list_plans(
        &self,
        terms: &[Term],
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Plan>, ApiError> {
        let mut q =
            QueryBuilder::<Postgres>::new(format!("SELECT {PLAN_COLUMNS} FROM plans p WHERE true"));
        if let Some(after) = after {
            q.push(" AND p.id > ").push_bind(after);
        }
        for term in terms {
            match term.field.as_str() {
                "year" => {
                    let year: i32 = term.value.parse().map_err(|_| {
                        ApiError::invalid(
                            "filter",
                            format!("year must be a number, not {:?}", term.value),
                        )
                    })?;
                    q.push(" AND p.year = ").push_bind(year);
                }
                "level" => {
                    let level = list::one_of("filter", "level", &term.value, LEVELS)?;
                    q.push(" AND p.level = ").push_bind(level);
                }
                "source_document" => {
                    q.push(" AND p.source_document = ")
                        .push_bind(term.value.clone());
                }
                "title" => {
                    push_text(&mut q, "p.title", term);
                }
                other => {
                    return Err(ApiError::invalid(
                        "filter",
                        format!("{other:?} is not filterable"),
                    ));
                }
            }
        }
        q.push(" ORDER BY p.id LIMIT ").push_bind(limit);
        let rows: Vec<PlanRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
        Ok(rows.into_iter().map(Plan::from).collect())
    }

    pub async fn get_task(&self, plan: i64, task: i64) -> Result<Task, ApiError> {
        if let Some(cached) = self.cache.get(&task)
            && cached.name == names::task(plan, task)
        {
            return Ok(Task::clone(&cached));
        }
        let since = self.cache.generation();
        let found = fetch_task(&self.pool, plan, task).await?;
        self.cache.fill(since, task, Arc::new(found.clone()));
        Ok(found)
    }

    pub async fn list_tasks(
        &self,
        plan: Option<i64>,
        terms: &[Term],
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Task>, ApiError> {
        // The page's ids, then the tasks the cache does not hold.
        let mut q = QueryBuilder::<Postgres>::new("SELECT t.id FROM tasks t WHERE true");
        if let Some(plan) = plan {
            q.push(" AND t.plan_id = ").push_bind(plan);
        }
        if let Some(after) = after {
            q.push(" AND t.id > ").push_bind(after);
        }
        for term in terms {
            match term.field.as_str() {
                "category" => {
                    q.push(" AND t.category = ").push_bind(term.value.clone());
                }
                "status" => {
                    let status = match term.value.to_ascii_uppercase().as_str() {
                        "ACTIVE" => "active",
                        "WITHDRAWN" => "withdrawn",
                        _ => {
                            return Err(ApiError::invalid(
                                "filter",
                                "status must be ACTIVE or WITHDRAWN",
                            ));
                        }
                    };
                    q.push(" AND t.status = ").push_bind(status);
                }
                "number" => {
                    q.push(" AND t.number = ").push_bind(term.value.clone());
                }
                "year" => {
                    let year: i32 = term.value.parse().map_err(|_| {
                        ApiError::invalid(
                            "filter",
                            format!("year must be a number, not {:?}", term.value),
                        )
                    })?;
                    q.push(" AND t.year = ").push_bind(year);
                }
                "has_indicator" => {
                    let want = duban_kit::list::parse_bool(&term.value)?;
                    q.push(if want { " AND " } else { " AND NOT " });
                    q.push("EXISTS (SELECT 1 FROM indicators i WHERE i.task_id = t.id)");
                }
                "has_warning" => {
                    let want = duban_kit::list::parse_bool(&term.value)?;
                    q.push(if want { " AND " } else { " AND NOT " });
                    q.push("(cardinality(t.warnings) > 0 OR EXISTS (SELECT 1 FROM indicators i WHERE i.task_id = t.id AND cardinality(i.warnings) > 0))");
                }
                "text" => push_text(&mut q, "t.text", term),
                "section" => {
                    q.push(" AND array_to_string(t.section_path, ' ') LIKE ")
                        .push_bind(like_pattern(&term.value));
                }
                other => {
                    return Err(ApiError::invalid(
                        "filter",
                        format!("{other:?} is not filterable"),
                    ));
                }
            }
        }
        q.push(" ORDER BY t.id LIMIT ").push_bind(limit);
        let ids: Vec<i64> = q
            .build_query_scalar()
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
        let mut page: Vec<Option<Task>> = ids
            .iter()
            .map(|&id| self.cache.get(&id).map(|task| Task::clone(&task)))
            .collect();
        let missing: Vec<i64> = ids
            .iter()
            .zip(&page)
            .filter(|(_, task)| task.is_none())
            .map(|(&id, _)| id)
            .collect();
        if !missing.is_empty() {
            let since = self.cache.generation();
            let rows: Vec<TaskIndicatorRow> = sqlx::query_as(&format!(
                "SELECT {TASK_INDICATOR_COLUMNS}
                 FROM tasks t LEFT JOIN indicators i ON i.task_id = t.id
                 WHERE t.id = ANY($1)
                 ORDER BY t.id, i.position"
            ))
            .bind(&missing)
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
            let mut read: HashMap<i64, Task> = tasks_from_rows(rows).into_iter().collect();
            for (id, slot) in ids.iter().zip(page.iter_mut()) {
                if slot.is_none()
                    && let Some(task) = read.remove(id)
                {
                    self.cache.fill(since, *id, Arc::new(task.clone()));
                    *slot = Some(task);
                }
            }
        }
        // A task deleted between the two reads is left out.
        Ok(page.into_iter().flatten().collect())
    }

    /// Applies `edit`, keeping the replaced version in task_revisions.
    pub async fn update_task(
        &self,
        plan: i64,
        task: i64,
        edit: &TaskEdit,
        request_id: &str,
        fingerprint: &[u8],
    ) -> Result<Task, ApiError> {
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        if let idempotency::Replay::Done(task) =
            idempotency::claim::<Task>(&mut tx, "UpdateTask", request_id, fingerprint).await?
        {
            return Ok(task);
        }
        let archived = sqlx::query(
            "INSERT INTO task_revisions (task_id, revision, text, deadline, status, category)
             SELECT id, revision, text, deadline, status, category FROM tasks
             WHERE plan_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(plan)
        .bind(task)
        .execute(&mut *tx)
        .await
        .map_err(api_error)?;
        if archived.rows_affected() == 0 {
            return Err(ApiError::not_found(names::task(plan, task)));
        }
        sqlx::query(
            "UPDATE tasks SET text = coalesce($3, text), deadline = coalesce($4, deadline),
                 status = coalesce($5, status), category = coalesce($6, category),
                 revision = revision + 1, updated_at = now()
             WHERE plan_id = $1 AND id = $2",
        )
        .bind(plan)
        .bind(task)
        .bind(&edit.text)
        .bind(&edit.deadline)
        .bind(edit.status)
        .bind(&edit.category)
        .execute(&mut *tx)
        .await
        .map_err(api_error)?;
        let updated = fetch_task(&mut *tx, plan, task).await?;
        audit::record(&mut tx, "UpdateTask", request_id, &updated).await?;
        tx.commit().await.map_err(api_error)?;
        // This replica reads its own write at once; the others on the change notification.
        self.cache.invalidate(&task);
        Ok(updated)
    }
}

async fn fetch_plan<'e, E>(executor: E, id: i64) -> Result<Option<Plan>, ApiError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let row: Option<PlanRow> = sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans p WHERE p.id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await
    .map_err(api_error)?;
    Ok(row.map(Plan::from))
}

fn push_text(q: &mut QueryBuilder<'_, Postgres>, column: &str, term: &Term) {
    match term.op {
        Op::Eq => {
            q.push(format!(" AND {column} = "))
                .push_bind(term.value.clone());
        }
        Op::Has => {
            q.push(format!(" AND {column} LIKE "))
                .push_bind(like_pattern(&term.value));
        }
    }
}

/// `%value%` with LIKE's own wildcards escaped, so a filter value is matched literally.
fn like_pattern(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
