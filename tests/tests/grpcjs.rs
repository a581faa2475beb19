//! The services called by Node's grpc-js (tests/grpcjs/client.js), a gRPC stack written in
//! JavaScript that shares no code with tonic or with grpcio's C core: unary calls with CJK
//! text, int64, enums, bytes and timestamps, paging, the rich error details, idempotent
//! retries and a server stream. The packages (tests/grpcjs/package-lock.json, from the npm
//! registry) are installed under target/ on first use; the stubs are made at run time from
//! proto/ by proto-loader.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use duban_cli::stack::Service;
use duban_testkit::{
    TestSet,
    clients::{self, run},
};

fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grpcjs")
}

/// The node_modules folder of the locked packages, installed once per lock file.
fn node_modules() -> &'static Path {
    static MODULES: OnceLock<PathBuf> = OnceLock::new();
    MODULES.get_or_init(|| {
        let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grpcjs-packages");
        let lock = std::fs::read_to_string(client_dir().join("package-lock.json"))
            .expect("tests/grpcjs/package-lock.json");
        clients::installed_once(&home, &lock, |home| {
            for file in ["package.json", "package-lock.json"] {
                std::fs::copy(client_dir().join(file), home.join(file))
                    .unwrap_or_else(|e| panic!("copying tests/grpcjs/{file}: {e}"));
            }
            // the lock file decides every version; no package's install script runs
            run(
                std::process::Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
                    .current_dir(home),
                "npm ci (tests/grpcjs)",
            );
        });
        home.join("node_modules")
    })
}

/// Runs one suite of client.js against `set`; its output, or a panic naming the failed checks.
async fn suite(set: &TestSet, name: &str) -> String {
    let modules = node_modules();
    let address = |service| set.stack.addr(service).to_string();
    let seed = duban_testkit::seed(duban_testkit::SEED_DECOMPOSITION);
    let mut command = tokio::process::Command::new("node");
    command
        .arg(client_dir().join("client.js"))
        .env("NODE_PATH", modules)
        .args(["--suite", name])
        .arg("--proto")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../proto"))
        .arg("--seed")
        .arg(seed)
        .args(["--ingest", &address(Service::Ingest)])
        .args(["--targets", &address(Service::Targets)])
        .args(["--assignments", &address(Service::Assignments)])
        .args(["--reporting", &address(Service::Reporting)]);
    clients::suite(command, &format!("client.js {name}")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_js_ingests_pages_reports_and_streams_with_rich_errors() {
    let set = TestSet::start().await;
    let out = suite(&set, "interop").await;
    assert!(out.contains("ok   SubscribeEvents streams the submission"));
    assert!(out.contains("ok   CreateDocument without content: names the field"));
    set.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_over_the_extraction_budget_reaches_grpc_js_as_resource_exhausted() {
    let database_url = duban_testkit::fresh_database().await;
    let mut config = duban_cli::stack::StackConfig::ephemeral(&database_url);
    config.ingest_extract_budget_ms = 1;
    let set = TestSet::start_with(config).await;
    let out = suite(&set, "over-budget").await;
    assert!(out.contains("ok   CreateDocument over the extraction budget (retried): metadata"));
    set.stop().await;
}
