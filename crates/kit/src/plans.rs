//! Whose plans things belong to, for services that know plans only by name. The targets service
//! keeps the plans and their issuers; a service asks it (as a service) when a caller with a
//! government touches something of a plan, and remembers the answer: a plan's issuer and source
//! report never change once it exists. A plan targets does not know is not remembered, since it
//! may be created later.

use std::{
    collections::HashMap,
    sync::{PoisonError, RwLock},
};

use duban_proto::{
    ApiError,
    v1::{
        GetPlanRequest, GetTaskRequest, ListPlansRequest, Plan,
        targets_service_client::TargetsServiceClient,
    },
};
use tonic::{Code, Status};

/// The levels of government a plan or a unit belongs to, from the highest down.
pub const LEVELS: &[&str] = &["国家", "省", "市", "区", "县", "街道", "乡镇"];

use crate::{
    auth::{self, Identity},
    names,
    peer::{self, PeerChannel},
};

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

/// What a call does with a plan's things: a city's supervisor reads its districts'
/// decompositions of the city's report but changes only its own government's plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Change,
}

impl Access {
    fn verb(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Change => "change",
        }
    }

    fn allows(self, who: &Identity, owner: &Owner) -> bool {
        match self {
            Access::Read => who.may_read_plan(&owner.issuer, &owner.source_report),
            Access::Change => who.may_change_plan(&owner.issuer),
        }
    }
}

/// The plans a caller may read, as far as it has asked.
pub enum Readable {
    All,
    Only(Vec<i64>),
}

pub struct Plans {
    targets: TargetsServiceClient<PeerChannel>,
    known: RwLock<HashMap<i64, Owner>>,
}

fn unavailable(status: &Status) -> Status {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
            ApiError::unavailable("the targets service is unavailable; retry later").into()
        }
        code => ApiError::internal(format!(
            "targets answered {code:?} when asked whose plan this is: {}",
            status.message()
        ))
        .into(),
    }
}

/// The caller when a government limits it; None for open deployments (no caller), services and
/// holders without a government, which reach every plan.
fn limited(who: Option<&Identity>) -> Option<&Identity> {
    who.filter(|who| !who.reads_everything())
}

impl Plans {
    pub fn new(targets: PeerChannel) -> Self {
        Self {
            targets: TargetsServiceClient::new(targets),
            known: RwLock::default(),
        }
    }

