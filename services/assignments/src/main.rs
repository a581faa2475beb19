use std::process::ExitCode;

use clap::{Parser, Subcommand};
use duban_assignments::{Application, Config};

/// duban assignments service: the unit registry and the responsibility ledger.
#[derive(Parser)]
#[command(name = "duban-assignments", version)]
struct Cli {
    #[command(flatten)]
    config: Config,
    /// Log filter, e.g. "info" or "info,sqlx=warn".
    #[arg(long, env = "DUBAN_LOG", default_value = "info", global = true)]
    log: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    duban_kit::app::run("duban-assignments", &cli.log, |shutdown| async move {
        match cli.command {
            Some(Command::Migrate) => Application::migrate(&cli.config).await,
            Some(Command::Serve) | None => {
                Application::build(cli.config).await?.run(shutdown).await
            }
        }
    })
    .await
}
