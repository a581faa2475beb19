//! The ingest service: stores source documents, extracts their plans, tasks, targets and
//! responsible units, and delivers them to the targets and assignments services through an
//! outbox, in schema `ingest`.

mod dispatch;
mod domain;
mod governments;
mod grpc;
mod metrics;
mod owners;
mod receive;
mod store;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use duban_kit::{
    metrics::MetricsAddr,
    peer,
    security::SecurityConfig,
    server::{MAX_MESSAGE_BYTES, ServerOptions},
    service::{Bound, Listen, Spec},
};
use duban_proto::v1::ingest_service_server::{IngestServiceServer, SERVICE_NAME};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
static SPEC: Spec = Spec {
    schema: "ingest",
    app_name: "duban-ingest",
    service_name: SERVICE_NAME,
    migrator: &MIGRATOR,
    keeps_revocations: false,
};

/// The binary's name, as its command line, logs and metrics give it.
pub const NAME: &str = "duban-ingest";
/// What `duban-ingest --help` says it is.
pub const ABOUT: &str = "duban ingest service: reads documents and hands on what they say.";

#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Postgres connection URL (shared by all services; each keeps its own schema).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Address to listen on.
    #[arg(
        long = "listen",
        env = "DUBAN_INGEST_ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub addr: SocketAddr,
    /// Where the targets service is found.
    #[arg(
        long,
        env = "DUBAN_TARGETS_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub targets_url: String,
    /// Where the assignments service is found.
    #[arg(
        long,
        env = "DUBAN_ASSIGNMENTS_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    pub assignments_url: String,
    /// Largest document accepted, in bytes.
    #[arg(long, env = "DUBAN_INGEST_MAX_DOCUMENT_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_document_bytes: usize,
    /// Time one document's extraction may take, in milliseconds; a document that takes longer
    /// is refused (RESOURCE_EXHAUSTED), kept as FAILED and not delivered; sent again, it is read
    /// again.
    #[arg(
        long,
        env = "DUBAN_INGEST_EXTRACT_BUDGET_MS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub extract_budget_ms: u64,
    /// Largest number of database connections this service opens.
    #[arg(long, env = "DUBAN_INGEST_DB_CONNECTIONS", default_value_t = 10)]
    pub db_connections: u32,
    /// Address of the Prometheus metrics endpoint; empty turns it off.
    #[arg(
        long,
        env = "DUBAN_INGEST_METRICS_ADDR",
        default_value = "127.0.0.1:9101"
    )]
    pub metrics_addr: MetricsAddr,
    #[command(flatten)]
    pub security: SecurityConfig,
}

/// A bound, migrated, not yet serving ingest service.
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

    /// Serves the API and runs the outbox dispatcher until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let peer_timeout = Duration::from_secs(30);
        let security = self.bound.peer_security()?;
        let peers = dispatch::Peers::new(
            peer::connect(&self.config.targets_url, peer_timeout, &security)?,
            peer::connect(&self.config.assignments_url, peer_timeout, &security)?,
        );
        let wake = Arc::new(Notify::new());
        let store = store::Store::new(self.bound.pool.clone());
        let metrics = metrics::IngestMetrics::register(&self.bound.metrics, store.clone())?;
        let dispatcher = tokio::spawn(dispatch::run(
            store.clone(),
            peers,
            wake.clone(),
            metrics.clone(),
            shutdown.clone(),
        ));
        let owners = owners::Owners::new(store.clone());
        let receiver = receive::Receiver::new(
            store.clone(),
            owners.clone(),
            wake,
            Duration::from_millis(self.config.extract_budget_ms),
            metrics,
        );
        let api = IngestServiceServer::new(grpc::Ingest::new(
            store,
            owners,
            receiver,
            self.config.max_document_bytes,
        ))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
        let served = self
            .bound
            .serve(
                tonic::service::Routes::new(api),
                &[SERVICE_NAME],
                shutdown.clone(),
            )
            .await;
        shutdown.cancel();
        if let Err(err) = dispatcher.await {
            tracing::error!(error = %err, "outbox dispatcher stopped abnormally");
        }
        served
    }
}
