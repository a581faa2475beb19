//! The audit trail: an append-only, hash-chained table `audit_log` in every service's schema,
//! served by `AuditService/ListAuditEvents` and checked by [`verify_chain`] (`duban audit verify`).
//!
//! An event is first staged in `audit_pending`: a mutation's event inside the mutation's own
//! transaction ([`record`], next to the request_id record), so the change and its audit row
//! commit or vanish together; refusals, failures, replays and audited reads in a one-row insert
//! of their own. A chainer ([`chain`]) then moves pending rows into `audit_log` in batches,
//! giving each its seq and hash. Chaining after commit keeps the one-writer-at-a-time lock out of
//! the mutations' transactions, which would otherwise serialise every write in the service
//! behind one lock held through each commit's fsync.
//!
//! Each row's `row_hash = sha256(prev_hash || canonical bytes of the row)` (see [`Row::canonical`]),
//! the first row's `prev_hash` being the anchor. A trigger rejects UPDATE, TRUNCATE and any
//! DELETE but retention pruning, which only removes rows older than the retention period (never
//! younger than 184 days, whatever is configured) and records the last pruned row's seq and hash
//! as the new anchor in the same transaction, so the kept trail still verifies.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, TimeZone, Utc};
use duban_db::idempotency;
use duban_proto::ApiError;
use duban_proto::v1::{
    AuditEvent, ListAuditEventsRequest, ListAuditEventsResponse, audit_service_server::AuditService,
};
use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool, Postgres, Row as _, Transaction};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// The shortest retention allowed (等保 2.0 level 3: at least six months).
pub const MIN_RETENTION_DAYS: u32 = 184;

const ZERO_HASH: [u8; 32] = [0; 32];

