//! Logs through `tracing`; traces exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! W3C trace context is always the propagation format, so spans join up across services even
//! when only some of them export.

use opentelemetry::{global, trace::TracerProvider as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

/// Keeps the exporter alive; dropping it flushes the spans not yet sent.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(err) = provider.shutdown()
        {
            eprintln!("telemetry: flushing spans failed: {err}");
        }
    }
}

/// Installs the W3C trace-context propagator; idempotent.
pub fn install_propagator() {
    global::set_text_map_propagator(TraceContextPropagator::new());
}

/// Sets up logging (filter from `log_filter`, e.g. "info,sqlx=warn") and, when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set and not empty, OTLP trace export under `service_name`
/// (empty, as an overlay writes "none here", turns it off).
pub fn init(service_name: &'static str, log_filter: &str) -> anyhow::Result<Telemetry> {
    install_propagator();
    let filter = EnvFilter::try_new(log_filter)
        .map_err(|e| anyhow::anyhow!("invalid log filter {log_filter:?}: {e}"))?;
    // colour codes only for a person at a terminal, not in container logs or files
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let provider = if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some_and(|e| !e.is_empty())
    {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name(service_name).build())
                .build(),
        )
    } else {
        None
    };
    let otel = provider.as_ref().map(|p| {
        global::set_tracer_provider(p.clone());
        tracing_opentelemetry::layer().with_tracer(p.tracer(service_name))
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()?;
    Ok(Telemetry { provider })
}
