//! Report once: the figures of an accepted report flow to the targets service as observations
//! of their indicators, so nobody asks a unit for the same figure again. The event log is the
//! outbox: a cursor over its report_accepted events advances only after targets has every
//! figure, and each observation carries a request_id derived from the event, so a redelivery
//! after a crash records nothing twice.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic::Code;

use crate::{peers::Peers, store::Store};

const POLL: Duration = Duration::from_secs(1);

pub async fn run(store: Store, peers: Peers, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let progressed = match deliver_batch(&store, &peers).await {
            Ok(n) => n > 0,
            Err(err) => {
                tracing::warn!(error = %err, "figures: handing accepted figures to targets failed; will retry");
                false
            }
        };
        if !progressed {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// Delivers the figures of the next accepted reports; returns how many events it passed.
async fn deliver_batch(store: &Store, peers: &Peers) -> anyhow::Result<usize> {
    let batch = store.accepted_figures_after_cursor(50).await?;
    for accepted in &batch {
        for (i, figure) in accepted.figures.iter().enumerate() {
            let request_id = format!("{}:event:{}:figure:{i}", accepted.report, accepted.position);
            match peers
                .record_observation(
                    &figure.indicator,
                    figure.value,
                    &figure.as_of,
                    &accepted.report,
                    &request_id,
                )
                .await
            {
                Ok(()) => {}
                // The indicator is gone or the figure is not one targets can take: retrying
                // cannot help, and it must not hold up the figures behind it.
                Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                    tracing::warn!(report = %accepted.report, indicator = %figure.indicator, error = status.message(), "figure not recorded");
                }
                Err(status) => anyhow::bail!("{:?}: {}", status.code(), status.message()),
            }
        }
        store.advance_figures_cursor(accepted.position).await?;
    }
    Ok(batch.len())
}