/// Creates the trail's tables and protections in the service's schema; idempotent, run at every
/// start under the schema's advisory lock. Owned here rather than by each service's migrations
/// so that all four keep the identical table.
const INSTALL: &str = r#"
CREATE TABLE IF NOT EXISTS audit_log (
    seq             bigint      PRIMARY KEY,
    at              timestamptz NOT NULL,
    actor           text        NOT NULL,
    role            text        NOT NULL,
    token_id        text        NOT NULL,
    method          text        NOT NULL,
    resource        text        NOT NULL,
    code            text        NOT NULL,
    request_sha256  bytea       NOT NULL,
    response_sha256 bytea       NOT NULL,
    prev_hash       bytea       NOT NULL,
    row_hash        bytea       NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_anchor (
    id        integer PRIMARY KEY CHECK (id = 1),
    seq       bigint  NOT NULL,
    row_hash  bytea   NOT NULL
);
INSERT INTO audit_anchor (id, seq, row_hash) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000')
ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS audit_pending (
    id              bigserial   PRIMARY KEY,
    at              timestamptz NOT NULL,
    actor           text        NOT NULL,
    role            text        NOT NULL,
    token_id        text        NOT NULL,
    method          text        NOT NULL,
    resource        text        NOT NULL,
    code            text        NOT NULL,
    request_sha256  bytea       NOT NULL,
    response_sha256 bytea       NOT NULL
);
CREATE OR REPLACE FUNCTION audit_pending_protect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('duban.audit_chain', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_pending rows leave only for the chain: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER audit_pending_guard
    BEFORE UPDATE OR DELETE ON audit_pending FOR EACH ROW EXECUTE FUNCTION audit_pending_protect();
CREATE OR REPLACE TRIGGER audit_pending_no_truncate
    BEFORE TRUNCATE ON audit_pending FOR EACH STATEMENT EXECUTE FUNCTION audit_pending_protect();
CREATE OR REPLACE FUNCTION audit_log_protect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('duban.audit_prune', true) = 'on'
       AND OLD.at < now() - interval '184 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION audit_anchor_protect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('duban.audit_prune', true) = 'on'
       AND NEW.seq >= OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_anchor changes only by retention pruning: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_protect();
CREATE OR REPLACE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_protect();
CREATE OR REPLACE TRIGGER audit_anchor_guard
    BEFORE UPDATE OR DELETE ON audit_anchor FOR EACH ROW EXECUTE FUNCTION audit_anchor_protect();
"#;

pub async fn install(pool: &PgPool, schema: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('duban.audit.install.' || $1))")
        .bind(schema)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(INSTALL).execute(&mut *tx).await?;
    tx.commit().await
}

/// One audit event before it is chained.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub actor: String,
    pub role: String,
    pub token_id: String,
    pub method: String,
    pub resource: String,
    pub code: String,
    pub request_sha256: Vec<u8>,
    pub response_sha256: Vec<u8>,
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

impl Entry {
    /// Binds the fields to `query`, in [`PENDING_COLUMNS`] order after the time.
    pub fn bind<'q>(&'q self, query: PgQuery<'q>) -> PgQuery<'q> {
        query
            .bind(&self.actor)
            .bind(&self.role)
            .bind(&self.token_id)
            .bind(&self.method)
            .bind(&self.resource)
            .bind(&self.code)
            .bind(&self.request_sha256)
            .bind(&self.response_sha256)
    }
}

/// A chained row as stored and served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub seq: i64,
    /// Microseconds since the Unix epoch (the database's precision).
    pub at_micros: i64,
    pub entry: Entry,
    pub prev_hash: Vec<u8>,
    pub row_hash: Vec<u8>,
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl Row {
    /// The row's canonical bytes: seq and time as big-endian i64, then every other field
    /// length-prefixed (u32 big-endian) in a fixed order.
    pub fn canonical(seq: i64, at_micros: i64, e: &Entry) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&at_micros.to_be_bytes());
        for text in [
            &e.actor,
            &e.role,
            &e.token_id,
            &e.method,
            &e.resource,
            &e.code,
        ] {
            field(&mut out, text.as_bytes());
        }
        field(&mut out, &e.request_sha256);
        field(&mut out, &e.response_sha256);
        out
    }

    pub fn hash(prev_hash: &[u8], seq: i64, at_micros: i64, entry: &Entry) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash);
        hasher.update(Self::canonical(seq, at_micros, entry));
        hasher.finalize().to_vec()
    }
}

/// The database's precision: microseconds, so the hash computed before the insert is the one
/// recomputed from the stored row.
pub fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    Utc.timestamp_micros(now.timestamp_micros())
        .single()
        .unwrap_or(now)
}

/// The columns of a staged event, in the order [`stage`] binds them: the time, then the
/// [`Entry`] fields in declaration order.
pub const PENDING_COLUMNS: &str =
    "at, actor, role, token_id, method, resource, code, request_sha256, response_sha256";

/// Stages `entry` for the chain through `executor`: inside a transaction it commits or rolls
/// back with it.
pub async fn stage<'e>(executor: impl PgExecutor<'e>, entry: &Entry) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO audit_pending ({PENDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    );
    entry
        .bind(sqlx::query(&sql).bind(now_micros()))
        .execute(executor)
        .await?;
    Ok(())
}

/// The call being served, as the security layer saw it; set around an audited handler so that
/// [`record`] can stage the call's event in the handler's transaction.
pub struct Staging {
    /// The event with everything but the outcome (code, response digest, created resource).
    pub call: Entry,
    staged: AtomicBool,
}

impl Staging {
    pub fn new(call: Entry) -> Self {
        Self {
            call,
            staged: AtomicBool::new(false),
        }
    }

    /// Whether the handler staged its event in its transaction (the event commits with the
    /// change, so the layer must not add another).
    pub fn staged(&self) -> bool {
        self.staged.load(Ordering::Acquire)
    }
}

tokio::task_local! {
    pub static STAGING: Arc<Staging>;
}

