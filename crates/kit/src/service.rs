//! Start-up shared by the services: connect into the service's schema, migrate, bind, serve.

use std::{net::SocketAddr, sync::Arc};

use sqlx::{PgPool, migrate::Migrator};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::{
    metrics::{self, Metrics, MetricsAddr},
    server::{ServerOptions, serve},
};

/// What distinguishes one service's start-up from another's.
pub struct Spec {
    /// Its Postgres schema.
    pub schema: &'static str,
    /// Its application_name in pg_stat_activity and its name in traces.
    pub app_name: &'static str,
    /// Its gRPC service name, e.g. "duban.v1.TargetsService", for health checks.
    pub service_name: &'static str,
    pub migrator: &'static Migrator,
}

/// A service that is connected, migrated and bound but not yet serving.
pub struct Bound {
    spec: &'static Spec,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    pub pool: PgPool,
    pub metrics: Arc<Metrics>,
    options: ServerOptions,
}

impl Bound {
    pub async fn open(
        spec: &'static Spec,
        database_url: &str,
        addr: SocketAddr,
        db_connections: u32,
        metrics_addr: MetricsAddr,
        options: ServerOptions,
    ) -> anyhow::Result<Self> {
        let pool = duban_db::open(
            database_url,
            spec.schema,
            spec.app_name,
            db_connections,
            spec.migrator,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}: database: {e}", spec.app_name))?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("{}: cannot listen on {addr}: {e}", spec.app_name))?;
        let metrics_listener = match metrics_addr.0 {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!("{}: cannot serve metrics on {addr}: {e}", spec.app_name)
            })?),
            None => None,
        };
        let metrics = Arc::new(Metrics::new(spec.schema, pool.clone())?);
        Ok(Self {
            spec,
            listener,
            metrics_listener,
            pool,
            metrics,
            options,
        })
    }

    /// Applies the service's migrations and returns: the `migrate` command.
    pub async fn migrate_only(spec: &'static Spec, database_url: &str) -> anyhow::Result<()> {
        duban_db::open(database_url, spec.schema, spec.app_name, 1, spec.migrator)
            .await
            .map_err(|e| anyhow::anyhow!("{}: migrating: {e}", spec.app_name))?;
        Ok(())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// Where the metrics endpoint listens, None when it is off.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|listener| {
            listener
                .local_addr()
                .expect("a bound TCP listener has a local address")
        })
    }

    pub async fn serve(self, routes: Routes, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(service = self.spec.app_name, addr = %self.local_addr(), "listening");
        // The endpoint answers until the server has drained, so the drain can be watched.
        if let Some(addr) = self.metrics_addr() {
            tracing::info!(service = self.spec.app_name, addr = %addr, "serving metrics");
        }
        let endpoint = self
            .metrics_listener
            .map(|listener| metrics::spawn_endpoint(listener, self.metrics.clone()));
        let served = serve(
            self.listener,
            self.spec.service_name,
            routes,
            self.pool,
            self.metrics,
            shutdown,
            self.options,
        )
        .await;
        if let Some(endpoint) = endpoint {
            endpoint.abort();
        }
        served
    }
}
