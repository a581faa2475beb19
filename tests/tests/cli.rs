//! The `duban` client commands as a person or a script uses them, against the real services:
//! the report cycle through to an edit after a return, names as the API spells them, JSON that
//! keeps numbers numbers, tables that fit a 120-column terminal, errors that say what happened.

use std::{path::PathBuf, process::Output, time::Duration};

use duban_cli::stack::Service;
use duban_testkit::{SEED_DECOMPOSITION, TestSet};

/// The `duban` binary, built next to this test by `scripts/test`.
fn duban() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps")
        .join("duban");
    assert!(
        path.exists(),
        "{} is missing: run the tests through scripts/test, which builds every binary",
        path.display()
    );
    path
}

/// Runs `duban ARGS` against `set`.
async fn run(set: &TestSet, args: &[&str]) -> Output {
    let url = |service| format!("http://{}", set.stack.addr(service));
    tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(duban())
            .args(args)
            .env_remove("DUBAN_TOKEN")
            .env("DUBAN_INGEST_URL", url(Service::Ingest))
            .env("DUBAN_TARGETS_URL", url(Service::Targets))
            .env("DUBAN_ASSIGNMENTS_URL", url(Service::Assignments))
            .env("DUBAN_REPORTING_URL", url(Service::Reporting))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("duban {args:?} did not finish within 60 s"))
    .expect("starting duban")
}