/// Records a mutation's outcome in its transaction: the request_id's response (see
/// [`idempotency::record`]) and, when the call is audited, its audit event with code OK.
pub async fn record<M: Message>(
    tx: &mut Transaction<'_, Postgres>,
    method: &str,
    request_id: &str,
    response: &M,
) -> Result<(), ApiError> {
    idempotency::record(tx, method, request_id, response).await?;
    let Some(event) = Outcome::of(&response.encode_to_vec()) else {
        return Ok(());
    };
    stage(&mut **tx, &event.entry)
        .await
        .map_err(duban_db::api_error)?;
    event.staged();
    Ok(())
}

/// The audit event of an audited call that succeeded, for a handler that writes it itself
/// (with the change, in one statement); [`record`] does both for a transaction.
pub struct Outcome {
    pub entry: Entry,
    staging: Arc<Staging>,
}

impl Outcome {
    /// The event of the call being served, answering `response` (encoded); none when the call
    /// is not audited.
    pub fn of(response: &[u8]) -> Option<Self> {
        let staging = STAGING.try_with(Arc::clone).ok()?;
        let mut entry = staging.call.clone();
        if entry.resource.is_empty() {
            entry.resource = crate::guard::resource(response).unwrap_or_default();
        }
        entry.code = "OK".into();
        entry.response_sha256 = digest(response);
        Some(Self { entry, staging })
    }

    /// Tells the security layer that the event committed with the change.
    pub fn staged(&self) {
        self.staging.staged.store(true, Ordering::Release);
    }
}

/// Rows chained per transaction.
const CHAIN_BATCH: i64 = 1000;

/// Moves every staged event into the chain, oldest first; the number of rows chained.
pub async fn chain(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let chained = chain_batch(pool).await?;
        total += chained;
        if chained < CHAIN_BATCH as u64 {
            return Ok(total);
        }
    }
}

