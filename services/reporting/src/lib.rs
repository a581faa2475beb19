//! The reporting service: progress reports from responsible units to the supervision office,
//! their review, overdue tracking, lights, aggregates, bulletins and an event stream, in schema
//! `reporting`.

mod bulletin;
mod domain;
mod figures;
mod grpc;
mod peers;
mod store;
mod watch;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use duban_kit::{
    metrics::MetricsAddr,
    peer,
    plans::Plans,
    security::SecurityConfig,
    server::{MAX_MESSAGE_BYTES, ServerOptions},
    service::{Bound, Listen, Spec},
};
use duban_proto::v1::reporting_service_server::{ReportingServiceServer, SERVICE_NAME};
use tokio_util::sync::CancellationToken;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
static SPEC: Spec = Spec {
    schema: "reporting",
    app_name: "duban-reporting",
    service_name: SERVICE_NAME,
    migrator: &MIGRATOR,
    keeps_revocations: false,
};

/// The binary's name, as its command line, logs and metrics give it.
pub const NAME: &str = "duban-reporting";
/// What `duban-reporting --help` says it is.
pub const ABOUT: &str = "duban reporting service: progress reports and supervision.";

#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Postgres connection URL (shared by all services; each keeps its own schema).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Address to listen on.
    #[arg(
        long = "listen",
        env = "DUBAN_REPORTING_ADDR",
        default_value = "127.0.0.1:50054"
    )]
    pub addr: SocketAddr,
    /// Where the targets service is found (plans, tasks, indicators).
    #[arg(
        long,
        env = "DUBAN_TARGETS_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub targets_url: String,
    /// Where the assignments service is found (who answers for what, reporting schedules).
    #[arg(
        long,
        env = "DUBAN_ASSIGNMENTS_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    pub assignments_url: String,
    /// Largest number of database connections this service opens.
    #[arg(long, env = "DUBAN_REPORTING_DB_CONNECTIONS", default_value_t = 10)]
    pub db_connections: u32,
    /// Address of the Prometheus metrics endpoint; empty turns it off.
    #[arg(
        long,
        env = "DUBAN_REPORTING_METRICS_ADDR",
        default_value = "127.0.0.1:9104"
    )]
    pub metrics_addr: MetricsAddr,
    /// Seconds between supervision sweeps that record overdue items and light changes as
    /// events; 0 turns the sweep off.
    #[arg(long, env = "DUBAN_REPORTING_SWEEP_SECONDS", default_value_t = 3600)]
    pub sweep_seconds: u64,
    /// Assignments and reporting schedules kept in memory for report writes (each replica its
    /// own, forgotten on the assignments service's change notifications); 0 turns the cache
    /// off.
    #[arg(long, env = "DUBAN_REPORTING_LOOKUP_CACHE", default_value_t = DEFAULT_LOOKUP_CACHE)]
    pub lookup_cache: usize,
    #[command(flatten)]
    pub security: SecurityConfig,
}

/// Assignments and schedules cached per replica unless configured otherwise (a province's
/// assignments, some tens of MB).
pub const DEFAULT_LOOKUP_CACHE: usize = 200_000;

/// A bound, migrated, not yet serving reporting service.
pub struct Application {
    bound: Bound,
    config: Config,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, ServerOptions::default()).await
    }

    pub async fn build_with(config: Config, options: ServerOptions) -> anyhow::Result<Self> {
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
        Ok(Self { bound, config })
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
        let peer_timeout = Duration::from_secs(30);
        let security = self.bound.peer_security()?;
        let targets = peer::connect(&self.config.targets_url, peer_timeout, &security)?;
        let looked_up = Arc::new(peers::lookup_cache(self.config.lookup_cache));
        tokio::spawn(looked_up.clone().follow(
            self.bound.pool.clone(),
            shutdown.child_token(),
            // The feed names no keys: any change empties the cache.
            |_| None,
        ));
        let peers = peers::Peers::new(
            targets.clone(),
            peer::connect(&self.config.assignments_url, peer_timeout, &security)?,
            looked_up,
        );
        let store = store::Store::new(self.bound.pool.clone());
        let figures = tokio::spawn(figures::run(store.clone(), peers.clone(), shutdown.clone()));
        let reporting = grpc::Reporting::new(store, peers, Plans::new(targets), shutdown.clone());
        let sweep = (self.config.sweep_seconds > 0).then(|| {
            tokio::spawn(reporting.clone().watch(
                Duration::from_secs(self.config.sweep_seconds),
                shutdown.clone(),
            ))
        });
        let api =
            ReportingServiceServer::new(reporting).max_decoding_message_size(MAX_MESSAGE_BYTES);
        let served = self
            .bound
            .serve(
                tonic::service::Routes::new(api),
                &[SERVICE_NAME],
                shutdown.clone(),
            )
            .await;
        shutdown.cancel();
        if let Some(sweep) = sweep
            && let Err(err) = sweep.await
        {
            tracing::error!(error = %err, "the supervision sweep stopped abnormally");
        }
        if let Err(err) = figures.await {
            tracing::error!(error = %err, "the figures hand-off stopped abnormally");
        }
        served
    }
}
