//! `duban summary`: what a running set holds, counted through its public APIs; the last line of
//! `duban up`, and the check a deployment (or the container test) compares against it.

use std::{fmt, time::Duration};

use duban_proto::v1::{
    DeliveryState, Document, ListAssignmentsRequest, ListDocumentsRequest, ListPlansRequest,
    ListTasksRequest, ListUnitsRequest, assignments_service_client::AssignmentsServiceClient,
    ingest_service_client::IngestServiceClient, targets_service_client::TargetsServiceClient,
};

use crate::client::{Peers, all_pages, connect};

/// How much a set holds; `Display` is the summary line `duban up` prints.
pub struct Summary {
    pub documents: usize,
    pub plans: usize,
    pub tasks: usize,
    pub targets: usize,
    pub units: usize,
    pub assignments: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "summary: {} documents, {} plans, {} tasks, {} targets, {} units, {} assignments",
            self.documents, self.plans, self.tasks, self.targets, self.units, self.assignments
        )
    }
}

/// `duban summary`: waits up to `wait` for every document's delivery to settle, then prints
/// the summary. Deliveries still pending or failed make it an error, after the line: the counts
/// of a set that has not received everything are not the set's.
pub async fn run(peers: &Peers, wait: Duration) -> anyhow::Result<()> {
    let documents = settled(peers, wait).await?;
    println!("{}", count(peers, documents.len()).await?);
    let unsettled: Vec<String> = documents
        .iter()
        .filter(|d| d.delivery_state != DeliveryState::Delivered as i32)
        .map(|d| {
            format!(
                "{} ({}): {}",
                d.name,
                crate::client::delivery_label(d.delivery_state),
                d.delivery_error
            )
        })
        .collect();
    if !unsettled.is_empty() {
        anyhow::bail!(
            "{} of {} documents are not delivered after {} s: {}",
            unsettled.len(),
            documents.len(),
            wait.as_secs(),
            unsettled.join("; ")
        );
    }
    Ok(())
}

/// Every document, once none is pending or `wait` has passed.
pub async fn settled(peers: &Peers, wait: Duration) -> anyhow::Result<Vec<Document>> {
    let ingest = IngestServiceClient::new(connect(&peers.ingest_url, &peers.auth).await?);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let documents = all_pages(|page_token| {
            let mut c = ingest.clone();
            async move {
                let r = c
                    .list_documents(ListDocumentsRequest {
                        page_size: 1000,
                        page_token,
                        filter: String::new(),
                    })
                    .await?
                    .into_inner();
                Ok((r.documents, r.next_page_token))
            }
        })
        .await?;
        let pending = documents
            .iter()
            .any(|d| d.delivery_state == DeliveryState::Pending as i32);
        if !pending || tokio::time::Instant::now() >= deadline {
            return Ok(documents);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Counts what the targets and assignments services hold.
pub async fn count(peers: &Peers, documents: usize) -> anyhow::Result<Summary> {
    let targets = TargetsServiceClient::new(connect(&peers.targets_url, &peers.auth).await?);
    let assignments =
        AssignmentsServiceClient::new(connect(&peers.assignments_url, &peers.auth).await?);
    let plans = all_pages(|page_token| {
        let mut c = targets.clone();
        async move {
            let r = c
                .list_plans(ListPlansRequest {
                    page_size: 1000,
                    page_token,
                    filter: String::new(),
                })
                .await?
                .into_inner();
            Ok((r.plans, r.next_page_token))
        }
    })
    .await?;
    let tasks = all_pages(|page_token| {
        let mut c = targets.clone();
        async move {
            let r = c
                .list_tasks(ListTasksRequest {
                    parent: "plans/-".into(),
                    page_size: 1000,
                    page_token,
                    filter: String::new(),
                })
                .await?
                .into_inner();
            Ok((r.tasks, r.next_page_token))
        }
    })
    .await?;
    let units = all_pages(|page_token| {
        let mut c = assignments.clone();
        async move {
            let r = c
                .list_units(ListUnitsRequest {
                    page_size: 1000,
                    page_token,
                    filter: String::new(),
                })
                .await?
                .into_inner();
            Ok((r.units, r.next_page_token))
        }
    })
    .await?;
    let assigned = all_pages(|page_token| {
        let mut c = assignments.clone();
        async move {
            let r = c
                .list_assignments(ListAssignmentsRequest {
                    page_size: 1000,
                    page_token,
                    filter: String::new(),
                })
                .await?
                .into_inner();
            Ok((r.assignments, r.next_page_token))
        }
    })
    .await?;
    Ok(Summary {
        documents,
        plans: plans.len(),
        tasks: tasks.len(),
        targets: tasks.iter().map(|t| t.indicators.len()).sum(),
        units: units.len(),
        assignments: assigned.len(),
    })
}
