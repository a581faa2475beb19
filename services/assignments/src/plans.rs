//! Whose plans the assignments belong to. The targets service keeps the plans and their issuers;
//! this service asks it (as a service) when a caller with a government reads assignments, ledgers,
//! loads or schedules, and remembers the answers: a plan's issuer and source report never change.

use std::{
    collections::HashMap,
    sync::{PoisonError, RwLock},
};

use duban_kit::{
    auth::{self, Identity},
    names,
    peer::PeerChannel,
};
use duban_proto::v1::{
    GetPlanRequest, ListPlansRequest, Plan, targets_service_client::TargetsServiceClient,
};
use tonic::{Code, Status};

/// What the scope rules need of a plan.
#[derive(Clone)]
struct Owner {
    issuer: String,
    source_report: String,
}

impl From<&Plan> for Owner {
    fn from(plan: &Plan) -> Self {
        Self {
            issuer: plan.issuer.clone(),
            source_report: plan.source_report.clone(),
        }
    }
}

pub struct Plans {
    targets: TargetsServiceClient<PeerChannel>,
    /// None: targets does not know the plan (an assignment made for a task that does not exist).
    known: RwLock<HashMap<i64, Option<Owner>>>,
}

/// The plans a caller may read, as far as it has asked.
pub enum Readable {
    All,
    Only(Vec<i64>),
}

fn unavailable(status: &Status) -> Status {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
            Status::unavailable("the targets service is unavailable; retry later")
        }
        code => Status::internal(format!(
            "targets answered {code:?} when asked whose plan this is: {}",
            status.message()
        )),
    }
}

impl Plans {
    pub fn new(targets: PeerChannel) -> Self {
        Self {
            targets: TargetsServiceClient::new(targets),
            known: RwLock::default(),
        }
    }

    async fn owner(&self, plan: i64) -> Result<Option<Owner>, Status> {
        if let Some(owner) = self
            .known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&plan)
        {
            return Ok(owner.clone());
        }
        let owner = match self
            .targets
            .clone()
            .get_plan(GetPlanRequest {
                name: names::plan(plan),
            })
            .await
        {
            Ok(found) => Some(Owner::from(found.get_ref())),
            Err(status) if status.code() == Code::NotFound => None,
            Err(status) => return Err(unavailable(&status)),
        };
        self.known
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(plan, owner.clone());
        Ok(owner)
    }

    /// Whether `who` may read plan `plan`; open deployments (no caller) read everything.
    pub async fn may_read(&self, who: Option<&Identity>, plan: i64) -> Result<bool, Status> {
        match who {
            None => Ok(true),
            Some(who) if who.reads_everything() => Ok(true),
            Some(who) => Ok(self
                .owner(plan)
                .await?
                .is_some_and(|o| who.may_read_plan(&o.issuer, &o.source_report))),
        }
    }

    /// PERMISSION_DENIED unless `who` may read plan `plan`, naming `resource` (something of
    /// that plan) and why.
    pub async fn check(
        &self,
        who: Option<&Identity>,
        plan: i64,
        resource: &str,
    ) -> Result<(), Status> {
        let Some(who) = who else {
            return Ok(());
        };
        if self.may_read(Some(who), plan).await? {
            return Ok(());
        }
        let owner = self.owner(plan).await?;
        let plan = names::plan(plan);
        let (role, government) = (who.role, &who.government);
        Err(auth::denied(match owner {
            Some(owner) => format!(
                "{resource} belongs to {plan} of {}; a {role} of {government} may not read it",
                auth::government_of_issuer(&owner.issuer)
            ),
            None => format!(
                "{resource} belongs to {plan}, which the targets service does not know; a {role} \
                 of {government} may not read it"
            ),
        }))
    }

    /// The plans `who` may read among every plan targets keeps.
    pub async fn readable(&self, who: Option<&Identity>) -> Result<Readable, Status> {
        let Some(who) = who.filter(|who| !who.reads_everything()) else {
            return Ok(Readable::All);
        };
        let mut readable = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .targets
                .clone()
                .list_plans(ListPlansRequest {
                    page_size: 1000,
                    page_token,
                    filter: String::new(),
                })
                .await
                .map_err(|status| unavailable(&status))?
                .into_inner();
            {
                let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
                for plan in &page.plans {
                    let Ok(id) = names::parse("name", &plan.name, "plans") else {
                        continue;
                    };
                    known.insert(id, Some(Owner::from(plan)));
                    if who.may_read_plan(&plan.issuer, &plan.source_report) {
                        readable.push(id);
                    }
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(Readable::Only(readable));
            }
            page_token = page.next_page_token;
        }
    }
}
