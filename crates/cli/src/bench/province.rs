//! Province-scale data through the public APIs — districts × plans × tasks × quarters of
//! submitted reports — and the latency of the supervision office's queries on it.

use std::{sync::Arc, time::Duration};

use duban_cli::stack::{Service, Stack};
use duban_proto::v1::{
    Actor, AggregateGroup, AssignmentInput, BulletinFormat, CreateAssignmentsRequest,
    CreatePlanRequest, CreateReportRequest, GetAggregatesRequest, GetBulletinRequest,
    ListLedgerRequest, ListLightsRequest, ListTasksRequest, Plan, ProgressStatus, Report,
    ReportingSchedule, SignReportRequest, SubmitReportRequest, Task, UnitRole,
    UpdateReportingScheduleRequest, assignments_service_client::AssignmentsServiceClient,
    reporting_service_client::ReportingServiceClient, targets_service_client::TargetsServiceClient,
};
use tokio::{sync::Semaphore, time::Instant};
use tonic::transport::Channel;

use crate::client::status_error;

#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub districts: usize,
    pub plans: usize,
    pub tasks: usize,
    pub quarters: usize,
}

const LEVELS: [&str; 3] = ["省", "市", "区"];
const UNITS_PER_DISTRICT: usize = 20;

pub struct Generated {
    pub reports: usize,
    pub seconds: f64,
    plan: String,
    unit: String,
}

struct Clients {
    targets: TargetsServiceClient<Channel>,
    assignments: AssignmentsServiceClient<Channel>,
    reporting: ReportingServiceClient<Channel>,
}

async fn clients(stack: &Stack) -> anyhow::Result<Clients> {
    let connect =
        |url: String| async move { anyhow::Ok(Channel::from_shared(url)?.connect().await?) };
    Ok(Clients {
        targets: TargetsServiceClient::new(connect(stack.url(Service::Targets)).await?),
        assignments: AssignmentsServiceClient::new(connect(stack.url(Service::Assignments)).await?),
        reporting: ReportingServiceClient::new(connect(stack.url(Service::Reporting)).await?),
    })
}

fn unit_name(district: usize, unit: usize) -> String {
    format!("第{district}区第{unit}局")
}