async fn chain_batch(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // One chainer at a time per schema (replicas share it) keeps the chain linear.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('duban.audit.' || current_schema()))")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SET LOCAL duban.audit_chain = 'on'")
        .execute(&mut *tx)
        .await?;
    let pending = sqlx::query(
        "DELETE FROM audit_pending
         WHERE id IN (SELECT id FROM audit_pending ORDER BY id LIMIT $1)
         RETURNING id, at, actor, role, token_id, method, resource, code, request_sha256,
                   response_sha256",
    )
    .bind(CHAIN_BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let mut pending: Vec<(i64, i64, Entry)> = pending
        .into_iter()
        .map(|r| {
            let at: DateTime<Utc> = r.get("at");
            let entry = Entry {
                actor: r.get("actor"),
                role: r.get("role"),
                token_id: r.get("token_id"),
                method: r.get("method"),
                resource: r.get("resource"),
                code: r.get("code"),
                request_sha256: r.get("request_sha256"),
                response_sha256: r.get("response_sha256"),
            };
            (r.get("id"), at.timestamp_micros(), entry)
        })
        .collect();
    pending.sort_by_key(|(id, _, _)| *id);
    let last = sqlx::query("SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?;
    let (mut seq, mut prev_hash): (i64, Vec<u8>) = match last {
        Some(row) => (row.get("seq"), row.get("row_hash")),
        None => {
            let anchor = sqlx::query("SELECT seq, row_hash FROM audit_anchor WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            (anchor.get("seq"), anchor.get("row_hash"))
        }
    };
    let mut columns = ChainColumns::default();
    for (_, at_micros, entry) in &pending {
        seq += 1;
        let row_hash = Row::hash(&prev_hash, seq, *at_micros, entry);
        columns.push(seq, *at_micros, entry, &prev_hash, &row_hash);
        prev_hash = row_hash;
    }
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, role, token_id, method, resource, code,
                                request_sha256, response_sha256, prev_hash, row_hash)
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[],
                              $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[],
                              $10::bytea[], $11::bytea[], $12::bytea[])",
    )
    .bind(&columns.seq)
    .bind(&columns.at)
    .bind(&columns.actor)
    .bind(&columns.role)
    .bind(&columns.token_id)
    .bind(&columns.method)
    .bind(&columns.resource)
    .bind(&columns.code)
    .bind(&columns.request_sha256)
    .bind(&columns.response_sha256)
    .bind(&columns.prev_hash)
    .bind(&columns.row_hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(pending.len() as u64)
}

/// A batch of chained rows as one array per column, for a single `unnest` insert.
#[derive(Default)]
struct ChainColumns {
    seq: Vec<i64>,
    at: Vec<DateTime<Utc>>,
    actor: Vec<String>,
    role: Vec<String>,
    token_id: Vec<String>,
    method: Vec<String>,
    resource: Vec<String>,
    code: Vec<String>,
    request_sha256: Vec<Vec<u8>>,
    response_sha256: Vec<Vec<u8>>,
    prev_hash: Vec<Vec<u8>>,
    row_hash: Vec<Vec<u8>>,
}

impl ChainColumns {
    fn push(&mut self, seq: i64, at_micros: i64, e: &Entry, prev_hash: &[u8], row_hash: &[u8]) {
        self.seq.push(seq);
        self.at
            .push(Utc.timestamp_micros(at_micros).single().unwrap_or_default());
        self.actor.push(e.actor.clone());
        self.role.push(e.role.clone());
        self.token_id.push(e.token_id.clone());
        self.method.push(e.method.clone());
        self.resource.push(e.resource.clone());
        self.code.push(e.code.clone());
        self.request_sha256.push(e.request_sha256.clone());
        self.response_sha256.push(e.response_sha256.clone());
        self.prev_hash.push(prev_hash.to_vec());
        self.row_hash.push(row_hash.to_vec());
    }
}

/// Chains whenever the security layer signals new events, at least every second (events staged
/// by other replicas, or whose signal came before their commit), and once more at `shutdown`.
pub async fn chain_continuously(pool: PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        if let Err(err) = chain(&pool).await {
            tracing::warn!(error = %err, "chaining the audit trail failed; retrying");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    if let Err(err) = chain(&pool).await {
        tracing::warn!(error = %err, "chaining the audit trail at shutdown failed; the events stay staged");
    }
}

/// Deletes the rows older than `retention_days` (at least [`MIN_RETENTION_DAYS`]) and moves
/// the anchor to the last of them; the number of rows pruned.
pub async fn prune(pool: &PgPool, retention_days: u32) -> Result<u64, sqlx::Error> {
    let days = f64::from(retention_days.max(MIN_RETENTION_DAYS));
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('duban.audit.' || current_schema()))")
        .execute(&mut *tx)
        .await?;
    let last = sqlx::query(
        "SELECT seq, row_hash FROM audit_log WHERE at < now() - make_interval(days => $1::int)
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(days as i32)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(last) = last else {
        return Ok(0);
    };
    let (seq, hash): (i64, Vec<u8>) = (last.get("seq"), last.get("row_hash"));
    sqlx::query("SET LOCAL duban.audit_prune = 'on'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE audit_anchor SET seq = $1, row_hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    let pruned = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
        .bind(seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(pruned)
}

/// Prunes now and then every six hours until `shutdown`.
pub async fn prune_periodically(pool: PgPool, retention_days: u32, shutdown: CancellationToken) {
    loop {
        match prune(&pool, retention_days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "audit trail pruned past retention"),
            Err(err) => tracing::warn!(error = %err, "audit trail pruning failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(6 * 3600)) => {}
        }
    }
}

/// Where a trail stops verifying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}", self.seq, self.reason)
    }
}

/// Recomputes the chain of `rows` (in seq order) from the anchor: each row's hash must match
/// its content, link to the previous row's hash, and follow it without a gap. Returns every
/// break found (an edited row breaks at that row; a deleted row at the row after the gap).
pub fn verify_chain(anchor_seq: i64, anchor_hash: &[u8], rows: &[Row]) -> Vec<ChainBreak> {
    let mut breaks = Vec::new();
    let mut prev_seq = anchor_seq;
    let mut prev_hash = anchor_hash.to_vec();
    for row in rows {
        if row.seq != prev_seq + 1 {
            breaks.push(ChainBreak {
                seq: row.seq,
                reason: format!(
                    "rows {}..={} are missing (deleted)",
                    prev_seq + 1,
                    row.seq - 1
                ),
            });
        } else if row.prev_hash != prev_hash {
            breaks.push(ChainBreak {
                seq: row.seq,
                reason: "its prev_hash does not match the previous row's hash".to_string(),
            });
        }
        let recomputed = Row::hash(&row.prev_hash, row.seq, row.at_micros, &row.entry);
        if recomputed != row.row_hash {
            breaks.push(ChainBreak {
                seq: row.seq,
                reason: "its content does not match its row_hash (edited)".to_string(),
            });
        }
        prev_seq = row.seq;
        prev_hash = row.row_hash.clone();
    }
    breaks
}

impl Row {
    pub fn to_event(&self) -> AuditEvent {
        let e = &self.entry;
        AuditEvent {
            seq: self.seq,
            time: Some(prost_types::Timestamp {
                seconds: self.at_micros.div_euclid(1_000_000),
                nanos: i32::try_from(self.at_micros.rem_euclid(1_000_000) * 1000).unwrap_or(0),
            }),
            actor: e.actor.clone(),
            role: e.role.clone(),
            method: e.method.clone(),
            resource: e.resource.clone(),
            code: e.code.clone(),
            request_sha256: e.request_sha256.clone(),
            response_sha256: e.response_sha256.clone(),
            prev_hash: self.prev_hash.clone(),
            row_hash: self.row_hash.clone(),
            token_id: e.token_id.clone(),
        }
    }

    pub fn from_event(event: &AuditEvent) -> Self {
        let at_micros = event
            .time
            .as_ref()
            .map_or(0, |t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1000);
        Self {
            seq: event.seq,
            at_micros,
            entry: Entry {
                actor: event.actor.clone(),
                role: event.role.clone(),
                token_id: event.token_id.clone(),
                method: event.method.clone(),
                resource: event.resource.clone(),
                code: event.code.clone(),
                request_sha256: event.request_sha256.clone(),
                response_sha256: event.response_sha256.clone(),
            },
            prev_hash: event.prev_hash.clone(),
            row_hash: event.row_hash.clone(),
        }
    }
}

const DEFAULT_PAGE: i64 = 500;
const MAX_PAGE: i64 = 5000;

/// `AuditService` over one service's trail.
pub struct Trail {
    pool: PgPool,
}

impl Trail {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl AuditService for Trail {
    async fn list_audit_events(
        &self,
        request: Request<ListAuditEventsRequest>,
    ) -> Result<Response<ListAuditEventsResponse>, Status> {
        // A government's reader sees the rows of its own government's callers only, and no
        // token id but its own: ids are what revocation takes. Whole chains (and so `duban
        // audit verify`) are for readers of the whole deployment.
        let scope = crate::auth::caller(&request)
            .filter(|who| !who.reads_everything())
            .map(|who| (who.government.clone(), who.token_id.clone()));
        let req = request.into_inner();
        let limit = match i64::from(req.page_size) {
            0 => DEFAULT_PAGE,
            n if n < 0 => {
                return Err(
                    duban_proto::ApiError::invalid("page_size", "must not be negative").into(),
                );
            }
            n => n.min(MAX_PAGE),
        };
        let db = |e| Status::from(duban_db::api_error(e));
        chain(&self.pool).await.map_err(db)?;
        let anchor = sqlx::query("SELECT seq, row_hash FROM audit_anchor WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let last_seq: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM audit_log")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let rows = sqlx::query(
            "SELECT seq, at, actor, role, token_id, method, resource, code, request_sha256,
                    response_sha256, prev_hash, row_hash
             FROM audit_log
             WHERE seq > $1 AND ($3::text IS NULL OR right(actor, length($3) + 1) = '@' || $3)
             ORDER BY seq LIMIT $2",
        )
        .bind(req.after_seq)
        .bind(limit)
        .bind(scope.as_ref().map(|(government, _)| government.as_str()))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let events = rows
            .into_iter()
            .map(|r| {
                let at: DateTime<Utc> = r.get("at");
                Row {
                    seq: r.get("seq"),
                    at_micros: at.timestamp_micros(),
                    entry: Entry {
                        actor: r.get("actor"),
                        role: r.get("role"),
                        token_id: match (&scope, r.get::<String, _>("token_id")) {
                            (Some((_, own)), id) if id != *own => masked_token_id(&id),
                            (_, id) => id,
                        },
                        method: r.get("method"),
                        resource: r.get("resource"),
                        code: r.get("code"),
                        request_sha256: r.get("request_sha256"),
                        response_sha256: r.get("response_sha256"),
                    },
                    prev_hash: r.get("prev_hash"),
                    row_hash: r.get("row_hash"),
                }
                .to_event()
            })
            .collect();
        let anchor_seq: i64 = anchor.get("seq");
        Ok(Response::new(ListAuditEventsResponse {
            events,
            anchor_seq,
            anchor_hash: anchor.get("row_hash"),
            last_seq: last_seq.unwrap_or(anchor_seq),
        }))
    }
}

/// What a government's reader sees of another caller's token id: enough to tell calls of one
/// token from another's, nothing revocation takes.
fn masked_token_id(id: &str) -> String {
    if id.is_empty() {
        return String::new();
    }
    let print = digest(id.as_bytes());
    format!("sha256:{}", hex::encode(&print[..6]))
}

/// sha256 of `bytes`.
pub fn digest(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// The anchor hash of a trail nothing was pruned from.
pub fn genesis_hash() -> Vec<u8> {
    ZERO_HASH.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str) -> Entry {
        Entry {
            actor: "units/1@武昌区".into(),
            role: "reporter".into(),
            token_id: "t".into(),
            method: "/duban.v1.ReportingService/CreateReport".into(),
            resource: "reports/1".into(),
            code: code.into(),
            request_sha256: digest(b"req"),
            response_sha256: digest(b"resp"),
        }
    }

    fn chain(n: i64) -> Vec<Row> {
        let mut prev = genesis_hash();
        (1..=n)
            .map(|seq| {
                let e = entry("OK");
                let row_hash = Row::hash(&prev, seq, seq * 1000, &e);
                let row = Row {
                    seq,
                    at_micros: seq * 1000,
                    entry: e,
                    prev_hash: prev.clone(),
                    row_hash: row_hash.clone(),
                };
                prev = row_hash;
                row
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert!(verify_chain(0, &genesis_hash(), &chain(5)).is_empty());
    }

    #[test]
    fn an_edited_row_is_named() {
        let mut rows = chain(5);
        rows[2].entry.code = "PERMISSION_DENIED".into();
        let breaks = verify_chain(0, &genesis_hash(), &rows);
        assert_eq!(breaks.len(), 1);
        assert_eq!(breaks[0].seq, 3);
        assert!(breaks[0].reason.contains("edited"));
    }

    #[test]
    fn a_deleted_row_is_found() {
        let mut rows = chain(5);
        rows.remove(1);
        let breaks = verify_chain(0, &genesis_hash(), &rows);
        assert_eq!(breaks[0].seq, 3);
        assert!(breaks[0].reason.contains("rows 2..=2 are missing"));
    }

    #[test]
    fn a_pruned_prefix_verifies_from_its_anchor() {
        let rows = chain(5);
        let anchor = rows[1].row_hash.clone();
        assert!(verify_chain(2, &anchor, &rows[2..]).is_empty());
        assert!(!verify_chain(0, &genesis_hash(), &rows[2..]).is_empty());
    }
}
