//! gRPC handlers: validate, gather from the store and the peers, apply the domain rules, map
//! errors. No SQL here.

use std::{sync::Arc, time::Duration};

use duban_db::idempotency;
use duban_kit::{
    auth::{self, Identity},
    calendar::today_in_china,
    list, names,
    plans::{Access, Plans},
};
use duban_proto::{
    ApiError, FieldViolation,
    v1::{
        AcceptReportRequest, AggregateGroup, Aggregates, Assignment, Bulletin, BulletinFormat,
        CreateEvidenceRequest, CreateExtensionRequest, CreateReportRequest, DecideExtensionRequest,
        Event, Evidence, Extension, GetAggregatesRequest, GetBulletinRequest, GetEvidenceRequest,
        GetReportRequest, GetSupervisionSettingsRequest, ListExtensionsRequest,
        ListExtensionsResponse, ListLightsRequest, ListLightsResponse, ListOverdueItemsRequest,
        ListOverdueItemsResponse, ListReportVersionsRequest, ListReportVersionsResponse,
        ListReportsRequest, ListReportsResponse, Report, ReturnReportRequest, SignReportRequest,
        SubmitReportRequest, SubscribeEventsRequest, SupervisionSettings, UpdateReportRequest,
        UpdateSupervisionSettingsRequest, reporting_service_server::ReportingService,
    },
};
use sha2::{Digest, Sha256};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::{
    bulletin,
    domain::{self, Due, Snapshot},
    peers::Peers,
    store::{Change, Store},
};

#[derive(Clone)]
pub struct Reporting {
    store: Store,
    peers: Peers,
    plans: Arc<Plans>,
    shutdown: CancellationToken,
}

/// Whose a report (or what it is drafted on) is: the unit answering for it and its task.
struct Whose<'a> {
    unit: &'a str,
    unit_display_name: &'a str,
    task: &'a str,
}

impl<'a> From<&'a Report> for Whose<'a> {
    fn from(r: &'a Report) -> Self {
        Self {
            unit: &r.unit,
            unit_display_name: &r.unit_display_name,
            task: &r.task,
        }
    }
}

impl<'a> From<&'a Assignment> for Whose<'a> {
    fn from(a: &'a Assignment) -> Self {
        Self {
            unit: &a.unit,
            unit_display_name: &a.unit_display_name,
            task: &a.task,
        }
    }
}

impl Reporting {
    pub fn new(store: Store, peers: Peers, plans: Plans, shutdown: CancellationToken) -> Self {
        Self {
            store,
            peers,
            plans: Arc::new(plans),
            shutdown,
        }
    }

    /// Per-resource checks behind the policy layer: a reporter or unit head acts only on its own
    /// unit's `resource`, and every caller only on plans of its scope (`access`: a city's
    /// supervisor reads its districts' decompositions but changes only its own government's
    /// plans). Open deployments (no caller identity) pass.
    async fn check_access(
        &self,
        who: Option<&Identity>,
        resource: &str,
        whose: Whose<'_>,
        access: Access,
    ) -> Result<(), Status> {
        let Some(who) = who else {
            return Ok(());
        };
        if !who.acts_for_unit([whose.unit, whose.unit_display_name].into_iter()) {
            return Err(auth::denied(format!(
                "{} acts for {}, not for {} ({})",
                who.role.as_str(),
                who.unit,
                whose.unit_display_name,
                whose.unit
            )));
        }
        self.check_plan_of(who, resource, whose.task, access).await
    }

    /// PERMISSION_DENIED unless `who` may `access` the plan `name` (a plan or something under
    /// it) belongs to, naming `resource`.
    async fn check_plan_of(
        &self,
        who: &Identity,
        resource: &str,
        name: &str,
        access: Access,
    ) -> Result<(), Status> {
        match names::plan_of(name) {
            Some(plan) => self.plans.check(Some(who), plan, resource, access).await,
            // Rows stored before reports and extensions recorded their plan belong to none, so
            // no government's callers reach them.
            None if who.reads_everything() => Ok(()),
            None => Err(auth::denied(format!(
                "{resource} records no plan; only callers without a government may reach it"
            ))),
        }
    }

