//! `duban up`: the whole set on this machine in one command.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use duban_cli::stack::{Service, Stack, StackConfig};
use duban_kit::{metrics::MetricsAddr, security::SecurityConfig, server::ServerOptions};
use duban_proto::v1::{
    CreateDocumentRequest, DeliveryState, Document, GetDocumentRequest,
    ingest_service_client::IngestServiceClient,
};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::{
    client::{Peers, delivery_label, kind_label, status_error},
    summary,
};

#[derive(clap::Args)]
pub struct Args {
    /// Postgres to use; when unset, a server on 127.0.0.1:5432 that accepts us, else a private
    /// one started in --data-dir.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Folder for the private Postgres's data.
    #[arg(long, env = "DUBAN_DATA_DIR", default_value = ".duban")]
    data_dir: PathBuf,
    /// Folder whose files are ingested at start.
    #[arg(long, default_value = "seeds")]
    seeds: PathBuf,
    /// Start the services without ingesting the seeds.
    #[arg(long)]
    no_seed: bool,
    #[arg(long, env = "DUBAN_INGEST_ADDR", default_value = "127.0.0.1:50051")]
    ingest_addr: SocketAddr,
    #[arg(long, env = "DUBAN_TARGETS_ADDR", default_value = "127.0.0.1:50052")]
    targets_addr: SocketAddr,
    #[arg(
        long,
        env = "DUBAN_ASSIGNMENTS_ADDR",
        default_value = "127.0.0.1:50053"
    )]
    assignments_addr: SocketAddr,
    #[arg(long, env = "DUBAN_REPORTING_ADDR", default_value = "127.0.0.1:50054")]
    reporting_addr: SocketAddr,
    /// Seconds between supervision sweeps (overdue and light events); 0 turns them off.
    #[arg(long, env = "DUBAN_REPORTING_SWEEP_SECONDS", default_value_t = 3600)]
    reporting_sweep_seconds: u64,
    /// Unit registry data file (see services/assignments/data/units.tsv).
    #[arg(long, env = "DUBAN_UNITS_FILE")]
    units_file: Option<PathBuf>,
    /// Metrics endpoints; empty turns one off.
    #[arg(
        long,
        env = "DUBAN_INGEST_METRICS_ADDR",
        default_value = "127.0.0.1:9101"
    )]
    ingest_metrics_addr: MetricsAddr,
    #[arg(
        long,
        env = "DUBAN_TARGETS_METRICS_ADDR",
        default_value = "127.0.0.1:9102"
    )]
    targets_metrics_addr: MetricsAddr,
    #[arg(
        long,
        env = "DUBAN_ASSIGNMENTS_METRICS_ADDR",
        default_value = "127.0.0.1:9103"
    )]
    assignments_metrics_addr: MetricsAddr,
    #[arg(
        long,
        env = "DUBAN_REPORTING_METRICS_ADDR",
        default_value = "127.0.0.1:9104"
    )]
    reporting_metrics_addr: MetricsAddr,
}

pub async fn migrate(database_url: String) -> anyhow::Result<()> {
    duban_targets::Application::migrate(&duban_targets::Config {
        database_url: database_url.clone(),
        addr: ([127, 0, 0, 1], 0).into(),
        db_connections: 1,
        security: SecurityConfig::default(),
        metrics_addr: MetricsAddr(None),
        task_cache: 0,
    })
    .await?;
    duban_assignments::Application::migrate(&duban_assignments::Config {
        database_url: database_url.clone(),
        addr: ([127, 0, 0, 1], 0).into(),
        targets_url: String::new(),
        db_connections: 1,
        security: SecurityConfig::default(),
        units_file: None,
        metrics_addr: MetricsAddr(None),
    })
    .await?;
    duban_reporting::Application::migrate(&duban_reporting::Config {
        database_url: database_url.clone(),
        addr: ([127, 0, 0, 1], 0).into(),
        targets_url: String::new(),
        assignments_url: String::new(),
        db_connections: 1,
        security: SecurityConfig::default(),
        metrics_addr: MetricsAddr(None),
        sweep_seconds: 0,
        lookup_cache: 0,
    })
    .await?;
    duban_ingest::Application::migrate(&duban_ingest::Config {
        database_url,
        addr: ([127, 0, 0, 1], 0).into(),
        targets_url: String::new(),
        assignments_url: String::new(),
        max_document_bytes: 0,
        extract_budget_ms: 1,
        db_connections: 1,
        security: SecurityConfig::default(),
        metrics_addr: MetricsAddr(None),
    })
    .await?;
    println!("migrations applied: ingest, targets, assignments, reporting");
    Ok(())
}

