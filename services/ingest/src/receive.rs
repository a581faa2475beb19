//! The use case of receiving a document: read it within the time budget (unless the same bytes
//! were read before), make it a document of the caller's government, and store it with its
//! request_id and its outbox in one unit of work; or, when reading ran out of time, keep it
//! as FAILED with why, and refuse the call naming the limit.

use std::{sync::Arc, time::Duration};

use duban_extract::{Extraction, OverBudget};
use duban_kit::{auth::Identity, peer};
use duban_proto::{ApiError, v1::Document};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tonic::Status;

use crate::{
    governments,
    metrics::IngestMetrics,
    owners::{self, Owners},
    store::{NewDocument, Store},
};

/// A document as the caller sent it, already checked (size, name, not binary).
pub struct Upload {
    pub content: Vec<u8>,
    pub filename: String,
    pub request_id: String,
    /// Of the whole request, to tell a retry from another request under the same request_id.
    pub fingerprint: Vec<u8>,
}

/// The setting that sets the extraction budget, named to the caller who ran out of it.
const BUDGET_SETTING: &str = "DUBAN_INGEST_EXTRACT_BUDGET_MS";

pub struct Receiver {
    store: Store,
    owners: Owners,
    /// Wakes the outbox dispatcher when a document was stored.
    wake: Arc<Notify>,
    extract_budget: Duration,
    metrics: IngestMetrics,
}

impl Receiver {
    pub fn new(
        store: Store,
        owners: Owners,
        wake: Arc<Notify>,
        extract_budget: Duration,
        metrics: IngestMetrics,
    ) -> Self {
        Self {
            store,
            owners,
            wake,
            extract_budget,
            metrics,
        }
    }

    pub async fn receive(
        &self,
        who: Option<&Identity>,
        upload: Upload,
    ) -> Result<Document, Status> {
        let Upload {
            content,
            filename,
            request_id,
            fingerprint,
        } = upload;
        let sha256 = hex::encode(Sha256::digest(&content));
        let (content, extracted) = if self.store.extracted(&sha256).await? {
            // read before: answered with what is stored, without reading it again
            (content, None)
        } else {
            let (content, extracted) = self.extract(content, &filename).await?;
            (content, Some(extracted))
        };
        let new = |extraction| NewDocument {
            filename: &filename,
            sha256: sha256.clone(),
            content: &content,
            extraction,
            request_id: &request_id,
            fingerprint: fingerprint.clone(),
            trace_context: peer::current_trace_context(),
        };
        let (document, stored) = match extracted {
            None => self.store.create_document(new(None)).await?,
            Some(Ok(mut extraction)) => {
                // The plans a document makes belong to its issuer's government.
                owners::claim(who, &filename, &mut extraction)?;
                governments::resolve_source_reports(&mut extraction);
                self.store.create_document(new(Some(&extraction))).await?
            }
            Some(Err(over)) => {
                let why = format!("{over} ({BUDGET_SETTING})");
                // kept unread, with why: a document naming no issuer, claimed as any such is
                let mut unread = Extraction {
                    source: filename.clone(),
                    warnings: vec![why.clone()],
                    ..Default::default()
                };
                owners::claim(who, &filename, &mut unread)?;
                match self.store.store_failed(new(None), &unread, &why).await? {
                    Some(failed) => {
                        self.metrics.document_failed();
                        return Err(over_budget(&filename, &why, &over, &failed).into());
                    }
                    // read meanwhile by another call, with a larger budget
                    None => self.store.create_document(new(None)).await?,
                }
            }
        };
        // The same bytes stored before are answered with the stored document, which may be
        // another government's: the caller gets it only if it may read it.
        if !stored {
            self.owners.check(who, &document).await?;
        }
        self.metrics.document(stored);
        self.wake.notify_one();
        Ok(document)
    }

    /// Extraction is CPU work: it runs off the async workers, within the budget.
    /// The bytes come back with the result, to be stored.
    async fn extract(
        &self,
        content: Vec<u8>,
        filename: &str,
    ) -> Result<(Vec<u8>, Result<Extraction, OverBudget>), ApiError> {
        let (source, budget) = (filename.to_string(), self.extract_budget);
        tokio::task::spawn_blocking(move || {
            let extracted = duban_extract::extract_within(&content, &source, budget);
            (content, extracted)
        })
        .await
        .map_err(|e| ApiError::internal(format!("extraction task failed: {e}")))
    }
}

/// The refusal of a document whose reading ran out of time: which limit and setting, and the
/// document kept as FAILED, in words and for programs.
fn over_budget(filename: &str, why: &str, over: &OverBudget, failed: &Document) -> ApiError {
    ApiError::ResourceExhausted {
        reason: "EXTRACTION_BUDGET_EXCEEDED",
        message: format!(
            "{filename}: {why}; kept as {} with delivery_state FAILED and nothing delivered: \
             split the document, or raise the limit and send it again",
            failed.name
        ),
        metadata: vec![
            ("document", failed.name.clone()),
            ("budget_ms", over.budget.as_millis().to_string()),
            ("setting", BUDGET_SETTING.to_string()),
        ],
    }
}
