//! gRPC handlers: validate, call the store, map errors. No rules or SQL here.

use std::{collections::HashSet, sync::Arc};

use duban_db::idempotency;
use duban_kit::{
    auth::{self, Identity},
    list, names,
    plans::LEVELS,
};
use duban_proto::v1::{
    CreateObservationRequest, CreatePlanRequest, GetIndicatorLineageRequest, GetPlanRequest,
    GetScorecardRequest, GetTaskRequest, IndicatorLineage, ListObservationsRequest,
    ListObservationsResponse, ListPlansRequest, ListPlansResponse, ListTasksRequest,
    ListTasksResponse, ListWeakerIndicatorsRequest, ListWeakerIndicatorsResponse, Observation,
    Plan, Scorecard, Task, UpdateTaskRequest, targets_service_server::TargetsService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::{cache::TaskCache, domain, store::Store};

pub struct Targets {
    store: Store,
}

impl Targets {
    pub fn new(pool: PgPool, cache: Arc<TaskCache>) -> Self {
        Self {
            store: Store::new(pool, cache),
        }
    }
}

/// PERMISSION_DENIED unless `who` may read (or, with `change`, change) plan `id`.
fn check_plan(who: &Identity, plan: &Plan, change: bool) -> Result<(), Status> {
    let allowed = if change {
        who.may_change_plan(&plan.issuer)
    } else {
        who.may_read_plan(&plan.issuer, &plan.source_report)
    };
    if allowed {
        Ok(())
    } else {
        Err(auth::denied(format!(
            "{} belongs to {}; a {} of {} may not {} it",
            plan.name,
            auth::government_of_issuer(&plan.issuer),
            who.role,
            who.government,
            if change { "change" } else { "read" }
        )))
    }
}

/// The plans a caller may read: reads across plans (tasks, lineages, observations, the
/// scorecard) keep only what belongs to these.
enum Readable {
    All,
    Only(HashSet<i64>),
}

impl Readable {
    fn plan(&self, id: i64) -> bool {
        match self {
            Readable::All => true,
            Readable::Only(plans) => plans.contains(&id),
        }
    }

    /// Whether `name` (a plan or anything under it) belongs to a readable plan.
    fn contains(&self, name: &str) -> bool {
        match self {
            Readable::All => true,
            Readable::Only(_) => names::plan_of(name).is_some_and(|id| self.plan(id)),
        }
    }
}

/// Plans read per page while collecting the readable ones.
const PLANS_PER_PAGE: i64 = 1000;

impl Targets {
    /// Checks the caller's scope on plan `id`; nothing when the services run open.
    /// NOT_FOUND for a plan that does not exist, whoever asks (an open deployment too: a list
    /// under a missing parent is an error, not an empty page); else the caller's scope.
    async fn scope(&self, who: Option<&Identity>, id: i64, change: bool) -> Result<(), Status> {
        let plan = self.store.get_plan(id).await?;
        match who {
            None => Ok(()),
            Some(who) => check_plan(who, &plan, change),
        }
    }

    /// The plans `who` may read: all of them for services, holders without a government and
    /// open deployments.
    async fn readable(&self, who: Option<&Identity>) -> Result<Readable, Status> {
        let Some(who) = who.filter(|who| !who.reads_everything()) else {
            return Ok(Readable::All);
        };
        let mut readable = HashSet::new();
        let mut after = None;
        loop {
            let page = self.store.list_plans(&[], after, PLANS_PER_PAGE).await?;
            readable.extend(
                page.iter()
                    .filter(|plan| who.may_read_plan(&plan.issuer, &plan.source_report))
                    .map(plan_id),
            );
            if page.len() < PLANS_PER_PAGE as usize {
                return Ok(Readable::Only(readable));
            }
            after = page.last().map(plan_id);
        }
    }
}

const PLAN_FILTERS: &[&str] = &["year", "level", "source_document", "title"];
const OBSERVATION_FILTERS: &[&str] = &["year", "verdict", "source"];
const TASK_FILTERS: &[&str] = &[
    "category",
    "status",
    "number",
    "year",
    "has_indicator",
    "has_warning",
    "text",
    "section",
];

fn plan_id(plan: &Plan) -> i64 {
    names::parse("name", &plan.name, "plans").unwrap_or(0)
}

fn task_id(task: &Task) -> i64 {
    names::parse_task("name", &task.name)
        .map(|(_, t)| t)
        .unwrap_or(0)
}

#[tonic::async_trait]
impl TargetsService for Targets {
    #[tracing::instrument(skip_all, fields(tasks = request.get_ref().tasks.len()))]
    async fn create_plan(
        &self,
        request: Request<CreatePlanRequest>,
    ) -> Result<Response<Plan>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        domain::validate_create_plan(&req)?;
        // A government's admin creates only its own government's plans (the issuer says whose
        // a plan is), as ingest accepts only its own government's documents.
        if let (Some(who), Some(plan)) = (&who, &req.plan)
            && !who.may_change_plan(&plan.issuer)
        {
            return Err(auth::denied(format!(
                "plan.issuer {} is not of {}: a {} of {} creates only plans its own government \
                 issues (e.g. {}人民政府办公室)",
                duban_proto::quote(&plan.issuer),
                who.government,
                who.role,
                who.government,
                who.government
            )));
        }
        Ok(Response::new(self.store.create_plan(&req).await?))
    }

    async fn get_plan(&self, request: Request<GetPlanRequest>) -> Result<Response<Plan>, Status> {
        let id = names::parse("name", &request.get_ref().name, "plans")?;
        let plan = self.store.get_plan(id).await?;
        if let Some(who) = auth::caller(&request) {
            check_plan(who, &plan, false)?;
        }
        Ok(Response::new(plan))
    }

    async fn list_plans(
        &self,
        request: Request<ListPlansRequest>,
    ) -> Result<Response<ListPlansResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, PLAN_FILTERS)?;
        let mut plans = self.store.list_plans(&terms, after, limit).await?;
        let next_page_token = list::next_token(&plans, limit, &req.filter, plan_id);
        // Other governments' plans are left out; a page may come back short.
        if let Some(who) = &who {
            plans.retain(|plan| who.may_read_plan(&plan.issuer, &plan.source_report));
        }
        Ok(Response::new(ListPlansResponse {
            plans,
            next_page_token,
        }))
    }

    async fn get_task(&self, request: Request<GetTaskRequest>) -> Result<Response<Task>, Status> {
        let (plan, task) = names::parse_task("name", &request.get_ref().name)?;
        // The task cache answers without the database: the plan is read only where a
        // government limits the caller (a missing plan is its task's NOT_FOUND either way).
        let who = auth::caller(&request).filter(|who| !who.reads_everything());
        if who.is_some() {
            self.scope(who, plan, false).await?;
        }
        Ok(Response::new(self.store.get_task(plan, task).await?))
    }

    async fn list_tasks(
        &self,
        request: Request<ListTasksRequest>,
    ) -> Result<Response<ListTasksResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let plan = match req.parent.as_str() {
            "plans/-" | "" => None,
            parent => Some(names::parse("parent", parent, "plans")?),
        };
        if let Some(plan) = plan {
            self.scope(who.as_ref(), plan, false).await?;
        }
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, TASK_FILTERS)?;
        let mut tasks = self.store.list_tasks(plan, &terms, after, limit).await?;
        let next_page_token = list::next_token(&tasks, limit, &req.filter, task_id);
        if plan.is_none() {
            let readable = self.readable(who.as_ref()).await?;
            tasks.retain(|task| readable.contains(&task.name));
        }
        Ok(Response::new(ListTasksResponse {
            tasks,
            next_page_token,
        }))
    }

    async fn update_task(
        &self,
        request: Request<UpdateTaskRequest>,
    ) -> Result<Response<Task>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let edit = domain::validate_update(&req)?;
        let name = req
            .task
            .as_ref()
            .map(|t| t.name.as_str())
            .unwrap_or_default();
        let (plan, task) = names::parse_task("task.name", name)?;
        self.scope(who.as_ref(), plan, true).await?;
        let print = idempotency::fingerprint(&req);
        Ok(Response::new(
            self.store
                .update_task(plan, task, &edit, &req.request_id, &print)
                .await?,
        ))
    }

    async fn create_observation(
        &self,
        request: Request<CreateObservationRequest>,
    ) -> Result<Response<Observation>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let indicator = names::parse_indicator("parent", &req.parent)?;
        domain::validate_observation(&req)?;
        // An observation belongs to the plan of its indicator: only that government records it.
        self.scope(who.as_ref(), indicator.0, true).await?;
        Ok(Response::new(
            self.store.create_observation(indicator, &req).await?,
        ))
    }

    async fn list_observations(
        &self,
        request: Request<ListObservationsRequest>,
    ) -> Result<Response<ListObservationsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let indicator = match req.parent.as_str() {
            "" | "plans/-/tasks/-/indicators/-" => None,
            parent => {
                let (plan, _, indicator) = names::parse_indicator("parent", parent)?;
                self.scope(who.as_ref(), plan, false).await?;
                Some(indicator)
            }
        };
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, OBSERVATION_FILTERS)?;
        let mut observations = self
            .store
            .list_observations(indicator, &terms, after, limit)
            .await?;
        let next_page_token = list::next_token(&observations, limit, &req.filter, |o| {
            o.name
                .rsplit('/')
                .next()
                .and_then(|id| id.parse().ok())
                .unwrap_or(0)
        });
        // Other governments' observations are left out; a page may come back short.
        let readable = self.readable(who.as_ref()).await?;
        observations.retain(|observation| readable.contains(&observation.name));
        Ok(Response::new(ListObservationsResponse {
            observations,
            next_page_token,
        }))
    }

    async fn get_indicator_lineage(
        &self,
        request: Request<GetIndicatorLineageRequest>,
    ) -> Result<Response<IndicatorLineage>, Status> {
        let who = auth::caller(&request);
        let name = &request.get_ref().name;
        let (plan, task, indicator) = if name.contains("/indicators/") {
            let (p, t, i) = names::parse_indicator("name", name)?;
            (p, t, Some(i))
        } else {
            let (p, t) = names::parse_task("name", name)?;
            (p, t, None)
        };
        self.scope(who, plan, false).await?;
        let mut lineage = self.store.lineage(plan, task, indicator).await?;
        // Levels the caller may not read are left out. The `weaker` marks stay as computed on
        // the whole family: they say how the caller's own targets compare with the level above,
        // whose report the caller carries out anyway.
        let readable = self.readable(who).await?;
        lineage
            .entries
            .retain(|entry| readable.contains(&entry.plan));
        Ok(Response::new(lineage))
    }

    async fn list_weaker_indicators(
        &self,
        request: Request<ListWeakerIndicatorsRequest>,
    ) -> Result<Response<ListWeakerIndicatorsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        domain::validate_year("year", req.year)?;
        if !req.level.is_empty() {
            list::one_of("level", "level", &req.level, LEVELS)?;
        }
        let mut indicators = self.store.weaker(req.year, &req.level).await?;
        // A pair shows both levels' targets, so the caller must be able to read both plans.
        let readable = self.readable(who.as_ref()).await?;
        indicators.retain(|pair| {
            [&pair.lower, &pair.upper]
                .into_iter()
                .all(|entry| entry.as_ref().is_some_and(|e| readable.contains(&e.plan)))
        });
        Ok(Response::new(ListWeakerIndicatorsResponse { indicators }))
    }

    async fn get_scorecard(
        &self,
        request: Request<GetScorecardRequest>,
    ) -> Result<Response<Scorecard>, Status> {
        let year = request.get_ref().year;
        domain::validate_year("year", year)?;
        let readable = self.readable(auth::caller(&request)).await?;
        Ok(Response::new(
            self.store
                .scorecard(year, |plan| readable.plan(plan))
                .await?,
        ))
    }
}
