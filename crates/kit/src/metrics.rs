//! Prometheus metrics: a registry per service, the tower layer that counts and times every gRPC
//! call, and the HTTP endpoint that serves the registry.
//!
//! Each service keeps its own registry rather than a process-wide one because `duban up` and the
//! tests run all four in one process, and each endpoint must report only its own service.

use std::{
    collections::HashMap,
    future::Future,
    net::{AddrParseError, SocketAddr},
    pin::Pin,
    str::FromStr,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::Instant,
};

use http_body::{Body, Frame, SizeHint};
pub use prometheus;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tonic::Code;

/// Where a service's metrics endpoint listens; the empty string turns the endpoint off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricsAddr(pub Option<SocketAddr>);

impl FromStr for MetricsAddr {
    type Err = AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            Ok(Self(None))
        } else {
            s.parse().map(|addr| Self(Some(addr)))
        }
    }
}

type Refresh = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// One service's metrics.
pub struct Metrics {
    registry: Registry,
    rpc_requests: IntCounterVec,
    rpc_seconds: HistogramVec,
    /// Gauges whose truth lives elsewhere (the pool, the database) are read at scrape time.
    refreshers: Mutex<Vec<Refresh>>,
}

/// Latency buckets up to the 60 s call timeout.
const RPC_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

impl Metrics {
    /// A registry whose metrics are named `duban_*` and labelled `service=<service>`, with the
    /// RPC metrics and the gauges of `pool`.
    pub fn new(service: &str, pool: PgPool) -> prometheus::Result<Self> {
        let registry = Registry::new_custom(
            Some("duban".to_string()),
            Some(HashMap::from([(
                "service".to_string(),
                service.to_string(),
            )])),
        )?;
        let rpc_requests = IntCounterVec::new(
            Opts::new(
                "rpc_requests_total",
                "gRPC calls handled, by method and status code",
            ),
            &["method", "code"],
        )?;
        let rpc_seconds = HistogramVec::new(
            HistogramOpts::new(
                "rpc_duration_seconds",
                "gRPC call latency until the status is sent, by method and status code",
            )
            .buckets(RPC_BUCKETS.to_vec()),
            &["method", "code"],
        )?;
        registry.register(Box::new(rpc_requests.clone()))?;
        registry.register(Box::new(rpc_seconds.clone()))?;
        let metrics = Self {
            registry,
            rpc_requests,
            rpc_seconds,
            refreshers: Mutex::new(Vec::new()),
        };
        let open = metrics.gauge(
            "db_pool_connections",
            "database connections open in the pool",
        )?;
        let idle = metrics.gauge(
            "db_pool_idle_connections",
            "database connections open and idle in the pool",
        )?;
        let max = metrics.gauge(
            "db_pool_max_connections",
            "database connections the pool may open",
        )?;
        metrics.on_scrape(move || {
            open.set(i64::from(pool.size()));
            idle.set(i64::try_from(pool.num_idle()).unwrap_or(i64::MAX));
            max.set(i64::from(pool.options().get_max_connections()));
            async {}
        });
        Ok(metrics)
    }

    /// The registry, for metrics of the service's own.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A new gauge in the registry.
    pub fn gauge(&self, name: &str, help: &str) -> prometheus::Result<IntGauge> {
        let gauge = IntGauge::new(name, help)?;
        self.registry.register(Box::new(gauge.clone()))?;
        Ok(gauge)
    }

    /// Runs `refresh` before every scrape.
    pub fn on_scrape<F, Fut>(&self, refresh: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.refreshers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(move || Box::pin(refresh())));
    }

    /// The registry in the Prometheus text format, gauges refreshed.
    pub async fn render(&self) -> String {
        let refreshing: Vec<_> = self
            .refreshers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|refresh| refresh())
            .collect();
        for refresh in refreshing {
            refresh.await;
        }
        prometheus::TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|err| format!("# encoding the metrics failed: {err}\n"))
    }

    fn record(&self, method: &str, code: Code, seconds: f64) {
        // Calls to methods the server does not have are answered UNIMPLEMENTED by the router; their
        // paths are the callers' choice and must not grow the label set without bound.
        let method = if code == Code::Unimplemented {
            "unknown"
        } else {
            method
        };
        let code = format!("{code:?}");
        self.rpc_requests.with_label_values(&[method, &code]).inc();
        self.rpc_seconds
            .with_label_values(&[method, &code])
            .observe(seconds);
    }
}

/// Serves `GET /metrics` on `listener` until the returned task is aborted.
pub fn spawn_endpoint(
    listener: TcpListener,
    metrics: Arc<Metrics>,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(http::header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
                    metrics.render().await,
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await })
}

/// The tower layer that records every call's method, status code and latency.
#[derive(Clone)]
pub struct RpcMetricsLayer {
    metrics: Arc<Metrics>,
}

impl RpcMetricsLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RpcMetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for RpcMetricsService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<MeteredBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let mut call = Call {
            metrics: self.metrics.clone(),
            method: request.uri().path().to_string(),
            start: Instant::now(),
            done: false,
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            // Errors before the first message come "trailers-only": the status is a header.
            if let Some(code) = grpc_status(response.headers()) {
                call.finish(code);
            }
            Ok(response.map(|inner| MeteredBody { inner, call }))
        })
    }
}

/// The gRPC status a response's headers or trailers carry, if any.
pub(crate) fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .map(|value| Code::from_bytes(value.as_bytes()))
}

/// One call being measured; recorded once, when its status is known.
struct Call {
    metrics: Arc<Metrics>,
    method: String,
    start: Instant,
    done: bool,
}

impl Call {
    fn finish(&mut self, code: Code) {
        if !self.done {
            self.done = true;
            self.metrics
                .record(&self.method, code, self.start.elapsed().as_secs_f64());
        }
    }
}

impl Drop for Call {
    /// A response body dropped before its status was sent: the client went away.
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

pin_project_lite::pin_project! {
    /// A response body that records the call when the status trailer passes through.
    pub struct MeteredBody<B> {
        #[pin]
        inner: B,
        call: Call,
    }
}

impl<B: Body> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    this.call.finish(code);
                }
            }
            Poll::Ready(Some(Err(_))) => this.call.finish(Code::Internal),
            // A gRPC response always ends with a status; one that does not is broken.
            Poll::Ready(None) => this.call.finish(Code::Unknown),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
