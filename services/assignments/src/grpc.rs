//! gRPC handlers: validate, call the store, map errors. No rules or SQL here.

use duban_kit::{list, names};
use duban_proto::v1::{
    CreateAssignmentsRequest, CreateAssignmentsResponse, GetUnitRequest, ListAssignmentsRequest,
    ListAssignmentsResponse, ListUnitsRequest, ListUnitsResponse, Unit,
    assignments_service_server::AssignmentsService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::{domain, store::Store};

pub struct Assignments {
    store: Store,
}

impl Assignments {
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: Store::new(pool),
        }
    }
}

const UNIT_FILTERS: &[&str] = &["provisional", "level", "kind", "display_name"];
const ASSIGNMENT_FILTERS: &[&str] = &["unit", "unit_name", "plan", "task", "role", "level"];

#[tonic::async_trait]
impl AssignmentsService for Assignments {
    async fn get_unit(&self, request: Request<GetUnitRequest>) -> Result<Response<Unit>, Status> {
        let id = names::parse("name", &request.get_ref().name, "units")?;
        Ok(Response::new(self.store.get_unit(id).await?))
    }

    async fn list_units(
        &self,
        request: Request<ListUnitsRequest>,
    ) -> Result<Response<ListUnitsResponse>, Status> {
        let req = request.into_inner();
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, UNIT_FILTERS)?;
        let units = self.store.list_units(&terms, after, limit).await?;
        let next_page_token = list::next_token(&units, limit, &req.filter, |u| {
            names::parse("name", &u.name, "units").unwrap_or(0)
        });
        Ok(Response::new(ListUnitsResponse {
            units,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(task = %request.get_ref().task))]
    async fn create_assignments(
        &self,
        request: Request<CreateAssignmentsRequest>,
    ) -> Result<Response<CreateAssignmentsResponse>, Status> {
        let req = request.into_inner();
        domain::validate_create(&req)?;
        Ok(Response::new(self.store.create_assignments(&req).await?))
    }

    async fn list_assignments(
        &self,
        request: Request<ListAssignmentsRequest>,
    ) -> Result<Response<ListAssignmentsResponse>, Status> {
        let req = request.into_inner();
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, ASSIGNMENT_FILTERS)?;
        let assignments = self.store.list_assignments(&terms, after, limit).await?;
        let next_page_token = list::next_token(&assignments, limit, &req.filter, |a| {
            names::parse("name", &a.name, "assignments").unwrap_or(0)
        });
        Ok(Response::new(ListAssignmentsResponse {
            assignments,
            next_page_token,
        }))
    }
}
