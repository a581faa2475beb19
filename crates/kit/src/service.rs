//! Start-up shared by the services: connect into the service's schema, migrate, bind, serve.

use std::{net::SocketAddr, sync::Arc};

use sqlx::{PgPool, migrate::Migrator};
use tokio::{net::TcpListener, sync::Notify};
use tokio_util::sync::CancellationToken;
use tonic::{service::Routes, transport::ServerTlsConfig};

use crate::{
    audit,
    auth::TokenKey,
    guard::Guard,
    metrics::{self, Metrics, MetricsAddr},
    security::{PeerSecurity, Revocations, SecurityConfig},
    server::{Protection, ServerOptions, serve},
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
    /// Whether this service keeps the token revocation list itself (assignments) rather than
    /// polling it from DUBAN_REVOCATIONS_URL.
    pub keeps_revocations: bool,
}

/// Where a service takes its port.
pub enum Listen {
    /// An address to bind at start-up (port 0: one the system chooses).
    Addr(SocketAddr),
    /// A socket the caller bound ahead and held, not yet listening, so that no other server
    /// could take the port before the service's start (see [`reserve`]).
    Socket(tokio::net::TcpSocket),
}

/// A socket bound to `addr` and not listening: it holds the port (port 0: one the system
/// chooses) while connections to it are refused, as if nothing were there, until a service
/// is started on it with [`Listen::Socket`]. The system chooses no held port for another
/// socket (a server on port 0, an outgoing connection). Address reuse is on, as for any
/// listener, so that the port of a service just stopped can be held again while its last
/// connections wait out TIME_WAIT; a server that names the port and asks for reuse itself
/// could still bind it.
pub fn reserve(addr: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

/// The backlog of a service's listener: what `TcpListener::bind` uses.
const BACKLOG: u32 = 1024;

/// A service that is connected, migrated and bound but not yet serving.
pub struct Bound {
    spec: &'static Spec,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    pub pool: PgPool,
    pub metrics: Arc<Metrics>,
    options: ServerOptions,
    security: SecurityConfig,
    tls: Option<ServerTlsConfig>,
    key: Option<Arc<TokenKey>>,
    revocations: Arc<Revocations>,
}

impl Bound {
    pub async fn open(
        spec: &'static Spec,
        database_url: &str,
        listen: Listen,
        db_connections: u32,
        metrics_addr: MetricsAddr,
        options: ServerOptions,
        security: &SecurityConfig,
    ) -> anyhow::Result<Self> {
        let name = spec.app_name;
        security
            .validate()
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let tls = security
            .server_tls()
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let key = security
            .token_key()
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        // The port is taken before the slow part (database, migrations): a port given as an
        // address (a restarted service's own, see duban_cli::stack) stays free only as long as
        // nobody else binds it.
        let listener = match listen {
            Listen::Addr(addr) => TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("{name}: cannot listen on {addr}: {e}"))?,
            Listen::Socket(socket) => socket
                .listen(BACKLOG)
                .map_err(|e| anyhow::anyhow!("{name}: cannot listen on the socket given: {e}"))?,
        };
        let pool = duban_db::open(
            database_url,
            spec.schema,
            spec.app_name,
            db_connections,
            spec.migrator,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}: database: {e}", spec.app_name))?;
        audit::install(&pool, spec.schema)
            .await
            .map_err(|e| anyhow::anyhow!("{name}: installing the audit trail: {e}"))?;
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
            security: security.clone(),
            tls,
            key,
            revocations: Arc::new(Revocations::default()),
        })
    }

    /// Applies the service's migrations and returns: the `migrate` command.
    pub async fn migrate_only(spec: &'static Spec, database_url: &str) -> anyhow::Result<()> {
        let pool = duban_db::open(database_url, spec.schema, spec.app_name, 1, spec.migrator)
            .await
            .map_err(|e| anyhow::anyhow!("{}: migrating: {e}", spec.app_name))?;
        audit::install(&pool, spec.schema)
            .await
            .map_err(|e| anyhow::anyhow!("{}: installing the audit trail: {e}", spec.app_name))
    }

    /// The revocation list the security layer checks tokens against.
    pub fn revocations(&self) -> Arc<Revocations> {
        self.revocations.clone()
    }

    /// The security configuration the service was opened with.
    pub fn security(&self) -> &SecurityConfig {
        &self.security
    }

    /// How this service reaches its peers (TLS, service tokens).
    pub fn peer_security(&self) -> anyhow::Result<PeerSecurity> {
        self.security
            .peer_security(self.spec.app_name, self.key.clone())
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.spec.app_name))
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

    pub async fn serve(
        self,
        routes: Routes,
        hosted: &[&'static str],
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        tracing::info!(service = self.spec.app_name, addr = %self.local_addr(), "listening");
        // The endpoint answers until the server has drained, so the drain can be watched.
        if let Some(addr) = self.metrics_addr() {
            tracing::info!(service = self.spec.app_name, addr = %addr, "serving metrics");
        }
        let name = self.spec.app_name;
        if self.tls.is_none() {
            tracing::warn!(
                service = name,
                "TLS is off (DUBAN_TLS_CERT/DUBAN_TLS_KEY unset): calls travel in plaintext; for local development only"
            );
        }
        let background = CancellationToken::new();
        if self.key.is_none() {
            tracing::warn!(
                service = name,
                "AUTHENTICATION IS OFF (DUBAN_TOKEN_KEY_FILE unset): every caller may call everything; for local development only"
            );
        } else if !self.spec.keeps_revocations {
            let peers = self.peer_security()?;
            tokio::spawn(self.revocations.clone().poll(
                self.security.revocations_url.clone(),
                peers,
                std::time::Duration::from_secs(self.security.revocations_poll_seconds),
                background.clone(),
            ));
        }
        tokio::spawn(audit::prune_periodically(
            self.pool.clone(),
            self.security.audit_retention_days,
            background.clone(),
        ));
        let staged = Arc::new(Notify::new());
        let chainer = tokio::spawn(audit::chain_continuously(
            self.pool.clone(),
            staged.clone(),
            background.clone(),
        ));
        let stop_background = background.drop_guard();
        let protection = Protection {
            tls: self.tls,
            guard: Guard {
                key: self.key,
                revocations: self.revocations,
                pool: self.pool.clone(),
                staged,
            },
        };
        let endpoint = self
            .metrics_listener
            .map(|listener| metrics::spawn_endpoint(listener, self.metrics.clone()));
        let served = serve(
            self.listener,
            self.spec.service_name,
            routes,
            hosted,
            self.pool,
            self.metrics,
            shutdown,
            self.options,
            protection,
        )
        .await;
        if let Some(endpoint) = endpoint {
            endpoint.abort();
        }
        // The chainer's last pass runs before the service reports itself stopped, so that
        // whoever stops the database next does not cut it short.
        drop(stop_background);
        if tokio::time::timeout(std::time::Duration::from_secs(5), chainer)
            .await
            .is_err()
        {
            tracing::warn!(
                service = name,
                "the audit chainer did not finish within 5 s; staged events are chained at the next start"
            );
        }
        served
    }
}