    async fn check_report(
        &self,
        who: Option<&Identity>,
        name: &str,
        access: Access,
    ) -> Result<(), Status> {
        if who.is_none() {
            return Ok(());
        }
        let id = names::parse("name", name, "reports")?;
        let report = self.store.get_report(id).await?;
        self.check_access(who, name, Whose::from(&report), access)
            .await
    }

    /// The plan `parent` ("plans/{plan}") names, once `who` may `access` it.
    async fn scoped_plan(
        &self,
        who: Option<&Identity>,
        field: &str,
        parent: &str,
        access: Access,
    ) -> Result<String, Status> {
        let plan = names::parse(field, parent, "plans")?;
        self.plans.check_plan(who, plan, access).await?;
        Ok(names::plan(plan))
    }

    /// The plans `parent` names: one ("plans/{plan}", once `who` may read it), or with
    /// "plans/-" every plan `who` may read.
    async fn plans_under(
        &self,
        who: Option<&Identity>,
        parent: &str,
    ) -> Result<Vec<String>, Status> {
        if parent == "plans/-" {
            return self.plans.readable_names(who).await;
        }
        Ok(vec![
            self.scoped_plan(who, "parent", parent, Access::Read)
                .await?,
        ])
    }

    /// The plan `parent` names, for a view of one plan's period: "plans/-" is refused with the
    /// reason, since periods and schedules are a plan's own.
    async fn one_plan(&self, who: Option<&Identity>, parent: &str) -> Result<String, Status> {
        if parent == "plans/-" {
            return Err(ApiError::invalid(
                "parent",
                "name one plan, e.g. plans/5: lights, aggregates and bulletins are of one plan's \
                 period (plans/- lists overdue items and tasks across plans)",
            )
            .into());
        }
        self.scoped_plan(who, "parent", parent, Access::Read).await
    }

