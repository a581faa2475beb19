//! A bounded load: report submissions and task reads from many clients at once end with zero
//! errors and every write accounted for.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use duban_proto::v1::{
    Actor, AssignmentInput, CreateAssignmentsRequest, CreatePlanRequest, CreateReportRequest,
    GetTaskRequest, ListReportsRequest, ListTasksRequest, Plan, ProgressStatus, Report,
    SignReportRequest, SubmitReportRequest, Task, UnitRole,
};
use duban_testkit::TestSet;

const TASKS: usize = 60;
const PERIODS: [&str; 2] = ["2025Q1", "2025Q2"];
const WRITERS: usize = 12;
const READERS: usize = 8;

fn actor(role: &str) -> Option<Actor> {
    Some(Actor {
        name: "王强".into(),
        role: role.into(),
    })
}

#[tokio::test]
async fn many_clients_submit_and_read_with_zero_errors() {
    let set = TestSet::start().await;
    let mut targets = set.targets.clone();
    let plan = targets
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: "负载测试方案".into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            tasks: (0..TASKS)
                .map(|i| Task {
                    number: (i + 1).to_string(),
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
    for (i, task) in tasks.iter().enumerate() {
        let created = set
            .assignments
            .clone()
            .create_assignments(CreateAssignmentsRequest {
                task: task.name.clone(),
                assignments: vec![AssignmentInput {
                    written_name: format!("负载单位{}", i % 10),
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
    let assignments = Arc::new(assignments);
    let task_names: Arc<Vec<String>> = Arc::new(tasks.into_iter().map(|t| t.name).collect());

    let errors = Arc::new(AtomicUsize::new(0));
    let reads = Arc::new(AtomicUsize::new(0));
    let writing = Arc::new(AtomicBool::new(true));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let mut targets = set.targets.clone();
            let (errors, reads, writing, names) = (
                errors.clone(),
                reads.clone(),
                writing.clone(),
                task_names.clone(),
            );
            let parent = plan.name.clone();
            tokio::spawn(async move {
                let mut n = 0;
                // Bounded: reads stop with the writers, and never exceed this many calls.
                while writing.load(Ordering::SeqCst) && n < 20_000 {
                    let ok = if n % 2 == 0 {
                        targets
                            .get_task(GetTaskRequest {
                                name: names[(r + n) % names.len()].clone(),
                            })
                            .await
                            .is_ok()
                    } else {
                        targets
                            .list_tasks(ListTasksRequest {
                                parent: parent.clone(),
                                page_size: 20,
                                ..Default::default()
                            })
                            .await
                            .is_ok()
                    };
                    if !ok {
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                    reads.fetch_add(1, Ordering::SeqCst);
                    n += 1;
                }
            })
        })
        .collect();

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut reporting = set.reporting.clone();
            let (errors, assignments) = (errors.clone(), assignments.clone());
            tokio::spawn(async move {
                let mut submitted = Vec::new();
                for (i, assignment) in assignments
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % WRITERS == w)
                {
                    for period in PERIODS {
                        let result = async {
                            let report = reporting
                                .create_report(CreateReportRequest {
                                    report: Some(Report {
                                        assignment: assignment.clone(),
                                        period: period.into(),
                                        status: ProgressStatus::OnPace as i32,
                                        progress: format!("第{i}项按序时推进"),
                                        ..Default::default()
                                    }),
                                    request_id: format!("load-{assignment}-{period}"),
                                })
                                .await?
                                .into_inner();
                            reporting
                                .sign_report(SignReportRequest {
                                    name: report.name.clone(),
                                    signer: actor("局长"),
                                    request_id: format!("load-sign-{}", report.name),
                                })
                                .await?;
                            reporting
                                .submit_report(SubmitReportRequest {
                                    name: report.name.clone(),
                                    submitter: actor("科员"),
                                    as_of: "2025-07-05".into(),
                                    request_id: format!("load-submit-{}", report.name),
                                })
                                .await?;
                            Ok::<String, tonic::Status>(report.name)
                        }
                        .await;
                        match result {
                            Ok(name) => submitted.push(name),
                            Err(status) => {
                                eprintln!("write failed: {status:?}");
                                errors.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                }
                submitted
            })
        })
        .collect();

    let mut submitted = Vec::new();
    for writer in writers {
        submitted.extend(writer.await.expect("writer"));
    }
    writing.store(false, Ordering::SeqCst);
    for reader in readers {
        reader.await.expect("reader");
    }

    assert_eq!(errors.load(Ordering::SeqCst), 0, "no call failed");
    assert!(reads.load(Ordering::SeqCst) > 0);
    assert_eq!(submitted.len(), TASKS * PERIODS.len());
    let mut stored = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = set
            .reporting
            .clone()
            .list_reports(ListReportsRequest {
                page_size: 1000,
                page_token,
                filter: format!("plan=\"{}\" AND state=SUBMITTED", plan.name),
            })
            .await
            .unwrap()
            .into_inner();
        stored.extend(page.reports.into_iter().map(|r| r.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    stored.sort();
    submitted.sort();
    assert_eq!(
        stored, submitted,
        "every acknowledged submission stored, once, submitted"
    );
    set.stop().await;
}