    /// Issuer and source report of plan `plan`; None when targets does not know it.
    async fn owner(&self, plan: i64) -> Result<Option<Owner>, Status> {
        if let Some(owner) = self
            .known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&plan)
        {
            return Ok(Some(owner.clone()));
        }
        let owner = match self
            .targets
            .clone()
            .get_plan(GetPlanRequest {
                name: names::plan(plan),
            })
            .await
        {
            Ok(found) => Owner::from(found.get_ref()),
            Err(status) if status.code() == Code::NotFound => return Ok(None),
            Err(status) => return Err(unavailable(&status)),
        };
        self.known
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(plan, owner.clone());
        Ok(Some(owner))
    }

    /// PERMISSION_DENIED unless `who` may read (or change) plan `plan`, naming `resource`
    /// (something of that plan) and why.
    pub async fn check(
        &self,
        who: Option<&Identity>,
        plan: i64,
        resource: &str,
        access: Access,
    ) -> Result<(), Status> {
        let Some(who) = limited(who) else {
            return Ok(());
        };
        let owner = self.owner(plan).await?;
        if owner.as_ref().is_some_and(|o| access.allows(who, o)) {
            return Ok(());
        }
        let plan = names::plan(plan);
        let (role, government, verb) = (who.role, &who.government, access.verb());
        Err(auth::denied(match owner {
            Some(owner) => format!(
                "{resource} belongs to {plan} of {}; a {role} of {government} may not {verb} it",
                auth::government_of_issuer(&owner.issuer)
            ),
            None => format!(
                "{resource} belongs to {plan}, which the targets service does not know; a {role} \
                 of {government} may not {verb} it"
            ),
        }))
    }

    /// NOT_FOUND unless targets knows task `task` ("plans/{plan}/tasks/{task}"): what is
    /// stored about a task must not point at nothing.
    pub async fn require_task(&self, task: &str) -> Result<(), Status> {
        match self
            .targets
            .clone()
            .get_task(GetTaskRequest {
                name: task.to_string(),
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => Err(ApiError::not_found(task).into()),
            Err(status) => Err(unavailable(&status)),
        }
    }

    /// NOT_FOUND when targets does not know plan `plan` (whoever asks); PERMISSION_DENIED
    /// unless `who` may read (or change) it, saying why.
    pub async fn check_plan(
        &self,
        who: Option<&Identity>,
        plan: i64,
        access: Access,
    ) -> Result<(), Status> {
        let name = names::plan(plan);
        let Some(owner) = self.owner(plan).await? else {
            return Err(ApiError::not_found(name).into());
        };
        let Some(who) = limited(who) else {
            return Ok(());
        };
        if access.allows(who, &owner) {
            return Ok(());
        }
        Err(auth::denied(format!(
            "{name} belongs to {}; a {} of {} may not {} it",
            auth::government_of_issuer(&owner.issuer),
            who.role,
            who.government,
            access.verb()
        )))
    }

    /// Keeps the items `who` may read: those whose `name` (a plan or anything under
    /// "plans/{plan}/…") belongs to a readable plan. An item of no plan is kept only for callers
    /// nothing limits.
    pub async fn keep_readable<T>(
        &self,
        who: Option<&Identity>,
        items: &mut Vec<T>,
        name: impl Fn(&T) -> &str,
    ) -> Result<(), Status> {
        let Some(who) = limited(who) else {
            return Ok(());
        };
        let mut readable = HashMap::new();
        for item in items.iter() {
            if let Some(plan) = names::plan_of(name(item))
                && !readable.contains_key(&plan)
            {
                let owner = self.owner(plan).await?;
                readable.insert(plan, owner.is_some_and(|o| Access::Read.allows(who, &o)));
            }
        }
        items.retain(|item| {
            names::plan_of(name(item)).is_some_and(|plan| readable.get(&plan) == Some(&true))
        });
        Ok(())
    }

    /// The plans `who` may read among every plan targets keeps.
    pub async fn readable(&self, who: Option<&Identity>) -> Result<Readable, Status> {
        let Some(who) = limited(who) else {
            return Ok(Readable::All);
        };
        Ok(Readable::Only(
            self.all()
                .await?
                .iter()
                .filter(|plan| Access::Read.allows(who, &Owner::from(*plan)))
                .filter_map(|plan| names::parse("name", &plan.name, "plans").ok())
                .collect(),
        ))
    }

    /// The names of the plans `who` may read, in id order: all of them for callers nothing
    /// limits.
    pub async fn readable_names(&self, who: Option<&Identity>) -> Result<Vec<String>, Status> {
        let limit = limited(who);
        Ok(self
            .all()
            .await?
            .into_iter()
            .filter(|plan| limit.is_none_or(|who| Access::Read.allows(who, &Owner::from(plan))))
            .map(|plan| plan.name)
            .collect())
    }

    /// Every plan targets keeps, their owners noted on the way.
    pub async fn all(&self) -> Result<Vec<Plan>, Status> {
        let plans = peer::all_pages(|page_token| {
            let mut targets = self.targets.clone();
            async move {
                let page = targets
                    .list_plans(ListPlansRequest {
                        page_size: 1000,
                        page_token,
                        filter: String::new(),
                    })
                    .await
                    .map_err(|status| unavailable(&status))?
                    .into_inner();
                Ok::<_, Status>((page.plans, page.next_page_token))
            }
        })
        .await?;
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        for plan in &plans {
            if let Ok(id) = names::parse("name", &plan.name, "plans") {
                known.insert(id, Owner::from(plan));
            }
        }
        Ok(plans)
    }
}
