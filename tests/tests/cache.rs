//! The caches never serve a row older than the last change they could know of. The targets
//! service's task cache: the replica that made a change reads it back at once, another replica
//! as soon as the change notification arrives, and a change made straight in the database
//! likewise. The reporting service's assignments and schedules: a unit merge reaches report
//! writes as soon as its notification does, and a period just added to a schedule is never
//! refused.

use std::time::Duration;

use duban_kit::{metrics::MetricsAddr, security::SecurityConfig, server::ServerOptions};
use duban_proto::v1::{
    AssignmentInput, Comparator, CreateAssignmentsRequest, CreatePlanRequest, CreateReportRequest,
    GetTaskRequest, Indicator, ListTasksRequest, MergeUnitsRequest, Plan, ProgressStatus, Quantity,
    Report, ReportingSchedule, Task, UnitRole, UpdateReportingScheduleRequest, UpdateTaskRequest,
    targets_service_client::TargetsServiceClient,
};
use duban_testkit::TestSet;
use tokio_util::sync::CancellationToken;
use tonic::{Code, transport::Channel};

/// A second targets replica on the set's database.
async fn replica(set: &TestSet, shutdown: &CancellationToken) -> TargetsServiceClient<Channel> {
    let app = duban_targets::Application::build_with(
        duban_targets::Config {
            database_url: set.database_url.clone(),
            addr: ([127, 0, 0, 1], 0).into(),
            db_connections: 4,
            metrics_addr: MetricsAddr(None),
            task_cache: duban_targets::DEFAULT_TASK_CACHE,
            security: SecurityConfig::default(),
        },
        ServerOptions::default(),
    )
    .await
    .expect("a second targets replica");
    let url = format!("http://{}", app.local_addr());
    tokio::spawn(app.run(shutdown.clone()));
    TargetsServiceClient::connect(url)
        .await
        .expect("the replica answers")
}

async fn text_of(client: &mut TargetsServiceClient<Channel>, name: &str) -> String {
    client
        .get_task(GetTaskRequest { name: name.into() })
        .await
        .expect("GetTask")
        .into_inner()
        .text
}

