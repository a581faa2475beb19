//! Postgres as every service uses it: one schema per service in a shared database.

pub mod idempotency;

use std::{str::FromStr, time::Duration};

use duban_proto::ApiError;
use sqlx::{
    PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// Connects a pool whose every connection works in `schema`, names itself `application_name`
/// (visible in pg_stat_activity) and reads and writes timestamps in UTC. The DSN is never
/// logged: it may hold a password.
pub async fn connect(
    url: &str,
    schema: &str,
    application_name: &str,
    max_connections: u32,
) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?
        .application_name(application_name)
        .options([("search_path", schema), ("timezone", "UTC")]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        // Calls should fail fast with UNAVAILABLE when the database is gone, not hang.
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await
}

/// Creates `schema` if needed and applies `migrator` inside it. Several replicas may start at
/// once: schema creation is serialised by an advisory lock and sqlx's migrator takes its own.
pub async fn migrate(pool: &PgPool, schema: &str, migrator: &Migrator) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock(hashtext('duban.schema.' || $1))")
        .bind(schema)
        .execute(&mut *conn)
        .await?;
    let created = sqlx::query(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{}\"",
        schema.replace('"', "")
    ))
    .execute(&mut *conn)
    .await;
    sqlx::query("SELECT pg_advisory_unlock(hashtext('duban.schema.' || $1))")
        .bind(schema)
        .execute(&mut *conn)
        .await?;
    created?;
    drop(conn);
    migrator.run(pool).await?;
    Ok(())
}

/// What a caller sees for a database failure: UNAVAILABLE when the database cannot be reached
/// (retrying later may work), INTERNAL otherwise. Details go to the log, not the caller.
pub fn api_error(err: sqlx::Error) -> ApiError {
    match &err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => {
            tracing::warn!(error = %err, "database unavailable");
            ApiError::unavailable("the database is unavailable; retry later")
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) =>
        {
            tracing::warn!(error = %err, "database unavailable");
            ApiError::unavailable("the database is unavailable; retry later")
        }
        _ => {
            tracing::error!(error = %err, "database error");
            ApiError::internal("internal database error")
        }
    }
}

/// Connects into `schema` and brings it up to date: what every service does at start-up.
pub async fn open(
    url: &str,
    schema: &str,
    application_name: &str,
    max_connections: u32,
    migrator: &Migrator,
) -> Result<PgPool, sqlx::Error> {
    let pool = connect(url, schema, application_name, max_connections).await?;
    migrate(&pool, schema, migrator).await?;
    Ok(pool)
}

/// A stored time as a protobuf Timestamp.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}
