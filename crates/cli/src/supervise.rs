//! Thin gRPC clients behind `duban report`, `duban overdue`, `duban lights` and
//! `duban bulletin`.

use std::path::Path;

use clap::{Subcommand, ValueEnum};
use duban_proto::v1::{
    AcceptReportRequest, Actor, BulletinFormat, CreateReportRequest, GetBulletinRequest, Light,
    ListLightsRequest, ListOverdueItemsRequest, ProgressStatus, Report, ReportState,
    ReturnReportRequest, SignReportRequest, SubmitReportRequest, UpdateReportRequest,
    reporting_service_client::ReportingServiceClient,
};

use crate::{
    Format,
    client::{all_pages, status_error},
    output::{self, Cell},
};

/// Where the reporting service is.
#[derive(clap::Args, Clone, Debug)]
pub struct Peer {
    /// Where the reporting service is found.
    #[arg(
        long,
        env = "DUBAN_REPORTING_URL",
        default_value = "http://127.0.0.1:50054"
    )]
    pub reporting_url: String,
    #[command(flatten)]
    pub auth: crate::client::ClientAuth,
}

async fn client(
    peer: &Peer,
) -> anyhow::Result<ReportingServiceClient<duban_cli::security::AuthedChannel>> {
    Ok(ReportingServiceClient::new(
        crate::client::connect(&peer.reporting_url, &peer.auth).await?,
    ))
}

/// As the API spells ProgressStatus; any letter case.
#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    NotStarted,
    OnPace,
    Ahead,
    Behind,
    Completed,
    Blocked,
}

impl From<Status> for ProgressStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::NotStarted => ProgressStatus::NotStarted,
            Status::OnPace => ProgressStatus::OnPace,
            Status::Ahead => ProgressStatus::Ahead,
            Status::Behind => ProgressStatus::Behind,
            Status::Completed => ProgressStatus::Completed,
            Status::Blocked => ProgressStatus::Blocked,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Verdict {
    Accept,
    Return,
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Start a draft; what is left out is carried over from the previous period's report.
    Draft {
        /// "assignments/4" or 4.
        #[arg(long)]
        assignment: String,
        /// 2025Q2, 2025M07, 2025H1.
        #[arg(long)]
        period: String,
        /// How the work stands.
        #[arg(long, value_enum, ignore_case = true)]
        status: Option<Status>,
        /// 进展情况
        #[arg(long, default_value = "")]
        progress: String,
        /// 存在问题
        #[arg(long, default_value = "")]
        problems: String,
        /// 下一步措施
        #[arg(long, default_value = "")]
        next_steps: String,
        /// Per cent of the work done, 0-100.
        #[arg(long, default_value_t = 0)]
        percent: u32,
        /// Who wrote the draft, e.g. 王芳.
        #[arg(long, default_value = "")]
        drafter: String,
        /// Makes a retry safe: the same id returns the first result.
        #[arg(long, default_value = "")]
        request_id: String,
    },
    /// Change a draft or a returned report: only the fields given are replaced. A returned
    /// report is then signed and submitted again.
    Edit {
        /// "reports/7" or 7.
        report: String,
        /// How the work stands.
        #[arg(long, value_enum, ignore_case = true)]
        status: Option<Status>,
        /// 进展情况
        #[arg(long)]
        progress: Option<String>,
        /// 存在问题
        #[arg(long)]
        problems: Option<String>,
        /// 下一步措施
        #[arg(long)]
        next_steps: Option<String>,
        /// Per cent of the work done, 0-100.
        #[arg(long)]
        percent: Option<u32>,
        /// Who wrote this version, e.g. 王芳.
        #[arg(long)]
        drafter: Option<String>,
        /// Makes a retry safe: the same id returns the first result.
        #[arg(long, default_value = "")]
        request_id: String,
    },
    /// The unit head's sign-off.
    Sign {
        /// "reports/7" or 7.
        report: String,
        /// The person signing: the unit's principal leader, e.g. 张明.
        #[arg(long)]
        signer: String,
        /// The signer's position, e.g. 局长.
        #[arg(long)]
        role: String,
        /// Makes a retry safe: the same id returns the first result.
        #[arg(long, default_value = "")]
        request_id: String,
    },
    /// Hand a signed report in.
    Submit {
        /// "reports/7" or 7.
        report: String,
        /// The person handing it in, e.g. 王芳.
        #[arg(long)]
        submitter: String,
        /// YYYY-MM-DD the report was handed in; today when omitted.
        #[arg(long, default_value = "")]
        as_of: String,
        /// Makes a retry safe: the same id returns the first result.
        #[arg(long, default_value = "")]
        request_id: String,
    },
    /// The supervision office accepts a report or returns it with a reason.
    Review {
        /// "reports/7" or 7.
        report: String,
        #[arg(long, value_enum)]
        verdict: Verdict,
        /// The person reviewing for the office, e.g. 李华.
        #[arg(long)]
        reviewer: String,
        /// Why it is returned (required to return).
        #[arg(long, default_value = "")]
        reason: String,
        /// Makes a retry safe: the same id returns the first result.
        #[arg(long, default_value = "")]
        request_id: String,
    },
}

