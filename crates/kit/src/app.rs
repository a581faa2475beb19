//! The shared body of every service binary's `main`: telemetry, signals, exit code.

use std::{future::Future, process::ExitCode};

use clap::{CommandFactory, FromArgMatches};
use tokio_util::sync::CancellationToken;

/// The command line every service binary shares: its configuration (`C`), the log filter, and
/// `serve` (the default) or `migrate`. `duban config reference` reads the same definition.
#[derive(clap::Parser)]
#[command(version)]
pub struct ServiceCli<C: clap::Args> {
    #[command(flatten)]
    pub config: C,
    /// Log filter, e.g. "info" or "info,sqlx=warn".
    #[arg(long, env = "DUBAN_LOG", default_value = "info", global = true)]
    pub log: String,
    #[command(subcommand)]
    pub command: Option<ServiceCommand>,
}

#[derive(clap::Subcommand)]
pub enum ServiceCommand {
    /// Serve the gRPC API (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
}

impl<C: clap::Args> ServiceCli<C> {
    /// The binary `name`'s command line.
    pub fn command_for(name: &'static str, about: &'static str) -> clap::Command {
        <Self as CommandFactory>::command()
            .name(name)
            .bin_name(name)
            .about(about)
    }

    /// Parses the process's arguments, or exits with clap's message.
    pub fn parse_for(name: &'static str, about: &'static str) -> Self {
        let matches = Self::command_for(name, about).get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Runs `body` with a token that SIGTERM or SIGINT cancels; errors are logged and turn into a
/// non-zero exit code.
pub async fn run<F, Fut>(service_name: &'static str, log_filter: &str, body: F) -> ExitCode
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let _telemetry = match crate::telemetry::init(service_name, log_filter) {
        Ok(t) => t,
        Err(err) => {
            eprintln!("{service_name}: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    match body(shutdown).await {
        Ok(()) => {
            // what an operator (and the container test) reads to know a stop was graceful
            tracing::info!(service = service_name, "stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("{service_name}: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Cancels `token` on the first SIGINT (Ctrl-C) or SIGTERM (container stop).
pub async fn cancel_on_signal(token: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    token.cancel();
}
