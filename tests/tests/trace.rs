//! One ingest is one trace across the services: the W3C context travels from the ingest call
//! through the outbox into the targets and assignments calls. Its own test binary, because it
//! installs the process-wide tracing subscriber.

use std::time::Duration;

use duban_testkit::{SEED_DECOMPOSITION, TestSet};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test]
async fn one_ingest_is_one_trace_across_the_services() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    duban_kit::telemetry::install_propagator();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("duban-test")));
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber of this process");

    let set = TestSet::start().await;
    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");

    let ingest = spans
        .iter()
        .find(|s| s.name == "/duban.v1.IngestService/CreateDocument")
        .expect("a server span for the ingest call");
    let trace = ingest.span_context.trace_id();
    let in_trace = |name: &str| {
        spans
            .iter()
            .filter(|s| s.name == name && s.span_context.trace_id() == trace)
            .count()
    };
    assert_eq!(
        in_trace("/duban.v1.TargetsService/CreatePlan"),
        3,
        "one CreatePlan per plan, same trace"
    );
    assert!(in_trace("/duban.v1.AssignmentsService/CreateAssignments") >= 271);
    assert_eq!(in_trace("outbox.deliver"), 3);
    set.stop().await;
}