fn named(collection: &str, raw: &str) -> String {
    if raw.contains('/') {
        raw.to_string()
    } else {
        format!("{collection}/{raw}")
    }
}

/// Enum values are printed as the API spells them (SUBMITTED, ON_PACE, GREEN), which is also
/// what `--status` and the filters take.
fn state_label(state: i32) -> &'static str {
    ReportState::try_from(state)
        .unwrap_or_default()
        .as_str_name()
}

fn status_label(status: i32) -> &'static str {
    ProgressStatus::try_from(status)
        .unwrap_or_default()
        .as_str_name()
}

fn print_report(format: Format, report: Report) -> anyhow::Result<()> {
    output::print(
        format,
        &[
            "NAME",
            "ASSIGNMENT",
            "PERIOD",
            "STATE",
            "STATUS",
            "UNIT",
            "VERSION",
        ],
        &[report],
        |r| {
            vec![
                Cell::from(r.name.clone()),
                r.assignment.clone().into(),
                r.period.clone().into(),
                state_label(r.state).into(),
                status_label(r.status).into(),
                r.unit_display_name.clone().into(),
                r.version.into(),
            ]
        },
    )
}

fn actor(name: String, role: String) -> Option<Actor> {
    Some(Actor { name, role })
}

pub async fn report(peer: &Peer, format: Format, command: ReportCommand) -> anyhow::Result<()> {
    let mut c = client(peer).await?;
    let result = match command {
        ReportCommand::Draft {
            assignment,
            period,
            status,
            progress,
            problems,
            next_steps,
            percent,
            drafter,
            request_id,
        } => {
            c.create_report(CreateReportRequest {
                report: Some(Report {
                    assignment: named("assignments", &assignment),
                    period,
                    status: status.map_or(ProgressStatus::Unspecified, Into::into) as i32,
                    progress,
                    problems,
                    next_steps,
                    percent_complete: percent,
                    drafter,
                    ..Default::default()
                }),
                request_id,
            })
            .await
        }
        ReportCommand::Edit {
            report,
            status,
            progress,
            problems,
            next_steps,
            percent,
            drafter,
            request_id,
        } => {
            let mut paths = Vec::new();
            let mut changed = Report {
                name: named("reports", &report),
                ..Default::default()
            };
            if let Some(status) = status {
                changed.status = ProgressStatus::from(status) as i32;
                paths.push("status");
            }
            for (path, value, field) in [
                ("progress", progress, &mut changed.progress),
                ("problems", problems, &mut changed.problems),
                ("next_steps", next_steps, &mut changed.next_steps),
                ("drafter", drafter, &mut changed.drafter),
            ] {
                if let Some(value) = value {
                    *field = value;
                    paths.push(path);
                }
            }
            if let Some(percent) = percent {
                changed.percent_complete = percent;
                paths.push("percent_complete");
            }
            anyhow::ensure!(
                !paths.is_empty(),
                "name what changes: --status, --progress, --problems, --next-steps, --percent or --drafter"
            );
            c.update_report(UpdateReportRequest {
                report: Some(changed),
                update_mask: Some(prost_types::FieldMask {
                    paths: paths.into_iter().map(String::from).collect(),
                }),
                request_id,
            })
            .await
        }
        ReportCommand::Sign {
            report,
            signer,
            role,
            request_id,
        } => {
            c.sign_report(SignReportRequest {
                name: named("reports", &report),
                signer: actor(signer, role),
                request_id,
            })
            .await
        }
        ReportCommand::Submit {
            report,
            submitter,
            as_of,
            request_id,
        } => {
            c.submit_report(SubmitReportRequest {
                name: named("reports", &report),
                submitter: actor(submitter, String::new()),
                as_of,
                request_id,
            })
            .await
        }
        ReportCommand::Review {
            report,
            verdict: Verdict::Accept,
            reviewer,
            request_id,
            ..
        } => {
            c.accept_report(AcceptReportRequest {
                name: named("reports", &report),
                reviewer: actor(reviewer, String::new()),
                request_id,
            })
            .await
        }
        ReportCommand::Review {
            report,
            verdict: Verdict::Return,
            reviewer,
            reason,
            request_id,
        } => {
            c.return_report(ReturnReportRequest {
                name: named("reports", &report),
                reviewer: actor(reviewer, String::new()),
                reason,
                request_id,
            })
            .await
        }
    };
    print_report(format, result.map_err(status_error)?.into_inner())
}

