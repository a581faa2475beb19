//! Each service's Prometheus endpoint counts its own calls by method and status code, and
//! ingest counts documents and outbox deliveries.

use std::time::Duration;

use duban_cli::stack::Service;
use duban_proto::v1::{DeliveryState, GetPlanRequest, GetReportRequest};
use duban_testkit::{SEED_DECOMPOSITION, TestSet, sample, scrape};

const GET_PLAN: &str = "/duban.v1.TargetsService/GetPlan";
const CREATE_PLAN: &str = "/duban.v1.TargetsService/CreatePlan";
const CREATE_DOCUMENT: &str = "/duban.v1.IngestService/CreateDocument";

async fn scrape_service(set: &TestSet, service: Service) -> String {
    let addr = set
        .stack
        .metrics_addr(service)
        .expect("the test set serves metrics");
    scrape(addr).await
}

#[tokio::test]
async fn calls_documents_and_deliveries_are_counted() {
    let set = TestSet::start().await;

    let doc = set.ingest_seed(SEED_DECOMPOSITION).await;
    let doc = set.wait_delivered(&doc.name, Duration::from_secs(60)).await;
    assert_eq!(doc.delivery_state, DeliveryState::Delivered as i32);
    set.ingest_seed(SEED_DECOMPOSITION).await;
    for _ in 0..2 {
        let missing = set
            .targets
            .clone()
            .get_plan(GetPlanRequest {
                name: "plans/999999".to_string(),
            })
            .await
            .expect_err("no such plan");
        assert_eq!(missing.code(), tonic::Code::NotFound);
    }

    let ingest = scrape_service(&set, Service::Ingest).await;
    let calls = |code| [("method", CREATE_DOCUMENT), ("code", code)];
    assert_eq!(
        sample(&ingest, "duban_rpc_requests_total", &calls("Ok")),
        Some(2.0),
        "{ingest}"
    );
    assert_eq!(
        sample(&ingest, "duban_rpc_duration_seconds_count", &calls("Ok")),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &ingest,
            "duban_ingest_documents_total",
            &[("result", "stored")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &ingest,
            "duban_ingest_documents_total",
            &[("result", "duplicate")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &ingest,
            "duban_outbox_deliveries_total",
            &[("outcome", "delivered")]
        ),
        Some(f64::from(doc.plan_count))
    );
    assert_eq!(sample(&ingest, "duban_outbox_pending", &[]), Some(0.0));
    assert_eq!(sample(&ingest, "duban_outbox_failed", &[]), Some(0.0));
    assert_eq!(
        sample(&ingest, "duban_db_pool_max_connections", &[]),
        Some(10.0)
    );
    let open = sample(&ingest, "duban_db_pool_connections", &[]).expect("pool size");
    let idle = sample(&ingest, "duban_db_pool_idle_connections", &[]).expect("idle");
    assert!(open >= 1.0 && idle <= open, "open {open}, idle {idle}");

    let targets = scrape_service(&set, Service::Targets).await;
    assert_eq!(
        sample(
            &targets,
            "duban_rpc_requests_total",
            &[
                ("method", GET_PLAN),
                ("code", "NotFound"),
                ("service", "targets")
            ]
        ),
        Some(2.0),
        "{targets}"
    );
    assert_eq!(
        sample(
            &targets,
            "duban_rpc_requests_total",
            &[("method", CREATE_PLAN), ("code", "Ok")]
        ),
        Some(f64::from(doc.plan_count)),
        "the outbox's calls count where they land"
    );
    assert!(
        !targets.contains("IngestService/") && !targets.contains("duban_ingest_"),
        "each endpoint reports only its own service"
    );
    set.stop().await;
}

#[tokio::test]
async fn methods_a_server_does_not_have_share_one_label() {
    let set = TestSet::start().await;
    let channel = tonic::transport::Endpoint::from_shared(set.stack.url(Service::Reporting))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    for path in ["/duban.v1.Nope/A", "/duban.v1.Nope/B"] {
        grpc.ready().await.unwrap();
        let status = grpc
            .unary::<GetReportRequest, GetReportRequest, _>(
                tonic::Request::new(GetReportRequest::default()),
                path.parse().unwrap(),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .expect_err("no such method");
        assert_eq!(status.code(), tonic::Code::Unimplemented);
    }
    let reporting = scrape_service(&set, Service::Reporting).await;
    assert_eq!(
        sample(
            &reporting,
            "duban_rpc_requests_total",
            &[("method", "unknown"), ("code", "Unimplemented")]
        ),
        Some(2.0),
        "{reporting}"
    );
    assert!(!reporting.contains("Nope"));
    set.stop().await;
}
