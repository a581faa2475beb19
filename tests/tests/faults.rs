//! Faults with the real services: the database goes away under load and comes back. Runs on a
//! Postgres of its own, so the other tests' server is never touched.

use std::time::Duration;

use duban_cli::stack::{ALL, health};
use duban_proto::v1::{CreatePlanRequest, ListPlansRequest, Plan, Task};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

const WRITERS: usize = 6;
/// Each writer writes at least this many plans, and goes on until the database is back.
const MIN_PLANS_PER_WRITER: usize = 10;

fn plan(writer: usize, n: usize) -> CreatePlanRequest {
    CreatePlanRequest {
        plan: Some(Plan {
            title: format!("writer {writer} plan {n}"),
            year: 2025,
            ..Default::default()
        }),
        tasks: vec![Task {
            text: format!("任务 {writer}-{n}"),
            ..Default::default()
        }],
        request_id: format!("w{writer}-p{n}"),
    }
}

async fn wait_for(url: &str, service: &str, want: ServingStatus) -> bool {
    for _ in 0..200 {
        if health(url, service).await == Some(want) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn postgres_stopped_and_restarted_under_load_loses_and_duplicates_nothing() {
    let (server, set, root) = duban_testkit::set_on_own_postgres("fault").await;

    // Writers retry each plan with its request_id until it is stored; every failure they see
    // must be UNAVAILABLE, the code that tells a caller to retry.
    let recovered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut targets = set.targets.clone();
            let recovered = recovered.clone();
            tokio::spawn(async move {
                let mut failures = Vec::new();
                let mut n = 0;
                while n < MIN_PLANS_PER_WRITER
                    || !recovered.load(std::sync::atomic::Ordering::SeqCst)
                {
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        match targets.create_plan(plan(w, n)).await {
                            Ok(_) => break,
                            Err(status) => {
                                failures.push(status.code());
                                assert!(attempts < 400, "plan {w}-{n} never went through");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                (n, failures)
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop().expect("stop Postgres");
    let targets_url = set.stack.url(duban_cli::stack::Service::Targets);
    assert!(
        wait_for(
            &targets_url,
            "duban.v1.TargetsService",
            ServingStatus::NotServing
        )
        .await,
        "health follows the database down"
    );
    let err = set
        .targets
        .clone()
        .list_plans(ListPlansRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.restart().expect("start Postgres again");
    for service in ALL {
        assert!(
            wait_for(
                &set.stack.url(service),
                service.grpc_name(),
                ServingStatus::Serving
            )
            .await,
            "{} recovers without a restart",
            service.name()
        );
    }

    recovered.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut seen = Vec::new();
    let mut written = 0;
    for writer in writers {
        let (n, failures) = writer.await.expect("writer finished");
        written += n;
        seen.extend(failures);
    }
    assert!(!seen.is_empty(), "the outage was felt");
    assert!(seen.iter().all(|c| *c == Code::Unavailable), "{seen:?}");

    let plans = set
        .targets
        .clone()
        .list_plans(ListPlansRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .plans;
    let mut titles: Vec<String> = plans.into_iter().map(|p| p.title).collect();
    titles.sort();
    let before = titles.len();
    titles.dedup();
    assert_eq!(
        (before, titles.len()),
        (written, written),
        "every acknowledged plan once"
    );
    set.stop().await;
    drop(server);
    let _ = std::fs::remove_dir_all(root);
}