    /// The plan's snapshot for a view of `period`, which must be one of the plan's reporting
    /// periods (checked against a fresh schedule before refusing, as it may have just changed).
    async fn snapshot_of_period(
        &self,
        plan: &str,
        period: &str,
    ) -> Result<(Snapshot, duban_proto::v1::Plan), ApiError> {
        let (mut snapshot, info) = self.snapshot(plan).await?;
        if domain::check_scheduled("period", &snapshot, period).is_err() {
            snapshot.schedule = Vec::clone(&*self.peers.fresh_schedule(plan).await?);
            domain::check_scheduled("period", &snapshot, period)?;
        }
        Ok((snapshot, info))
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn plans(&self) -> &Plans {
        &self.plans
    }

    /// Everything the supervision rules need about one plan.
    pub(crate) async fn snapshot(
        &self,
        plan: &str,
    ) -> Result<(Snapshot, duban_proto::v1::Plan), ApiError> {
        let (info, tasks, duties, schedule, reports, settings) = tokio::try_join!(
            self.peers.plan(plan),
            self.peers.tasks(plan),
            self.peers.duties(plan),
            self.peers.schedule(plan),
            self.store.reports_of_plan(plan),
            self.store.settings(plan),
        )?;
        let assignments: Vec<String> = duties.iter().map(|d| d.assignment.clone()).collect();
        let extensions = self.store.approved_extensions(&assignments).await?;
        Ok((
            Snapshot {
                plan: plan.to_string(),
                year: info.year,
                tasks,
                duties,
                schedule: Vec::clone(&schedule),
                reports,
                extensions,
                settings,
            },
            info,
        ))
    }

    async fn step(
        &self,
        method: &str,
        request_id: &str,
        print: &[u8],
        name: &str,
        change: Change<'_>,
    ) -> Result<Response<Report>, Status> {
        let id = names::parse("name", name, "reports")?;
        Ok(Response::new(
            self.store
                .step(method, request_id, print, id, change)
                .await?,
        ))
    }
}

/// One page of a computed list; the token carries the position and is bound to `key`.
fn page<T>(
    items: Vec<T>,
    page_size: i32,
    token: &str,
    key: &str,
) -> Result<(Vec<T>, String), ApiError> {
    let limit = usize::try_from(list::page_size(page_size)?).unwrap_or(usize::MAX);
    let start = usize::try_from(list::page_start(token, key)?.unwrap_or(0)).unwrap_or(0);
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    let next = if end < total {
        list::next_page_token(i64::try_from(end).unwrap_or(i64::MAX), key)
    } else {
        String::new()
    };
    Ok((page, next))
}

fn required_period(field: &str, period: &str) -> Result<(), ApiError> {
    if period.is_empty() {
        return Err(ApiError::invalid(field, "is required, e.g. 2025Q2"));
    }
    domain::check_period(field, period)
}

const REPORT_FILTERS: &[&str] = &[
    "assignment",
    "period",
    "state",
    "status",
    "task",
    "unit",
    "role",
    "plan",
];
const EXTENSION_FILTERS: &[&str] = &["assignment", "period", "state"];

#[tonic::async_trait]
impl ReportingService for Reporting {
    #[tracing::instrument(skip_all)]
    async fn create_report(
        &self,
        request: Request<CreateReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        domain::validate_create(&req)?;
        let mut report = req.report.clone().unwrap_or_default();
        let assignment = self.peers.assignment(&report.assignment).await?;
        self.check_access(
            who.as_ref(),
            &report.assignment,
            Whose::from(&assignment),
            Access::Change,
        )
        .await?;
        report.task = assignment.task;
        report.unit = assignment.unit;
        report.unit_display_name = assignment.unit_display_name;
        report.role = assignment.role;
        let plan = report.task.split("/tasks/").next().unwrap_or_default();
        let reports_on = |schedule: &[Due]| {
            schedule.is_empty() || schedule.iter().any(|d| d.period == report.period)
        };
        let mut schedule = self.peers.schedule(plan).await?;
        if !reports_on(&schedule) {
            // The period may have been added a moment ago; refuse only on the schedule as it
            // is now.
            schedule = self.peers.fresh_schedule(plan).await?;
        }
        if !reports_on(&schedule) {
            let periods: Vec<&str> = schedule.iter().map(|d| d.period.as_str()).collect();
            return Err(ApiError::invalid(
                "report.period",
                format!("{plan} reports on {}", periods.join(", ")),
            )
            .into());
        }
        domain::check_figures_belong(&report)?;
        let (id, previous) = self
            .store
            .prepare_report(&report.assignment, &report.period)
            .await?;
        if let Some(previous) = previous {
            domain::carry_over(&mut report, &previous);
        }
        let print = idempotency::fingerprint(&req);
        Ok(Response::new(
            self.store
                .create_report(id, &req.request_id, &print, &report)
                .await?,
        ))
    }

    async fn get_report(
        &self,
        request: Request<GetReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let id = names::parse("name", &request.get_ref().name, "reports")?;
        let report = self.store.get_report(id).await?;
        self.check_access(
            auth::caller(&request),
            &report.name,
            Whose::from(&report),
            Access::Read,
        )
        .await?;
        Ok(Response::new(report))
    }

