//! The unit registry and the ledger: short forms resolve to canonical units, two spellings of
//! one body meet, generic bodies reach their members, unknown names wait for review, operators
//! merge units.

use std::time::Duration;

use duban_proto::v1::{
    ListAssignmentsRequest, ListLedgerRequest, ListUnitLoadsRequest, ListUnitsRequest,
    MergeUnitsRequest, Unit, UnitRole, UnmergeUnitRequest,
};
use duban_testkit::{SEED_DECOMPOSITION, TestSet};
use tonic::Code;

async fn ledger(set: &TestSet, unit: &str, as_of: &str) -> duban_proto::v1::ListLedgerResponse {
    set.assignments
        .clone()
        .list_ledger(ListLedgerRequest {
            unit: unit.into(),
            as_of: as_of.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn unit_named(set: &TestSet, name: &str) -> Unit {
    set.assignments
        .clone()
        .list_units(ListUnitsRequest {
            filter: format!("display_name=\"{name}\""),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .units
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no unit known as {name}"))
}

async fn assignment_count(set: &TestSet, unit: &str) -> usize {
    set.assignments
        .clone()
        .list_assignments(ListAssignmentsRequest {
            page_size: 1000,
            filter: format!("unit=\"{unit}\""),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assignments
        .len()
}

#[tokio::test]
async fn ledgers_registry_and_merges() {
    let set = TestSet::start().await;
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    set.wait_delivered(&doc.name, Duration::from_secs(60)).await;

    // 区发改局's ledger spans the three 2025 plans, under its canonical name.
    let ndrc = ledger(&set, "区发改局", "2025-05-01").await;
    let unit = ndrc.unit.unwrap();
    assert_eq!(unit.display_name, "武昌区发展和改革局");
    assert!(!unit.provisional);
    let mut plans: Vec<String> = ndrc
        .entries
        .iter()
        .map(|e| {
            e.assignment
                .as_ref()
                .unwrap()
                .task
                .split("/tasks/")
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    plans.dedup();
    assert_eq!(plans.len(), 3, "{plans:?}");
    assert!(
        ndrc.entries
            .iter()
            .any(|e| e.assignment.as_ref().unwrap().role == UnitRole::Lead as i32)
    );
    assert!(
        ndrc.entries
            .iter()
            .all(|e| e.next_period == "2025Q2" && e.next_due_date == "2025-07-10")
    );

    // Two spellings of one body are one unit.
    assert_eq!(
        unit_named(&set, "市生态环境局武昌分局").await.name,
        unit_named(&set, "市生态环境局武昌区分局").await.name
    );

    // A street office carries what 各街道办事处 was given.
    let street = ledger(&set, "中南路街道", "2025-05-01").await;
    assert!(
        street.entries.iter().any(|e| e.via_generic),
        "generic bodies reach their members"
    );
    assert!(street.entries.iter().any(|e| !e.via_generic));

    // A name nobody listed waits for review; an operator merges it into the right unit.
    let unknown = unit_named(&set, "区科技创新局").await;
    assert!(unknown.provisional);
    let target = unit_named(&set, "区经科局").await;
    let (moving, staying) = (
        assignment_count(&set, &unknown.name).await,
        assignment_count(&set, &target.name).await,
    );
    assert!(moving > 0);
    let mut client = set.assignments.clone();
    let merged = client
        .merge_units(MergeUnitsRequest {
            source: unknown.name.clone(),
            target: target.name.clone(),
            request_id: "merge-1".into(),
            merge_reviewed: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        merged.aliases.contains(&"区科技创新局".to_string()),
        "{:?}",
        merged.aliases
    );
    assert_eq!(assignment_count(&set, &target.name).await, moving + staying);
    assert_eq!(assignment_count(&set, &unknown.name).await, 0);
    let again = client
        .merge_units(MergeUnitsRequest {
            source: unknown.name.clone(),
            target: target.name.clone(),
            request_id: String::new(),
            merge_reviewed: false,
        })
        .await
        .unwrap_err();
    assert_eq!(
        again.code(),
        Code::FailedPrecondition,
        "the history says it was merged"
    );
    let replay = client
        .merge_units(MergeUnitsRequest {
            source: unknown.name.clone(),
            target: target.name.clone(),
            request_id: "merge-1".into(),
            merge_reviewed: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        replay.name, merged.name,
        "a retried merge returns the first result"
    );

    // A merge is undone: what the unit brought goes back, and it waits for review again.
    let restored = client
        .unmerge_unit(UnmergeUnitRequest {
            name: unknown.name.clone(),
            request_id: "unmerge-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(restored.name, unknown.name);
    assert!(restored.provisional && restored.merged_into.is_empty());
    assert_eq!(assignment_count(&set, &unknown.name).await, moving);
    assert_eq!(assignment_count(&set, &target.name).await, staying);
    assert_eq!(unit_named(&set, "区科技创新局").await.name, unknown.name);
    let twice = client
        .unmerge_unit(UnmergeUnitRequest {
            name: unknown.name.clone(),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition, "it is not merged");

    // Two reviewed units are merged only when the caller says so.
    let finance = unit_named(&set, "区财政局").await;
    assert!(!finance.provisional);
    let reviewed = |merge_reviewed| MergeUnitsRequest {
        source: finance.name.clone(),
        target: unit.name.clone(),
        request_id: String::new(),
        merge_reviewed,
    };
    let refused = client.merge_units(reviewed(false)).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("merge_reviewed"), "{refused:?}");
    assert!(
        unit_named(&set, "区财政局").await.name == finance.name,
        "nothing moved"
    );
    client.merge_units(reviewed(true)).await.unwrap();
    assert_eq!(unit_named(&set, "区财政局").await.name, unit.name);
    client
        .unmerge_unit(UnmergeUnitRequest {
            name: finance.name.clone(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(unit_named(&set, "区财政局").await.name, finance.name);

    let loads = client
        .list_unit_loads(ListUnitLoadsRequest {
            plan: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .loads;
    let ndrc_load = loads
        .iter()
        .find(|l| l.unit_display_name == "武昌区发展和改革局")
        .unwrap();
    assert!(ndrc_load.lead > 0 && ndrc_load.tasks as usize >= ndrc_load.lead as usize);
    assert!(
        loads.windows(2).all(|w| w[0].tasks >= w[1].tasks),
        "heaviest first"
    );

    let missing = client
        .list_ledger(ListLedgerRequest {
            unit: "不存在的单位".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    set.stop().await;
}
