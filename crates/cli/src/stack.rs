//! The four services in one process, each on its own port: what `duban up` runs and what the
//! end-to-end tests start on port 0.

use std::{net::SocketAddr, time::Duration};

use duban_kit::{
    metrics::MetricsAddr,
    security::SecurityConfig,
    server::ServerOptions,
    service::{self, Listen},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[derive(Clone, Debug)]
pub struct StackConfig {
    pub database_url: String,
    pub ingest_addr: SocketAddr,
    pub targets_addr: SocketAddr,
    pub assignments_addr: SocketAddr,
    pub reporting_addr: SocketAddr,
    /// Each service's metrics endpoint, in the order of [`ALL`].
    pub metrics_addrs: [MetricsAddr; 4],
    pub options: ServerOptions,
    /// The unit registry data file; the one shipped for the seeds when None.
    pub units_file: Option<std::path::PathBuf>,
    /// Seconds between the reporting service's supervision sweeps; 0 turns them off.
    pub reporting_sweep_seconds: u64,
    /// Milliseconds one document's extraction may take in ingest.
    pub ingest_extract_budget_ms: u64,
    /// TLS, tokens and audit retention, the same for all four services. With TLS on, the
    /// services reach each other over https, so `tls_ca` must name the CA of `tls_cert`.
    pub security: SecurityConfig,
}

impl StackConfig {
    /// Every service and its metrics on an ephemeral port of 127.0.0.1.
    pub fn ephemeral(database_url: &str) -> Self {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        Self {
            database_url: database_url.to_string(),
            ingest_addr: any,
            targets_addr: any,
            assignments_addr: any,
            reporting_addr: any,
            metrics_addrs: [MetricsAddr(Some(any)); 4],
            options: ServerOptions::default(),
            units_file: None,
            reporting_sweep_seconds: 3600,
            ingest_extract_budget_ms: 10_000,
            security: SecurityConfig::default(),
        }
    }
}

/// Which of the four services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Ingest,
    Targets,
    Assignments,
    Reporting,
}

pub const ALL: [Service; 4] = [
    Service::Ingest,
    Service::Targets,
    Service::Assignments,
    Service::Reporting,
];

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Ingest => "ingest",
            Service::Targets => "targets",
            Service::Assignments => "assignments",
            Service::Reporting => "reporting",
        }
    }

    pub fn grpc_name(self) -> &'static str {
        match self {
            Service::Ingest => "duban.v1.IngestService",
            Service::Targets => "duban.v1.TargetsService",
            Service::Assignments => "duban.v1.AssignmentsService",
            Service::Reporting => "duban.v1.ReportingService",
        }
    }
}

