//! The four services in one process, each on its own port: what `duban up` runs and what the
//! end-to-end tests start on port 0.

use std::{net::SocketAddr, time::Duration};

use duban_kit::server::ServerOptions;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
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
    pub options: ServerOptions,
}

impl StackConfig {
    /// Every service on an ephemeral port of 127.0.0.1.
    pub fn ephemeral(database_url: &str) -> Self {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        Self {
            database_url: database_url.to_string(),
            ingest_addr: any,
            targets_addr: any,
            assignments_addr: any,
            reporting_addr: any,
            options: ServerOptions::default(),
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
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub struct Stack {
    config: StackConfig,
    running: [Running; 4],
}

fn index(service: Service) -> usize {
    match service {
        Service::Ingest => 0,
        Service::Targets => 1,
        Service::Assignments => 2,
        Service::Reporting => 3,
    }
}

pub fn url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

impl Stack {
    /// Builds (connects, migrates, binds) and starts all four services. Ports given as 0 are
    /// chosen by the system and fixed from then on, so a restarted service comes back where its
    /// peers expect it.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        let idle = |addr| Running {
            addr,
            shutdown: CancellationToken::new(),
            task: None,
        };
        let mut stack = Self {
            running: [
                idle(config.ingest_addr),
                idle(config.targets_addr),
                idle(config.assignments_addr),
                idle(config.reporting_addr),
            ],
            config,
        };
        // Reporting and ingest after their peers: they need the peers' addresses.
        for service in [
            Service::Targets,
            Service::Assignments,
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
        url(self.addr(service))
    }

    /// Starts one service (again) on its address.
    pub async fn start_service(&mut self, service: Service) -> anyhow::Result<()> {
        let c = &self.config;
        let database_url = c.database_url.clone();
        let options = c.options.clone();
        let addr = self.addr(service);
        let shutdown = CancellationToken::new();
        let (bound, task) = match service {
            Service::Targets => {
                let app = duban_targets::Application::build_with(
                    duban_targets::Config {
                        database_url,
                        addr,
                        db_connections: 10,
                    },
                    options,
                )
                .await?;
                (app.local_addr(), tokio::spawn(app.run(shutdown.clone())))
            }
            Service::Assignments => {
                let app = duban_assignments::Application::build_with(
                    duban_assignments::Config {
                        database_url,
                        addr,
                        db_connections: 10,
                    },
                    options,
                )
                .await?;
                (app.local_addr(), tokio::spawn(app.run(shutdown.clone())))
            }
            Service::Reporting => {
                let app = duban_reporting::Application::build_with(
                    duban_reporting::Config {
                        database_url,
                        addr,
                        targets_url: self.url(Service::Targets),
                        assignments_url: self.url(Service::Assignments),
                        db_connections: 10,
                    },
                    options,
                )
                .await?;
                (app.local_addr(), tokio::spawn(app.run(shutdown.clone())))
            }
            Service::Ingest => {
                let app = duban_ingest::Application::build_with(
                    duban_ingest::Config {
                        database_url,
                        addr,
                        targets_url: self.url(Service::Targets),
                        assignments_url: self.url(Service::Assignments),
                        max_document_bytes: 32 * 1024 * 1024,
                        db_connections: 10,
                    },
                    options,
                )
                .await?;
                (app.local_addr(), tokio::spawn(app.run(shutdown.clone())))
            }
        };
        self.running[index(service)] = Running {
            addr: bound,
            shutdown,
            task: Some(task),
        };
        Ok(())
    }

    /// Stops one service gracefully and waits until it has let go of its port.
    pub async fn stop_service(&mut self, service: Service) -> anyhow::Result<()> {
        let running = &mut self.running[index(service)];
        running.shutdown.cancel();
        match running.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }

    /// Waits until every running service reports SERVING, or fails after `limit`.
    pub async fn wait_serving(&self, limit: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + limit;
        for service in ALL {
            if self.running[index(service)].task.is_none() {
                continue;
            }
            loop {
                if health(&self.url(service), service.grpc_name()).await
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
    let channel = Channel::from_shared(url.to_string())
        .ok()?
        .connect()
        .await
        .ok()?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .ok()?;
    ServingStatus::try_from(response.into_inner().status).ok()
}
