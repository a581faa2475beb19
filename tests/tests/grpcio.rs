//! The services called by Google's grpcio (tests/grpcio/client.py), the client stack most of
//! duban's callers share, not tonic's: every refused call must reach it with its real status
//! code and details. The virtual environment (tests/grpcio/requirements.txt, from PyPI) and
//! the stubs (generated from proto/ by grpc_tools) are made under target/ on first use.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use duban_cli::stack::Service;
use duban_testkit::{
    TestSet,
    clients::{self, run},
};

/// The client and its requirements, in the repository.
fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grpcio")
}

/// A python with grpcio installed, and the folder of the generated stubs.
struct Python {
    interpreter: PathBuf,
    stubs: PathBuf,
}

fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let interpreter = clients::grpcio_python(tmp);
        // Regenerated every run, so the stubs are always those of proto/ as it is now.
        let stubs = tmp.join(format!("grpcio-stubs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&stubs);
        std::fs::create_dir_all(&stubs).expect("stubs folder");
        let proto = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../proto");
        let files: Vec<PathBuf> = std::fs::read_dir(proto.join("duban/v1"))
            .expect("proto/duban/v1")
            .map(|e| e.expect("proto entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "proto"))
            .collect();
        run(
            std::process::Command::new(&interpreter)
                .args(["-m", "grpc_tools.protoc"])
                .arg(format!("-I{}", proto.display()))
                .arg(format!("--python_out={}", stubs.display()))
                .arg(format!("--grpc_python_out={}", stubs.display()))
                .args(&files),
            "grpc_tools.protoc",
        );
        Python { interpreter, stubs }
    })
}

/// Runs one suite of client.py against `set`; its output, or a panic naming the failed checks.
async fn suite(set: &TestSet, name: &str, extra: &[&str]) -> String {
    let python = python();
    let address = |service| set.stack.addr(service).to_string();
    let mut command = tokio::process::Command::new(&python.interpreter);
    command
        .arg(client_dir().join("client.py"))
        .arg("--stubs")
        .arg(&python.stubs)
        .args(["--ingest", &address(Service::Ingest)])
        .args(["--targets", &address(Service::Targets)])
        .args(["--assignments", &address(Service::Assignments)])
        .args(["--reporting", &address(Service::Reporting)])
        .args(extra)
        .arg(name);
    clients::suite(command, &format!("client.py {name}")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_writes_reach_grpcio_with_their_code_and_details() {
    let set = TestSet::start().await;
    let out = suite(&set, "refused-writes", &[]).await;
    assert!(out.contains("CreateDocument without content: INVALID_ARGUMENT"));
    set.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reflection_of_both_versions_lists_exactly_each_ports_services() {
    let set = TestSet::start().await;
    let out = suite(&set, "reflection", &[]).await;
    assert!(out.contains("targets reflection v1alpha list"));
    set.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_bounded_and_oversized_filters_refused() {
    let set = TestSet::start().await;
    let out = suite(&set, "bounded-errors", &[]).await;
    assert!(out.contains("ListTasks with a megabyte filter: INVALID_ARGUMENT"));
    set.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rpc_answers_grpcio_accepted_and_refused() {
    let set = TestSet::start().await;
    let seed = duban_testkit::seed(duban_testkit::SEED_DECOMPOSITION);
    let out = suite(
        &set,
        "every-rpc",
        &["--seed", seed.to_str().expect("a UTF-8 path")],
    )
    .await;
    assert!(out.contains("ListRevocations lists the revoked token"));
    set.stop().await;
}

/// The over-budget refusal (issue 29) as grpcio sees it: its code, its ErrorInfo (which limit,
/// which setting, which document was kept as FAILED), the same under retry, nothing delivered.
#[tokio::test(flavor = "multi_thread")]
async fn a_document_over_the_extraction_budget_reaches_grpcio_as_resource_exhausted() {
    let database_url = duban_testkit::fresh_database().await;
    let mut config = duban_cli::stack::StackConfig::ephemeral(&database_url);
    config.ingest_extract_budget_ms = 1;
    let set = TestSet::start_with(config).await;
    let seed = duban_testkit::seed(duban_testkit::SEED_DECOMPOSITION);
    let out = suite(
        &set,
        "over-budget",
        &["--seed", seed.to_str().expect("a UTF-8 path")],
    )
    .await;
    assert!(
        out.contains("CreateDocument over the extraction budget (retried): RESOURCE_EXHAUSTED")
    );
    set.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_during_a_database_outage_answer_unavailable_with_retry_info() {
    let (server, set, root) = duban_testkit::set_on_own_postgres("grpcio-outage").await;
    server.stop().expect("stop Postgres");
    let out = suite(&set, "outage", &[]).await;
    assert!(out.contains("CreatePlan while the database is down: UNAVAILABLE"));
    server.restart().expect("start Postgres again");
    set.stop().await;
    drop(server);
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test(flavor = "multi_thread")]
async fn over_tls_with_tokens_refusals_reach_grpcio_with_their_code_and_details() {
    use duban_kit::auth::Role;
    use duban_testkit::secure::{secrets, secure_set};

    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let ca = secrets.dir.join("ca.pem");
    let token =
        |role: &str, who: Role| format!("{role}={}", secrets.token("督查室", who, "武昌区"));
    let tokens = [
        token("admin", Role::Admin),
        token("reporter", Role::Reporter),
        token("supervisor", Role::Supervisor),
    ];
    let mut extra = vec!["--ca", ca.to_str().expect("a UTF-8 path")];
    for t in &tokens {
        extra.extend(["--token", t.as_str()]);
    }
    let out = suite(&set, "refused-writes", &extra).await;
    assert!(out.contains("CreateDocument by a reporter: PERMISSION_DENIED"));
    let out = suite(&set, "bounded-errors", &extra).await;
    assert!(out.contains("ListTasks with a megabyte filter: INVALID_ARGUMENT"));
    set.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scope_table_holds_for_every_rpc_role_and_government() {
    use duban_kit::auth::Role;
    use duban_testkit::secure::{secrets, secure_set};

    let secrets = secrets();
    let set = secure_set(&secrets).await;
    let ca = secrets.dir.join("ca.pem");
    let mut tokens = vec![format!("root={}", secrets.token("admin", Role::Admin, ""))];
    for government in ["武昌区", "江岸区", "武汉市"] {
        for role in [
            Role::Reporter,
            Role::UnitHead,
            Role::Supervisor,
            Role::Admin,
        ] {
            let unit = match role {
                // the registry's name for the 区发改局 of a 武昌区 plan; the same unit name in
                // another government's token reaches nothing of 武昌区's
                Role::Reporter | Role::UnitHead => "武昌区发展和改革局",
                Role::Supervisor => "督查室",
                Role::Admin | Role::Service => "admin",
            };
            let token = secrets.token(unit, role, government);
            tokens.push(format!("{role}@{government}={token}"));
        }
    }
    let seed = duban_testkit::seed(duban_testkit::SEED_DECOMPOSITION);
    let mut extra = vec![
        "--ca",
        ca.to_str().expect("a UTF-8 path"),
        "--seed",
        seed.to_str().expect("a UTF-8 path"),
    ];
    for t in &tokens {
        extra.extend(["--token", t.as_str()]);
    }
    let out = suite(&set, "scope-table", &extra).await;
    assert!(out.contains("MergeUnits by admin of own (武昌区): ok"));
    set.stop().await;
}

/// The shell commands of the README's security section that make the key and certificates:
/// every `head`, `openssl` and `serial=` line of its `sh` block.
fn readme_recipe() -> Vec<String> {
    duban_testkit::readme_commands("Security")
        .into_iter()
        .filter(|command| {
            ["head ", "openssl ", "serial="]
                .iter()
                .any(|start| command.starts_with(start))
        })
        .collect()
}

/// The README's API tour, run as written: every command of its `sh` block, by bash, against a
/// set holding what `duban up` makes of the seeds (the seeds ingested in its order, everything
/// delivered). `grpcurl` is tests/grpcio/grpcurl.py, which takes the same arguments and learns
/// every message from the services' reflection as grpcurl does. Each command must succeed and
/// print something other than an empty message, so a README name that the seeds do not make
/// (a NOT_FOUND, an empty list) fails here.
#[tokio::test(flavor = "multi_thread")]
async fn the_readmes_api_tour_runs_as_written() {
    let commands = duban_testkit::readme_commands("API tour");
    assert!(
        commands.len() >= 25,
        "the README's tour lost its commands: {commands:?}"
    );
    let set = TestSet::start_seeded().await;

    let python = python();
    let bin = std::env::temp_dir().join(format!("duban-tour-{}", std::process::id()));
    std::fs::create_dir_all(&bin).expect("a folder for grpcurl");
    let grpcurl = bin.join("grpcurl");
    std::fs::write(
        &grpcurl,
        format!(
            "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
            python.interpreter.display(),
            client_dir().join("grpcurl.py").display()
        ),
    )
    .expect("writing grpcurl");
    std::fs::set_permissions(
        &grpcurl,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod grpcurl");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let envs = [("PATH", path)];
    let mut failures = Vec::new();
    for written in &commands {
        // the README's ports, as duban up opens them, are this set's
        let mut command = written.clone();
        for (port, service) in [
            (50051, Service::Ingest),
            (50052, Service::Targets),
            (50053, Service::Assignments),
            (50054, Service::Reporting),
        ] {
            command = command.replace(
                &format!("127.0.0.1:{port}"),
                &set.stack.addr(service).to_string(),
            );
        }
        let out = duban_testkit::run_line(&command, &root, &envs).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        // a stream the command ends with -max-time ends as grpcurl's do: DeadlineExceeded
        let ended = written.contains("-max-time") && out.status.code() == Some(64 + 4);
        let answered = !stdout.trim().is_empty() && stdout.trim() != "{}";
        if !(out.status.success() || ended) || !answered {
            failures.push(duban_testkit::failed_line(written, &out));
        }
    }
    let _ = std::fs::remove_dir_all(&bin);
    assert!(
        failures.is_empty(),
        "{} of {} README commands failed:\n{}",
        failures.len(),
        commands.len(),
        failures.join("\n")
    );
    set.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readmes_mutual_tls_recipe_works_as_written() {
    use duban_kit::security::SecurityConfig;

    let dir = std::env::temp_dir().join(format!("duban-recipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder for the recipe");
    let commands = readme_recipe();
    assert!(
        commands.len() >= 8,
        "the README's recipe lost its commands: {commands:?}"
    );
    let script = format!(
        "set -euo pipefail\n{}\necho \"$serial\" > serial.txt\n",
        commands.join("\n")
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "the README's commands failed:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut config =
        duban_cli::stack::StackConfig::ephemeral(&duban_testkit::fresh_database().await);
    config.security = SecurityConfig {
        tls_cert: Some(dir.join("server.pem")),
        tls_key: Some(dir.join("server.key")),
        tls_client_ca: Some(dir.join("ca.pem")),
        tls_ca: Some(dir.join("ca.pem")),
        token_key_file: Some(dir.join("token.key")),
        revocations_poll_seconds: 1,
        ..SecurityConfig::default()
    };
    let set = TestSet::start_with(config).await;
    let recipe = dir.to_str().expect("a UTF-8 path");
    let out = suite(&set, "mtls-recipe", &["--recipe", recipe]).await;
    assert!(out.contains("the revoked certificate: UNAUTHENTICATED"));
    set.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
