//! All SQL of the ingest service: documents and the delivery outbox.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use duban_db::{api_error, idempotency};
use duban_extract::Extraction;
use duban_kit::{audit, list::Term};
use duban_proto::{
    ApiError,
    v1::{CreateAssignmentsRequest, CreatePlanRequest, DeliveryState, Document},
};
use prost::Message;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder, Transaction};

use crate::domain;

/// A received document before it is stored.
pub struct NewDocument<'a> {
    pub filename: &'a str,
    pub sha256: String,
    pub content: &'a [u8],
    /// None when the same bytes were stored and extracted before ([`Store::extracted`]).
    pub extraction: Option<&'a Extraction>,
    pub request_id: &'a str,
    pub fingerprint: Vec<u8>,
    pub trace_context: HashMap<String, String>,
}

#[derive(FromRow)]
struct DocumentRow {
    id: i64,
    filename: String,
    content_sha256: String,
    size_bytes: i64,
    kind: String,
    title: String,
    doc_number: String,
    issuer: String,
    published: String,
    year: i32,
    encoding: String,
    reporting_rule: String,
    plan_count: i32,
    item_count: i32,
    target_count: i32,
    warnings: Vec<String>,
    created_at: DateTime<Utc>,
    pending: i64,
    failed: i64,
    plans: Vec<String>,
    delivery_error: String,
    extraction_error: String,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        let state = if r.failed > 0 || !r.extraction_error.is_empty() {
            DeliveryState::Failed
        } else if r.pending > 0 {
            DeliveryState::Pending
        } else {
            DeliveryState::Delivered
        };
        Document {
            name: format!("documents/{}", r.id),
            filename: r.filename,
            content_sha256: r.content_sha256,
            size_bytes: u64::try_from(r.size_bytes).unwrap_or(0),
            kind: domain::kind_from_str(&r.kind) as i32,
            title: r.title,
            doc_number: r.doc_number,
            issuer: r.issuer,
            published: r.published,
            year: r.year,
            encoding: r.encoding,
            reporting_rule: r.reporting_rule,
            plan_count: u32::try_from(r.plan_count).unwrap_or(0),
            item_count: u32::try_from(r.item_count).unwrap_or(0),
            target_count: u32::try_from(r.target_count).unwrap_or(0),
            delivery_state: state as i32,
            plans: r.plans,
            warnings: r.warnings,
            create_time: Some(prost_types::Timestamp {
                seconds: r.created_at.timestamp(),
                nanos: i32::try_from(r.created_at.timestamp_subsec_nanos()).unwrap_or(0),
            }),
            delivery_error: if state == DeliveryState::Delivered {
                String::new()
            } else if !r.extraction_error.is_empty() {
                r.extraction_error
            } else {
                r.delivery_error
            },
        }
    }
}

const DOCUMENT_COLUMNS: &str = "d.id, d.filename, d.content_sha256, d.size_bytes, d.kind, d.title,
    d.doc_number, d.issuer, d.published, d.year, d.encoding, d.reporting_rule, d.plan_count,
    d.item_count, d.target_count, d.warnings, d.created_at, d.extraction_error,
    (SELECT count(*) FROM outbox o WHERE o.document_id = d.id AND o.state = 'pending') AS pending,
    (SELECT count(*) FROM outbox o WHERE o.document_id = d.id AND o.state = 'failed') AS failed,
    ARRAY(SELECT o.plan_name FROM outbox o WHERE o.document_id = d.id AND o.state = 'delivered'
          ORDER BY o.plan_index) AS plans,
    coalesce((SELECT o.last_error FROM outbox o WHERE o.document_id = d.id AND o.last_error <> ''
              ORDER BY o.plan_index LIMIT 1), '') AS delivery_error";

/// A plan waiting for delivery, locked by the transaction that claimed it.
pub struct Pending {
    pub id: i64,
    pub attempts: i32,
    pub plan: CreatePlanRequest,
    pub assignments: Vec<CreateAssignmentsRequest>,
    pub trace_context: HashMap<String, String>,
}

