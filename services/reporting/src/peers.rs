//! What reporting reads from its peers: assignments (who answers for what, the reporting
//! schedule) and targets (the plan, its tasks and their indicators).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use duban_kit::{
    notified::NotifiedCache,
    peer::{self, PeerChannel},
};
use duban_proto::{
    ApiError,
    v1::{
        Assignment, CreateObservationRequest, GetAssignmentRequest, GetPlanRequest,
        GetReportingScheduleRequest, ListAssignmentsRequest, ListTasksRequest, Observation, Plan,
        Quantity, ReportingSchedule, UnitRole,
        assignments_service_client::AssignmentsServiceClient,
        targets_service_client::TargetsServiceClient,
    },
};
use tonic::{Code, Status};

use crate::domain::{Due, Duty, TaskInfo};

#[derive(Clone)]
pub struct Peers {
    targets: TargetsServiceClient<PeerChannel>,
    assignments: AssignmentsServiceClient<PeerChannel>,
    looked_up: Arc<LookupCache>,
    /// The plans whose assignments were read ahead, with the cache's generation then.
    warmed: Arc<Mutex<HashMap<String, u64>>>,
}

/// The assignments service's change feed (its migration 0005): any change to an assignment,
/// a unit or a schedule commits with a notification on this channel.
const ASSIGNMENTS_CHANGED: &str = "duban_assignments_changed";

/// Assignments and plans' reporting schedules as last read from the assignments service, by
/// resource name (`assignments/7`, `plans/3/reportingSchedule`): every report write looks both
/// up, and they change rarely. Forgotten whenever the change feed announces a change, so a
/// change reaches this replica as soon as its notification does.
pub type LookupCache = NotifiedCache<String, LookedUp>;

#[derive(Clone)]
pub enum LookedUp {
    Assignment(Arc<Assignment>),
    Schedule(Arc<Vec<Due>>),
}

/// A cache of at most `capacity` assignments and schedules; 0 turns caching off.
pub fn lookup_cache(capacity: usize) -> LookupCache {
    NotifiedCache::new(ASSIGNMENTS_CHANGED, capacity)
}

/// A peer's refusal as this service reports it: the caller asked for something that does not
/// exist, or a peer is down (retry), or something is wrong on our side.
fn peer_error(peer: &str, resource: &str, status: Status) -> ApiError {
    match status.code() {
        Code::NotFound => ApiError::not_found(resource),
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
            ApiError::unavailable(format!("the {peer} service is unavailable; retry later"))
        }
        code => ApiError::internal(format!("{peer} answered {code:?}: {}", status.message())),
    }
}

impl Peers {
    pub fn new(
        targets: PeerChannel,
        assignments: PeerChannel,
        looked_up: Arc<LookupCache>,
    ) -> Self {
        Self {
            targets: TargetsServiceClient::new(targets),
            assignments: AssignmentsServiceClient::new(assignments),
            looked_up,
            warmed: Arc::default(),
        }
    }

    /// One assignment by name.
    pub async fn assignment(&self, name: &str) -> Result<Assignment, ApiError> {
        duban_kit::names::parse("report.assignment", name, "assignments")?;
        let key = name.to_string();
        if let Some(LookedUp::Assignment(cached)) = self.looked_up.get(&key) {
            return Ok(Assignment::clone(&cached));
        }
        let since = self.looked_up.generation();
        let found = self
            .assignments
            .clone()
            .get_assignment(GetAssignmentRequest { name: key.clone() })
            .await
            .map_err(|s| peer_error("assignments", name, s))?
            .into_inner();
        self.looked_up
            .fill(since, key, LookedUp::Assignment(Arc::new(found.clone())));
        if let Some(plan) = duban_kit::names::plan_of(&found.task) {
            self.warm(&duban_kit::names::plan(plan));
        }
        Ok(found)
    }

    /// Records a reported figure as an observation of its indicator in the targets service.
    pub async fn record_observation(
        &self,
        indicator: &str,
        value: f64,
        as_of: &str,
        report: &str,
        request_id: &str,
    ) -> Result<(), Status> {
        self.targets
            .clone()
            .create_observation(CreateObservationRequest {
                parent: indicator.to_string(),
                observation: Some(Observation {
                    quantity: Some(Quantity {
                        value,
                        ..Default::default()
                    }),
                    as_of: as_of.to_string(),
                    source: report.to_string(),
                    ..Default::default()
                }),
                request_id: request_id.to_string(),
            })
            .await
            .map(|_| ())
    }

    pub async fn plan(&self, plan: &str) -> Result<Plan, ApiError> {
        Ok(self
            .targets
            .clone()
            .get_plan(GetPlanRequest {
                name: plan.to_string(),
            })
            .await
            .map_err(|s| peer_error("targets", plan, s))?
            .into_inner())
    }

