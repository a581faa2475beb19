//! The baseline: a bare tonic server answering Echo, with nothing behind it.

use std::net::SocketAddr;

use duban_proto::v1::{
    EchoRequest, EchoResponse,
    echo_service_server::{EchoService, EchoServiceServer},
};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, transport::Server};

struct Echo;

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
}

/// Starts the echo server on an ephemeral port until `shutdown`.
pub async fn start(shutdown: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(
        Server::builder()
            .add_service(EchoServiceServer::new(Echo))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                async move { shutdown.cancelled().await },
            ),
    );
    Ok(addr)
}