/// One district plan: the plan, a quarterly schedule, one lead unit per task, and a signed,
/// submitted report per task and quarter.
async fn district_plan(
    c: &Clients,
    scale: Scale,
    district: usize,
    plan_index: usize,
    concurrency: usize,
) -> anyhow::Result<(String, usize)> {
    let mut targets = c.targets.clone();
    let plan = targets
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: format!(
                    "2025年{}《政府工作报告》目标任务(第{district}区)责任分解方案",
                    LEVELS[plan_index % 3]
                ),
                year: 2025,
                level: LEVELS[plan_index % 3].into(),
                issuer: format!("第{district}区人民政府办公室"),
                ..Default::default()
            }),
            tasks: (0..scale.tasks)
                .map(|t| Task {
                    number: (t + 1).to_string(),
                    section_path: vec![format!("{}、第{}部分", t / 50 + 1, t / 50 + 1)],
                    text: format!("任务{t}:新增市场主体{}户以上", 100 + t),
                    ..Default::default()
                })
                .collect(),
            request_id: format!("bench-d{district}-p{plan_index}"),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    c.assignments
        .clone()
        .update_reporting_schedule(UpdateReportingScheduleRequest {
            schedule: Some(ReportingSchedule {
                name: format!("{}/reportingSchedule", plan.name),
                rule: "每个季度第1个月的10日前报送".into(),
                year: 2025,
                ..Default::default()
            }),
            update_mask: None,
            request_id: String::new(),
            allow_missing: true,
        })
        .await
        .map_err(status_error)?;
    let tasks = targets
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .tasks;
    let limit = Arc::new(Semaphore::new(concurrency));
    let mut jobs = Vec::new();
    for (t, task) in tasks.into_iter().enumerate() {
        let permit = limit.clone().acquire_owned().await?;
        let mut assignments = c.assignments.clone();
        let mut reporting = c.reporting.clone();
        let quarters = scale.quarters;
        jobs.push(tokio::spawn(async move {
            let _permit = permit;
            let created = assignments
                .create_assignments(CreateAssignmentsRequest {
                    task: task.name.clone(),
                    assignments: vec![AssignmentInput {
                        written_name: unit_name(district, t % UNITS_PER_DISTRICT),
                        role: UnitRole::Lead as i32,
                        level: "区级".into(),
                        ..Default::default()
                    }],
                    request_id: format!("bench-{}", task.name),
                })
                .await?
                .into_inner();
            let Some(assignment) = created.assignments.first() else {
                return Ok::<usize, tonic::Status>(0);
            };
            for q in 1..=quarters {
                let status = match (t + q) % 10 {
                    0 => ProgressStatus::Behind,
                    1 => ProgressStatus::Ahead,
                    2 if q == 4 => ProgressStatus::Completed,
                    _ => ProgressStatus::OnPace,
                };
                let report = reporting
                    .create_report(CreateReportRequest {
                        report: Some(Report {
                            assignment: assignment.name.clone(),
                            period: format!("2025Q{q}"),
                            status: status as i32,
                            progress: "按计划推进".into(),
                            problems: if status == ProgressStatus::Behind {
                                "资金未到位".into()
                            } else {
                                String::new()
                            },
                            drafter: "经办人".into(),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await?
                    .into_inner();
                let actor = |role: &str| {
                    Some(Actor {
                        name: "负责人".into(),
                        role: role.into(),
                    })
                };
                reporting
                    .sign_report(SignReportRequest {
                        name: report.name.clone(),
                        signer: actor("局长"),
                        request_id: String::new(),
                    })
                    .await?;
                let due_month = [4, 7, 10, 1][q - 1];
                let year = if q == 4 { 2026 } else { 2025 };
                reporting
                    .submit_report(SubmitReportRequest {
                        name: report.name,
                        submitter: actor("科员"),
                        as_of: format!("{year}-{due_month:02}-{:02}", 5 + (t % 10)),
                        request_id: String::new(),
                    })
                    .await?;
            }
            Ok(quarters)
        }));
    }
    let mut reports = 0;
    for job in jobs {
        reports += job.await?.map_err(status_error)?;
    }
    Ok((plan.name, reports))
}

pub async fn generate(
    stack: &Stack,
    scale: Scale,
    concurrency: usize,
) -> anyhow::Result<Generated> {
    let c = clients(stack).await?;
    let started = Instant::now();
    let mut reports = 0;
    let mut last_plan = String::new();
    for district in 0..scale.districts {
        for plan in 0..scale.plans {
            let (name, n) = district_plan(&c, scale, district, plan, concurrency).await?;
            reports += n;
            last_plan = name;
        }
    }
    Ok(Generated {
        reports,
        seconds: started.elapsed().as_secs_f64(),
        plan: last_plan,
        unit: unit_name(scale.districts.saturating_sub(1), 0),
    })
}

fn p95(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples
        .get(((samples.len() as f64 - 1.0) * 0.95).round() as usize)
        .copied()
        .unwrap_or_default()
}

/// p95 latency of each supervision query, over `rounds` calls each.
pub async fn queries(
    stack: &Stack,
    data: &Generated,
    rounds: usize,
) -> anyhow::Result<Vec<(&'static str, Duration)>> {
    let c = clients(stack).await?;
    let as_of = "2025-10-20".to_string();
    let mut out = Vec::new();
    let time = |samples: &mut Vec<Duration>, began: Instant| samples.push(began.elapsed());
    let (mut ledger, mut lights, mut aggregates, mut bulletin) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let began = Instant::now();
        c.assignments
            .clone()
            .list_ledger(ListLedgerRequest {
                unit: data.unit.clone(),
                as_of: as_of.clone(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map_err(status_error)?;
        time(&mut ledger, began);
        let began = Instant::now();
        c.reporting
            .clone()
            .list_lights(ListLightsRequest {
                parent: data.plan.clone(),
                period: "2025Q3".into(),
                as_of: as_of.clone(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map_err(status_error)?;
        time(&mut lights, began);
        let began = Instant::now();
        c.reporting
            .clone()
            .get_aggregates(GetAggregatesRequest {
                parent: data.plan.clone(),
                period: "2025Q3".into(),
                group_by: AggregateGroup::GroupUnit as i32,
                as_of: as_of.clone(),
            })
            .await
            .map_err(status_error)?;
        time(&mut aggregates, began);
        let began = Instant::now();
        c.reporting
            .clone()
            .get_bulletin(GetBulletinRequest {
                parent: data.plan.clone(),
                period: "2025Q3".into(),
                format: BulletinFormat::Markdown as i32,
                as_of: as_of.clone(),
            })
            .await
            .map_err(status_error)?;
        time(&mut bulletin, began);
    }
    out.push(("ledger (ListLedger)", p95(ledger)));
    out.push(("lights (ListLights)", p95(lights)));
    out.push(("aggregates", p95(aggregates)));
    out.push(("bulletin (Markdown)", p95(bulletin)));
    Ok(out)
}
