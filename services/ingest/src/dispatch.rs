//! The outbox dispatcher: delivers each stored plan to the targets service and its units to the
//! assignments service, retrying with backoff until the peers accept. Every call carries a
//! request_id derived from the document and position, so a redelivery after a crash or a lost
//! reply creates nothing twice.

use std::{sync::Arc, time::Duration};

use duban_kit::peer::{self, PeerChannel, continue_trace};
use duban_proto::v1::{
    ListTasksRequest, ReportingSchedule, UpdateReportingScheduleRequest,
    assignments_service_client::AssignmentsServiceClient,
    targets_service_client::TargetsServiceClient,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Status};
use tracing::Instrument;

use crate::{
    metrics::IngestMetrics,
    store::{self, Pending, Store},
};

#[derive(Clone)]
pub struct Peers {
    targets: TargetsServiceClient<PeerChannel>,
    assignments: AssignmentsServiceClient<PeerChannel>,
}

impl Peers {
    pub fn new(targets: PeerChannel, assignments: PeerChannel) -> Self {
        Self {
            targets: TargetsServiceClient::new(targets),
            assignments: AssignmentsServiceClient::new(assignments),
        }
    }
}

const IDLE_POLL: Duration = Duration::from_secs(1);
const MAX_BACKOFF_MS: i64 = 30_000;

pub async fn run(
    store: Store,
    peers: Peers,
    wake: Arc<Notify>,
    metrics: IngestMetrics,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        match store.claim_pending().await {
            Ok(Some((tx, pending))) => deliver_one(tx, pending, &peers, &metrics).await,
            Ok(None) => {
                let wait = match store.next_due().await {
                    Ok(Some(due)) => (due - chrono::Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .min(IDLE_POLL),
                    _ => IDLE_POLL,
                };
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "outbox: cannot read pending deliveries");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
        }
    }
}

async fn deliver_one(
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    pending: Pending,
    peers: &Peers,
    metrics: &IngestMetrics,
) {
    let span = tracing::info_span!(
        "outbox.deliver",
        outbox.id = pending.id,
        attempt = pending.attempts + 1
    );
    continue_trace(&span, &pending.trace_context);
    let outcome = deliver(peers, &pending).instrument(span.clone()).await;
    let written = match outcome {
        Ok(plan_name) => {
            tracing::info!(parent: &span, plan = %plan_name, "delivered");
            metrics.delivered();
            store::mark_delivered(tx, pending.id, &plan_name).await
        }
        Err(status) => {
            // A peer that calls the request invalid will say so again: retrying cannot help.
            let permanent = matches!(
                status.code(),
                Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange
            );
            let backoff = (500_i64 << pending.attempts.clamp(0, 10)).min(MAX_BACKOFF_MS);
            tracing::warn!(parent: &span, code = ?status.code(), error = status.message(), permanent, "delivery failed");
            metrics.delivery_failed(permanent);
            let message = format!("{:?}: {}", status.code(), status.message());
            store::mark_failed(tx, pending.id, &message, permanent, backoff).await
        }
    };
    if let Err(err) = written {
        tracing::warn!(error = %err, "outbox: recording the delivery outcome failed; it will be retried");
    }
}

async fn deliver(peers: &Peers, pending: &Pending) -> Result<String, Status> {
    let mut targets = peers.targets.clone();
    let mut assignments = peers.assignments.clone();
    let plan = targets
        .create_plan(pending.plan.clone())
        .await?
        .into_inner();
    // The plan's reporting schedule, from the notice's rule; a plan of unknown year has none.
    if plan.year > 0 {
        assignments
            .update_reporting_schedule(UpdateReportingScheduleRequest {
                schedule: Some(ReportingSchedule {
                    name: format!("{}/reportingSchedule", plan.name),
                    rule: plan.reporting_rule.clone(),
                    year: plan.year,
                    ..Default::default()
                }),
                update_mask: None,
                request_id: format!("{}:schedule", pending.plan.request_id),
                allow_missing: true,
            })
            .await?;
    }
    let task_names: Vec<String> = peer::all_pages(|page_token| {
        let mut targets = targets.clone();
        let parent = plan.name.clone();
        async move {
            let page = targets
                .list_tasks(ListTasksRequest {
                    parent,
                    page_size: 1000,
                    page_token,
                    filter: String::new(),
                })
                .await?
                .into_inner();
            Ok::<_, Status>((
                page.tasks.into_iter().map(|t| t.name).collect(),
                page.next_page_token,
            ))
        }
    })
    .await?;
    for (position, request) in pending.assignments.iter().enumerate() {
        if request.assignments.is_empty() {
            continue;
        }
        let task = task_names.get(position).ok_or_else(|| {
            Status::internal(format!("{} has no task at position {position}", plan.name))
        })?;
        let mut request = request.clone();
        request.task = task.clone();
        request.request_id = format!("{}:task:{position}", pending.plan.request_id);
        assignments.create_assignments(request).await?;
    }
    Ok(plan.name)
}
