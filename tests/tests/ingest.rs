//! Ingest hands a document's plans, tasks, targets and units to the targets and assignments
//! services, exactly once.

use std::time::Duration;

use duban_cli::stack::Service;
use duban_proto::v1::{
    DeliveryState, DocumentKind, GetIndicatorLineageRequest, GetReportingScheduleRequest,
    GetScorecardRequest, ListAssignmentsRequest, ListPlansRequest, ListTasksRequest,
    ListWeakerIndicatorsRequest, Plan, Task, Verdict,
};
use duban_testkit::{SEED_DECOMPOSITION, TestSet};

async fn plans_of(set: &TestSet, document: &str) -> Vec<Plan> {
    set.targets
        .clone()
        .list_plans(ListPlansRequest {
            page_size: 100,
            page_token: String::new(),
            filter: format!("source_document=\"{document}\""),
        })
        .await
        .unwrap()
        .into_inner()
        .plans
}

async fn documents(set: &TestSet, filter: &str) -> Vec<duban_proto::v1::Document> {
    set.ingest
        .clone()
        .list_documents(duban_proto::v1::ListDocumentsRequest {
            filter: filter.to_string(),
            ..Default::default()
        })
        .await
        .expect("ListDocuments")
        .into_inner()
        .documents
}

async fn all_tasks(set: &TestSet, parent: &str) -> Vec<Task> {
    let mut tasks = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = set
            .targets
            .clone()
            .list_tasks(ListTasksRequest {
                parent: parent.to_string(),
                page_size: 50,
                page_token,
                filter: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        tasks.extend(page.tasks);
        if page.next_page_token.is_empty() {
            return tasks;
        }
        page_token = page.next_page_token;
    }
}

async fn assignment_count(set: &TestSet, filter: String) -> usize {
    let mut count = 0;
    let mut page_token = String::new();
    loop {
        let page = set
            .assignments
            .clone()
            .list_assignments(ListAssignmentsRequest {
                page_size: 1000,
                page_token,
                filter: filter.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        count += page.assignments.len();
        if page.next_page_token.is_empty() {
            return count;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn decomposition_notice_yields_three_plans_with_units_and_targets() {
    let set = TestSet::start().await;
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    assert_eq!(doc.kind, DocumentKind::Decomposition as i32);
    assert_eq!(doc.doc_number, "武昌政办〔2025〕1号");
    let doc = set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
    assert_eq!(
        doc.delivery_state,
        DeliveryState::Delivered as i32,
        "{}",
        doc.delivery_error
    );
    assert_eq!(doc.plans.len(), 3);

    let plans = plans_of(&set, &doc.name).await;
    let shape: Vec<(&str, u32)> = plans
        .iter()
        .map(|p| (p.level.as_str(), p.task_count))
        .collect();
    assert_eq!(shape, [("省", 35), ("市", 168), ("区", 68)]);
    assert!(plans.iter().all(|p| p.year == 2025));

    // Paging through the city plan returns every task once, in order, each linked to its source.
    let city = all_tasks(&set, &plans[1].name).await;
    assert_eq!(city.len(), 168);
    let numbers: Vec<String> = city.iter().map(|t| t.number.clone()).collect();
    let expected: Vec<String> = (1..=168).map(|n| n.to_string()).collect();
    assert_eq!(numbers, expected);
    let span = city[0].source_span.as_ref().expect("source span");
    assert_eq!(span.document, doc.name);
    assert!(span.end > span.start);

    // The provincial GDP item carries its target and its two lead units.
    let province = all_tasks(&set, &plans[0].name).await;
    let gdp = &province[0];
    let q = gdp.indicators[0].quantity.as_ref().unwrap();
    assert_eq!((q.value, q.unit.as_str()), (6.0, "%"));
    assert_eq!(
        assignment_count(&set, format!("task=\"{}\" AND role=LEAD", gdp.name)).await,
        2
    );
    assert!(assignment_count(&set, format!("plan=\"{}\"", plans[2].name)).await >= 68);

    // Deadlines keep their words and say what day they mean, read with the task's year.
    let district = all_tasks(&set, &plans[2].name).await;
    let due: Vec<(&str, &str)> = district
        .iter()
        .filter(|t| !t.deadline.is_empty())
        .map(|t| (t.deadline.as_str(), t.due_date.as_str()))
        .collect();
    assert_eq!(
        due,
        [
            ("上半年", "2025-06-30"),
            ("两年内", "2026-12-31"),
            ("上半年", "2025-06-30"),
            ("年内", "2025-12-31"),
        ]
    );
    assert_eq!(province[14].deadline, "用3-5年时间");
    assert_eq!(province[14].due_date, "2029-12-31");
    assert!(assignment_count(&set, "unit_name=\"区发改局\"".into()).await > 10);

    // The notice's rule became each plan's reporting schedule: quarterly, by the 10th of the
    // first month of the next quarter, from Q2 2025 on.
    let schedule = set
        .assignments
        .clone()
        .get_reporting_schedule(GetReportingScheduleRequest {
            name: format!("{}/reportingSchedule", plans[2].name),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        schedule.rule.contains("每个季度第1个月的10日前"),
        "{}",
        schedule.rule
    );
    let due: Vec<(String, String)> = schedule
        .periods
        .iter()
        .map(|p| (p.period.clone(), p.due_date.clone()))
        .collect();
    assert_eq!(
        due,
        [
            ("2025Q1".to_string(), "2025-04-10".to_string()),
            ("2025Q2".to_string(), "2025-07-10".to_string()),
            ("2025Q3".to_string(), "2025-10-10".to_string()),
            ("2025Q4".to_string(), "2026-01-10".to_string()),
        ]
    );
    set.stop().await;
}

#[tokio::test]
async fn the_same_document_ingested_twice_or_concurrently_is_stored_once() {
    let set = TestSet::start().await;
    let (a, b, c) = tokio::join!(
        set.ingest_seed(SEED_DECOMPOSITION),
        set.ingest_seed(SEED_DECOMPOSITION),
        set.ingest_seed(SEED_DECOMPOSITION)
    );
    assert_eq!(a.name, b.name);
    assert_eq!(a.name, c.name);
    set.wait_delivered(&a.name, Duration::from_secs(60)).await;
    let again = set.ingest_seed(SEED_DECOMPOSITION).await;
    assert_eq!(again.name, a.name);
    assert_eq!(plans_of(&set, &a.name).await.len(), 3);
    assert_eq!(all_tasks(&set, "plans/-").await.len(), 35 + 168 + 68);
    set.stop().await;
}

#[tokio::test]
async fn delivery_waits_for_a_stopped_peer_and_ends_like_a_clean_run() {
    let mut set = TestSet::start().await;
    set.stack.stop_service(Service::Targets).await.unwrap();
    // the stack holds the stopped service's port without listening: its clients are refused
    // at once, as by a machine where nothing runs, rather than left waiting
    let refused = tokio::net::TcpStream::connect(set.stack.addr(Service::Targets)).await;
    assert!(
        matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
        "{refused:?}"
    );
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pending = set.wait_delivered(&doc.name, Duration::ZERO).await;
    assert_eq!(pending.delivery_state, DeliveryState::Pending as i32);
    assert!(
        !pending.delivery_error.is_empty(),
        "the last error is reported"
    );

    set.stack.start_service(Service::Targets).await.unwrap();
    let done = set.wait_delivered(&doc.name, Duration::from_secs(90)).await;
    assert_eq!(
        done.delivery_state,
        DeliveryState::Delivered as i32,
        "{}",
        done.delivery_error
    );
    assert_eq!(all_tasks(&set, "plans/-").await.len(), 271);
    assert_eq!(plans_of(&set, &doc.name).await.len(), 3);

    let clean = TestSet::start().await;
    let clean_doc = clean.ingest_seed(SEED_DECOMPOSITION).await;
    clean
        .wait_delivered(&clean_doc.name, Duration::from_secs(60))
        .await;
    assert_eq!(
        assignment_count(&set, String::new()).await,
        assignment_count(&clean, String::new()).await
    );
    clean.stop().await;
    set.stop().await;
}

#[tokio::test]
async fn a_plan_execution_report_scores_its_year_and_a_city_target_shows_its_lineage() {
    let set = TestSet::start().await;
    for seed in ["001_8444fd7a4ce61ee2.txt", SEED_DECOMPOSITION] {
        let doc = set.ingest_seed(seed).await;
        let doc = set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
        assert_eq!(
            doc.delivery_state,
            DeliveryState::Delivered as i32,
            "{}",
            doc.delivery_error
        );
    }
    let mut targets = set.targets.clone();

    // Seed 001: the 2023 targets against the outcomes the report states.
    let card = targets
        .get_scorecard(GetScorecardRequest { year: 2023 })
        .await
        .unwrap()
        .into_inner();
    let verdict_of = |metric_word: &str| {
        card.entries
            .iter()
            .find(|e| {
                e.indicator
                    .as_ref()
                    .and_then(|i| i.quantity.as_ref())
                    .is_some_and(|q| q.metric.contains(metric_word) && q.unit == "%")
            })
            .map(|e| e.verdict)
    };
    assert_eq!(
        verdict_of("地区生产总值"),
        Some(Verdict::Met as i32),
        "GDP +6.5% target, outcome 6.5%左右"
    );
    assert_eq!(
        verdict_of("一般公共预算收入"),
        Some(Verdict::Missed as i32),
        "revenue +5% target, outcome +0.8%"
    );
    assert!(card.met >= 3, "{card:?}");
    assert!(
        card.entries
            .iter()
            .all(|e| e.outcome.as_ref().is_some_and(|o| o.source_span.is_some()))
    );

    // Seed 003: the city's GDP item is linked to the province's and the district's.
    let plans = plans_of(&set, "documents/2").await;
    let city = all_tasks(&set, &plans[1].name).await;
    let lineage = targets
        .get_indicator_lineage(GetIndicatorLineageRequest {
            name: city[0].name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let levels: Vec<&str> = lineage.entries.iter().map(|e| e.level.as_str()).collect();
    assert_eq!(levels, ["省", "市", "区"]);
    assert!(
        lineage.entries[0]
            .indicator
            .as_ref()
            .unwrap()
            .quantity
            .as_ref()
            .unwrap()
            .phrase
            .contains("经济增长")
    );
    assert!(lineage.entries.iter().all(|e| !e.weaker));
    let weaker = targets
        .list_weaker_indicators(ListWeakerIndicatorsRequest {
            year: 2025,
            level: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    for pair in &weaker.indicators {
        let (lower, upper) = (pair.lower.as_ref().unwrap(), pair.upper.as_ref().unwrap());
        assert!(lower.level != upper.level && lower.weaker);
    }
    set.stop().await;
}

/// A document whose extraction outlasts the budget is refused with RESOURCE_EXHAUSTED naming
/// the limit, and kept as FAILED with nothing delivered; sent again where the budget suffices,
/// it is read again under the same name and delivered.
#[tokio::test]
async fn a_document_over_the_extraction_budget_is_kept_as_failed_and_read_again_when_resent() {
    let database_url = duban_testkit::fresh_database().await;
    let mut config = duban_cli::stack::StackConfig::ephemeral(&database_url);
    config.ingest_extract_budget_ms = 1;
    let set = TestSet::start_with(config).await;
    // the notice sixteen times over on one line: far more than a millisecond of work
    let seed = std::fs::read_to_string(duban_testkit::seed(SEED_DECOMPOSITION)).expect("the seed");
    let content = seed.replace('\n', " ").repeat(16).into_bytes();
    let request = duban_proto::v1::CreateDocumentRequest {
        content,
        filename: "long.txt".into(),
        request_id: "long-1".into(),
    };
    // a retry under the same request_id is read again, not answered from a log
    for _ in 0..2 {
        let status = set
            .ingest
            .clone()
            .create_document(request.clone())
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            tonic::Code::ResourceExhausted,
            "{}",
            status.message()
        );
        assert!(
            status.message().contains("1 ms budget")
                && status.message().contains("DUBAN_INGEST_EXTRACT_BUDGET_MS")
                && status
                    .message()
                    .contains("documents/1 with delivery_state FAILED"),
            "{}",
            status.message()
        );
    }
    let failed = documents(&set, "delivery_state=FAILED").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    let doc = &failed[0];
    assert_eq!(doc.name, "documents/1");
    assert_eq!(doc.delivery_state(), DeliveryState::Failed);
    assert_eq!(doc.kind(), DocumentKind::Unspecified);
    assert_eq!((doc.plan_count, doc.item_count), (0, 0));
    assert!(
        doc.delivery_error.contains("1 ms budget"),
        "{}",
        doc.delivery_error
    );
    assert!(documents(&set, "delivery_state=DELIVERED").await.is_empty());
    assert!(documents(&set, "delivery_state=PENDING").await.is_empty());
    let none = set
        .targets
        .clone()
        .list_plans(ListPlansRequest::default())
        .await
        .unwrap()
        .into_inner()
        .plans;
    assert!(none.is_empty(), "{none:?}");
    set.stop().await;

    // the operator raises the limit; the same bytes are read again
    let set = TestSet::start_with(duban_cli::stack::StackConfig::ephemeral(&database_url)).await;
    let again = set
        .ingest
        .clone()
        .create_document(request.clone())
        .await
        .expect("read again within the default budget")
        .into_inner();
    assert_eq!(again.name, "documents/1");
    assert_eq!(again.kind(), DocumentKind::Decomposition);
    assert!(again.item_count > 0 && again.plan_count > 0, "{again:?}");
    // 4,336 items, a debug build and a busy machine: delivery took more than a minute once
    let done = set
        .wait_delivered(&again.name, Duration::from_secs(240))
        .await;
    assert_eq!(done.delivery_state(), DeliveryState::Delivered, "{done:?}");
    assert_eq!(plans_of(&set, &again.name).await.len(), done.plans.len());
    // and once read, the same bytes are answered with what is stored
    let once_more = set
        .ingest
        .clone()
        .create_document(duban_proto::v1::CreateDocumentRequest {
            request_id: "long-2".into(),
            ..request
        })
        .await
        .expect("a duplicate")
        .into_inner();
    assert_eq!(once_more.name, "documents/1");
    assert_eq!(documents(&set, "").await.len(), 1);
    set.stop().await;
}