/// stdout of `duban ARGS`, which must succeed.
async fn ok(set: &TestSet, args: &[&str]) -> String {
    let out = run(set, args).await;
    assert!(
        out.status.success(),
        "duban {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of `duban ARGS`, which must fail.
async fn refused(set: &TestSet, args: &[&str]) -> String {
    let out = run(set, args).await;
    assert!(!out.status.success(), "duban {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The value of `key` in the first JSON line of `text` whose `field` is `value`.
fn json_row(text: &str, field: &str, value: &str) -> serde_json::Value {
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .find(|row| row[field] == value)
        .unwrap_or_else(|| panic!("no row with {field}={value} in {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_commands_finish_the_cycle_and_speak_the_apis_names() {
    let set = TestSet::start().await;
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    set.wait_delivered(&doc.name, Duration::from_secs(60)).await;

    // JSON keeps counts numbers; enums as the API spells them.
    let plans = ok(&set, &["plans", "--format", "json"]).await;
    let district = json_row(&plans, "level", "区");
    assert!(district["year"].is_i64(), "{district}");
    assert!(
        district["tasks"].as_i64().is_some_and(|n| n > 0),
        "{district}"
    );
    let plan = district["name"].as_str().unwrap().to_string();

    // A missing plan is an error, not an empty list.
    let missing = refused(&set, &["tasks", "--plan", "plans/99"]).await;
    assert!(
        missing.contains("NotFound") || missing.contains("not found"),
        "{missing}"
    );

    // Tables fit 120 columns unless --wide.
    let tasks = ok(&set, &["tasks", "--plan", &plan]).await;
    assert!(tasks.lines().count() > 10);
    let widest = |text: &str| {
        text.lines()
            .map(unicode_width::UnicodeWidthStr::width)
            .max()
            .unwrap_or(0)
    };
    assert!(widest(&tasks) <= 120, "{}", widest(&tasks));
    assert!(tasks.contains('…'), "long task texts are cut");
    let wide = ok(&set, &["tasks", "--plan", &plan, "--wide"]).await;
    assert!(widest(&wide) > 120);

    // The report cycle, through an edit after the office returns it.
    let ledger = ok(
        &set,
        &[
            "tasks",
            "--unit",
            "区发改局",
            "--plan",
            &plan,
            "--format",
            "json",
        ],
    )
    .await;
    let assignment = set
        .assignments
        .clone()
        .list_assignments(duban_proto::v1::ListAssignmentsRequest {
            filter: format!("plan=\"{plan}\" AND unit_name=\"区发改局\""),
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assignments
        .remove(0)
        .name;
    assert!(ledger.contains("next_due"), "{ledger}");
    let drafted = ok(
        &set,
        &[
            "report",
            "draft",
            "--assignment",
            &assignment,
            "--period",
            "2025Q2",
            "--status",
            "ON_PACE",
            "--progress",
            "按序时推进",
            "--format",
            "json",
        ],
    )
    .await;
    let report = json_row(&drafted, "status", "ON_PACE");
    assert_eq!(report["state"], "DRAFT");
    assert!(report["version"].is_i64());
    let name = report["name"].as_str().unwrap().to_string();
    ok(
        &set,
        &[
            "report", "sign", &name, "--signer", "张明", "--role", "局长",
        ],
    )
    .await;
    ok(&set, &["report", "submit", &name, "--submitter", "王芳"]).await;
    let returned = ok(
        &set,
        &[
            "report",
            "review",
            &name,
            "--verdict",
            "return",
            "--reviewer",
            "李华",
            "--reason",
            "数据口径不一致",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(json_row(&returned, "name", &name)["state"], "RETURNED");
    let again = refused(
        &set,
        &[
            "report",
            "draft",
            "--assignment",
            &assignment,
            "--period",
            "2025Q2",
        ],
    )
    .await;
    assert!(again.contains("duban report edit"), "{again}");
    let nothing = refused(&set, &["report", "edit", &name]).await;
    assert!(nothing.contains("name what changes"), "{nothing}");
    let edited = ok(
        &set,
        &[
            "report",
            "edit",
            &name,
            "--progress",
            "已按统计口径核实",
            "--status",
            "on_pace",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(json_row(&edited, "name", &name)["state"], "DRAFT");
    ok(
        &set,
        &[
            "report", "sign", &name, "--signer", "张明", "--role", "局长",
        ],
    )
    .await;
    ok(&set, &["report", "submit", &name, "--submitter", "王芳"]).await;
    let accepted = ok(
        &set,
        &[
            "report",
            "review",
            &name,
            "--verdict",
            "accept",
            "--reviewer",
            "李华",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(json_row(&accepted, "name", &name)["state"], "ACCEPTED");

    // Two reviewed units need --reviewed; a merge is undone by id.
    let both = refused(&set, &["units", "merge", "区财政局", "区发改局"]).await;
    assert!(both.contains("both reviewed"), "{both}");
    let merged = ok(
        &set,
        &[
            "units",
            "--format",
            "json",
            "merge",
            "区科技创新局",
            "区经科局",
        ],
    )
    .await;
    let source = merged
        .lines()
        .next()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|row| row["merged"].as_str().map(String::from))
        .expect("the merged unit");
    let by_name = refused(&set, &["units", "unmerge", "区科技创新局"]).await;
    assert!(by_name.contains("units/N"), "{by_name}");
    let back = ok(&set, &["units", "unmerge", &source]).await;
    assert!(back.contains("区科技创新局"), "{back}");

    // Health says what the server answered.
    let addr = set.stack.addr(Service::Targets).to_string();
    assert_eq!(
        ok(
            &set,
            &[
                "health",
                "--addr",
                &addr,
                "--service",
                "duban.v1.TargetsService"
            ]
        )
        .await
        .trim(),
        "SERVING"
    );
    let unknown = refused(
        &set,
        &["health", "--addr", &addr, "--service", "duban.v1.Nope"],
    )
    .await;
    assert!(unknown.contains("does not serve"), "{unknown}");
    set.stop().await;
}

/// The README's command tour, run as written: every line of its `sh` block, by bash, with the
/// built `duban` first on PATH, against a set holding what `duban up` makes of the seeds. Each
/// line must exit 0 and print something (or write the file its --out names).
#[tokio::test(flavor = "multi_thread")]
async fn the_readmes_command_tour_runs_as_written() {
    let commands = duban_testkit::readme_commands("The `duban` command");
    assert!(
        commands.len() >= 15,
        "the README's command tour lost its lines: {commands:?}"
    );
    let set = TestSet::start_seeded().await;
    let url = |service| format!("http://{}", set.stack.addr(service));
    let bin = duban()
        .parent()
        .expect("the binaries' folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = std::env::temp_dir().join(format!("duban-command-tour-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder for the tour");
    let envs = [
        ("PATH", path),
        ("DUBAN_INGEST_URL", url(Service::Ingest)),
        ("DUBAN_TARGETS_URL", url(Service::Targets)),
        ("DUBAN_ASSIGNMENTS_URL", url(Service::Assignments)),
        ("DUBAN_REPORTING_URL", url(Service::Reporting)),
    ];
    let mut failures = Vec::new();
    for command in &commands {
        let out = duban_testkit::run_line(command, &dir, &envs).await;
        let wrote = command
            .split_once("--out ")
            .and_then(|(_, file)| std::fs::metadata(dir.join(file.trim())).ok())
            .is_some_and(|m| m.len() > 0);
        if !out.status.success() || (out.stdout.trim_ascii().is_empty() && !wrote) {
            failures.push(duban_testkit::failed_line(command, &out));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} of {} README commands failed:\n{}",
        failures.len(),
        commands.len(),
        failures.join("\n")
    );
    set.stop().await;
}
