//! Start-up shared by the services: connect into the service's schema, migrate, bind, serve.

use std::net::SocketAddr;

use sqlx::{PgPool, migrate::Migrator};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::server::{ServerOptions, serve};

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
    pub pool: PgPool,
    options: ServerOptions,
}

impl Bound {
    pub async fn open(
        spec: &'static Spec,
        database_url: &str,
        addr: SocketAddr,
        db_connections: u32,
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
        Ok(Self {
            spec,
            listener,
            pool,
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

    pub async fn serve(self, routes: Routes, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(service = self.spec.app_name, addr = %self.local_addr(), "listening");
        serve(
            self.listener,
            self.spec.service_name,
            routes,
            self.pool,
            shutdown,
            self.options,
        )
        .await
    }
}
