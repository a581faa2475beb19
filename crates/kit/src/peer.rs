//! Outgoing calls to peer services: a lazily connected channel (TLS when the URL is https) and
//! an interceptor that injects the current span's W3C trace context and, when authentication is
//! on, a fresh service token into the request metadata.

use std::{sync::Arc, time::Duration};

use opentelemetry::{global, propagation::Injector};
use tonic::{
    Request, Status,
    metadata::{MetadataKey, MetadataMap, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, ClientTlsConfig, Endpoint},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{auth::TokenKey, security::PeerSecurity};

/// Injects `traceparent`/`tracestate` of the current span into every outgoing request.
#[derive(Clone, Copy, Debug, Default)]
pub struct PropagateTrace;

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

impl Interceptor for PropagateTrace {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let context = tracing::Span::current().context();
        global::get_text_map_propagator(|p| {
            p.inject_context(&context, &mut MetadataInjector(request.metadata_mut()))
        });
        Ok(request)
    }
}

/// What every peer call carries: the trace context and the calling service's token.
#[derive(Clone, Debug)]
pub struct PeerCalls {
    key: Option<Arc<TokenKey>>,
    service: &'static str,
}

impl Interceptor for PeerCalls {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let mut request = PropagateTrace.call(request)?;
        if let Some(key) = &self.key {
            let token = key.service_token(self.service).map_err(|e| {
                Status::internal(format!("{}: minting a service token: {e}", self.service))
            })?;
            let value = MetadataValue::try_from(format!("Bearer {token}"))
                .map_err(|e| Status::internal(format!("service token header: {e}")))?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

pub type PeerChannel = InterceptedService<Channel, PeerCalls>;

/// A channel to a peer that carries trace context and service identity; https URLs use the
/// TLS settings of `security`.
pub fn connect(
    url: &str,
    request_timeout: Duration,
    security: &PeerSecurity,
) -> anyhow::Result<PeerChannel> {
    let channel = channel(url, request_timeout, security.tls.clone())?;
    Ok(InterceptedService::new(
        channel,
        PeerCalls {
            key: security.key.clone(),
            service: security.service,
        },
    ))
}

/// A channel to `url` (e.g. "http://127.0.0.1:50052") that connects on first use and reconnects
/// after failures, so a peer that is down at start-up does not stop this service. An https URL
/// needs `tls` (the CA that signed the peer's certificate).
pub fn channel(
    url: &str,
    request_timeout: Duration,
    tls: Option<ClientTlsConfig>,
) -> anyhow::Result<Channel> {
    let mut endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| anyhow::anyhow!("invalid peer URL {url:?}: {e}"))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(request_timeout)
        .tcp_nodelay(true);
    if url.starts_with("https://") {
        let tls = tls.ok_or_else(|| {
            anyhow::anyhow!(
                "peer URL {url:?} is https: set DUBAN_TLS_CA to the CA that signed its certificate"
            )
        })?;
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| anyhow::anyhow!("TLS settings for {url:?}: {e}"))?;
    }
    Ok(endpoint.connect_lazy())
}

/// The current span's W3C trace context as a small map (traceparent, tracestate), for work that
/// continues later in another task, such as an outbox delivery.
pub fn current_trace_context() -> std::collections::HashMap<String, String> {
    let mut carrier = std::collections::HashMap::new();
    let context = tracing::Span::current().context();
    global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    carrier
}

/// Makes `span` a child of the trace recorded by [`current_trace_context`].
pub fn continue_trace(span: &tracing::Span, carrier: &std::collections::HashMap<String, String>) {
    let parent = global::get_text_map_propagator(|p| p.extract(carrier));
    let _ = span.set_parent(parent);
}

/// Every item of a paged list, read page by page: `page(token)` asks for the page at `token`
/// (empty: the first) and answers its items and the next page's token (empty: the last page).
pub async fn all_pages<T, E, F, Fut>(mut page: F) -> Result<Vec<T>, E>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, String), E>>,
{
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        let (more, next) = page(token).await?;
        items.extend(more);
        if next.is_empty() {
            return Ok(items);
        }
        token = next;
    }
}
