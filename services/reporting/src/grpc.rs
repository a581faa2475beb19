//! gRPC handlers: validate, call the store, map errors. No rules or SQL here.

use duban_kit::{list, names};
use duban_proto::v1::{
    CreateReportRequest, GetReportRequest, ListReportsRequest, ListReportsResponse, Report,
    reporting_service_server::ReportingService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::{domain, store::Store};

pub struct Reporting {
    store: Store,
}

impl Reporting {
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: Store::new(pool),
        }
    }
}

const REPORT_FILTERS: &[&str] = &["assignment", "period", "state", "status"];

#[tonic::async_trait]
impl ReportingService for Reporting {
    async fn create_report(
        &self,
        request: Request<CreateReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let req = request.into_inner();
        domain::validate_create(&req)?;
        Ok(Response::new(self.store.create_report(&req).await?))
    }

    async fn get_report(
        &self,
        request: Request<GetReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let id = names::parse("name", &request.get_ref().name, "reports")?;
        Ok(Response::new(self.store.get_report(id).await?))
    }

    async fn list_reports(
        &self,
        request: Request<ListReportsRequest>,
    ) -> Result<Response<ListReportsResponse>, Status> {
        let req = request.into_inner();
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, REPORT_FILTERS)?;
        let reports = self.store.list_reports(&terms, after, limit).await?;
        let next_page_token = list::next_token(&reports, limit, &req.filter, |r| {
            names::parse("name", &r.name, "reports").unwrap_or(0)
        });
        Ok(Response::new(ListReportsResponse {
            reports,
            next_page_token,
        }))
    }
}
