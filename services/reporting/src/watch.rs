//! The supervision sweep: evaluates every plan on a fixed rhythm, so "item became overdue" and
//! "light changed" events reach subscribers without anyone asking for lights or overdue lists.

use std::time::Duration;

use duban_proto::ApiError;

use crate::{domain, grpc::Reporting};

impl Reporting {
    pub async fn watch(self, every: Duration, shutdown: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            if let Err(err) = self.sweep().await {
                tracing::warn!(error = %err, "supervision sweep failed; next one in {every:?}");
            }
        }
    }

    /// Records each plan's overdue items and the lights of its latest due period, as of today.
    async fn sweep(&self) -> Result<(), ApiError> {
        let today = duban_kit::calendar::today_in_china();
        let plans = self
            .plans()
            .all()
            .await
            .map_err(|status| ApiError::unavailable(status.message()))?;
        for plan in plans.into_iter().map(|p| p.name) {
            let (snapshot, _) = self.snapshot(&plan).await?;
            if snapshot.schedule.is_empty() {
                continue;
            }
            let overdue = domain::overdue(&snapshot, today);
            let latest = snapshot.schedule.iter().rev().find(|d| d.due <= today);
            let lights = latest.map(|d| {
                (
                    d.period.clone(),
                    domain::lights(&snapshot, &d.period, today),
                )
            });
            self.store()
                .observe(
                    &plan,
                    today,
                    lights.as_ref().map(|(p, l)| (p.as_str(), l.as_slice())),
                    &overdue,
                )
                .await?;
        }
        Ok(())
    }
}
