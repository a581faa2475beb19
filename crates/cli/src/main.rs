//! `duban`: the operators' tool and the README's entry point.

mod client;
mod db;
mod output;
mod supervise;
mod up;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "duban",
    version,
    about = "督办: government work-report targets, tracked from document to bulletin"
)]
struct Cli {
    /// Log filter, e.g. "info" or "info,sqlx=warn".
    #[arg(long, env = "DUBAN_LOG", default_value = "info", global = true)]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON object per line for machines.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the four services locally (starting a private Postgres if needed) and ingest seeds/.
    Up(up::Args),
    /// Apply every service's database migrations and exit.
    Migrate {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
    /// Manage the private PostgreSQL used by `up` and the tests.
    Db {
        #[command(subcommand)]
        command: db::Command,
    },
    /// Extract plans, items, units and targets from files, offline (no database, no services).
    Extract {
        #[arg(long, value_enum, default_value = "json")]
        format: ExtractFormat,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Send documents to the ingest service.
    Ingest {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List plans.
    Plans {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// AIP-160 filter, e.g. 'year=2025 AND level=市'.
        #[arg(long, default_value = "")]
        filter: String,
    },
    /// List tasks, of one plan or of all.
    Tasks {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Plan name ("plans/3") or id ("3"); all plans when omitted.
        #[arg(long)]
        plan: Option<String>,
        /// AIP-160 filter, e.g. 'has_indicator=true AND text:"营商环境"'.
        #[arg(long, default_value = "")]
        filter: String,
    },
    /// File progress reports: draft, sign, submit, review.
    Report {
        #[command(flatten)]
        peer: supervise::Peer,
        #[arg(long, value_enum, default_value_t, global = true)]
        format: Format,
        #[command(subcommand)]
        command: supervise::ReportCommand,
    },
    /// Who owes which report, since when (催办).
    Overdue {
        #[command(flatten)]
        peer: supervise::Peer,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Plan name ("plans/3") or id.
        #[arg(long)]
        plan: String,
        /// YYYY-MM-DD in China Standard Time; today when omitted.
        #[arg(long, default_value = "")]
        as_of: String,
    },
    /// The light of every task of a plan in a period.
    Lights {
        #[command(flatten)]
        peer: supervise::Peer,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[arg(long)]
        plan: String,
        /// e.g. 2025Q2.
        #[arg(long)]
        period: String,
        #[arg(long, default_value = "")]
        as_of: String,
    },
    /// Write the bulletin (通报) of a plan and period to a file.
    Bulletin {
        #[command(flatten)]
        peer: supervise::Peer,
        #[arg(long)]
        plan: String,
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value = "docx")]
        format: supervise::DocumentFormat,
        #[arg(long, default_value = "")]
        as_of: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ExtractFormat {
    Json,
    Pretty,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => {
            return duban_kit::app::run("duban", &cli.log, |shutdown| up::run(args, shutdown))
                .await;
        }
        Command::Migrate { database_url } => {
            return duban_kit::app::run("duban", &cli.log, |_| up::migrate(database_url)).await;
        }
        Command::Db { command } => db::run(command).await,
        Command::Extract { format, files } => extract(format, &files),
        Command::Ingest {
            peers,
            format,
            files,
        } => client::ingest(&peers, format, &files).await,
        Command::Plans {
            peers,
            format,
            filter,
        } => client::plans(&peers, format, &filter).await,
        Command::Tasks {
            peers,
            format,
            plan,
            filter,
        } => client::tasks(&peers, format, plan.as_deref(), &filter).await,
        Command::Report {
            peer,
            format,
            command,
        } => supervise::report(&peer, format, command).await,
        Command::Overdue {
            peer,
            format,
            plan,
            as_of,
        } => supervise::overdue(&peer, format, &plan, &as_of).await,
        Command::Lights {
            peer,
            format,
            plan,
            period,
            as_of,
        } => supervise::lights(&peer, format, &plan, &period, &as_of).await,
        Command::Bulletin {
            peer,
            plan,
            period,
            format,
            as_of,
            out,
        } => supervise::bulletin(&peer, &plan, &period, format, &as_of, &out).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `duban tasks | head`: the reader has what it wanted.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("duban: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one JSON object per file (one per line), the extraction contract.
fn extract(format: ExtractFormat, files: &[PathBuf]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let extraction = duban_extract::extract(&bytes, &name);
        let json = match format {
            ExtractFormat::Json => serde_json::to_string(&extraction)?,
            ExtractFormat::Pretty => serde_json::to_string_pretty(&extraction)?,
        };
        writeln!(out, "{json}")?;
    }
    Ok(())
}
