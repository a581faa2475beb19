//! The baseline: a bare tonic server answering Echo, with nothing behind it.

use std::net::SocketAddr;

use duban_proto::v1::{
    EchoRequest, EchoResponse, EchoTasksRequest, ListTasksResponse,
    echo_service_server::{EchoService, EchoServiceServer},
};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, transport::Server};

struct Echo {
    page: ListTasksResponse,
}

#[tonic::async_trait]
impl EchoService for Echo {
    async fn echo(&self, request: Request<EchoRequest>) -> Result<Response<EchoResponse>, Status> {
        let request = request.into_inner();
        let payload = match request.response_size {
            0 => request.payload,
            size => vec![0x5a; size as usize],
        };
        Ok(Response::new(EchoResponse { payload }))
    }

    async fn echo_tasks(
        &self,
        _: Request<EchoTasksRequest>,
    ) -> Result<Response<ListTasksResponse>, Status> {
        Ok(Response::new(self.page.clone()))
    }
}

/// Starts the echo server on an ephemeral port until `shutdown`; `page` is what EchoTasks
/// answers.
pub async fn start(
    page: ListTasksResponse,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(
        Server::builder()
            .add_service(EchoServiceServer::new(Echo { page }))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                async move { shutdown.cancelled().await },
            ),
    );
    Ok(addr)
}