    async fn list_reports(
        &self,
        request: Request<ListReportsRequest>,
    ) -> Result<Response<ListReportsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, REPORT_FILTERS)?;
        // A unit's own reports are few among a province's: the query itself keeps only those,
        // so its pages stay full.
        let unit = who.as_ref().and_then(Identity::own_unit);
        let mut reports = self.store.list_reports(&terms, unit, after, limit).await?;
        let next_page_token = list::next_token(&reports, limit, &req.filter, |r| {
            names::parse("name", &r.name, "reports").unwrap_or(0)
        });
        // Other governments' reports are left out; a page may come back short.
        self.plans
            .keep_readable(who.as_ref(), &mut reports, |r| &r.task)
            .await?;
        Ok(Response::new(ListReportsResponse {
            reports,
            next_page_token,
        }))
    }

    async fn update_report(
        &self,
        request: Request<UpdateReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        self.check_report(
            who.as_ref(),
            req.report
                .as_ref()
                .map(|r| r.name.as_str())
                .unwrap_or_default(),
            Access::Change,
        )
        .await?;
        let (_, paths) = domain::validate_update(&req)?;
        let patch = req.report.clone().unwrap_or_default();
        let print = idempotency::fingerprint(&req);
        self.step(
            "UpdateReport",
            &req.request_id,
            &print,
            &patch.name,
            Change::Update {
                patch: &patch,
                paths: &paths,
            },
        )
        .await
    }

    async fn sign_report(
        &self,
        request: Request<SignReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        self.check_report(who.as_ref(), &req.name, Access::Change)
            .await?;
        domain::check_actor("signer", req.signer.as_ref(), true)?;
        let signer = req.signer.clone().unwrap_or_default();
        // The typed name and post are words; the credential is who signed.
        let signed_by = who
            .as_ref()
            .map(|who| format!("{} ({})", who.actor(), who.role))
            .unwrap_or_default();
        let print = idempotency::fingerprint(&req);
        self.step(
            "SignReport",
            &req.request_id,
            &print,
            &req.name,
            Change::Sign {
                signer: &signer,
                signed_by: &signed_by,
            },
        )
        .await
    }

    async fn submit_report(
        &self,
        request: Request<SubmitReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        self.check_report(who.as_ref(), &req.name, Access::Change)
            .await?;
        domain::check_actor("submitter", req.submitter.as_ref(), false)?;
        let date = domain::as_of("as_of", &req.as_of, today_in_china())?;
        let submitter = req.submitter.clone().unwrap_or_default();
        let print = idempotency::fingerprint(&req);
        self.step(
            "SubmitReport",
            &req.request_id,
            &print,
            &req.name,
            Change::Submit {
                submitter: &submitter,
                date,
            },
        )
        .await
    }

    async fn accept_report(
        &self,
        request: Request<AcceptReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        self.check_report(who.as_ref(), &req.name, Access::Change)
            .await?;
        domain::check_actor("reviewer", req.reviewer.as_ref(), false)?;
        let reviewer = req.reviewer.clone().unwrap_or_default();
        let print = idempotency::fingerprint(&req);
        self.step(
            "AcceptReport",
            &req.request_id,
            &print,
            &req.name,
            Change::Accept {
                reviewer: &reviewer,
            },
        )
        .await
    }

    async fn return_report(
        &self,
        request: Request<ReturnReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        self.check_report(who.as_ref(), &req.name, Access::Change)
            .await?;
        domain::check_actor("reviewer", req.reviewer.as_ref(), false)?;
        if req.reason.trim().is_empty() {
            return Err(ApiError::invalid("reason", "is required: say what must change").into());
        }
        let reviewer = req.reviewer.clone().unwrap_or_default();
        let print = idempotency::fingerprint(&req);
        self.step(
            "ReturnReport",
            &req.request_id,
            &print,
            &req.name,
            Change::Return {
                reviewer: &reviewer,
                reason: &req.reason,
            },
        )
        .await
    }

    async fn list_report_versions(
        &self,
        request: Request<ListReportVersionsRequest>,
    ) -> Result<Response<ListReportVersionsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let id = names::parse("parent", &req.parent, "reports")?;
        self.check_report(who.as_ref(), &req.parent, Access::Read)
            .await?;
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.parent)?;
        let versions = self.store.list_versions(id, after, limit).await?;
        let next_page_token =
            list::next_token(&versions, limit, &req.parent, |v| i64::from(v.version));
        Ok(Response::new(ListReportVersionsResponse {
            versions,
            next_page_token,
        }))
    }

    async fn create_evidence(
        &self,
        request: Request<CreateEvidenceRequest>,
    ) -> Result<Response<Evidence>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let report = names::parse("parent", &req.parent, "reports")?;
        self.check_report(who.as_ref(), &req.parent, Access::Change)
            .await?;
        let mut evidence = req.evidence.clone().unwrap_or_default();
        let mut bad = Vec::new();
        if evidence.filename.trim().is_empty() {
            bad.push(FieldViolation::new("evidence.filename", "is required"));
        }
        if evidence.content.is_empty() {
            bad.push(FieldViolation::new("evidence.content", "is required"));
        }
        if evidence.content.len() > domain::MAX_EVIDENCE_BYTES {
            bad.push(FieldViolation::new(
                "evidence.content",
                format!(
                    "is {} bytes; a file may have at most {} bytes (10 MiB)",
                    evidence.content.len(),
                    domain::MAX_EVIDENCE_BYTES
                ),
            ));
        }
        if !bad.is_empty() {
            return Err(ApiError::InvalidArgument(bad).into());
        }
        if evidence.media_type.is_empty() {
            evidence.media_type = "application/octet-stream".into();
        }
        let sha256 = hex::encode(Sha256::digest(&evidence.content));
        let print = idempotency::fingerprint(&req);
        Ok(Response::new(
            self.store
                .create_evidence(&req.request_id, &print, report, &evidence, &sha256)
                .await?,
        ))
    }

    async fn get_evidence(
        &self,
        request: Request<GetEvidenceRequest>,
    ) -> Result<Response<Evidence>, Status> {
        let name = &request.get_ref().name;
        let Some((report_name, evidence)) = name.rsplit_once("/evidence/") else {
            return Err(ApiError::invalid(
                "name",
                "expected \"reports/{report}/evidence/{evidence}\"",
            )
            .into());
        };
        let report = names::parse("name", report_name, "reports")?;
        let id = names::parse("name", &format!("evidence/{evidence}"), "evidence")?;
        self.check_report(auth::caller(&request), report_name, Access::Read)
            .await?;
        Ok(Response::new(self.store.get_evidence(report, id).await?))
    }

    async fn create_extension(
        &self,
        request: Request<CreateExtensionRequest>,
    ) -> Result<Response<Extension>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let e = req.extension.clone().unwrap_or_default();
        let mut bad = Vec::new();
        for result in [
            names::parse("extension.assignment", &e.assignment, "assignments").map(|_| ()),
            required_period("extension.period", &e.period),
            domain::parse_date("extension.requested_due_date", &e.requested_due_date).map(|_| ()),
        ] {
            if let Err(ApiError::InvalidArgument(v)) = result {
                bad.extend(v);
            }
        }
        if e.reason.trim().is_empty() {
            bad.push(FieldViolation::new("extension.reason", "is required"));
        }
        if !bad.is_empty() {
            return Err(ApiError::InvalidArgument(bad).into());
        }
        let due = domain::parse_date("extension.requested_due_date", &e.requested_due_date)?;
        let assignment = self.peers.assignment(&e.assignment).await?;
        self.check_access(
            who.as_ref(),
            &e.assignment,
            Whose::from(&assignment),
            Access::Change,
        )
        .await?;
        let print = idempotency::fingerprint(&req);
        Ok(Response::new(
            self.store
                .create_extension(&req.request_id, &print, &e, due, &assignment)
                .await?,
        ))
    }

    async fn decide_extension(
        &self,
        request: Request<DecideExtensionRequest>,
    ) -> Result<Response<Extension>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let id = names::parse("name", &req.name, "extensions")?;
        if let Some(who) = &who {
            let plan = self.store.extension_plan(id).await?;
            self.check_plan_of(who, &req.name, &plan, Access::Change)
                .await?;
        }
        domain::check_actor("decider", req.decider.as_ref(), false)?;
        let decider = req.decider.clone().unwrap_or_default();
        let print = idempotency::fingerprint(&req);
        Ok(Response::new(
            self.store
                .decide_extension(
                    &req.request_id,
                    &print,
                    id,
                    req.approve,
                    &decider,
                    &req.reason,
                )
                .await?,
        ))
    }

    async fn list_extensions(
        &self,
        request: Request<ListExtensionsRequest>,
    ) -> Result<Response<ListExtensionsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let limit = list::page_size(req.page_size)?;
        let after = list::page_start(&req.page_token, &req.filter)?;
        let terms = list::parse_filter(&req.filter, EXTENSION_FILTERS)?;
        let unit = who.as_ref().and_then(Identity::own_unit);
        let mut extensions = self
            .store
            .list_extensions(&terms, unit, after, limit)
            .await?;
        let next_page_token = list::next_token(&extensions, limit, &req.filter, |e| {
            names::parse("name", &e.extension.name, "extensions").unwrap_or(0)
        });
        // As with reports: a unit's own in the query, other governments' left out after it.
        self.plans
            .keep_readable(who.as_ref(), &mut extensions, |e| &e.plan)
            .await?;
        Ok(Response::new(ListExtensionsResponse {
            extensions: extensions.into_iter().map(|e| e.extension).collect(),
            next_page_token,
        }))
    }

    async fn get_supervision_settings(
        &self,
        request: Request<GetSupervisionSettingsRequest>,
    ) -> Result<Response<SupervisionSettings>, Status> {
        let name = &request.get_ref().name;
        let plan = self
            .scoped_plan(
                auth::caller(&request),
                "name",
                settings_plan("name", name)?,
                Access::Read,
            )
            .await?;
        let s = self.store.settings(&plan).await?;
        Ok(Response::new(SupervisionSettings {
            name: name.clone(),
            red_after_overdue_days: s.red_after_overdue_days,
            red_after_behind_periods: s.red_after_behind_periods,
            pace_tolerance_percent: s.pace_tolerance_percent,
        }))
    }

    async fn update_supervision_settings(
        &self,
        request: Request<UpdateSupervisionSettingsRequest>,
    ) -> Result<Response<SupervisionSettings>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let s = req.settings.clone().unwrap_or_default();
        let plan = self
            .scoped_plan(
                who.as_ref(),
                "settings.name",
                settings_plan("settings.name", &s.name)?,
                Access::Change,
            )
            .await?;
        let mut bad = Vec::new();
        if s.red_after_overdue_days < 0 {
            bad.push(FieldViolation::new(
                "settings.red_after_overdue_days",
                "must not be negative",
            ));
        }
        if s.red_after_behind_periods < 1 {
            bad.push(FieldViolation::new(
                "settings.red_after_behind_periods",
                "must be at least 1",
            ));
        }
        if !(0..=100).contains(&s.pace_tolerance_percent) {
            bad.push(FieldViolation::new(
                "settings.pace_tolerance_percent",
                "must be between 0 and 100",
            ));
        }
        if !bad.is_empty() {
            return Err(ApiError::InvalidArgument(bad).into());
        }
        let print = idempotency::fingerprint(&req);
        Ok(Response::new(
            self.store
                .update_settings(&req.request_id, &print, &plan, &s)
                .await?,
        ))
    }

    async fn list_overdue_items(
        &self,
        request: Request<ListOverdueItemsRequest>,
    ) -> Result<Response<ListOverdueItemsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let plans = self.plans_under(who.as_ref(), &req.parent).await?;
        let as_of = domain::as_of("as_of", &req.as_of, today_in_china())?;
        let mut items = Vec::new();
        for plan in &plans {
            let (snapshot, _) = self.snapshot(plan).await?;
            let overdue = domain::overdue(&snapshot, as_of);
            self.store.observe(plan, as_of, None, &overdue).await?;
            items.extend(overdue);
        }
        let (items, next_page_token) = page(
            items,
            req.page_size,
            &req.page_token,
            &format!("{}@{as_of}", req.parent),
        )?;
        Ok(Response::new(ListOverdueItemsResponse {
            items,
            next_page_token,
        }))
    }

    async fn list_lights(
        &self,
        request: Request<ListLightsRequest>,
    ) -> Result<Response<ListLightsResponse>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let plan = self.one_plan(who.as_ref(), &req.parent).await?;
        required_period("period", &req.period)?;
        let as_of = domain::as_of("as_of", &req.as_of, today_in_china())?;
        let (snapshot, _) = self.snapshot_of_period(&plan, &req.period).await?;
        let lights = domain::lights(&snapshot, &req.period, as_of);
        let overdue = domain::overdue(&snapshot, as_of);
        self.store
            .observe(&plan, as_of, Some((&req.period, &lights)), &overdue)
            .await?;
        let (lights, next_page_token) = page(
            lights,
            req.page_size,
            &req.page_token,
            &format!("{plan}@{}@{as_of}", req.period),
        )?;
        Ok(Response::new(ListLightsResponse {
            lights,
            next_page_token,
        }))
    }

    async fn get_aggregates(
        &self,
        request: Request<GetAggregatesRequest>,
    ) -> Result<Response<Aggregates>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let plan = self.one_plan(who.as_ref(), &req.parent).await?;
        required_period("period", &req.period)?;
        let as_of = domain::as_of("as_of", &req.as_of, today_in_china())?;
        let group = AggregateGroup::try_from(req.group_by)
            .map_err(|_| ApiError::invalid("group_by", "unknown grouping"))?;
        let (snapshot, _) = self.snapshot_of_period(&plan, &req.period).await?;
        Ok(Response::new(Aggregates {
            rows: domain::aggregates(&snapshot, &req.period, group, as_of),
        }))
    }

    async fn get_bulletin(
        &self,
        request: Request<GetBulletinRequest>,
    ) -> Result<Response<Bulletin>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        let plan = self.one_plan(who.as_ref(), &req.parent).await?;
        required_period("period", &req.period)?;
        let as_of = domain::as_of("as_of", &req.as_of, today_in_china())?;
        let format = BulletinFormat::try_from(req.format)
            .ok()
            .filter(|f| *f != BulletinFormat::Unspecified)
            .ok_or_else(|| ApiError::invalid("format", "must be MARKDOWN, HTML or DOCX"))?;
        let (snapshot, info) = self.snapshot_of_period(&plan, &req.period).await?;
        let issuer = if info.issuer.is_empty() {
            "督查室".to_string()
        } else {
            format!("{}督查室", info.issuer.trim_end_matches("办公室"))
        };
        let doc = bulletin::compose(
            &snapshot,
            &bulletin::Heading {
                plan_title: &info.title,
                issuer: &issuer,
            },
            &req.period,
            as_of,
        );
        let (media_type, content) = match format {
            BulletinFormat::Markdown => (
                "text/markdown; charset=utf-8",
                bulletin::markdown(&doc).into_bytes(),
            ),
            BulletinFormat::Html => (
                "text/html; charset=utf-8",
                bulletin::html(&doc).into_bytes(),
            ),
            BulletinFormat::Docx | BulletinFormat::Unspecified => {
                (bulletin::DOCX_MEDIA_TYPE, bulletin::docx(&doc)?)
            }
        };
        Ok(Response::new(Bulletin {
            title: doc.title,
            media_type: media_type.to_string(),
            content,
        }))
    }

    type SubscribeEventsStream = ReceiverStream<Result<Event, Status>>;

    async fn subscribe_events(
        &self,
        request: Request<SubscribeEventsRequest>,
    ) -> Result<Response<Self::SubscribeEventsStream>, Status> {
        let who = auth::caller(&request).cloned();
        let req = request.into_inner();
        if req.after < 0 {
            return Err(ApiError::invalid("after", "must not be negative").into());
        }
        let plan = if req.plan.is_empty() {
            String::new()
        } else {
            self.scoped_plan(who.as_ref(), "plan", &req.plan, Access::Read)
                .await?
        };
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let store = self.store.clone();
        let plans = Arc::clone(&self.plans);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let mut after = req.after;
            loop {
                // Registered before reading, so an event committed in between still wakes us.
                let written = store.events_written.notified();
                match store.events_after(after, &plan, 500).await {
                    Ok(mut events) if !events.is_empty() => {
                        after = events.last().map_or(after, |e| e.position);
                        // Events of plans the caller may not read are passed over, not sent.
                        if let Err(err) = plans
                            .keep_readable(who.as_ref(), &mut events, |e| &e.plan)
                            .await
                        {
                            let _ = tx.send(Err(err)).await;
                            return;
                        }
                        for event in events {
                            if tx.send(Ok(event)).await.is_err() {
                                return;
                            }
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(err) => {
                        let _ = tx.send(Err(err.into())).await;
                        return;
                    }
                }
                // Other replicas write events too: poll as well as wait for our own.
                tokio::select! {
                    () = written => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = tx.closed() => return,
                    () = shutdown.cancelled() => return,
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// The plan part of "plans/{plan}/supervisionSettings".
fn settings_plan<'a>(field: &str, name: &'a str) -> Result<&'a str, ApiError> {
    name.strip_suffix("/supervisionSettings")
        .ok_or_else(|| ApiError::invalid(field, "expected \"plans/{plan}/supervisionSettings\""))
}
