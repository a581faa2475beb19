//! gRPC handlers: check and decode the request, call one use case or the store, encode. No
//! rules or SQL here.

use duban_db::idempotency;
use duban_kit::{auth, list, names};
use duban_proto::{
    ApiError,
    v1::{
        CreateDocumentRequest, Document, GetDocumentRequest, ListDocumentsRequest,
        ListDocumentsResponse, ingest_service_server::IngestService,
    },
};
use tonic::{Request, Response, Status};

use crate::{
    domain,
    owners::Owners,
    receive::{Receiver, Upload},
    store::Store,
};

pub struct Ingest {
    store: Store,
    owners: Owners,
    receiver: Receiver,
    max_document_bytes: usize,
}

impl Ingest {
    pub fn new(
        store: Store,
        owners: Owners,
        receiver: Receiver,
        max_document_bytes: usize,
    ) -> Self {
        Self {
            store,
            owners,
            receiver,
            max_document_bytes,
        }
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
        let upload = Upload {
            fingerprint: idempotency::fingerprint(&req),
            content: req.content,
            filename: req.filename,
            request_id: req.request_id,
        };
        let document = self.receiver.receive(who.as_ref(), upload).await?;
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
