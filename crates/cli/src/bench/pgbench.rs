//! The write baseline: pgbench's single-row inserts against the same database.

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

/// Inserts per second of one-row INSERT transactions from `clients` connections.
pub fn inserts_per_second(
    database_url: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let pgbench = binary()
        .context("pgbench not found (it ships with the PostgreSQL client/server packages)")?;
    let dir = std::env::temp_dir().join(format!("duban-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("insert.sql");
    std::fs::write(
        &script,
        "\\set r random(1, 1000000000)\nINSERT INTO public.bench_inserts (payload, created_at) VALUES (:r, now());\n",
    )?;
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
        .arg(&script)
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
