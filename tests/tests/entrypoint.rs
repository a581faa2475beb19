//! The containers' entrypoints: the built binaries, run with the containers' environment
//! (deploy/k8s/base/duban.env, the image's listen addresses moved to free ports, a database),
//! migrate as the one-shot step does, pass the health check the containers use, export their
//! traces to an OpenTelemetry collector's receiver and exit 0 on SIGTERM.

use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};

use duban_testkit::{clients, fresh_database, sample, scrape};
use nix::{sys::signal::Signal, unistd::Pid};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    sync::mpsc,
};

/// A binary of the workspace, built next to this test by `scripts/test`.
fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests through scripts/test, which builds every binary",
        path.display()
    );
    path
}

/// The variables of deploy/k8s/base/duban.env, as Compose's env_file and Kubernetes'
/// configMapGenerator read them.
fn container_env() -> Vec<(String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/k8s/base/duban.env");
    let text = std::fs::read_to_string(&path).expect("reading duban.env");
    let vars: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (k, v) = line.split_once('=').expect("KEY=VALUE");
            (k.to_string(), v.to_string())
        })
        .collect();
    assert!(vars.iter().any(|(k, _)| k == "DUBAN_TARGETS_URL"));
    vars
}

fn command(name: &str, database_url: &str) -> Command {
    let mut command = Command::new(bin(name));
    command
        .env_clear()
        .envs(container_env())
        .env("DATABASE_URL", database_url)
        .env("NO_COLOR", "1")
        .kill_on_drop(true);
    command
}

/// The address logged after `message` as `addr=...`.
fn logged_addr(line: &str, message: &str) -> Option<SocketAddr> {
    let clean: String = strip_ansi(line);
    if !clean.contains(message) {
        return None;
    }
    clean
        .split_whitespace()
        .find_map(|word| word.strip_prefix("addr="))
        .and_then(|addr| addr.parse().ok())
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn duban_health(addr: SocketAddr, service: &str) -> bool {
    Command::new(bin("duban"))
        .args(["health", "--addr", &addr.to_string(), "--service", service])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .expect("running duban health")
        .success()
}

#[tokio::test]
async fn targets_container_migrates_serves_exports_traces_and_stops_on_sigterm() {
    let database_url = fresh_database().await;

    let migrated = command("duban", &database_url)
        .arg("migrate")
        .output()
        .await
        .expect("running duban migrate");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    let (collector, mut spans) = otlp_collector().await;
    let mut child = command("duban-targets", &database_url)
        .arg("serve")
        .env("DUBAN_TARGETS_ADDR", "127.0.0.1:0")
        .env("DUBAN_TARGETS_METRICS_ADDR", "127.0.0.1:0")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting duban-targets");
    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    // Read the log to its end, so the child never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = stdout.next_line().await {
            let _ = lines_tx.send(line);
        }
    });
    let (mut grpc, mut metrics) = (None, None);
    while grpc.is_none() || metrics.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.recv())
            .await
            .expect("duban-targets logs its addresses")
            .expect("duban-targets exited before listening");
        grpc = grpc.or(logged_addr(&line, "listening"));
        metrics = metrics.or(logged_addr(&line, "serving metrics"));
    }
    let (grpc, metrics) = (grpc.unwrap(), metrics.unwrap());

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !duban_health(grpc, "duban.v1.TargetsService").await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "targets never became SERVING"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(duban_health(grpc, "liveness").await);
    assert!(!duban_health(grpc, "duban.v1.NoSuchService").await);

    let scraped = scrape(metrics).await;
    let checks = sample(
        &scraped,
        "duban_rpc_requests_total",
        &[
            ("method", "/grpc.health.v1.Health/Check"),
            ("code", "Ok"),
            ("service", "targets"),
        ],
    )
    .unwrap_or_default();
    assert!(checks >= 2.0, "{scraped}");

    let pid = Pid::from_raw(child.id().expect("running").try_into().unwrap());
    nix::sys::signal::kill(pid, Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("duban-targets stops within its grace period")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!duban_health(grpc, "duban.v1.TargetsService").await);
    // the line an operator (and scripts/container-test) reads to know the stop was graceful
    let mut rest = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(10), lines.recv()).await {
        rest.push(line);
    }
    assert!(
        rest.iter().any(|l| l.contains("stopped")),
        "no 'stopped' line after SIGTERM: {rest:?}"
    );

    // the spans of the health checks reached the collector, under the service's name, by the
    // time the service had stopped (it flushes what it has not sent yet on its way out)
    let mut received = Vec::new();
    let health_span = |span: &serde_json::Value| {
        span["service"] == "duban-targets" && span["name"] == "/grpc.health.v1.Health/Check"
    };
    while !received.iter().any(health_span) {
        let span = tokio::time::timeout(Duration::from_secs(10), spans.recv())
            .await
            .unwrap_or_else(|_| panic!("no health-check span reached the collector: {received:?}"))
            .expect("the collector stopped");
        received.push(span);
    }
}

/// An OpenTelemetry collector's trace receiver (tests/grpcio/otlp_receiver.py: grpcio serving
/// opentelemetry-proto's TraceService): its endpoint, and the spans it receives.
async fn otlp_collector() -> (String, mpsc::UnboundedReceiver<serde_json::Value>) {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let python = tokio::task::spawn_blocking(move || clients::grpcio_python(&tmp))
        .await
        .expect("making the grpcio environment");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grpcio/otlp_receiver.py");
    let mut receiver = Command::new(python)
        .arg(script)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the OTLP receiver");
    let mut lines = BufReader::new(receiver.stdout.take().expect("piped")).lines();
    let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the OTLP receiver says where it listens")
        .expect("reading the OTLP receiver")
        .expect("the OTLP receiver exited before listening");
    let port = serde_json::from_str::<serde_json::Value>(&first).expect("its port as JSON")["port"]
        .as_u64()
        .expect("a port");
    let (tx, rx) = mpsc::unbounded_channel();
    // the receiver lives as long as this task, which reads its output to the end
    tokio::spawn(async move {
        let _receiver = receiver;
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(span) = serde_json::from_str(&line) {
                let _ = tx.send(span);
            }
        }
    });
    (format!("http://127.0.0.1:{port}"), rx)
}
