//! All SQL of the reporting service.

use chrono::{DateTime, Utc};
use duban_db::{api_error, idempotency};
use duban_kit::{list::Term, names};
use duban_proto::{
    ApiError,
    v1::{CreateReportRequest, ProgressStatus, Report},
};
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};

use crate::domain;

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
}

impl From<ReportRow> for Report {
    fn from(r: ReportRow) -> Self {
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
            create_time: Some(prost_types::Timestamp {
                seconds: r.created_at.timestamp(),
                nanos: i32::try_from(r.created_at.timestamp_subsec_nanos()).unwrap_or(0),
            }),
        }
    }
}

const COLUMNS: &str = "id, assignment, period, status, state, progress, problems, next_steps,
    percent_complete, drafter, created_at";

pub struct Store {
    pool: PgPool,
}

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn create_report(&self, req: &CreateReportRequest) -> Result<Report, ApiError> {
        let report = req.report.clone().unwrap_or_default();
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        let print = idempotency::fingerprint(req);
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Report>(&mut tx, "CreateReport", &req.request_id, &print).await?
        {
            return Ok(done);
        }
        let status = ProgressStatus::try_from(report.status)
            .ok()
            .and_then(domain::status_str)
            .unwrap_or("not_started");
        let row: Option<ReportRow> = sqlx::query_as(&format!(
            "INSERT INTO reports (assignment, period, status, progress, problems, next_steps,
                                  percent_complete, drafter)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (assignment, period) DO NOTHING
             RETURNING {COLUMNS}"
        ))
        .bind(&report.assignment)
        .bind(&report.period)
        .bind(status)
        .bind(&report.progress)
        .bind(&report.problems)
        .bind(&report.next_steps)
        .bind(i32::try_from(report.percent_complete).unwrap_or(100))
        .bind(&report.drafter)
        .fetch_optional(&mut *tx)
        .await
        .map_err(api_error)?;
        let Some(row) = row else {
            return Err(ApiError::AlreadyExists {
                resource: format!("{} {}", report.assignment, report.period),
                message: format!(
                    "{} already has a report for {}; update that report instead",
                    report.assignment, report.period
                ),
            });
        };
        let created = Report::from(row);
        idempotency::record(&mut tx, "CreateReport", &req.request_id, &created).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(created)
    }

    pub async fn get_report(&self, id: i64) -> Result<Report, ApiError> {
        let row: Option<ReportRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM reports WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(api_error)?;
        row.map(Report::from)
            .ok_or_else(|| ApiError::not_found(format!("reports/{id}")))
    }

    pub async fn list_reports(
        &self,
        terms: &[Term],
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Report>, ApiError> {
        let mut q =
            QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM reports WHERE true"));
        if let Some(after) = after {
            q.push(" AND id > ").push_bind(after);
        }
        for term in terms {
            match term.field.as_str() {
                "assignment" => {
                    names::parse("filter", &term.value, "assignments")?;
                    q.push(" AND assignment = ").push_bind(term.value.clone());
                }
                "period" => {
                    q.push(" AND period = ").push_bind(term.value.clone());
                }
                "state" => {
                    q.push(" AND state = ")
                        .push_bind(term.value.to_ascii_lowercase());
                }
                "status" => {
                    q.push(" AND status = ")
                        .push_bind(term.value.to_ascii_lowercase());
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
        Ok(rows.into_iter().map(Report::from).collect())
    }
}
