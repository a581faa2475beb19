//! SIGKILL of the reporting service in the middle of report submissions: every report is stored
//! whole (its versions match it) or not at all, with its audit event, and retries with the same
//! request_id complete the work exactly once.

use std::{path::PathBuf, process::Stdio, time::Duration};

use duban_cli::stack::{Service, health};
use duban_kit::audit;
use duban_proto::v1::{
    Actor, AssignmentInput, CreateAssignmentsRequest, CreatePlanRequest, CreateReportRequest,
    ListAuditEventsRequest, ListReportVersionsRequest, ListReportsRequest, ListTasksRequest, Plan,
    ProgressStatus, Report, ReportState, SignReportRequest, SubmitReportRequest, Task, UnitRole,
    audit_service_client::AuditServiceClient, reporting_service_client::ReportingServiceClient,
};
use duban_testkit::TestSet;
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;

const REPORTS: usize = 80;
/// The service is killed once this many reports are through.
const KILL_AFTER: usize = 12;

/// A binary of the workspace, built next to this test by `scripts/test`.
fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps")
        .join(name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_reporting(set: &TestSet, port: u16) -> Child {
    let child = Command::new(bin("duban-reporting"))
        .env("DATABASE_URL", &set.database_url)
        .env("DUBAN_REPORTING_ADDR", format!("127.0.0.1:{port}"))
        .env("DUBAN_TARGETS_URL", set.stack.url(Service::Targets))
        .env("DUBAN_ASSIGNMENTS_URL", set.stack.url(Service::Assignments))
        .env("DUBAN_REPORTING_METRICS_ADDR", "")
        .env("DUBAN_REPORTING_SWEEP_SECONDS", "0")
        .env("DUBAN_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("duban-reporting starts (scripts/test builds every binary)");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if health(&url, "duban.v1.ReportingService").await == Some(ServingStatus::Serving) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("duban-reporting did not become SERVING");
}

fn channel_to(port: u16) -> Channel {
    Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect_lazy()
}

fn actor(role: &str) -> Option<Actor> {
    Some(Actor {
        name: "赵敏".into(),
        role: role.into(),
    })
}

/// Drafts, signs and submits one report, each step keyed by a request_id derived from the
/// assignment, so a retry after a crash continues where the first attempt stopped.
async fn file(
    client: &mut ReportingServiceClient<Channel>,
    assignment: &str,
) -> Result<String, tonic::Status> {
    let report = client
        .create_report(CreateReportRequest {
            report: Some(Report {
                assignment: assignment.to_string(),
                period: "2025Q2".into(),
                status: ProgressStatus::OnPace as i32,
                progress: "按计划推进".into(),
                ..Default::default()
            }),
            request_id: format!("crash-create-{assignment}"),
        })
        .await?
        .into_inner();
    client
        .sign_report(SignReportRequest {
            name: report.name.clone(),
            signer: actor("局长"),
            request_id: format!("crash-sign-{assignment}"),
        })
        .await?;
    client
        .submit_report(SubmitReportRequest {
            name: report.name.clone(),
            submitter: actor("科员"),
            as_of: "2025-07-05".into(),
            request_id: format!("crash-submit-{assignment}"),
        })
        .await?;
    Ok(report.name)
}

#[tokio::test]
async fn sigkill_during_submissions_leaves_every_report_whole_or_absent() {
    let set = TestSet::start().await;
    let mut targets = set.targets.clone();
    let plan = targets
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: "崩溃测试方案".into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            tasks: (0..REPORTS)
                .map(|i| Task {
                    text: format!("任务{i}"),
                    ..Default::default()
                })
                .collect(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let tasks = targets
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    let mut assignments = Vec::new();
    for task in tasks {
        let created = set
            .assignments
            .clone()
            .create_assignments(CreateAssignmentsRequest {
                task: task.name,
                assignments: vec![AssignmentInput {
                    written_name: "区发改局".into(),
                    role: UnitRole::Lead as i32,
                    ..Default::default()
                }],
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assignments.push(created.assignments[0].name.clone());
    }

    let port = free_port();
    let mut server = start_reporting(&set, port).await;
    let client = ReportingServiceClient::new(channel_to(port));

    // Four callers file reports; the service is killed with SIGKILL while they are at it.
    let through = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let callers: Vec<_> = assignments
        .chunks(REPORTS / 4)
        .map(|chunk| {
            let mut client = client.clone();
            let chunk = chunk.to_vec();
            let through = through.clone();
            tokio::spawn(async move {
                let mut done = Vec::new();
                let mut interrupted = Vec::new();
                for assignment in chunk {
                    match file(&mut client, &assignment).await {
                        Ok(name) => {
                            done.push(name);
                            through.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Err(_) => interrupted.push(assignment),
                    }
                }
                (done, interrupted)
            })
        })
        .collect();
    while through.load(std::sync::atomic::Ordering::SeqCst) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.start_kill().expect("SIGKILL");
    server.wait().await.expect("the killed service is reaped");
    let mut done = Vec::new();
    let mut interrupted = Vec::new();
    for caller in callers {
        let (d, i) = caller.await.unwrap();
        done.extend(d);
        interrupted.extend(i);
    }
    assert!(
        !interrupted.is_empty(),
        "the kill interrupted work in flight"
    );

    // Whatever the crash left behind is whole: each stored report has exactly the versions its
    // own version number says.
    let _server = start_reporting(&set, port).await;
    let mut client = client.clone();
    let stored = client
        .list_reports(ListReportsRequest {
            page_size: 1000,
            filter: format!("plan=\"{}\"", plan.name),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .reports;
    for report in &stored {
        let versions = client
            .list_report_versions(ListReportVersionsRequest {
                parent: report.name.clone(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .versions;
        assert_eq!(
            versions.len() as u32,
            report.version,
            "{} has all its versions",
            report.name
        );
    }
    // The audit event of each change committed with the change: no report without the event of
    // its creation, and the chain verifies.
    let trail = AuditServiceClient::new(channel_to(port))
        .list_audit_events(ListAuditEventsRequest {
            page_size: 5000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<audit::Row> = trail.events.iter().map(audit::Row::from_event).collect();
    assert!(
        audit::verify_chain(trail.anchor_seq, &trail.anchor_hash, &rows).is_empty(),
        "the trail verifies after the crash"
    );
    for report in &stored {
        assert!(
            trail
                .events
                .iter()
                .any(|e| e.method == "/duban.v1.ReportingService/CreateReport"
                    && e.code == "OK"
                    && e.resource == report.name),
            "{} has the audit event of its creation",
            report.name
        );
    }

    // Retrying the interrupted work with the same request_ids finishes it exactly once.
    for assignment in &interrupted {
        done.push(
            file(&mut client, assignment)
                .await
                .expect("a retry completes"),
        );
    }
    let stored = client
        .list_reports(ListReportsRequest {
            page_size: 1000,
            filter: format!("plan=\"{}\"", plan.name),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .reports;
    assert_eq!(
        stored.len(),
        REPORTS,
        "one report per assignment, none twice"
    );
    assert!(
        stored
            .iter()
            .all(|r| r.state == ReportState::Submitted as i32)
    );
    done.sort();
    let mut names: Vec<String> = stored.into_iter().map(|r| r.name).collect();
    names.sort();
    assert_eq!(done, names);
    set.stop().await;
}