#[derive(FromRow)]
struct OutboxRow {
    id: i64,
    attempts: i32,
    plan_request: Vec<u8>,
    assignments: Vec<Vec<u8>>,
    trace_context: sqlx::types::Json<HashMap<String, String>>,
}

#[derive(Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// The reports the plans of each of `documents` decompose, as extraction found them.
    pub async fn source_reports(
        &self,
        documents: &[i64],
    ) -> Result<HashMap<i64, Vec<String>>, ApiError> {
        let rows: Vec<(i64, Vec<String>)> = sqlx::query_as(
            "SELECT d.id, coalesce(array_agg(p->>'source_report')
                        FILTER (WHERE p->>'source_report' <> ''), '{}')
             FROM documents d LEFT JOIN LATERAL jsonb_array_elements(d.extraction->'plans') p ON true
             WHERE d.id = ANY($1) GROUP BY d.id",
        )
        .bind(documents)
        .fetch_all(&self.pool)
        .await
        .map_err(api_error)?;
        Ok(rows.into_iter().collect())
    }

    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Stores the document with its outbox in one transaction. The same content stored before
    /// (or concurrently) returns the document already there; the flag says whether it is new.
    pub async fn create_document(
        &self,
        new: NewDocument<'_>,
    ) -> Result<(Document, bool), ApiError> {
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        if let idempotency::Replay::Done(done) = idempotency::claim::<Document>(
            &mut tx,
            "CreateDocument",
            new.request_id,
            &new.fingerprint,
        )
        .await?
        {
            return Ok((done, false));
        }
        let inserted = match new.extraction {
            Some(x) => insert_document(&mut tx, &new, x, "").await?,
            None => None,
        };
        let stored = inserted.is_some();
        let id = match inserted.zip(new.extraction) {
            Some((id, x)) => {
                let name = format!("documents/{id}");
                let deliveries = domain::deliveries(x, &name);
                for (index, delivery) in deliveries.iter().enumerate() {
                    let assignments: Vec<Vec<u8>> = delivery
                        .assignments
                        .iter()
                        .map(Message::encode_to_vec)
                        .collect();
                    sqlx::query(
                        "INSERT INTO outbox (document_id, plan_index, plan_request, assignments, trace_context)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(id)
                    .bind(i32::try_from(index).unwrap_or(i32::MAX))
                    .bind(delivery.plan.encode_to_vec())
                    .bind(&assignments)
                    .bind(sqlx::types::Json(&new.trace_context))
                    .execute(&mut *tx)
                    .await
                    .map_err(api_error)?;
                }
                sqlx::query("UPDATE documents SET plan_count = $2 WHERE id = $1")
                    .bind(id)
                    .bind(i32::try_from(deliveries.len()).unwrap_or(i32::MAX))
                    .execute(&mut *tx)
                    .await
                    .map_err(api_error)?;
                id
            }
            None => sqlx::query_scalar("SELECT id FROM documents WHERE content_sha256 = $1")
                .bind(&new.sha256)
                .fetch_one(&mut *tx)
                .await
                .map_err(api_error)?,
        };
        let document = fetch_document(&mut *tx, id)
            .await?
            .ok_or_else(|| ApiError::internal("document vanished inside its own transaction"))?;
        audit::record(&mut tx, "CreateDocument", new.request_id, &document).await?;
        tx.commit().await.map_err(api_error)?;
        Ok((document, stored))
    }

    /// Whether these bytes are stored with their extraction: a re-send needs none.
    pub async fn extracted(&self, sha256: &str) -> Result<bool, ApiError> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM documents
                 WHERE content_sha256 = $1 AND extraction_error = '')",
        )
        .bind(sha256)
        .fetch_one(&self.pool)
        .await
        .map_err(api_error)
    }

    /// Keeps a document whose extraction failed (`unread`: what is known of it), with why, so
    /// it is listed as FAILED and not lost; nothing of it is delivered. None when the same
    /// bytes were meanwhile stored with their extraction: that document stands.
    pub async fn store_failed(
        &self,
        new: NewDocument<'_>,
        unread: &Extraction,
        why: &str,
    ) -> Result<Option<Document>, ApiError> {
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        let Some(id) = insert_document(&mut tx, &new, unread, why).await? else {
            return Ok(None);
        };
        let document = fetch_document(&mut *tx, id).await?;
        tx.commit().await.map_err(api_error)?;
        Ok(document)
    }

    pub async fn get_document(&self, id: i64) -> Result<Document, ApiError> {
        fetch_document(&self.pool, id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("documents/{id}")))
    }

    pub async fn list_documents(
        &self,
        terms: &[Term],
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Document>, ApiError> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE true"
        ));
        if let Some(after) = after {
            q.push(" AND d.id > ").push_bind(after);
        }
        for term in terms {
            match term.field.as_str() {
                "kind" => {
                    q.push(" AND d.kind = ")
                        .push_bind(term.value.to_ascii_lowercase());
                }
                "year" => {
                    let year: i32 = term.value.parse().map_err(|_| {
                        ApiError::invalid(
                            "filter",
                            format!("year must be a number, not {:?}", term.value),
                        )
                    })?;
                    q.push(" AND d.year = ").push_bind(year);
                }
                "content_sha256" => {
                    q.push(" AND d.content_sha256 = ")
                        .push_bind(term.value.to_ascii_lowercase());
                }
                "delivery_state" => {
                    let clause = match term.value.to_ascii_uppercase().as_str() {
                        // as Document's delivery_state says: a failure outranks a wait
                        "PENDING" => {
                            " AND d.extraction_error = ''
                              AND EXISTS (SELECT 1 FROM outbox o WHERE o.document_id = d.id AND o.state = 'pending')
                              AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.document_id = d.id AND o.state = 'failed')"
                        }
                        "FAILED" => {
                            " AND (d.extraction_error <> ''
                                   OR EXISTS (SELECT 1 FROM outbox o WHERE o.document_id = d.id AND o.state = 'failed'))"
                        }
                        "DELIVERED" => {
                            " AND d.extraction_error = ''
                              AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.document_id = d.id AND o.state <> 'delivered')"
                        }
                        _ => {
                            return Err(ApiError::invalid(
                                "filter",
                                "delivery_state must be PENDING, DELIVERED or FAILED",
                            ));
                        }
                    };
                    q.push(clause);
                }
                other => {
                    return Err(ApiError::invalid(
                        "filter",
                        format!("{other:?} is not filterable"),
                    ));
                }
            }
        }
        q.push(" ORDER BY d.id LIMIT ").push_bind(limit);
        let rows: Vec<DocumentRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(api_error)?;
        Ok(rows.into_iter().map(Document::from).collect())
    }

    /// Claims the next plan due for delivery. The row stays locked (other replicas skip it)
    /// until the returned transaction ends.
    pub async fn claim_pending(
        &self,
    ) -> Result<Option<(Transaction<'static, Postgres>, Pending)>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let row: Option<OutboxRow> = sqlx::query_as(
            "SELECT id, attempts, plan_request, assignments, trace_context FROM outbox
                 WHERE state = 'pending' AND next_attempt_at <= now()
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(OutboxRow {
            id,
            attempts,
            plan_request: plan,
            assignments,
            trace_context: trace,
        }) = row
        else {
            return Ok(None);
        };
        let decode_error = |e: prost::DecodeError| sqlx::Error::Decode(Box::new(e));
        let pending = Pending {
            id,
            attempts,
            plan: CreatePlanRequest::decode(plan.as_slice()).map_err(decode_error)?,
            assignments: assignments
                .iter()
                .map(|a| CreateAssignmentsRequest::decode(a.as_slice()))
                .collect::<Result<_, _>>()
                .map_err(decode_error)?,
            trace_context: trace.0,
        };
        Ok(Some((tx, pending)))
    }

    /// How many outbox entries are pending and how many failed for good.
    pub async fn outbox_backlog(&self) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query_as(
            "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'failed')
                 FROM outbox WHERE state <> 'delivered'",
        )
        .fetch_one(&self.pool)
        .await
    }

    /// When the next pending plan is due, if any.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        sqlx::query_scalar("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await
    }
}

