//! Wrong input is an error that says what is allowed, never an empty success: unknown enum,
//! level and filter values, periods outside a plan's schedule, missing parents, and `plans/-`
//! where one plan is meant. And `plans/-` works where the README says it does.

use std::time::Duration;

use duban_proto::v1::{
    AggregateGroup, BulletinFormat, GetAggregatesRequest, GetBulletinRequest,
    ListAssignmentsRequest, ListExtensionsRequest, ListLightsRequest, ListOverdueItemsRequest,
    ListPlansRequest, ListReportsRequest, ListTasksRequest, ListUnitsRequest,
    ListWeakerIndicatorsRequest, ReportingSchedule, UpdateReportingScheduleRequest,
};
use duban_testkit::{SEED_DECOMPOSITION, TestSet};
use tonic::Code;
use tonic_types::StatusExt;

/// The field a refusal names and its description, after checking it is INVALID_ARGUMENT.
fn refused<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> (String, String) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let violation = status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().cloned())
        .expect("a field violation");
    (violation.field, violation.description)
}

#[tokio::test]
async fn wrong_values_are_refused_naming_what_is_allowed() {
    let set = TestSet::start().await;
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
    let plans = set
        .targets
        .clone()
        .list_plans(ListPlansRequest {
            page_size: 10,
            page_token: String::new(),
            filter: "level=区".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .plans;
    let plan = plans.first().expect("the district plan").name.clone();
    set.assignments
        .clone()
        .update_reporting_schedule(UpdateReportingScheduleRequest {
            schedule: Some(ReportingSchedule {
                name: format!("{plan}/reportingSchedule"),
                first_period: "2025Q2".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["first_period".into()],
            }),
            request_id: String::new(),
            allow_missing: false,
        })
        .await
        .unwrap();

    // Periods outside the plan's schedule.
    let lights = |period: &str| ListLightsRequest {
        parent: plan.clone(),
        period: period.into(),
        as_of: "2025-12-31".into(),
        ..Default::default()
    };
    let (field, why) = refused(set.reporting.clone().list_lights(lights("2024Q1")).await);
    assert_eq!(field, "period");
    assert!(why.contains("2025Q2") && why.contains("2024Q1"), "{why}");
    let answered = set
        .reporting
        .clone()
        .list_lights(lights("2025Q3"))
        .await
        .unwrap()
        .into_inner();
    assert!(!answered.lights.is_empty());
    let (field, _) = refused(
        set.reporting
            .clone()
            .get_aggregates(GetAggregatesRequest {
                parent: plan.clone(),
                period: "2030Q1".into(),
                group_by: AggregateGroup::GroupUnit as i32,
                as_of: String::new(),
            })
            .await,
    );
    assert_eq!(field, "period");
    let (field, _) = refused(
        set.reporting
            .clone()
            .get_bulletin(GetBulletinRequest {
                parent: plan.clone(),
                period: "2025M07".into(),
                format: BulletinFormat::Markdown as i32,
                as_of: String::new(),
            })
            .await,
    );
    assert_eq!(field, "period");

    // plans/- where one plan's period is meant: refused with the reason.
    let mut all = lights("2025Q3");
    all.parent = "plans/-".into();
    let (field, why) = refused(set.reporting.clone().list_lights(all).await);
    assert_eq!(field, "parent");
    assert!(why.contains("plans/5") || why.contains("one plan"), "{why}");

    // Levels.
    let (field, why) = refused(
        set.targets
            .clone()
            .list_weaker_indicators(ListWeakerIndicatorsRequest {
                year: 2025,
                level: "DISTRICT".into(),
            })
            .await,
    );
    assert_eq!(field, "level");
    assert!(why.contains("区") && why.contains("DISTRICT"), "{why}");
    let (field, _) = refused(
        set.targets
            .clone()
            .list_plans(ListPlansRequest {
                filter: "level=DISTRICT".into(),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(field, "filter");

    // Enum values in filters, in every service.
    let (field, why) = refused(
        set.assignments
            .clone()
            .list_assignments(ListAssignmentsRequest {
                filter: "role=LEADX".into(),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(field, "filter");
    assert!(why.contains("LEAD, RESPONSIBLE, COOPERATING"), "{why}");
    let leads = set
        .assignments
        .clone()
        .list_assignments(ListAssignmentsRequest {
            filter: "role=lead AND level=区".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!leads.assignments.is_empty());
    for filter in ["level=district", "kind=ministry"] {
        let (field, why) = refused(
            set.assignments
                .clone()
                .list_units(ListUnitsRequest {
                    filter: filter.into(),
                    ..Default::default()
                })
                .await,
        );
        assert_eq!(field, "filter", "{filter}");
        assert!(why.contains("must be one of"), "{filter}: {why}");
    }
    for filter in [
        "state=FILED",
        "status=on-pace",
        "role=LEADX",
        "period=2025Q9",
    ] {
        let (field, _) = refused(
            set.reporting
                .clone()
                .list_reports(ListReportsRequest {
                    filter: filter.into(),
                    ..Default::default()
                })
                .await,
        );
        assert_eq!(field, "filter", "{filter}");
    }
    for filter in ["status=ON_PACE", "status=on_pace AND state=draft"] {
        set.reporting
            .clone()
            .list_reports(ListReportsRequest {
                filter: filter.into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("{filter}: {s:?}"));
    }
    let (field, _) = refused(
        set.reporting
            .clone()
            .list_extensions(ListExtensionsRequest {
                filter: "state=MAYBE".into(),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(field, "filter");
    for filter in ["state=APPROVED", "state=EXTENSION_PENDING"] {
        set.reporting
            .clone()
            .list_extensions(ListExtensionsRequest {
                filter: filter.into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("{filter}: {s:?}"));
    }

    // A parent that does not exist is NOT_FOUND, not an empty list.
    let missing = set
        .targets
        .clone()
        .list_tasks(ListTasksRequest {
            parent: "plans/99".into(),
            ..Default::default()
        })
        .await
        .expect_err("no such plan");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    set.stop().await;
}

/// Every overdue item under `parent` on 2026-03-01, read in pages of `page_size`.
async fn all_overdue(set: &TestSet, parent: &str, page_size: i32) -> Vec<String> {
    let mut items = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = set
            .reporting
            .clone()
            .list_overdue_items(ListOverdueItemsRequest {
                parent: parent.into(),
                as_of: "2026-03-01".into(),
                page_size,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        items.extend(page.items.into_iter().map(|i| format!("{i:?}")));
        if page.next_page_token.is_empty() {
            return items;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn overdue_items_across_every_plan_are_those_of_each_plan() {
    let set = TestSet::start().await;
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
    let plans = set
        .targets
        .clone()
        .list_plans(ListPlansRequest {
            page_size: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .plans;
    assert!(plans.len() >= 2, "seed 003 makes several plans");
    let mut each = Vec::new();
    for plan in &plans {
        each.extend(all_overdue(&set, &plan.name, 1000).await);
    }
    assert!(
        !each.is_empty(),
        "nothing reported, so something is overdue"
    );
    let across = all_overdue(&set, "plans/-", 50).await;
    // compared by count and then item by item, so a failure does not print hundreds of items
    assert_eq!(across.len(), each.len());
    if let Some(i) = (0..each.len()).find(|&i| across[i] != each[i]) {
        panic!("item {i} differs: {} against {}", across[i], each[i]);
    }
    set.stop().await;
}
