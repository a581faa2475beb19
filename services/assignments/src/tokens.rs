//! Token revocation: the list lives in this service's schema (admin owns tokens); the other
//! services poll ListRevocations, this one reloads it from its own table.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use duban_db::{api_error, idempotency};
use duban_kit::{audit, auth, security::Revocations};
use duban_proto::{
    ApiError,
    v1::{
        ListRevocationsRequest, ListRevocationsResponse, Revocation, RevokeTokenRequest,
        token_service_server::TokenService,
    },
};
use sqlx::{FromRow, PgPool};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::store::timestamp;

#[derive(FromRow)]
struct Row {
    seq: i64,
    token_id: String,
    reason: String,
    revoked_at: DateTime<Utc>,
}

impl From<Row> for Revocation {
    fn from(r: Row) -> Self {
        Revocation {
            token_id: r.token_id,
            reason: r.reason,
            revoke_time: Some(timestamp(r.revoked_at)),
            seq: r.seq,
        }
    }
}

const METHOD: &str = "RevokeToken";

pub struct Tokens {
    pool: PgPool,
    revocations: Arc<Revocations>,
}

impl Tokens {
    pub fn new(pool: PgPool, revocations: Arc<Revocations>) -> Self {
        Self { pool, revocations }
    }
}

async fn since(pool: &PgPool, seq: i64) -> Result<Vec<Revocation>, ApiError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, token_id, reason, revoked_at FROM revoked_tokens WHERE seq > $1 ORDER BY seq",
    )
    .bind(seq)
    .fetch_all(pool)
    .await
    .map_err(api_error)?;
    Ok(rows.into_iter().map(Revocation::from).collect())
}

/// Loads new revocations from the table every `every` until `shutdown` (other replicas of this
/// service may have added some).
pub async fn reload_periodically(
    pool: PgPool,
    revocations: Arc<Revocations>,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        match since(&pool, revocations.since()).await {
            Ok(list) => {
                let seq = list.iter().map(|r| r.seq).max().unwrap_or(0);
                revocations.add(list.into_iter().map(|r| r.token_id), seq);
            }
            Err(err) => tracing::warn!(error = %err, "reloading the token revocation list failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[tonic::async_trait]
impl TokenService for Tokens {
    async fn revoke_token(
        &self,
        request: Request<RevokeTokenRequest>,
    ) -> Result<Response<Revocation>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let token_id = auth::revocation_id(&req.token_id);
        if token_id.is_empty() || token_id.len() > 200 {
            return Err(ApiError::invalid(
                "token_id",
                "is required: the token id (jti) printed by `duban token issue`, or cert:<serial> \
                 of a client certificate, at most 200 bytes",
            )
            .into());
        }
        // A government's admin revokes only its own government's tokens: their ids name it.
        if let Some(who) = who.filter(|who| !who.reads_everything())
            && auth::government_of_token_id(&token_id) != Some(who.government.as_str())
        {
            return Err(auth::denied(format!(
                "{} is not a token of {}: a {} of {} revokes only tokens issued for {} (their \
                 ids begin with \"{}/\"); certificates and tokens of other governments or of the \
                 whole deployment are revoked by an admin of the whole deployment",
                duban_proto::quote(&token_id),
                who.government,
                who.role,
                who.government,
                who.government,
                who.government
            )));
        }
        let expires_at = req
            .expire_time
            .as_ref()
            .map(|t| {
                DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
                    .ok_or_else(|| ApiError::invalid("expire_time", "is not a valid time"))
            })
            .transpose()?;
        let print = idempotency::fingerprint(&req);
        let mut tx = self.pool.begin().await.map_err(api_error)?;
        if let idempotency::Replay::Done(done) =
            idempotency::claim::<Revocation>(&mut tx, METHOD, &req.request_id, &print).await?
        {
            return Ok(Response::new(done));
        }
        // Revoking again returns the first revocation: the call is idempotent by token id too.
        let row: Row = sqlx::query_as(
            "WITH added AS (
                 INSERT INTO revoked_tokens (token_id, reason, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (token_id) DO NOTHING
                 RETURNING seq, token_id, reason, revoked_at)
             SELECT * FROM added
             UNION ALL
             SELECT seq, token_id, reason, revoked_at FROM revoked_tokens WHERE token_id = $1
             LIMIT 1",
        )
        .bind(&token_id)
        .bind(req.reason.trim())
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(api_error)?;
        let revocation = Revocation::from(row);
        audit::record(&mut tx, METHOD, &req.request_id, &revocation).await?;
        tx.commit().await.map_err(api_error)?;
        self.revocations
            .add([revocation.token_id.clone()], revocation.seq);
        Ok(Response::new(revocation))
    }

    async fn list_revocations(
        &self,
        request: Request<ListRevocationsRequest>,
    ) -> Result<Response<ListRevocationsResponse>, Status> {
        let since_seq = request.get_ref().since_seq;
        if since_seq < 0 {
            return Err(ApiError::invalid(
                "since_seq",
                "must not be negative: 0 lists every revocation",
            )
            .into());
        }
        let revocations = since(&self.pool, since_seq).await?;
        Ok(Response::new(ListRevocationsResponse { revocations }))
    }
}