struct Running {
    addr: SocketAddr,
    metrics_addr: MetricsAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub struct Stack {
    config: StackConfig,
    running: [Running; 4],
    /// The targets port, held while targets is not running (see [`Stack::start`] and
    /// [`Stack::stop_service`]) and handed over when it starts.
    targets_socket: Option<tokio::net::TcpSocket>,
}

fn index(service: Service) -> usize {
    match service {
        Service::Ingest => 0,
        Service::Targets => 1,
        Service::Assignments => 2,
        Service::Reporting => 3,
    }
}

pub fn url(addr: SocketAddr, tls: bool) -> String {
    if tls {
        format!("https://{addr}")
    } else {
        format!("http://{addr}")
    }
}

impl Stack {
    /// Builds (connects, migrates, binds) and starts all four services. Ports given as 0 are
    /// chosen by the system and fixed from then on, so a restarted service comes back where its
    /// peers expect it.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        let idle = |addr, service| Running {
            addr,
            metrics_addr: config.metrics_addrs[index(service)],
            shutdown: CancellationToken::new(),
            task: None,
        };
        // Assignments starts first but asks targets whose plans are whose, so a targets port given
        // as 0 is chosen now. The socket is held and handed to targets, so no other server takes
        // the port in between (one did, once, when it was let go just before targets bound it).
        let (targets_addr, targets_socket) = match config.targets_addr {
            addr if addr.port() == 0 => {
                let reservation = service::reserve(addr)?;
                (reservation.local_addr()?, Some(reservation))
            }
            addr => (addr, None),
        };
        let mut stack = Self {
            running: [
                idle(config.ingest_addr, Service::Ingest),
                idle(targets_addr, Service::Targets),
                idle(config.assignments_addr, Service::Assignments),
                idle(config.reporting_addr, Service::Reporting),
            ],
            config,
            targets_socket,
        };
        // Assignments first (the others poll its revocation list); reporting and ingest
        // after their peers, whose addresses they need.
        for service in [
            Service::Assignments,
            Service::Targets,
            Service::Reporting,
            Service::Ingest,
        ] {
            stack.start_service(service).await?;
        }
        Ok(stack)
    }

    pub fn addr(&self, service: Service) -> SocketAddr {
        self.running[index(service)].addr
    }

    pub fn url(&self, service: Service) -> String {
        url(self.addr(service), self.config.security.tls_cert.is_some())
    }

    /// The TLS settings a client of the set needs (the CA of DUBAN_TLS_CA), None for plaintext.
    pub fn client_tls(&self) -> anyhow::Result<Option<ClientTlsConfig>> {
        Ok(self.config.security.peer_security("duban", None)?.tls)
    }

    /// A lazily connected channel to `service`, over TLS when the set uses it.
    pub fn channel(&self, service: Service) -> anyhow::Result<Channel> {
        duban_kit::peer::channel(
            &self.url(service),
            self.config.options.request_timeout,
            self.client_tls()?,
        )
    }

    /// Where the service's metrics endpoint listens, None when it is off.
    pub fn metrics_addr(&self, service: Service) -> Option<SocketAddr> {
        self.running[index(service)].metrics_addr.0
    }

    /// Starts one service (again) on its address.
    pub async fn start_service(&mut self, service: Service) -> anyhow::Result<()> {
        let c = &self.config;
        let database_url = c.database_url.clone();
        // The revocation list is wherever this set's assignments service is.
        let mut security = c.security.clone();
        security.revocations_url = self.url(Service::Assignments);
        let options = c.options.clone();
        let addr = self.addr(service);
        let metrics_addr = self.running[index(service)].metrics_addr;
        let shutdown = CancellationToken::new();
        let (bound, bound_metrics, task) = match service {
            Service::Targets => {
                let listen = match self.targets_socket.take() {
                    Some(socket) => Listen::Socket(socket),
                    None => Listen::Addr(addr),
                };
                let app = duban_targets::Application::build_on(
                    duban_targets::Config {
                        database_url,
                        addr,
                        db_connections: 10,
                        metrics_addr,
                        task_cache: duban_targets::DEFAULT_TASK_CACHE,
                        security: security.clone(),
                    },
                    options,
                    listen,
                )
                .await?;
                (
                    app.local_addr(),
                    app.metrics_addr(),
                    tokio::spawn(app.run(shutdown.clone())),
                )
            }
            Service::Assignments => {
                let app = duban_assignments::Application::build_with(
                    duban_assignments::Config {
                        database_url,
                        addr,
                        targets_url: self.url(Service::Targets),
                        db_connections: 10,
                        units_file: c.units_file.clone(),
                        metrics_addr,
                        security: security.clone(),
                    },
                    options,
                )
                .await?;
                (
                    app.local_addr(),
                    app.metrics_addr(),
                    tokio::spawn(app.run(shutdown.clone())),
                )
            }
            Service::Reporting => {
                let app = duban_reporting::Application::build_with(
                    duban_reporting::Config {
                        database_url,
                        addr,
                        targets_url: self.url(Service::Targets),
                        assignments_url: self.url(Service::Assignments),
                        db_connections: 10,
                        metrics_addr,
                        sweep_seconds: c.reporting_sweep_seconds,
                        lookup_cache: duban_reporting::DEFAULT_LOOKUP_CACHE,
                        security: security.clone(),
                    },
                    options,
                )
                .await?;
                (
                    app.local_addr(),
                    app.metrics_addr(),
                    tokio::spawn(app.run(shutdown.clone())),
                )
            }
            Service::Ingest => {
                let app = duban_ingest::Application::build_with(
                    duban_ingest::Config {
                        database_url,
                        addr,
                        targets_url: self.url(Service::Targets),
                        assignments_url: self.url(Service::Assignments),
                        max_document_bytes: 32 * 1024 * 1024,
                        extract_budget_ms: self.config.ingest_extract_budget_ms,
                        db_connections: 10,
                        metrics_addr,
                        security: security.clone(),
                    },
                    options,
                )
                .await?;
                (
                    app.local_addr(),
                    app.metrics_addr(),
                    tokio::spawn(app.run(shutdown.clone())),
                )
            }
        };
        self.running[index(service)] = Running {
            addr: bound,
            metrics_addr: MetricsAddr(bound_metrics),
            shutdown,
            task: Some(task),
        };
        Ok(())
    }

    /// Stops one service gracefully and waits until it has let go of its port. The targets
    /// port is then held again (connections to it are refused, as with no server there) so
    /// that no other server takes it before targets starts again where its peers expect it.
    pub async fn stop_service(&mut self, service: Service) -> anyhow::Result<()> {
        let running = &mut self.running[index(service)];
        running.shutdown.cancel();
        let stopped = match running.task.take() {
            Some(task) => task.await?,
            None => return Ok(()),
        };
        if service == Service::Targets && self.targets_socket.is_none() {
            let addr = running.addr;
            match service::reserve(addr) {
                Ok(socket) => self.targets_socket = Some(socket),
                // the service's own failure, if any, is the one to report
                Err(e) => {
                    return stopped.and(Err(anyhow::anyhow!(
                        "targets stopped, but its port {addr} cannot be held: {e}"
                    )));
                }
            }
        }
        stopped
    }

    /// Waits until every running service reports SERVING, or fails after `limit`.
    pub async fn wait_serving(&self, limit: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + limit;
        let tls = self.client_tls()?;
        for service in ALL {
            if self.running[index(service)].task.is_none() {
                continue;
            }
            loop {
                if health_over(&self.url(service), service.grpc_name(), tls.clone()).await
                    == Some(ServingStatus::Serving)
                {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    anyhow::bail!(
                        "the {} service did not become SERVING within {limit:?}",
                        service.name()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// Stops every service and reports the first failure of any.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        for service in ALL {
            if let Err(err) = self.stop_service(service).await {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The health of `service` at `url`, None when it does not answer.
pub async fn health(url: &str, service: &str) -> Option<ServingStatus> {
    health_over(url, service, None).await
}

/// The health of `service` at `url` (https with `tls`), None when it does not answer.
pub async fn health_over(
    url: &str,
    service: &str,
    tls: Option<ClientTlsConfig>,
) -> Option<ServingStatus> {
    health_check(url, service, tls).await.ok()
}

/// The health of `service` at `url`, or why there is none: no connection, or the server's
/// refusal (NOT_FOUND for a service it does not serve).
pub async fn health_check(
    url: &str,
    service: &str,
    tls: Option<ClientTlsConfig>,
) -> Result<ServingStatus, String> {
    let mut endpoint = Endpoint::from_shared(url.to_string()).map_err(|e| e.to_string())?;
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).map_err(|e| e.to_string())?;
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| format!("no answer ({e})"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .map_err(|status| match status.code() {
            tonic::Code::NotFound => format!("the server does not serve {service:?}"),
            code => format!("{code:?}: {}", status.message()),
        })?;
    ServingStatus::try_from(response.into_inner().status).map_err(|e| e.to_string())
}