pub async fn mark_delivered(
    mut tx: Transaction<'static, Postgres>,
    id: i64,
    plan_name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET state = 'delivered', plan_name = $2, delivered_at = now(),
             attempts = attempts + 1, last_error = '' WHERE id = $1",
    )
    .bind(id)
    .bind(plan_name)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Records a failed attempt: retried after `retry_in_ms`, or never when `permanent`.
pub async fn mark_failed(
    mut tx: Transaction<'static, Postgres>,
    id: i64,
    error: &str,
    permanent: bool,
    retry_in_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
             state = CASE WHEN $3 THEN 'failed' ELSE state END,
             next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
         WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(permanent)
    .bind(retry_in_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Inserts a document, or replaces one with the same bytes whose extraction failed; None when
/// the same bytes are stored with their extraction.
async fn insert_document(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewDocument<'_>,
    x: &Extraction,
    extraction_error: &str,
) -> Result<Option<i64>, ApiError> {
    let meta = &x.document;
    let kind = if extraction_error.is_empty() {
        domain::kind_str(meta.kind)
    } else {
        // not read, so not known
        ""
    };
    sqlx::query_scalar(
        "INSERT INTO documents (filename, content_sha256, size_bytes, content, text, kind, title,
             doc_number, issuer, published, year, encoding, reporting_rule, plan_count,
             item_count, target_count, warnings, extraction, extraction_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT (content_sha256) DO UPDATE SET filename = EXCLUDED.filename,
             text = EXCLUDED.text, kind = EXCLUDED.kind, title = EXCLUDED.title,
             doc_number = EXCLUDED.doc_number, issuer = EXCLUDED.issuer,
             published = EXCLUDED.published, year = EXCLUDED.year, encoding = EXCLUDED.encoding,
             reporting_rule = EXCLUDED.reporting_rule, item_count = EXCLUDED.item_count,
             target_count = EXCLUDED.target_count, warnings = EXCLUDED.warnings,
             extraction = EXCLUDED.extraction, extraction_error = EXCLUDED.extraction_error
         WHERE documents.extraction_error <> ''
         RETURNING id",
    )
    .bind(new.filename)
    .bind(&new.sha256)
    .bind(i64::try_from(new.content.len()).unwrap_or(i64::MAX))
    .bind(new.content)
    .bind(&x.text)
    .bind(kind)
    .bind(meta.title.as_deref().unwrap_or_default())
    .bind(meta.doc_number.as_deref().unwrap_or_default())
    .bind(meta.issuer.as_deref().unwrap_or_default())
    .bind(meta.published.as_deref().unwrap_or_default())
    .bind(meta.year.unwrap_or_default())
    .bind(&meta.encoding)
    .bind(meta.reporting_rule.as_deref().unwrap_or_default())
    .bind(0_i32)
    .bind(i32::try_from(x.items.len()).unwrap_or(i32::MAX))
    .bind(i32::try_from(x.items.iter().map(|i| i.targets.len()).sum::<usize>()).unwrap_or(i32::MAX))
    .bind(&x.warnings)
    .bind(sqlx::types::Json(x))
    .bind(extraction_error)
    .fetch_optional(&mut **tx)
    .await
    .map_err(api_error)
}

async fn fetch_document<'e, E>(executor: E, id: i64) -> Result<Option<Document>, ApiError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let row: Option<DocumentRow> = sqlx::query_as(&format!(
        "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await
    .map_err(api_error)?;
    Ok(row.map(Document::from))
}
