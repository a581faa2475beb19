//! The API contract: resource names, idempotent retries, field errors, paging, edits with
//! history, reflection.

use duban_proto::v1::{
    Comparator, CreateDocumentRequest, CreatePlanRequest, CreateReportRequest, GetPlanRequest,
    GetReportingScheduleRequest, GetTaskRequest, Indicator, ListTasksRequest, Plan, ProgressStatus,
    Quantity, Report, ReportingFrequency, ReportingSchedule, Task, TaskStatus,
    UpdateReportingScheduleRequest, UpdateTaskRequest,
};
use duban_testkit::TestSet;
use tonic::Code;
use tonic_types::StatusExt;

fn plan_request(request_id: &str, tasks: usize) -> CreatePlanRequest {
    CreatePlanRequest {
        plan: Some(Plan {
            title: "2025年区《政府工作报告》目标任务责任分解方案".into(),
            year: 2025,
            level: "区".into(),
            ..Default::default()
        }),
        tasks: (0..tasks)
            .map(|i| Task {
                number: (i + 1).to_string(),
                text: format!("新增市场主体{}户以上", 1000 + i),
                indicators: vec![Indicator {
                    quantity: Some(Quantity {
                        phrase: format!("新增市场主体{}户以上", 1000 + i),
                        metric: "新增市场主体".into(),
                        value: (1000 + i) as f64,
                        unit: "户".into(),
                        comparator: Comparator::AtLeast as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
        request_id: request_id.into(),
    }
}

fn violated_fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_retried_create_returns_the_first_result_and_a_reused_id_is_refused() {
    let set = TestSet::start().await;
    let mut targets = set.targets.clone();
    let first = targets
        .create_plan(plan_request("r-1", 3))
        .await
        .unwrap()
        .into_inner();
    let retry = targets
        .create_plan(plan_request("r-1", 3))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, retry);
    let reused = targets
        .create_plan(plan_request("r-1", 4))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::FailedPrecondition);
    let other = targets
        .create_plan(plan_request("r-2", 3))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(other.name, first.name);
    set.stop().await;
}

#[tokio::test]
async fn bad_requests_get_the_right_code_and_the_field_and_store_nothing() {
    let set = TestSet::start().await;
    let mut targets = set.targets.clone();

    let mut bad = plan_request("", 2);
    bad.tasks[1].text = "  ".into();
    bad.tasks[0].indicators[0].quantity.as_mut().unwrap().value = f64::NAN;
    let err = targets.create_plan(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&err),
        ["tasks[0].indicators[0].quantity.value", "tasks[1].text"]
    );
    let listed = targets
        .list_tasks(ListTasksRequest {
            parent: "plans/-".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.tasks.is_empty(), "a rejected request stores nothing");

    let err = targets
        .get_plan(GetPlanRequest {
            name: "plans/abc".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), violated_fields(&err)),
        (Code::InvalidArgument, vec!["name".to_string()])
    );
    let err = targets
        .get_plan(GetPlanRequest {
            name: "plans/424242".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = targets
        .get_task(GetTaskRequest {
            name: "plans/1/tasks/1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    let err = targets
        .list_tasks(ListTasksRequest {
            parent: "plans/-".into(),
            filter: "owner=me".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), violated_fields(&err)),
        (Code::InvalidArgument, vec!["filter".to_string()])
    );
    let err = targets
        .list_tasks(ListTasksRequest {
            parent: "plans/-".into(),
            page_token: "bogus".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["page_token"]);
    let err = targets
        .list_tasks(ListTasksRequest {
            parent: "plans/-".into(),
            page_size: -5,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["page_size"]);

    let err = set
        .ingest
        .clone()
        .create_document(CreateDocumentRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), violated_fields(&err)),
        (Code::InvalidArgument, vec!["content".to_string()])
    );

    let err = set
        .reporting
        .clone()
        .create_report(CreateReportRequest {
            report: Some(Report {
                assignment: "assignments/1".into(),
                period: "2025Q5".into(),
                status: ProgressStatus::OnPace as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["report.period"]);
    set.stop().await;
}

#[tokio::test]
async fn a_reporting_schedule_is_created_from_a_rule_and_edited_field_by_field() {
    let set = TestSet::start().await;
    let mut assignments = set.assignments.clone();
    let unknown = assignments
        .get_reporting_schedule(GetReportingScheduleRequest {
            name: "plans/77/reportingSchedule".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "a plan nobody knows");
    let plan = set
        .targets
        .clone()
        .create_plan(plan_request("", 1))
        .await
        .unwrap()
        .into_inner();
    let name = format!("{}/reportingSchedule", plan.name);
    let missing = assignments
        .get_reporting_schedule(GetReportingScheduleRequest { name: name.clone() })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let created = assignments
        .update_reporting_schedule(UpdateReportingScheduleRequest {
            schedule: Some(ReportingSchedule {
                name: name.clone(),
                rule: "每月25日前报送当月工作进展".into(),
                year: 2025,
                ..Default::default()
            }),
            update_mask: None,
            request_id: String::new(),
            allow_missing: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.frequency, ReportingFrequency::Monthly as i32);
    assert_eq!(created.periods.len(), 12);
    assert_eq!(created.periods[0].due_date, "2025-01-25");

    let edited = assignments
        .update_reporting_schedule(UpdateReportingScheduleRequest {
            schedule: Some(ReportingSchedule {
                name: name.clone(),
                due_day: 28,
                first_period: "2025M07".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["due_day".into(), "first_period".into()],
            }),
            request_id: String::new(),
            allow_missing: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.periods.len(), 6);
    assert_eq!(edited.periods[0].due_date, "2025-07-28");
    assert_eq!(edited.rule, created.rule, "an edit keeps the rule text");

    let err = assignments
        .update_reporting_schedule(UpdateReportingScheduleRequest {
            schedule: Some(ReportingSchedule {
                name,
                first_period: "2025Q3".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["first_period".into()],
            }),
            request_id: String::new(),
            allow_missing: false,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::InvalidArgument,
        "a quarter cannot start a monthly schedule"
    );
    set.stop().await;
}

#[tokio::test]
async fn paging_returns_every_task_once_and_binds_the_filter() {
    let set = TestSet::start().await;
    let mut targets = set.targets.clone();
    let plan = targets
        .create_plan(plan_request("", 125))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(plan.task_count, 125);
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = targets
            .list_tasks(ListTasksRequest {
                parent: plan.name.clone(),
                page_size: 40,
                page_token: page_token.clone(),
                filter: "has_indicator=true".into(),
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        seen.extend(page.tasks.into_iter().map(|t| t.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
        let err = targets
            .list_tasks(ListTasksRequest {
                parent: plan.name.clone(),
                page_size: 40,
                page_token: page_token.clone(),
                filter: "has_indicator=false".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::InvalidArgument,
            "a token is bound to its filter"
        );
    }
    assert_eq!(pages, 4);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (125, 125));
    set.stop().await;
}

#[tokio::test]
async fn edits_keep_history_and_a_withdrawn_task_drops_out_of_active_lists() {
    let set = TestSet::start().await;
    let mut targets = set.targets.clone();
    let plan = targets
        .create_plan(plan_request("", 2))
        .await
        .unwrap()
        .into_inner();
    let tasks = targets
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    let mut edit = tasks[0].clone();
    edit.status = TaskStatus::Withdrawn as i32;
    edit.deadline = "2025年6月底前".into();
    let request = UpdateTaskRequest {
        task: Some(edit),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["status".into(), "deadline".into()],
        }),
        request_id: "edit-1".into(),
    };
    let updated = targets
        .update_task(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.revision, 1);
    assert_eq!(updated.deadline, "2025年6月底前");
    let replayed = targets.update_task(request).await.unwrap().into_inner();
    assert_eq!(replayed.revision, 1, "a retried edit is not applied twice");
    let active = targets
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            filter: "status=ACTIVE".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].name, tasks[1].name);

    let mut bad = tasks[1].clone();
    bad.number = "99".into();
    let err = targets
        .update_task(UpdateTaskRequest {
            task: Some(bad),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["number".into()],
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    set.stop().await;
}
