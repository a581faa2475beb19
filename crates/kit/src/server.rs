//! The gRPC server loop shared by the services: health (SERVING only while the database
//! answers), reflection, request timeouts, trace-context extraction, graceful shutdown with a
//! hard cap, call metrics.

use std::{sync::Arc, time::Duration};

use opentelemetry::global;
use opentelemetry_http::HeaderExtractor;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{
    service::Routes,
    transport::{Server, ServerTlsConfig},
};
use tonic_health::{ServingStatus, server::HealthReporter};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{
    audit::Trail,
    guard::{Guard, GuardLayer},
    metrics::{Metrics, RpcMetricsLayer},
};
use duban_proto::v1::audit_service_server::AuditServiceServer;

/// Limits and intervals every service applies; the defaults suit a district deployment.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// A call still running after this is cancelled with DEADLINE_EXCEEDED.
    pub request_timeout: Duration,
    /// How long in-flight calls may finish after a shutdown signal before they are cut.
    pub shutdown_grace: Duration,
    /// How often the database is pinged to decide SERVING / NOT_SERVING.
    pub health_interval: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
            health_interval: Duration::from_secs(1),
        }
    }
}

/// Largest gRPC message a service accepts by default: documents travel inside ingest requests.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The health service name that is SERVING as long as the server loop answers, whatever the
/// database says: a liveness probe must not restart every replica because Postgres is down.
pub const LIVENESS: &str = "liveness";

/// How a server protects itself: TLS (None: plaintext) and the security layer.
pub struct Protection {
    pub tls: Option<ServerTlsConfig>,
    pub guard: Guard,
}

/// What every server hosts besides its own API; reflection lists them too.
const COMMON_SERVICES: &[&str] = &[
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "duban.v1.AuditService",
];

/// Serves `routes` (the service's own API, whose gRPC service names are `hosted`) plus health,
/// reflection and the audit trail on `listener` until `shutdown` is cancelled.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    listener: TcpListener,
    service_name: &'static str,
    routes: Routes,
    hosted: &[&'static str],
    pool: PgPool,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    options: ServerOptions,
    protection: Protection,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    set_status(&reporter, service_name, ServingStatus::NotServing).await;
    reporter
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;
    let watcher = tokio::spawn(watch_database(
        reporter.clone(),
        service_name,
        pool.clone(),
        options.health_interval,
        shutdown.clone(),
    ));
    // Both reflection versions: grpcurl and tonic speak v1; grpcio-reflection, older grpcurl,
    // Postman and Evans speak only v1alpha. Each lists exactly what this port serves.
    let reflection = || {
        hosted.iter().chain(COMMON_SERVICES).fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(duban_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |builder, name| builder.with_service_name(*name),
        )
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    let mut builder = Server::builder();
    if let Some(tls) = protection.tls {
        builder = builder
            .tls_config(tls)
            .map_err(|e| anyhow::anyhow!("{service_name}: TLS settings: {e}"))?;
    }
    let trail = AuditServiceServer::new(Trail::new(pool.clone()));
    let router = builder
        .timeout(options.request_timeout)
        .trace_fn(request_span)
        .layer(RpcMetricsLayer::new(metrics))
        .layer(GuardLayer::new(protection.guard))
        .add_routes(routes)
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(trail);

    let signal = {
        let shutdown = shutdown.clone();
        let reporter = reporter.clone();
        async move {
            shutdown.cancelled().await;
            set_status(&reporter, service_name, ServingStatus::NotServing).await;
            tracing::info!(service = service_name, "shutting down");
        }
    };
    // Without TCP_NODELAY a response larger than one segment waits for the client's delayed ACK
    // (~40 ms per call). The connections stay tokio TcpStreams, so tonic still wraps them in TLS
    // and puts TlsConnectInfo<TcpConnectInfo> (the verified client certificates) into every
    // request's extensions, where the guard looks for a caller without a token.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let server = router.serve_with_incoming_shutdown(incoming, signal);
    let hard_cap = async {
        shutdown.cancelled().await;
        tokio::time::sleep(options.shutdown_grace).await;
    };
    let result = tokio::select! {
        result = server => result.map_err(anyhow::Error::from),
        () = hard_cap => {
            tracing::warn!(service = service_name, "calls still running after the grace period were cut");
            Ok(())
        }
    };
    watcher.abort();
    result
}

async fn set_status(reporter: &HealthReporter, service_name: &str, status: ServingStatus) {
    reporter.set_service_status(service_name, status).await;
    reporter.set_service_status("", status).await;
}

async fn watch_database(
    reporter: HealthReporter,
    service_name: &'static str,
    pool: PgPool,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut last = None;
    loop {
        let ping = tokio::time::timeout(
            interval.max(Duration::from_millis(500)) * 2,
            sqlx::query("SELECT 1").execute(&pool),
        )
        .await;
        let status = match ping {
            Ok(Ok(_)) => ServingStatus::Serving,
            Ok(Err(err)) => {
                tracing::warn!(service = service_name, error = %err, "database ping failed");
                ServingStatus::NotServing
            }
            Err(_) => {
                tracing::warn!(service = service_name, "database ping timed out");
                ServingStatus::NotServing
            }
        };
        if shutdown.is_cancelled() {
            return;
        }
        if last != Some(status) {
            set_status(&reporter, service_name, status).await;
            last = Some(status);
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// One span per incoming call, a child of the caller's span when the call carries W3C trace
/// context.
fn request_span(request: &http::Request<()>) -> tracing::Span {
    let parent =
        global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(request.headers())));
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %request.uri().path(),
        otel.kind = "server",
        rpc.system = "grpc",
    );
    let _ = span.set_parent(parent);
    span
}