async fn listed_text(client: &mut TargetsServiceClient<Channel>, plan: &str, name: &str) -> String {
    client
        .list_tasks(ListTasksRequest {
            parent: plan.into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("ListTasks")
        .into_inner()
        .tasks
        .into_iter()
        .find(|t| t.name == name)
        .expect("the task is listed")
        .text
}

/// A district plan of 2025 titled `title` holding `task`, and the task as stored.
async fn plan_with_task(
    client: &mut TargetsServiceClient<Channel>,
    title: &str,
    task: Task,
) -> (Plan, Task) {
    let plan = client
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: title.into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            tasks: vec![task],
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let task = client
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks
        .remove(0);
    (plan, task)
}

/// Reads through `client` until `read` gives `want`; the change notification is asynchronous,
/// so this bounds how long it may take rather than timing it.
async fn eventually(
    client: &mut TargetsServiceClient<Channel>,
    plan: &str,
    name: &str,
    want: &str,
) {
    for _ in 0..200 {
        if text_of(client, name).await == want && listed_text(client, plan, name).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} still reads the old text 10 s after the change");
}

#[tokio::test]
async fn cached_tasks_follow_every_change() {
    let set = TestSet::start().await;
    let shutdown = CancellationToken::new();
    let mut a = set.targets.clone();
    let mut b = replica(&set, &shutdown).await;
    let (plan, task) = plan_with_task(
        &mut a,
        "缓存测试",
        Task {
            text: "新增就业1000人".into(),
            indicators: vec![Indicator {
                quantity: Some(Quantity {
                    phrase: "新增就业1000人".into(),
                    metric: "新增就业".into(),
                    value: 1000.0,
                    unit: "人".into(),
                    comparator: Comparator::AtLeast as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(task.indicators.len(), 1, "the task has its indicator");
    let name = task.name.clone();

    // Both replicas have read (and cached) the task.
    for client in [&mut a, &mut b] {
        assert_eq!(text_of(client, &name).await, "新增就业1000人");
        assert_eq!(
            listed_text(client, &plan.name, &name).await,
            "新增就业1000人"
        );
    }

    // A changes it: A reads its own write at once, B as soon as it hears of it.
    let edited = a
        .update_task(UpdateTaskRequest {
            task: Some(Task {
                name: name.clone(),
                text: "新增就业1200人".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["text".into()],
            }),
            request_id: String::new(),
        })
        .await
        .expect("UpdateTask")
        .into_inner();
    assert_eq!(edited.revision, 1);
    assert_eq!(text_of(&mut a, &name).await, "新增就业1200人");
    assert_eq!(
        listed_text(&mut a, &plan.name, &name).await,
        "新增就业1200人"
    );
    eventually(&mut b, &plan.name, &name, "新增就业1200人").await;

    // A change made in the database by anyone else reaches both.
    let pool = sqlx::PgPool::connect(&set.database_url).await.unwrap();
    sqlx::query("UPDATE targets.tasks SET text = '新增就业1500人'")
        .execute(&pool)
        .await
        .unwrap();
    eventually(&mut a, &plan.name, &name, "新增就业1500人").await;
    eventually(&mut b, &plan.name, &name, "新增就业1500人").await;

    // So does a change to an indicator alone.
    sqlx::query("UPDATE targets.indicators SET value = 1500")
        .execute(&pool)
        .await
        .unwrap();
    for client in [&mut a, &mut b] {
        let mut seen = 0.0;
        for _ in 0..200 {
            let task = client
                .get_task(GetTaskRequest { name: name.clone() })
                .await
                .unwrap()
                .into_inner();
            seen = task.indicators[0]
                .quantity
                .as_ref()
                .map_or(0.0, |q| q.value);
            if seen == 1500.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(seen, 1500.0, "the indicator's new value is read");
    }
    pool.close().await;
    shutdown.cancel();
    set.stop().await;
}

/// In an open deployment a cached task is answered without the database: GetTask reads its
/// plan only to check a caller whom a government limits. (It once read the plan on every call,
/// which cost GetTask three quarters of its rate.) Shown with the plans table locked: a read of
/// it would wait, and the call's deadline would end it.
#[tokio::test]
async fn a_cached_task_is_answered_without_reading_its_plan() {
    let set = TestSet::start().await;
    let mut targets = set.targets.clone();
    let (_, task) = plan_with_task(
        &mut targets,
        "缓存读取",
        Task {
            text: "新增就业1000人".into(),
            ..Default::default()
        },
    )
    .await;
    let name = task.name;
    let first = text_of(&mut targets, &name).await;
    let pool = sqlx::PgPool::connect(&set.database_url).await.unwrap();
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE targets.plans IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let mut request = tonic::Request::new(GetTaskRequest { name: name.clone() });
    request.set_timeout(Duration::from_secs(10));
    let cached = targets
        .get_task(request)
        .await
        .expect("answered from the cache while the plans table is locked")
        .into_inner();
    assert_eq!(cached.text, first);
    lock.rollback().await.unwrap();
    set.stop().await;
}

/// A monthly report on `assignment`.
fn monthly(assignment: &str, month: u32) -> CreateReportRequest {
    CreateReportRequest {
        report: Some(Report {
            assignment: assignment.into(),
            period: format!("2025M{month:02}"),
            status: ProgressStatus::OnPace as i32,
            progress: "按月推进".into(),
            ..Default::default()
        }),
        request_id: format!("monthly-{assignment}-{month}"),
    }
}

#[tokio::test]
async fn report_writes_follow_assignment_and_schedule_changes() {
    let set = TestSet::start().await;
    let plan = set
        .targets
        .clone()
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: "缓存测试方案".into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            tasks: (1..=2)
                .map(|i| Task {
                    text: format!("缓存测试任务{i}"),
                    ..Default::default()
                })
                .collect(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let tasks = set
        .targets
        .clone()
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    let mut assigned = Vec::new();
    for (task, unit) in tasks.iter().zip(["缓存测试临时局", "缓存测试承接局"]) {
        let mut created = set
            .assignments
            .clone()
            .create_assignments(CreateAssignmentsRequest {
                task: task.name.clone(),
                assignments: vec![AssignmentInput {
                    written_name: unit.into(),
                    role: UnitRole::Lead as i32,
                    ..Default::default()
                }],
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assigned.push(created.assignments.remove(0));
    }
    let (moving, staying) = (&assigned[0], &assigned[1]);
    let schedule = |last: &str, allow_missing: bool| UpdateReportingScheduleRequest {
        schedule: Some(ReportingSchedule {
            name: format!("{}/reportingSchedule", plan.name),
            rule: "每月25日前报送当月工作进展".into(),
            year: 2025,
            last_period: last.into(),
            ..Default::default()
        }),
        update_mask: (!allow_missing).then(|| prost_types::FieldMask {
            paths: vec!["last_period".into()],
        }),
        request_id: String::new(),
        allow_missing,
    };
    let mut assignments = set.assignments.clone();
    for (last, allow_missing) in [("", true), ("2025M06", false)] {
        assignments
            .update_reporting_schedule(schedule(last, allow_missing))
            .await
            .unwrap();
    }
    let mut reporting = set.reporting.clone();

    // The first write reads the assignment and the schedule, and keeps them.
    let first = reporting
        .create_report(monthly(&moving.name, 1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.unit, moving.unit);
    let err = reporting
        .create_report(monthly(&moving.name, 7))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::InvalidArgument,
        "July is past the schedule"
    );

    // A month added to the schedule is taken at once.
    assignments
        .update_reporting_schedule(schedule("2025M12", false))
        .await
        .unwrap();
    let july = reporting
        .create_report(monthly(&moving.name, 7))
        .await
        .expect("a month just added to the schedule is taken");
    assert_eq!(july.into_inner().period, "2025M07");

    // A merge moves the assignment to the other unit; reports written after it say so.
    assignments
        .merge_units(MergeUnitsRequest {
            source: moving.unit.clone(),
            target: staying.unit.clone(),
            request_id: String::new(),
            merge_reviewed: false,
        })
        .await
        .unwrap();
    let mut unit = String::new();
    for month in 8..=12 {
        unit = reporting
            .create_report(monthly(&moving.name, month))
            .await
            .unwrap()
            .into_inner()
            .unit;
        if unit == staying.unit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(unit, staying.unit, "the merge reached report writes");
    set.stop().await;
}
