//! The ingest service's own metrics: documents stored, outbox delivery attempts and the outbox's
//! backlog.

use duban_kit::metrics::{
    Metrics,
    prometheus::{self, IntCounterVec, Opts},
};

use crate::store::Store;

#[derive(Clone)]
pub struct IngestMetrics {
    documents: IntCounterVec,
    deliveries: IntCounterVec,
}

impl IngestMetrics {
    /// Registers the counters, and gauges of the outbox's pending and failed entries read from the
    /// database at each scrape: the backlog is shared by every replica, so no one process counts it.
    pub fn register(metrics: &Metrics, store: Store) -> prometheus::Result<Self> {
        let documents = IntCounterVec::new(
            Opts::new(
                "ingest_documents_total",
                "documents received: stored, already there (same content or request_id), or kept as failed (over the extraction budget)",
            ),
            &["result"],
        )?;
        let deliveries = IntCounterVec::new(
            Opts::new(
                "outbox_deliveries_total",
                "outbox delivery attempts: delivered, failed to be retried, or failed for good",
            ),
            &["outcome"],
        )?;
        metrics.registry().register(Box::new(documents.clone()))?;
        metrics.registry().register(Box::new(deliveries.clone()))?;
        let pending = metrics.gauge("outbox_pending", "outbox entries waiting for delivery")?;
        let failed = metrics.gauge(
            "outbox_failed",
            "outbox entries a peer refused for good; they need an operator",
        )?;
        metrics.on_scrape(move || {
            let (store, pending, failed) = (store.clone(), pending.clone(), failed.clone());
            async move {
                match store.outbox_backlog().await {
                    Ok((p, f)) => {
                        pending.set(p);
                        failed.set(f);
                    }
                    Err(err) => tracing::warn!(error = %err, "metrics: cannot count the outbox"),
                }
            }
        });
        Ok(Self {
            documents,
            deliveries,
        })
    }

    pub fn document(&self, stored: bool) {
        let result = if stored { "stored" } else { "duplicate" };
        self.documents.with_label_values(&[result]).inc();
    }

    /// A document kept as failed: its extraction ran out of its budget.
    pub fn document_failed(&self) {
        self.documents.with_label_values(&["failed"]).inc();
    }

    pub fn delivered(&self) {
        self.deliveries.with_label_values(&["delivered"]).inc();
    }

    pub fn delivery_failed(&self, permanent: bool) {
        let outcome = if permanent { "failed" } else { "retry" };
        self.deliveries.with_label_values(&[outcome]).inc();
    }
}
