//! The targets service: plans (a decomposition of one source report), their tasks and the
//! tasks' indicators, in schema `targets`.

mod cache;
mod domain;
mod grpc;
mod indicators;
mod store;

use std::{net::SocketAddr, sync::Arc};

use duban_kit::{
    metrics::MetricsAddr,
    security::SecurityConfig,
    server::{MAX_MESSAGE_BYTES, ServerOptions},
    service::{Bound, Listen, Spec},
};
use duban_proto::v1::targets_service_server::{SERVICE_NAME, TargetsServiceServer};
use tokio_util::sync::CancellationToken;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
static SPEC: Spec = Spec {
    schema: "targets",
    app_name: "duban-targets",
    service_name: SERVICE_NAME,
    migrator: &MIGRATOR,
    keeps_revocations: false,
};

/// Tasks cached per replica unless configured otherwise (some tens of MB at province scale).
pub const DEFAULT_TASK_CACHE: usize = 50_000;

/// The binary's name, as its command line, logs and metrics give it.
pub const NAME: &str = "duban-targets";
/// What `duban-targets --help` says it is.
pub const ABOUT: &str = "duban targets service: plans, tasks and indicators.";

#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Postgres connection URL (shared by all services; each keeps its own schema).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Address to listen on.
    #[arg(
        long = "listen",
        env = "DUBAN_TARGETS_ADDR",
        default_value = "127.0.0.1:50052"
    )]
    pub addr: SocketAddr,
    /// Largest number of database connections this service opens.
    #[arg(long, env = "DUBAN_TARGETS_DB_CONNECTIONS", default_value_t = 10)]
    pub db_connections: u32,
    /// Address of the Prometheus metrics endpoint; empty turns it off.
    #[arg(
        long,
        env = "DUBAN_TARGETS_METRICS_ADDR",
        default_value = "127.0.0.1:9102"
    )]
    pub metrics_addr: MetricsAddr,
    /// Tasks kept in memory for reads (each replica its own, kept current by change
    /// notifications from Postgres); 0 turns the cache off.
    #[arg(long, env = "DUBAN_TARGETS_TASK_CACHE", default_value_t = DEFAULT_TASK_CACHE)]
    pub task_cache: usize,
    #[command(flatten)]
    pub security: SecurityConfig,
}

/// A bound, migrated, not yet serving targets service.
pub struct Application {
    bound: Bound,
    task_cache: usize,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, ServerOptions::default()).await
    }

    pub async fn build_with(config: Config, options: ServerOptions) -> anyhow::Result<Self> {
        let listen = Listen::Addr(config.addr);
        Self::build_on(config, options, listen).await
    }

    /// Builds the service on `listen` instead of `config.addr`: the in-process stack chooses
    /// the targets port before its peers start, holds it while targets is stopped, and hands
    /// over the socket it holds.
    pub async fn build_on(
        config: Config,
        options: ServerOptions,
        listen: Listen,
    ) -> anyhow::Result<Self> {
        let bound = Bound::open(
            &SPEC,
            &config.database_url,
            listen,
            config.db_connections,
            config.metrics_addr,
            options,
            &config.security,
        )
        .await?;
        Ok(Self {
            bound,
            task_cache: config.task_cache,
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
        let cache = Arc::new(cache::tasks(self.task_cache));
        tokio::spawn(cache.clone().follow(
            self.bound.pool.clone(),
            shutdown.child_token(),
            cache::task_of,
        ));
        let api = TargetsServiceServer::new(grpc::Targets::new(self.bound.pool.clone(), cache))
            .max_decoding_message_size(MAX_MESSAGE_BYTES);
        self.bound
            .serve(tonic::service::Routes::new(api), &[SERVICE_NAME], shutdown)
            .await
    }
}
