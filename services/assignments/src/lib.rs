//! The assignments service: the unit registry (canonical names, aliases, provisional units) and
//! the responsibility ledger (task x unit x role), in schema `assignments`.

mod domain;
mod grpc;
mod registry;
mod schedule;
mod store;
mod tokens;

use std::{net::SocketAddr, time::Duration};

use duban_kit::{
    metrics::MetricsAddr,
    peer, plans,
    security::SecurityConfig,
    server::{MAX_MESSAGE_BYTES, ServerOptions},
    service::{Bound, Listen, Spec},
};
use duban_proto::v1::{
    assignments_service_server::{AssignmentsServiceServer, SERVICE_NAME},
    token_service_server::{self, TokenServiceServer},
};
use tokio_util::sync::CancellationToken;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
static SPEC: Spec = Spec {
    schema: "assignments",
    app_name: "duban-assignments",
    service_name: SERVICE_NAME,
    migrator: &MIGRATOR,
    keeps_revocations: true,
};

/// The binary's name, as its command line, logs and metrics give it.
pub const NAME: &str = "duban-assignments";
/// What `duban-assignments --help` says it is.
pub const ABOUT: &str =
    "duban assignments service: the unit registry and the responsibility ledger.";

#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Postgres connection URL (shared by all services; each keeps its own schema).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Address to listen on.
    #[arg(
        long = "listen",
        env = "DUBAN_ASSIGNMENTS_ADDR",
        default_value = "127.0.0.1:50053"
    )]
    pub addr: SocketAddr,
    /// Where the targets service is found: it knows which government each plan belongs to.
    #[arg(
        long,
        env = "DUBAN_TARGETS_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub targets_url: String,
    /// Largest number of database connections this service opens.
    #[arg(long, env = "DUBAN_ASSIGNMENTS_DB_CONNECTIONS", default_value_t = 10)]
    pub db_connections: u32,
    /// Unit registry data file (TSV: canonical name, level, kind, aliases, expands); the
    /// registry shipped for the seed documents when unset.
    #[arg(long, env = "DUBAN_UNITS_FILE")]
    pub units_file: Option<std::path::PathBuf>,
    /// Address of the Prometheus metrics endpoint; empty turns it off.
    #[arg(
        long,
        env = "DUBAN_ASSIGNMENTS_METRICS_ADDR",
        default_value = "127.0.0.1:9103"
    )]
    pub metrics_addr: MetricsAddr,
    #[command(flatten)]
    pub security: SecurityConfig,
}

/// A bound, migrated, not yet serving assignments service.
pub struct Application {
    bound: Bound,
    targets_url: String,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, ServerOptions::default()).await
    }

    pub async fn build_with(config: Config, options: ServerOptions) -> anyhow::Result<Self> {
        let registry = match &config.units_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("unit registry {}: {e}", path.display()))?,
            None => registry::SEED_REGISTRY.to_string(),
        };
        let entries =
            registry::parse(&registry).map_err(|e| anyhow::anyhow!("unit registry: {e}"))?;
        let bound = Bound::open(
            &SPEC,
            &config.database_url,
            Listen::Addr(config.addr),
            config.db_connections,
            config.metrics_addr,
            options,
            &config.security,
        )
        .await?;
        store::Store::new(bound.pool.clone())
            .load_registry(&entries)
            .await
            .map_err(|e| anyhow::anyhow!("loading the unit registry: {e}"))?;
        Ok(Self {
            bound,
            targets_url: config.targets_url,
        })
    }

    pub async fn migrate(config: &Config) -> anyhow::Result<()> {
        Bound::migrate_only(&SPEC, &config.database_url).await
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.bound.local_addr()
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.bound.metrics_addr()
    }

    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let targets = peer::connect(
            &self.targets_url,
            Duration::from_secs(30),
            &self.bound.peer_security()?,
        )?;
        let api = AssignmentsServiceServer::new(grpc::Assignments::new(
            self.bound.pool.clone(),
            plans::Plans::new(targets),
        ))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
        let revocations = self.bound.revocations();
        let reload = tokio::spawn(tokens::reload_periodically(
            self.bound.pool.clone(),
            revocations.clone(),
            std::time::Duration::from_secs(self.bound.security().revocations_poll_seconds),
            shutdown.clone(),
        ));
        let tokens =
            TokenServiceServer::new(tokens::Tokens::new(self.bound.pool.clone(), revocations));
        let served = self
            .bound
            .serve(
                tonic::service::Routes::new(api).add_service(tokens),
                &[SERVICE_NAME, token_service_server::SERVICE_NAME],
                shutdown,
            )
            .await;
        reload.abort();
        served
    }
}