    /// The plan's reporting periods with their due dates; none when the plan has no schedule.
    pub async fn schedule(&self, plan: &str) -> Result<Arc<Vec<Due>>, ApiError> {
        let name = format!("{plan}/reportingSchedule");
        if let Some(LookedUp::Schedule(cached)) = self.looked_up.get(&name) {
            return Ok(cached);
        }
        self.fresh_schedule(plan).await
    }

    /// [`Peers::schedule`] as the assignments service has it now, for a decision that must not
    /// rest on a change still on its way.
    pub async fn fresh_schedule(&self, plan: &str) -> Result<Arc<Vec<Due>>, ApiError> {
        let name = format!("{plan}/reportingSchedule");
        let since = self.looked_up.generation();
        let found = Arc::new(self.fetch_schedule(&name).await?);
        self.looked_up
            .fill(since, name, LookedUp::Schedule(found.clone()));
        Ok(found)
    }

    async fn fetch_schedule(&self, name: &str) -> Result<Vec<Due>, ApiError> {
        let name = name.to_string();
        let schedule: ReportingSchedule = match self
            .assignments
            .clone()
            .get_reporting_schedule(GetReportingScheduleRequest { name: name.clone() })
            .await
        {
            Ok(s) => s.into_inner(),
            Err(s) if s.code() == Code::NotFound => return Ok(Vec::new()),
            Err(s) => return Err(peer_error("assignments", &name, s)),
        };
        schedule
            .periods
            .iter()
            .map(|p| {
                chrono::NaiveDate::parse_from_str(&p.due_date, "%Y-%m-%d")
                    .map(|due| Due {
                        period: p.period.clone(),
                        due,
                    })
                    .map_err(|_| {
                        ApiError::internal(format!("{name}: due date {:?} unreadable", p.due_date))
                    })
            })
            .collect()
    }

    pub async fn duties(&self, plan: &str) -> Result<Vec<Duty>, ApiError> {
        Ok(self
            .assignments_of(plan)
            .await?
            .into_iter()
            .map(|a| Duty {
                role: UnitRole::try_from(a.role).unwrap_or_default(),
                assignment: a.name,
                task: a.task,
                unit: a.unit,
                unit_display_name: a.unit_display_name,
                level: a.level,
            })
            .collect())
    }

    /// Every assignment of `plan`, kept in the cache as well.
    async fn assignments_of(&self, plan: &str) -> Result<Vec<Assignment>, ApiError> {
        let since = self.looked_up.generation();
        let filter = format!("plan=\"{plan}\"");
        let out = peer::all_pages(|page_token| {
            let mut assignments = self.assignments.clone();
            let filter = filter.clone();
            async move {
                let page = assignments
                    .list_assignments(ListAssignmentsRequest {
                        page_size: 1000,
                        page_token,
                        filter,
                    })
                    .await
                    .map_err(|s| peer_error("assignments", plan, s))?
                    .into_inner();
                Ok::<_, ApiError>((page.assignments, page.next_page_token))
            }
        })
        .await?;
        for a in &out {
            self.looked_up.fill(
                since,
                a.name.clone(),
                LookedUp::Assignment(Arc::new(a.clone())),
            );
        }
        Ok(out)
    }

    /// Reads the rest of `plan`'s assignments into the cache in the background, once per plan
    /// until the cache is next emptied: a plan's units report in the same weeks, so one write's
    /// miss announces its neighbours'.
    fn warm(&self, plan: &str) {
        let generation = self.looked_up.generation();
        {
            let mut warmed = self
                .warmed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if warmed.get(plan) == Some(&generation) {
                return;
            }
            warmed.insert(plan.to_string(), generation);
        }
        let peers = self.clone();
        let plan = plan.to_string();
        tokio::spawn(async move {
            if let Err(err) = peers.assignments_of(&plan).await {
                tracing::debug!(%plan, error = %err, "reading a plan's assignments ahead failed");
            }
        });
    }

    pub async fn tasks(&self, plan: &str) -> Result<Vec<TaskInfo>, ApiError> {
        let tasks = peer::all_pages(|page_token| {
            let mut targets = self.targets.clone();
            async move {
                let page = targets
                    .list_tasks(ListTasksRequest {
                        parent: plan.to_string(),
                        page_size: 1000,
                        page_token,
                        filter: String::new(),
                    })
                    .await
                    .map_err(|s| peer_error("targets", plan, s))?
                    .into_inner();
                Ok::<_, ApiError>((page.tasks, page.next_page_token))
            }
        })
        .await?;
        Ok(tasks
            .into_iter()
            .map(|t| TaskInfo {
                section: t.section_path.first().cloned().unwrap_or_default(),
                indicators: t
                    .indicators
                    .into_iter()
                    .filter_map(|i| i.quantity.map(|q| (i.name, q)))
                    .collect(),
                name: t.name,
                number: t.number,
                text: t.text,
            })
            .collect())
    }
}
