//! Outgoing calls to peer services: a lazily connected channel and an interceptor that injects
//! the current span's W3C trace context into the request metadata.

use std::time::Duration;

use opentelemetry::{global, propagation::Injector};
use tonic::{
    Request, Status,
    metadata::{MetadataKey, MetadataMap, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

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

pub type PeerChannel = InterceptedService<Channel, PropagateTrace>;

/// A channel to `url` (e.g. "http://127.0.0.1:50052") that connects on first use and reconnects
/// after failures, so a peer that is down at start-up does not stop this service.
pub fn channel(url: &str, request_timeout: Duration) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| anyhow::anyhow!("invalid peer URL {url:?}: {e}"))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(request_timeout)
        .tcp_nodelay(true);
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
