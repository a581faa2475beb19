//! What every service offers operators: reflection and health that follows the database.

use std::time::Duration;

use duban_cli::stack::{ALL, health};
use duban_testkit::TestSet;
use sqlx::Connection;
use tokio_stream::StreamExt;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

#[tokio::test]
async fn reflection_lists_the_duban_service_on_each_port() {
    let set = TestSet::start().await;
    for service in ALL {
        let channel = tonic::transport::Channel::from_shared(set.stack.url(service))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = ServerReflectionClient::new(channel);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let response = responses.next().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("expected a service list");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        assert!(
            names.contains(&service.grpc_name().to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"grpc.health.v1.Health".to_string()),
            "{names:?}"
        );
    }
    set.stop().await;
}

#[tokio::test]
async fn health_goes_not_serving_while_the_database_is_unreachable() {
    let set = TestSet::start().await;
    for service in ALL {
        assert_eq!(
            health(&set.stack.url(service), service.grpc_name()).await,
            Some(ServingStatus::Serving)
        );
    }
    // Take the database away under the running services.
    let database = set.database_url.rsplit('/').next().unwrap().to_string();
    let mut admin = sqlx::PgConnection::connect(&duban_testkit::server_url())
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE \"{database}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    for service in ALL {
        let url = set.stack.url(service);
        let mut status = None;
        for _ in 0..100 {
            status = health(&url, service.grpc_name()).await;
            if status == Some(ServingStatus::NotServing) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            status,
            Some(ServingStatus::NotServing),
            "{}",
            service.name()
        );
    }
    set.stop().await;
}
