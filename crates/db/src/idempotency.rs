//! request_id replay: a mutating call that carries a request_id records its response in the same
//! transaction as its effects, so a retry returns the first result instead of acting twice.
//!
//! Each service's schema has the table:
//! `request_log(request_id text, method text, fingerprint bytea, response bytea, created_at timestamptz)`
//! with primary key (method, request_id).

use duban_proto::ApiError;
use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Row, Transaction};

/// What to do with a call after looking up its request_id.
pub enum Replay<M> {
    /// First time: go ahead, then call [`record`].
    Proceed,
    /// Seen before: return this response unchanged.
    Done(M),
}

pub fn fingerprint<R: Message>(request: &R) -> Vec<u8> {
    Sha256::digest(request.encode_to_vec()).to_vec()
}

/// INVALID_ARGUMENT for a request_id the log cannot hold.
pub fn check(request_id: &str) -> Result<(), ApiError> {
    if request_id.len() > 200 {
        return Err(ApiError::invalid("request_id", "must be at most 200 bytes"));
    }
    Ok(())
}

/// Claims `request_id` for `method` inside `tx`. A concurrent call with the same id waits on the
/// row lock until the first commits, then replays its response.
pub async fn claim<M: Message + Default>(
    tx: &mut Transaction<'_, Postgres>,
    method: &str,
    request_id: &str,
    fingerprint: &[u8],
) -> Result<Replay<M>, ApiError> {
    if request_id.is_empty() {
        return Ok(Replay::Proceed);
    }
    check(request_id)?;
    let inserted = sqlx::query(
        "INSERT INTO request_log (method, request_id, fingerprint) VALUES ($1, $2, $3)
         ON CONFLICT (method, request_id) DO NOTHING",
    )
    .bind(method)
    .bind(request_id)
    .bind(fingerprint)
    .execute(&mut **tx)
    .await
    .map_err(crate::api_error)?
    .rows_affected();
    if inserted == 1 {
        return Ok(Replay::Proceed);
    }
    match replay(&mut **tx, method, request_id, fingerprint).await? {
        Some(done) => Ok(Replay::Done(done)),
        None => Err(ApiError::internal(
            "request_log row vanished under its lock",
        )),
    }
}

/// The response recorded for `request_id` of `method`, if the call was made and committed;
/// FAILED_PRECONDITION if the request_id was used for a different request.
pub async fn replay<'e, M: Message + Default>(
    executor: impl sqlx::PgExecutor<'e>,
    method: &str,
    request_id: &str,
    fingerprint: &[u8],
) -> Result<Option<M>, ApiError> {
    let Some(row) = sqlx::query(
        "SELECT fingerprint, response FROM request_log WHERE method = $1 AND request_id = $2",
    )
    .bind(method)
    .bind(request_id)
    .fetch_optional(executor)
    .await
    .map_err(crate::api_error)?
    else {
        return Ok(None);
    };
    let stored: Vec<u8> = row.get("fingerprint");
    if stored != fingerprint {
        return Err(ApiError::FailedPrecondition {
            reason: "REQUEST_ID_REUSED",
            message: format!(
                "request_id {request_id:?} was already used for a different {method} request"
            ),
        });
    }
    let response: Option<Vec<u8>> = row.get("response");
    let response =
        response.ok_or_else(|| ApiError::internal("request_log row without a response"))?;
    M::decode(response.as_slice())
        .map(Some)
        .map_err(|e| ApiError::internal(format!("stored response does not decode: {e}")))
}

/// Stores the response of a claimed call; a no-op without a request_id.
pub async fn record<M: Message>(
    tx: &mut Transaction<'_, Postgres>,
    method: &str,
    request_id: &str,
    response: &M,
) -> Result<(), ApiError> {
    if request_id.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE request_log SET response = $3 WHERE method = $1 AND request_id = $2")
        .bind(method)
        .bind(request_id)
        .bind(response.encode_to_vec())
        .execute(&mut **tx)
        .await
        .map_err(crate::api_error)?;
    Ok(())
}
