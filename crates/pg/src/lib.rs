//! Where duban's database comes from, in order: the URL the operator gave; a Postgres already
//! accepting connections on 127.0.0.1:5432; else a private PostgreSQL started from the
//! machine's binaries in a data folder under the working directory, as an unprivileged user when
//! run as root (postgres refuses to run as root).

mod private;

use std::{path::Path, time::Duration};

use sqlx::{Connection, PgConnection};

pub use private::PrivatePostgres;

/// Connection settings for a private or local server.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Trade durability for speed (fsync off): for test servers whose data is thrown away.
    pub ephemeral: bool,
    /// Leave a private server running when this process ends (for `duban db start`).
    pub keep_running: bool,
}

/// The database duban will use, and the private server behind it if one was started.
pub struct Database {
    pub url: String,
    /// Where the URL came from, for the operator: "DATABASE_URL", "local server", "private server".
    /// Where the database is, said to the person who runs the command: which server, and
    /// whether the database was made for this run.
    pub origin: String,
    pub private: Option<PrivatePostgres>,
}

pub const DATABASE_NAME: &str = "duban";

/// Finds or starts the database: `explicit` (DATABASE_URL) when given, else a server on
/// 127.0.0.1:5432 that accepts us, else a private server in `data_dir`.
pub async fn resolve(
    explicit: Option<&str>,
    data_dir: &Path,
    options: &Options,
) -> anyhow::Result<Database> {
    if let Some(url) = explicit.filter(|u| !u.is_empty()) {
        return Ok(Database {
            url: url.to_string(),
            origin: "DATABASE_URL".to_string(),
            private: None,
        });
    }
    if let Some((url, origin)) = local_server().await {
        return Ok(Database {
            url,
            origin,
            private: None,
        });
    }
    let private = PrivatePostgres::start(data_dir, options).await?;
    Ok(Database {
        url: private.url(DATABASE_NAME),
        origin: format!("private server in {}", data_dir.display()),
        private: Some(private),
    })
}

/// A server on the default port that lets the current user (or PGUSER) in, with its URL and a
/// description saying whether the database was created and where the password comes from (a
/// password is never printed in a URL).
async fn local_server() -> Option<(String, String)> {
    let open = tokio::time::timeout(
        Duration::from_millis(500),
        tokio::net::TcpStream::connect("127.0.0.1:5432"),
    )
    .await;
    if !matches!(open, Ok(Ok(_))) {
        return None;
    }
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".to_string());
    let admin = format!("postgres://{user}@127.0.0.1:5432/postgres");
    match ensure_database(&admin, DATABASE_NAME).await {
        Ok(created) => {
            let password = if std::env::var_os("PGPASSWORD").is_some() {
                "; the password is PGPASSWORD's and is not in the URL: give it to every process \
                 that uses the URL"
            } else {
                ""
            };
            Some((
                format!("postgres://{user}@127.0.0.1:5432/{DATABASE_NAME}"),
                format!(
                    "the server on 127.0.0.1:5432, as {user}, database {DATABASE_NAME} ({}){password}",
                    if created {
                        "created now"
                    } else {
                        "already there"
                    }
                ),
            ))
        }
        Err(err) => {
            tracing::info!(
                "a server answers on 127.0.0.1:5432 but does not let us in ({err}); starting a private one"
            );
            None
        }
    }
}

/// Creates database `name` through the maintenance connection `admin_url` unless it exists;
/// true when this call created it.
pub async fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<bool> {
    let mut conn = PgConnection::connect(admin_url).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let created = sqlx::query(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .execute(&mut conn)
            .await;
        // Another process may have created it between the check and the CREATE.
        if let Err(err) = created
            && !err
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|c| c == "42P04" || c == "23505")
        {
            return Err(err.into());
        }
    }
    conn.close().await?;
    Ok(!exists)
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5/duban", "t1"),
            "postgres://u@h:5/t1"
        );
        assert_eq!(
            with_database("postgres://u@h:5/duban?sslmode=disable", "t1"),
            "postgres://u@h:5/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5", "t1"),
            "postgres://u@h:5/t1"
        );
    }
}