pub async fn overdue(
    peer: &Peer,
    format: Format,
    plan: Option<&str>,
    as_of: &str,
) -> anyhow::Result<()> {
    let c = client(peer).await?;
    let parent = plan.map_or_else(|| "plans/-".to_string(), |plan| named("plans", plan));
    let items = all_pages(|page_token| {
        let mut c = c.clone();
        let (parent, as_of) = (parent.clone(), as_of.to_string());
        async move {
            let r = c
                .list_overdue_items(ListOverdueItemsRequest {
                    parent,
                    as_of,
                    page_size: 1000,
                    page_token,
                })
                .await?
                .into_inner();
            Ok((r.items, r.next_page_token))
        }
    })
    .await?;
    output::print(
        format,
        &[
            "UNIT",
            "PERIOD",
            "DUE",
            "SINCE",
            "DAYS",
            "TASK",
            "ASSIGNMENT",
        ],
        &items,
        |o| {
            vec![
                Cell::from(o.unit_display_name.clone()),
                o.period.clone().into(),
                o.due_date.clone().into(),
                o.overdue_since.clone().into(),
                o.days_overdue.into(),
                o.task.clone().into(),
                o.assignment.clone().into(),
            ]
        },
    )
}

fn light_label(light: i32) -> &'static str {
    Light::try_from(light).unwrap_or_default().as_str_name()
}

pub async fn lights(
    peer: &Peer,
    format: Format,
    plan: &str,
    period: &str,
    as_of: &str,
) -> anyhow::Result<()> {
    let c = client(peer).await?;
    let parent = named("plans", plan);
    let lights = all_pages(|page_token| {
        let mut c = c.clone();
        let (parent, period, as_of) = (parent.clone(), period.to_string(), as_of.to_string());
        async move {
            let r = c
                .list_lights(ListLightsRequest {
                    parent,
                    period,
                    as_of,
                    page_size: 1000,
                    page_token,
                })
                .await?
                .into_inner();
            Ok((r.lights, r.next_page_token))
        }
    })
    .await?;
    output::print(
        format,
        &["TASK", "NO", "LIGHT", "WHY", "LEAD", "TEXT"],
        &lights,
        |l| {
            vec![
                l.task.clone(),
                l.task_number.clone(),
                light_label(l.light).to_string(),
                l.reasons.join("；"),
                l.lead_units.join("、"),
                output::clip(&l.task_text, 40),
            ]
        },
    )
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DocumentFormat {
    Md,
    Html,
    Docx,
}

pub async fn bulletin(
    peer: &Peer,
    plan: &str,
    period: &str,
    format: DocumentFormat,
    as_of: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let mut c = client(peer).await?;
    let bulletin = c
        .get_bulletin(GetBulletinRequest {
            parent: named("plans", plan),
            period: period.to_string(),
            format: match format {
                DocumentFormat::Md => BulletinFormat::Markdown,
                DocumentFormat::Html => BulletinFormat::Html,
                DocumentFormat::Docx => BulletinFormat::Docx,
            } as i32,
            as_of: as_of.to_string(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    std::fs::write(out, &bulletin.content)
        .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    eprintln!("{} -> {}", bulletin.title, out.display());
    Ok(())
}
