//! Thin gRPC clients behind `duban report`, `duban overdue`, `duban lights` and
//! `duban bulletin`.

use std::path::Path;

use clap::{Subcommand, ValueEnum};
use duban_proto::v1::{
    AcceptReportRequest, Actor, BulletinFormat, CreateReportRequest, GetBulletinRequest, Light,
    ListLightsRequest, ListOverdueItemsRequest, ProgressStatus, Report, ReportState,
    ReturnReportRequest, SignReportRequest, SubmitReportRequest,
    reporting_service_client::ReportingServiceClient,
};

use crate::{
    Format,
    client::{all_pages, status_error},
    output,
};

/// Where the reporting service is.
#[derive(clap::Args, Clone, Debug)]
pub struct Peer {
    #[arg(
        long,
        env = "DUBAN_REPORTING_URL",
        default_value = "http://127.0.0.1:50054"
    )]
    pub reporting_url: String,
}

async fn client(
    peer: &Peer,
) -> anyhow::Result<ReportingServiceClient<duban_cli::security::AuthedChannel>> {
    Ok(ReportingServiceClient::new(
        crate::client::connect(&peer.reporting_url).await?,
    ))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
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
        #[arg(long, value_enum)]
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
        #[arg(long, default_value_t = 0)]
        percent: u32,
        #[arg(long, default_value = "")]
        drafter: String,
        /// Makes a retry safe: the same id returns the first result.
        #[arg(long, default_value = "")]
        request_id: String,
    },
    /// The unit head's sign-off.
    Sign {
        report: String,
        #[arg(long)]
        name: String,
        /// The signer's position, e.g. 局长.
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        request_id: String,
    },
    /// Hand a signed report in.
    Submit {
        report: String,
        #[arg(long)]
        name: String,
        /// YYYY-MM-DD the report was handed in; today when omitted.
        #[arg(long, default_value = "")]
        as_of: String,
        #[arg(long, default_value = "")]
        request_id: String,
    },
    /// The supervision office accepts a report or returns it with a reason.
    Review {
        report: String,
        #[arg(long, value_enum)]
        verdict: Verdict,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        reason: String,
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

fn state_label(state: i32) -> &'static str {
    match ReportState::try_from(state).unwrap_or_default() {
        ReportState::Draft => "draft",
        ReportState::Signed => "signed",
        ReportState::Submitted => "submitted",
        ReportState::Accepted => "accepted",
        ReportState::Returned => "returned",
        ReportState::Unspecified => "unknown",
    }
}

fn status_label(status: i32) -> &'static str {
    match ProgressStatus::try_from(status).unwrap_or_default() {
        ProgressStatus::NotStarted => "not_started",
        ProgressStatus::OnPace => "on_pace",
        ProgressStatus::Ahead => "ahead",
        ProgressStatus::Behind => "behind",
        ProgressStatus::Completed => "completed",
        ProgressStatus::Blocked => "blocked",
        ProgressStatus::Unspecified => "unknown",
    }
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
                r.name.clone(),
                r.assignment.clone(),
                r.period.clone(),
                state_label(r.state).to_string(),
                status_label(r.status).to_string(),
                r.unit_display_name.clone(),
                r.version.to_string(),
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
        ReportCommand::Sign {
            report,
            name,
            role,
            request_id,
        } => {
            c.sign_report(SignReportRequest {
                name: named("reports", &report),
                signer: actor(name, role),
                request_id,
            })
            .await
        }
        ReportCommand::Submit {
            report,
            name,
            as_of,
            request_id,
        } => {
            c.submit_report(SubmitReportRequest {
                name: named("reports", &report),
                submitter: actor(name, String::new()),
                as_of,
                request_id,
            })
            .await
        }
        ReportCommand::Review {
            report,
            verdict: Verdict::Accept,
            name,
            request_id,
            ..
        } => {
            c.accept_report(AcceptReportRequest {
                name: named("reports", &report),
                reviewer: actor(name, String::new()),
                request_id,
            })
            .await
        }
        ReportCommand::Review {
            report,
            verdict: Verdict::Return,
            name,
            reason,
            request_id,
        } => {
            c.return_report(ReturnReportRequest {
                name: named("reports", &report),
                reviewer: actor(name, String::new()),
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
                o.unit_display_name.clone(),
                o.period.clone(),
                o.due_date.clone(),
                o.overdue_since.clone(),
                o.days_overdue.to_string(),
                o.task.clone(),
                o.assignment.clone(),
            ]
        },
    )
}

fn light_label(light: i32) -> &'static str {
    match Light::try_from(light).unwrap_or_default() {
        Light::None => "none",
        Light::Green => "green",
        Light::Yellow => "yellow",
        Light::Red => "red",
        Light::Unspecified => "unknown",
    }
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
