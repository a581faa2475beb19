//! The write baselines: pgbench transactions against the same database, one row (the issue's
//! baseline) and the rows one report write makes.

use std::{path::PathBuf, process::Command, time::Duration};

use anyhow::{Context, bail};

/// pgbench next to the server binaries: PATH first, else the newest /usr/lib/postgresql/N/bin.
fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("pgbench"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| {
                let e = e.ok()?;
                let version = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin/pgbench");
                bin.is_file().then_some((version, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, p)| p)
    })
}

/// A one-row INSERT (into a table the bench creates).
pub const ONE_ROW: &str = "\\set r random(1, 1000000000)
INSERT INTO public.bench_inserts (payload, created_at) VALUES (:r, now());
";

/// The rows one CreateReport writes, as one statement the way the reporting service writes
/// them (report, first version, request_id, audit event; snapshots of a report's size), on a
/// fresh assignment name each time: what the write costs Postgres alone.
pub const REPORT_ROWS: &str = "\\set n random(1, 2000000000)
WITH report AS (
    INSERT INTO reporting.reports (assignment, period, status, progress, drafter, plan, task,
                                   unit, unit_display_name, role, figures)
    VALUES ('pgbench/' || :client_id || '/' || :n, '2025Q1', 'on_pace', '按序时推进', '',
            'plans/1', 'plans/1/tasks/1', 'units/1', '压测单位', 'lead', '[]')
    ON CONFLICT (assignment, period) DO NOTHING
    RETURNING id
), claim AS (
    INSERT INTO reporting.request_log (method, request_id, fingerprint, response)
    SELECT 'pgbench', 'pgbench-' || :client_id || '-' || :n, sha256(''), decode(repeat('5a', 180), 'hex')
    FROM report
    ON CONFLICT (method, request_id) DO NOTHING
    RETURNING 1
), version AS (
    INSERT INTO reporting.report_versions (report, version, action, snapshot)
    SELECT id, 1, 'created', decode(repeat('5a', 180), 'hex') FROM report
), event AS (
    INSERT INTO reporting.audit_pending (at, actor, role, token_id, method, resource, code,
                                         request_sha256, response_sha256)
    SELECT now(), '', '', '', 'pgbench', 'reports/' || id, 'OK', sha256(''), sha256('') FROM report
)
SELECT id FROM report WHERE EXISTS (SELECT FROM claim);
";

/// Transactions per second of `script` (a pgbench script) from `clients` connections.
pub fn per_second(
    database_url: &str,
    clients: usize,
    duration: Duration,
    script: &str,
) -> anyhow::Result<f64> {
    let pgbench = binary()
        .context("pgbench not found (it ships with the PostgreSQL client/server packages)")?;
    let dir = std::env::temp_dir().join(format!("duban-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script_file = dir.join("script.sql");
    std::fs::write(&script_file, script)?;
    let out = Command::new(pgbench)
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &duration.as_secs().max(1).to_string(),
            "-f",
        ])
        .arg(&script_file)
        .arg(database_url)
        .output()
        .context("running pgbench")?;
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    stdout
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no tps line in pgbench output:\n{stdout}"))
}
