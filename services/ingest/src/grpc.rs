//! gRPC handlers: validate, call the store, map errors. No rules or SQL here.

use std::{sync::Arc, time::Duration};

use duban_db::idempotency;
use duban_extract::{Extraction, OverBudget};
use duban_kit::{auth, list, names, peer};
use duban_proto::{
    ApiError,
    v1::{
        CreateDocumentRequest, Document, GetDocumentRequest, ListDocumentsRequest,
        ListDocumentsResponse, ingest_service_server::IngestService,
    },
};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::{
    domain, governments,
    metrics::IngestMetrics,
    owners::{self, Owners},
    store::{NewDocument, Store},
};

pub struct Ingest {
    store: Store,
    owners: Owners,
    wake: Arc<Notify>,
    max_document_bytes: usize,
    extract_budget: Duration,
    metrics: IngestMetrics,
}

impl Ingest {
    pub fn new(
        store: Store,
        owners: Owners,
        wake: Arc<Notify>,
        max_document_bytes: usize,
        extract_budget: Duration,
        metrics: IngestMetrics,
    ) -> Self {
        Self {
            store,
            owners,
            wake,
            max_document_bytes,
            extract_budget,
            metrics,
        }
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

const DOCUMENT_FILTERS: &[&str] = &["kind", "year", "content_sha256", "delivery_state"];
const MAX_FILENAME_CHARS: usize = 255;

#[tonic::async_trait]
impl IngestService for Ingest {
    #[tracing::instrument(skip_all, fields(filename = %request.get_ref().filename, bytes = request.get_ref().content.len()))]
    async fn create_document(
        &self,
        request: Request<CreateDocumentRequest>,
    ) -> Result<Response<Document>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        if req.content.is_empty() {
            return Err(ApiError::invalid("content", "is empty: send the document's bytes").into());
        }
        if req.content.len() > self.max_document_bytes {
            return Err(ApiError::invalid(
                "content",
                format!(
                    "is {} bytes; documents are limited to {} bytes",
                    req.content.len(),
                    self.max_document_bytes
                ),
            )
            .into());
        }
        if req.filename.chars().count() > MAX_FILENAME_CHARS
            || req.filename.contains(['/', '\\', '\0'])
        {
            return Err(ApiError::invalid(
                "filename",
                format!("must be a bare file name of at most {MAX_FILENAME_CHARS} characters"),
            )
            .into());
        }
        if domain::looks_binary(&req.content) {
            return Err(ApiError::invalid(
                "content",
                "looks like a binary file: send plain text, HTML or DOCX (UTF-8 or GB18030/GBK)",
            )
            .into());
        }
        let fingerprint = idempotency::fingerprint(&req);
        let sha256 = hex::encode(Sha256::digest(&req.content));
        let filename = req.filename;
        let (content, extracted) = if self.store.extracted(&sha256).await? {
            // read before: answered with what is stored, without reading it again
            (req.content, None)
        } else {
            let (content, extracted) = self.extract(req.content, &filename).await?;
            (content, Some(extracted))
        };
        let new = |extraction| NewDocument {
            filename: &filename,
            sha256: sha256.clone(),
            content: &content,
            extraction,
            request_id: &req.request_id,
            fingerprint: fingerprint.clone(),
            trace_context: peer::current_trace_context(),
        };
        let (document, stored) = match extracted {
            None => self.store.create_document(new(None)).await?,
            Some(Ok(mut extraction)) => {
                // The plans a document makes belong to its issuer's government.
                owners::claim(who.as_ref(), &filename, &mut extraction)?;
                governments::resolve_source_reports(&mut extraction);
                self.store.create_document(new(Some(&extraction))).await?
            }
            Some(Err(over)) => {
                let why = format!("{over} (DUBAN_INGEST_EXTRACT_BUDGET_MS)");
                // kept unread, with why: a document naming no issuer, claimed as any such is
                let mut unread = Extraction {
                    source: filename.clone(),
                    warnings: vec![why.clone()],
                    ..Default::default()
                };
                owners::claim(who.as_ref(), &filename, &mut unread)?;
                match self.store.store_failed(new(None), &unread, &why).await? {
                    Some(failed) => {
                        self.metrics.document_failed();
                        return Err(ApiError::ResourceExhausted {
                            reason: "EXTRACTION_BUDGET_EXCEEDED",
                            message: format!(
                                "{filename}: {why}; kept as {} with delivery_state FAILED and \
                                 nothing delivered: split the document, or raise the limit and \
                                 send it again",
                                failed.name
                            ),
                            metadata: vec![
                                ("document", failed.name.clone()),
                                ("budget_ms", over.budget.as_millis().to_string()),
                                ("setting", "DUBAN_INGEST_EXTRACT_BUDGET_MS".to_string()),
                            ],
                        }
                        .into());
                    }
                    // read meanwhile by another call, with a larger budget
                    None => self.store.create_document(new(None)).await?,
                }
            }
        };
        // The same bytes stored before are answered with the stored document, which may be
        // another government's: the caller gets it only if it may read it.
        if !stored {
            self.owners.check(who.as_ref(), &document).await?;
        }
        self.metrics.document(stored);
        self.wake.notify_one();
        Ok(Response::new(document))
    }

    async fn get_document(
        &self,
        request: Request<GetDocumentRequest>,
    ) -> Result<Response<Document>, Status> {
        let id = names::parse("name", &request.get_ref().name, "documents")?;
        let document = self.store.get_document(id).await?;
        self.owners.check(auth::caller(&request), &document).await?;
        Ok(Response::new(document))
    }

    async fn list_documents(
        &self,
        request: Request<ListDocumentsRequest>,
    ) -> Result<Response<ListDocumentsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, DOCUMENT_FILTERS)?;
        let mut documents = self.store.list_documents(&terms, after, limit).await?;
        let next_page_token = list::next_token(&documents, limit, &req.filter, |d| {
            names::parse("name", &d.name, "documents").unwrap_or(0)
        });
        // Other governments' documents are left out; a page may come back short.
        self.owners
            .keep_readable(who.as_ref(), &mut documents)
            .await?;
        Ok(Response::new(ListDocumentsResponse {
            documents,
            next_page_token,
        }))
    }
}