pub async fn run(args: Args, shutdown: CancellationToken) -> anyhow::Result<()> {
    let database = duban_pg::resolve(
        args.database_url.as_deref(),
        &args.data_dir,
        &duban_pg::Options::default(),
    )
    .await?;
    println!("database: {}", database.origin);
    let stack = Stack::start(StackConfig {
        database_url: database.url.clone(),
        ingest_addr: args.ingest_addr,
        targets_addr: args.targets_addr,
        assignments_addr: args.assignments_addr,
        reporting_addr: args.reporting_addr,
        metrics_addrs: [
            args.ingest_metrics_addr,
            args.targets_metrics_addr,
            args.assignments_metrics_addr,
            args.reporting_metrics_addr,
        ],
        options: ServerOptions::default(),
        units_file: args.units_file.clone(),
        reporting_sweep_seconds: args.reporting_sweep_seconds,
        ingest_extract_budget_ms: 10_000,
        // A workstation set: plaintext and open (each service logs a warning saying so).
        security: SecurityConfig::default(),
    })
    .await?;
    let result = serve(&stack, &args, &shutdown).await;
    shutdown.cancel();
    let stopped = stack.stop().await;
    drop(database);
    result.and(stopped)
}

async fn serve(stack: &Stack, args: &Args, shutdown: &CancellationToken) -> anyhow::Result<()> {
    stack.wait_serving(Duration::from_secs(30)).await?;
    let ingest = IngestServiceClient::new(connect(&stack.url(Service::Ingest)).await?)
        .max_encoding_message_size(duban_kit::server::MAX_MESSAGE_BYTES);
    if !args.no_seed {
        seed(&ingest, &args.seeds).await?;
    }
    let peers = Peers {
        ingest_url: stack.url(Service::Ingest),
        targets_url: stack.url(Service::Targets),
        assignments_url: stack.url(Service::Assignments),
        auth: Default::default(),
    };
    let documents = summary::settled(&peers, Duration::ZERO).await?;
    println!();
    println!("{}", summary::count(&peers, documents.len()).await?);
    println!();
    for service in duban_cli::stack::ALL {
        let metrics = stack
            .metrics_addr(service)
            .map(|addr| format!("  metrics http://{addr}/metrics"))
            .unwrap_or_default();
        println!(
            "{:<12} {}  ({}){metrics}",
            service.name(),
            stack.addr(service),
            service.grpc_name()
        );
    }
    println!();
    println!(
        "try:  grpcurl -plaintext {} list",
        stack.addr(Service::Ingest)
    );
    println!(
        "      grpcurl -plaintext -d '{{\"page_size\": 5}}' {} duban.v1.TargetsService/ListPlans",
        stack.addr(Service::Targets)
    );
    println!("      cargo run --release --bin duban -- tasks --plan plans/1");
    println!("Ctrl-C stops everything.");
    shutdown.cancelled().await;
    Ok(())
}

async fn connect(url: &str) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(url.to_string())?.connect().await?)
}

/// Ingests every file in `dir` and waits until the peers have everything.
async fn seed(ingest: &IngestServiceClient<Channel>, dir: &Path) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            anyhow::anyhow!(
                "seeds folder {}: {e} (use --no-seed to skip)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut documents: Vec<Document> = Vec::new();
    for file in &files {
        let content = std::fs::read(file)?;
        let filename = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let doc = ingest
            .clone()
            .create_document(CreateDocumentRequest {
                content,
                filename,
                request_id: String::new(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("ingesting {}: {}", file.display(), status_error(s)))?
            .into_inner();
        documents.push(doc);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    for doc in &mut documents {
        while doc.delivery_state == DeliveryState::Pending as i32
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
            *doc = ingest
                .clone()
                .get_document(GetDocumentRequest {
                    name: doc.name.clone(),
                })
                .await
                .map_err(status_error)?
                .into_inner();
        }
        println!(
            "ingested {:<28} {:<15} {:>3} plans {:>4} items {:>4} targets  {}",
            doc.filename,
            kind_label(doc.kind),
            doc.plan_count,
            doc.item_count,
            doc.target_count,
            delivery_label(doc.delivery_state)
        );
        if !doc.delivery_error.is_empty() {
            println!("    delivery: {}", doc.delivery_error);
        }
    }
    Ok(())
}
