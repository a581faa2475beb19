//! End-to-end test support: a fresh database per test on the Postgres that `scripts/test`
//! provides (DATABASE_URL), and the four real services started exactly as `duban up` starts
//! them, on port 0, reached only through the generated gRPC clients.

pub mod clients;
pub mod secure;

use std::{
    path::{Path, PathBuf},
    process::Output,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use duban_cli::stack::{Service, Stack, StackConfig};
use duban_proto::v1::{
    CreateDocumentRequest, DeliveryState, Document, GetDocumentRequest,
    assignments_service_client::AssignmentsServiceClient,
    ingest_service_client::IngestServiceClient, reporting_service_client::ReportingServiceClient,
    targets_service_client::TargetsServiceClient,
};
use tonic::transport::Channel;

/// The commands of the first `sh` block of the README's section whose title starts with
/// `title`: continuation lines joined, blank and comment lines left out.
pub fn readme_commands(title: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("the README");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with(title))
        .unwrap_or_else(|| panic!("the README's section {title}"));
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("its sh block");
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        if current.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        current.push_str(line.strip_suffix('\\').unwrap_or(line));
        if line.ends_with('\\') {
            continue;
        }
        commands.push(std::mem::take(&mut current));
    }
    commands
}

/// Runs one README line by bash in `dir`, with `envs` added, within 60 s.
pub async fn run_line(command: &str, dir: &Path, envs: &[(&str, String)]) -> Output {
    tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("bash")
            .args(["-c", command])
            .current_dir(dir)
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("DUBAN_TOKEN")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("no answer within 60 s: {command}"))
    .expect("bash")
}

/// A README line that did not do what it says, for the test's message.
pub fn failed_line(command: &str, out: &Output) -> String {
    format!(
        "{command}\n  exit {:?}; stdout: {}; stderr: {}",
        out.status.code(),
        duban_kit::text::clip(String::from_utf8_lossy(&out.stdout).trim(), 300),
        duban_kit::text::clip(String::from_utf8_lossy(&out.stderr).trim(), 300)
    )
}

/// The server's maintenance URL from DATABASE_URL, which `scripts/test` sets.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "DATABASE_URL is not set: run the tests through scripts/test, which starts a Postgres"
        )
    })
}

/// A new, empty database on the test server; its URL.
pub async fn fresh_database() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = format!(
        "duban_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let server = server_url();
    duban_pg::ensure_database(&server, &name)
        .await
        .expect("creating a test database");
    duban_pg::with_database(&server, &name)
}

/// The seed document `name` in the repository's seeds/ folder.
pub fn seed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../seeds")
        .join(name)
}

pub const SEED_DECOMPOSITION: &str = "003_61d2f146978665c4.txt";

/// The four services of one test, with clients to each.
pub struct TestSet {
    pub stack: Stack,
    pub database_url: String,
    pub ingest: IngestServiceClient<Channel>,
    pub targets: TargetsServiceClient<Channel>,
    pub assignments: AssignmentsServiceClient<Channel>,
    pub reporting: ReportingServiceClient<Channel>,
}

impl TestSet {
    pub async fn start() -> Self {
        Self::start_with(StackConfig::ephemeral(&fresh_database().await)).await
    }

    pub async fn start_with(config: StackConfig) -> Self {
        let database_url = config.database_url.clone();
        let stack = Stack::start(config).await.expect("starting the services");
        stack
            .wait_serving(Duration::from_secs(30))
            .await
            .expect("services become SERVING");
        let lazy = |service| stack.channel(service).expect("a channel to the service");
        Self {
            ingest: IngestServiceClient::new(lazy(Service::Ingest))
                .max_encoding_message_size(64 * 1024 * 1024),
            targets: TargetsServiceClient::new(lazy(Service::Targets)),
            assignments: AssignmentsServiceClient::new(lazy(Service::Assignments)),
            reporting: ReportingServiceClient::new(lazy(Service::Reporting)),
            stack,
            database_url,
        }
    }

    /// The set `duban up` makes: every seed ingested in its order (which fixes the ids the README
    /// names), then everything delivered.
    pub async fn start_seeded() -> Self {
        let set = Self::start().await;
        let mut seeds: Vec<String> = std::fs::read_dir(seed(""))
            .expect("seeds/")
            .map(|e| {
                e.expect("a seed")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        seeds.sort();
        let mut documents = Vec::new();
        for name in &seeds {
            documents.push(set.ingest_seed(name).await.name);
        }
        for document in &documents {
            let doc = set.wait_delivered(document, Duration::from_secs(120)).await;
            assert_eq!(
                doc.delivery_state,
                DeliveryState::Delivered as i32,
                "{doc:?}"
            );
        }
        set
    }

    /// Ingests a seed document by file name.
    pub async fn ingest_seed(&self, name: &str) -> Document {
        let content = std::fs::read(seed(name)).expect("reading the seed");
        self.ingest
            .clone()
            .create_document(CreateDocumentRequest {
                content,
                filename: name.to_string(),
                request_id: String::new(),
            })
            .await
            .expect("ingest accepts the seed")
            .into_inner()
    }

    /// Polls the document until it is no longer PENDING (or `limit` passes).
    pub async fn wait_delivered(&self, name: &str, limit: Duration) -> Document {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let doc = self
                .ingest
                .clone()
                .get_document(GetDocumentRequest {
                    name: name.to_string(),
                })
                .await
                .expect("GetDocument")
                .into_inner();
            if doc.delivery_state != DeliveryState::Pending as i32
                || tokio::time::Instant::now() > deadline
            {
                return doc;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.stack.stop().await.expect("services stop cleanly");
    }
}

/// A private Postgres of the test's own, which the test may stop and restart, the four services
/// running on it, and the folder that holds its data (the test removes it at the end).
pub async fn set_on_own_postgres(
    label: &str,
) -> (duban_pg::PrivatePostgres, TestSet, std::path::PathBuf) {
    let root = std::env::temp_dir().join(format!("duban-{label}-{}", std::process::id()));
    let server = duban_pg::PrivatePostgres::start(
        &root,
        &duban_pg::Options {
            ephemeral: true,
            keep_running: false,
        },
    )
    .await
    .expect("a private Postgres of the test's own");
    let set =
        TestSet::start_with(StackConfig::ephemeral(&server.url(duban_pg::DATABASE_NAME))).await;
    (server, set, root)
}

/// The text of `GET /metrics` at `addr`, over a plain HTTP/1.1 connection.
pub async fn scrape(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connecting to the metrics endpoint");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: duban\r\nConnection: close\r\n\r\n")
        .await
        .expect("sending the scrape");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("reading the scrape");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("an HTTP response has a head");
    assert!(head.starts_with("HTTP/1.1 200"), "scrape failed: {head}");
    body.to_string()
}

/// The value of the sample of metric `name` whose labels include all of `labels`, from
/// Prometheus text.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((n, rest)) => (n, parse_labels(rest.strip_suffix('}')?)),
                None => (series, Vec::new()),
            };
            let matches = series_name == name
                && labels
                    .iter()
                    .all(|(k, v)| series_labels.iter().any(|(sk, sv)| sk == k && sv == v));
            if matches { value.parse().ok() } else { None }
        })
}

/// `a="x",b="y"` into pairs; values are taken as written (no escapes occur in duban's labels).
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some((value, tail)) = after.split_once('"') else {
            break;
        };
        pairs.push((key.trim_start_matches(',').to_string(), value.to_string()));
        rest = tail;
    }
    pairs
}
