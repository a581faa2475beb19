//! Thin gRPC clients behind `duban ingest`, `duban plans`, `duban tasks`.

use std::{future::Future, path::PathBuf};

use duban_proto::v1::{
    CreateDocumentRequest, DeliveryState, DocumentKind, ListPlansRequest, ListTasksRequest,
    ingest_service_client::IngestServiceClient, targets_service_client::TargetsServiceClient,
};
use tonic::{
    Status,
    service::interceptor::InterceptedService,
    transport::{Certificate, Channel, ClientTlsConfig},
};

use duban_cli::security::{AuthedChannel, Bearer};

use crate::{
    Format,
    output::{self, Cell},
};

/// Where the services are.
#[derive(clap::Args, Clone, Debug)]
pub struct Peers {
    /// Where the ingest service is found.
    #[arg(
        long,
        env = "DUBAN_INGEST_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub ingest_url: String,
    /// Where the targets service is found.
    #[arg(
        long,
        env = "DUBAN_TARGETS_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub targets_url: String,
    /// Where the assignments service is found.
    #[arg(
        long,
        env = "DUBAN_ASSIGNMENTS_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    pub assignments_url: String,
    #[command(flatten)]
    pub auth: ClientAuth,
}

/// How a client command authenticates.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ClientAuth {
    /// Bearer token (`duban token issue`).
    #[arg(long, env = "DUBAN_TOKEN", default_value = "", hide_env_values = true)]
    pub token: String,
    /// CA that signed the services' certificates, for https URLs.
    #[arg(long, env = "DUBAN_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
}

impl ClientAuth {
    pub fn tls(&self) -> anyhow::Result<Option<ClientTlsConfig>> {
        self.tls_ca
            .as_ref()
            .map(|ca| {
                let pem = std::fs::read(ca)
                    .map_err(|e| anyhow::anyhow!("TLS CA {}: {e}", ca.display()))?;
                Ok(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
            })
            .transpose()
    }
}

/// A channel for the client commands: it carries the bearer token (when set) and, for https
/// URLs, trusts the CA.
pub async fn connect(url: &str, auth: &ClientAuth) -> anyhow::Result<AuthedChannel> {
    let mut endpoint = Channel::from_shared(url.to_string())
        .map_err(|e| anyhow::anyhow!("invalid URL {url:?}: {e}"))?;
    if let Some(tls) = auth.tls()? {
        endpoint = endpoint.tls_config(tls)?;
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach {url}: {e} (is `duban up` running?)"))?;
    Ok(InterceptedService::new(channel, Bearer(auth.token.clone())))
}

pub fn status_error(status: Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

/// Every item of a paged List call.
pub async fn all_pages<T, F, Fut>(fetch: F) -> anyhow::Result<Vec<T>>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), Status>>,
{
    duban_kit::peer::all_pages(fetch)
        .await
        .map_err(status_error)
}

/// As the API spells it (DECOMPOSITION, WORK_REPORT), like every enum the commands print.
pub fn kind_label(kind: i32) -> &'static str {
    DocumentKind::try_from(kind)
        .unwrap_or_default()
        .as_str_name()
}

/// As the API spells it: PENDING, DELIVERED, FAILED.
pub fn delivery_label(state: i32) -> &'static str {
    DeliveryState::try_from(state)
        .unwrap_or_default()
        .as_str_name()
}

pub async fn ingest(peers: &Peers, format: Format, files: &[PathBuf]) -> anyhow::Result<()> {
    let mut client = IngestServiceClient::new(connect(&peers.ingest_url, &peers.auth).await?)
        .max_encoding_message_size(duban_kit::server::MAX_MESSAGE_BYTES);
    let mut rows = Vec::new();
    for file in files {
        let content =
            std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let filename = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let doc = client
            .create_document(CreateDocumentRequest {
                content,
                filename,
                request_id: String::new(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("{}: {}", file.display(), status_error(s)))?
            .into_inner();
        rows.push(doc);
    }
    output::print(
        format,
        &[
            "NAME", "FILE", "KIND", "TITLE", "PLANS", "ITEMS", "TARGETS", "DELIVERY",
        ],
        &rows,
        |d| {
            vec![
                Cell::from(d.name.clone()),
                d.filename.clone().into(),
                kind_label(d.kind).into(),
                d.title.clone().into(),
                d.plan_count.into(),
                d.item_count.into(),
                d.target_count.into(),
                delivery_label(d.delivery_state).into(),
            ]
        },
    )
}

pub async fn plans(peers: &Peers, format: Format, filter: &str) -> anyhow::Result<()> {
    let client = TargetsServiceClient::new(connect(&peers.targets_url, &peers.auth).await?);
    let plans = all_pages(|page_token| {
        let mut client = client.clone();
        let filter = filter.to_string();
        async move {
            let r = client
                .list_plans(ListPlansRequest {
                    page_size: 1000,
                    page_token,
                    filter,
                })
                .await?
                .into_inner();
            Ok((r.plans, r.next_page_token))
        }
    })
    .await?;
    output::print(
        format,
        &["NAME", "YEAR", "LEVEL", "TASKS", "TITLE"],
        &plans,
        |p| {
            vec![
                Cell::from(p.name.clone()),
                p.year.into(),
                p.level.clone().into(),
                p.task_count.into(),
                p.title.clone().into(),
            ]
        },
    )
}

pub async fn tasks(
    peers: &Peers,
    format: Format,
    plan: Option<&str>,
    filter: &str,
) -> anyhow::Result<()> {
    let client = TargetsServiceClient::new(connect(&peers.targets_url, &peers.auth).await?);
    let parent = match plan {
        None => "plans/-".to_string(),
        Some(p) if p.starts_with("plans/") => p.to_string(),
        Some(id) => format!("plans/{id}"),
    };
    let tasks = all_pages(|page_token| {
        let mut client = client.clone();
        let filter = filter.to_string();
        let parent = parent.clone();
        async move {
            let r = client
                .list_tasks(ListTasksRequest {
                    parent,
                    page_size: 1000,
                    page_token,
                    filter,
                })
                .await?
                .into_inner();
            Ok((r.tasks, r.next_page_token))
        }
    })
    .await?;
    output::print(
        format,
        &["NAME", "NO", "TARGETS", "DEADLINE", "TEXT"],
        &tasks,
        |t| {
            vec![
                t.name.clone(),
                t.number.clone(),
                output::clip(
                    &t.indicators
                        .iter()
                        .filter_map(|i| i.quantity.as_ref())
                        .map(|q| q.phrase.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                    30,
                ),
                t.deadline.clone(),
                output::clip(&t.text, 60),
            ]
        },
    )
}
