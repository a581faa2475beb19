//! gRPC handlers: validate, call the store, map errors. No rules or SQL here.

use duban_db::idempotency;
use duban_kit::{
    auth::{self, Identity},
    list, names,
    plans::{Access, Plans, Readable},
};
use duban_proto::ApiError;
use duban_proto::v1::{
    Assignment, CreateAssignmentsRequest, CreateAssignmentsResponse, GetAssignmentRequest,
    GetReportingScheduleRequest, GetUnitRequest, LedgerEntry, ListAssignmentsRequest,
    ListAssignmentsResponse, ListLedgerRequest, ListLedgerResponse, ListUnitLoadsRequest,
    ListUnitLoadsResponse, ListUnitsRequest, ListUnitsResponse, MergeUnitsRequest,
    ReportingSchedule, Unit, UnmergeUnitRequest, UpdateReportingScheduleRequest,
    assignments_service_server::AssignmentsService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::{
    domain,
    store::{Store, timestamp},
};

pub struct Assignments {
    store: Store,
    plans: Plans,
}

impl Assignments {
    pub fn new(pool: PgPool, plans: Plans) -> Self {
        Self {
            store: Store::new(pool),
            plans,
        }
    }

    /// The registry name ("units/N") of the unit a reporter or unit head acts for; None for
    /// the roles not tied to a unit. A unit the registry does not know is Some(""): it has
    /// no assignments to see.
    async fn own_unit(&self, who: Option<&Identity>) -> Result<Option<String>, Status> {
        let Some(own) = who.and_then(Identity::own_unit) else {
            return Ok(None);
        };
        match self.store.find_unit(own).await {
            Ok(unit) => Ok(Some(unit.name)),
            Err(ApiError::NotFound { .. }) => Ok(Some(String::new())),
            Err(err) => Err(err.into()),
        }
    }

    /// PERMISSION_DENIED unless `who` may change every one of `plans` (units are shared by
    /// every government: moving a unit's assignments touches each plan they belong to).
    async fn may_change_all(
        &self,
        who: &Identity,
        plans: &[i64],
        resource: &str,
    ) -> Result<(), Status> {
        for plan in plans {
            self.plans
                .check(Some(who), *plan, resource, Access::Change)
                .await?;
        }
        Ok(())
    }
}

fn task_of_entry(entry: &LedgerEntry) -> &str {
    entry.assignment.as_ref().map_or("", |a| a.task.as_str())
}

const UNIT_FILTERS: &[&str] = &["provisional", "level", "kind", "display_name"];
const ASSIGNMENT_FILTERS: &[&str] = &["unit", "unit_name", "plan", "task", "role", "level"];

#[tonic::async_trait]
impl AssignmentsService for Assignments {
    async fn get_assignment(
        &self,
        request: Request<GetAssignmentRequest>,
    ) -> Result<Response<Assignment>, Status> {
        let name = &request.get_ref().name;
        let id = names::parse("name", name, "assignments")?;
        let assignment = self.store.get_assignment(id).await?;
        let (plan, _) = names::parse_task("task", &assignment.task)?;
        let who = auth::caller(&request);
        self.plans.check(who, plan, name, Access::Read).await?;
        // A unit's reporters and heads read their own unit's assignments, as its ledger.
        if let (Some(who), Some(own)) = (who, self.own_unit(who).await?)
            && own != assignment.unit
        {
            return Err(auth::denied(format!(
                "{name} is an assignment of {} ({}); a {} of {} reads only its own unit's",
                assignment.unit, assignment.unit_display_name, who.role, who.unit
            )));
        }
        Ok(Response::new(assignment))
    }

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
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        domain::validate_create(&req)?;
        // An admin assigns only its own government's tasks.
        let (plan, _) = names::parse_task("task", &req.task)?;
        self.plans
            .check(who.as_ref(), plan, &req.task, Access::Change)
            .await?;
        self.plans.require_task(&req.task).await?;
        Ok(Response::new(self.store.create_assignments(&req).await?))
    }

    async fn list_assignments(
        &self,
        request: Request<ListAssignmentsRequest>,
    ) -> Result<Response<ListAssignmentsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, ASSIGNMENT_FILTERS)?;
        let mut assignments = self.store.list_assignments(&terms, after, limit).await?;
        let next_page_token = list::next_token(&assignments, limit, &req.filter, |a| {
            names::parse("name", &a.name, "assignments").unwrap_or(0)
        });
        // Other governments' assignments are left out, and other units' for a unit's reporters
        // and heads; a page may come back short.
        self.plans
            .keep_readable(who.as_ref(), &mut assignments, |a| &a.task)
            .await?;
        if let Some(own) = self.own_unit(who.as_ref()).await? {
            assignments.retain(|a| a.unit == own);
        }
        Ok(Response::new(ListAssignmentsResponse {
            assignments,
            next_page_token,
        }))
    }

    async fn get_reporting_schedule(
        &self,
        request: Request<GetReportingScheduleRequest>,
    ) -> Result<Response<ReportingSchedule>, Status> {
        let name = &request.get_ref().name;
        let plan = domain::schedule_plan("name", name)?;
        // Permission first: whether another government's plan has a schedule is its own affair.
        self.plans
            .check_plan(auth::caller(&request), plan, Access::Read)
            .await?;
        let (schedule, updated) = self
            .store
            .get_schedule(plan)
            .await?
            .ok_or_else(|| duban_proto::ApiError::not_found(name.clone()))?;
        Ok(Response::new(domain::schedule_to_proto(
            &schedule,
            Some(timestamp(updated)),
        )))
    }

    async fn update_reporting_schedule(
        &self,
        request: Request<UpdateReportingScheduleRequest>,
    ) -> Result<Response<ReportingSchedule>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let name = req
            .schedule
            .as_ref()
            .map(|s| s.name.as_str())
            .unwrap_or_default();
        let plan = domain::schedule_plan("schedule.name", name)?;
        // A schedule belongs to a plan: none is kept for a plan targets does not know.
        self.plans
            .check_plan(who.as_ref(), plan, Access::Change)
            .await?;
        let print = idempotency::fingerprint(&req);
        let schedule = self
            .store
            .update_schedule(plan, &req.request_id, &print, |current| {
                domain::apply_schedule_update(plan, current, &req)
            })
            .await?;
        Ok(Response::new(schedule))
    }

    async fn merge_units(
        &self,
        request: Request<MergeUnitsRequest>,
    ) -> Result<Response<Unit>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let source = names::parse("source", &req.source, "units")?;
        let target = names::parse("target", &req.target, "units")?;
        // Units are shared by every government; a merge moves all of the source's assignments.
        // A government's admin may merge only a unit whose assignments are all its own.
        let moved = match who.filter(|who| !who.reads_everything()) {
            None => None,
            Some(who) => {
                let plans = self.store.plans_of_unit(source).await?;
                let resource = format!("an assignment of {} that the merge would move", req.source);
                self.may_change_all(&who, &plans, &resource).await?;
                Some(plans)
            }
        };
        Ok(Response::new(
            self.store
                .merge_units(source, target, &req, moved.as_deref())
                .await?,
        ))
    }

    async fn unmerge_unit(
        &self,
        request: Request<UnmergeUnitRequest>,
    ) -> Result<Response<Unit>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let id = names::parse("name", &req.name, "units")?;
        // As for a merge: a government's admin may move back only its own assignments.
        let moving = match who.filter(|who| !who.reads_everything()) {
            None => None,
            Some(who) => {
                let plans = self.store.plans_moving_back(id).await?;
                let resource = format!("an assignment that undoing {} would move", req.name);
                self.may_change_all(&who, &plans, &resource).await?;
                Some(plans)
            }
        };
        Ok(Response::new(
            self.store.unmerge_unit(id, &req, moving.as_deref()).await?,
        ))
    }

    async fn list_ledger(
        &self,
        request: Request<ListLedgerRequest>,
    ) -> Result<Response<ListLedgerResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        if req.unit.trim().is_empty() {
            return Err(duban_proto::ApiError::invalid(
                "unit",
                "is required: units/{unit} or a unit name",
            )
            .into());
        }
        let plan = match req.plan.as_str() {
            "" => None,
            plan => Some(names::parse("plan", plan, "plans")?),
        };
        let as_of = domain::as_of_date("as_of", &req.as_of)?;
        let limit = list::page_size(req.page_size)?;
        let paging_key = format!("{}|{}|{}", req.unit, req.plan, req.as_of);
        let after = list::page_start(&req.page_token, &paging_key)?;
        let unit = self.store.find_unit(&req.unit).await?;
        if let Some(who) = &who {
            let names = [unit.name.as_str(), unit.display_name.as_str()];
            let aliases = unit.aliases.iter().map(String::as_str);
            if !who.acts_for_unit(names.into_iter().chain(aliases)) {
                return Err(auth::denied(format!(
                    "a {} of {} may not read the ledger of {} ({})",
                    who.role, who.unit, unit.name, unit.display_name
                )));
            }
        }
        if let Some(plan) = plan {
            self.plans
                .check(who.as_ref(), plan, &req.plan, Access::Read)
                .await?;
        }
        let mut entries = self.store.ledger(&unit, plan, as_of, after, limit).await?;
        let next_page_token = list::next_token(&entries, limit, &paging_key, |e| {
            e.assignment
                .as_ref()
                .and_then(|a| names::parse("name", &a.name, "assignments").ok())
                .unwrap_or(0)
        });
        // A unit may carry tasks of several governments' plans; other governments' are left out.
        self.plans
            .keep_readable(who.as_ref(), &mut entries, task_of_entry)
            .await?;
        Ok(Response::new(ListLedgerResponse {
            unit: Some(unit),
            entries,
            next_page_token,
        }))
    }

    async fn list_unit_loads(
        &self,
        request: Request<ListUnitLoadsRequest>,
    ) -> Result<Response<ListUnitLoadsResponse>, Status> {
        let who = auth::caller(&request);
        let plans = match request.get_ref().plan.as_str() {
            "" => self.plans.readable(who).await?,
            name => {
                let plan = names::parse("plan", name, "plans")?;
                self.plans.check(who, plan, name, Access::Read).await?;
                Readable::Only(vec![plan])
            }
        };
        let plans = match &plans {
            Readable::All => None,
            Readable::Only(plans) => Some(plans.as_slice()),
        };
        Ok(Response::new(ListUnitLoadsResponse {
            loads: self.store.unit_loads(plans).await?,
        }))
    }
}
