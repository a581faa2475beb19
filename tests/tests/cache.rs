//! The targets service's task cache never serves a task older than the last change it could
//! know of: the replica that made a change reads it back at once, another replica as soon as the
//! change notification arrives, and a change made straight in the database likewise.

use std::time::Duration;

use duban_kit::{metrics::MetricsAddr, security::SecurityConfig, server::ServerOptions};
use duban_proto::v1::{
    Comparator, CreatePlanRequest, GetTaskRequest, Indicator, ListTasksRequest, Plan, Quantity,
    Task, UpdateTaskRequest, targets_service_client::TargetsServiceClient,
};
use duban_testkit::TestSet;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

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
    let plan = a
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: "缓存测试".into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            tasks: vec![Task {
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
            }],
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let task = a
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks
        .remove(0);
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
