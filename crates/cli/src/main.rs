//! `duban`: the operators' tool and the README's entry point.

// Extraction makes many small strings; mimalloc serves them in about half of glibc's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod client;
mod db;
mod indicators;
mod ledger;
mod output;
mod reference;
mod summary;
mod supervise;
mod up;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};
use tonic_health::pb::health_check_response::ServingStatus;

#[derive(Parser)]
#[command(
    name = "duban",
    version,
    about = "督办: government work-report targets, tracked from document to bulletin"
)]
struct Cli {
    /// Log filter, e.g. "info" or "info,sqlx=warn".
    #[arg(long, env = "DUBAN_LOG", default_value = "info", global = true)]
    log: String,
    /// Tables print every cell whole; without it, lines are cut to fit 120 columns.
    #[arg(long, global = true)]
    wide: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON object per line for machines.
    Json,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the configuration reference (every variable, its flags, default and meaning) as
    /// the Markdown table of docs/operations.md.
    Reference,
}

#[derive(Subcommand)]
enum Command {
    /// Run the four services locally (starting a private Postgres if needed) and ingest seeds/.
    Up(Box<up::Args>),
    /// Apply every service's database migrations and exit.
    Migrate {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
    /// Exit 0 when the gRPC service at ADDR reports SERVING, 1 otherwise: a container health
    /// check that needs no other tool in the image.
    Health {
        /// host:port of the service.
        #[arg(long)]
        addr: String,
        /// gRPC service name to ask about; the server as a whole when empty.
        #[arg(long, default_value = "")]
        service: String,
    },
    /// Measure speed against baselines run the same way in the same run.
    Bench(bench::Args),
    /// The configuration every binary reads.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage the private PostgreSQL used by `up` and the tests.
    Db {
        #[command(subcommand)]
        command: db::Command,
    },
    /// Extract plans, items, units and targets from files, offline (no database, no services).
    Extract {
        #[arg(long, value_enum, default_value = "json")]
        format: ExtractFormat,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Send documents to the ingest service.
    Ingest {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Count what a running set holds (documents, plans, tasks, targets, units, assignments),
    /// after waiting for the documents' deliveries; fails when a delivery is still pending or
    /// failed.
    Summary {
        #[command(flatten)]
        peers: client::Peers,
        /// Seconds to wait for pending deliveries.
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// List plans.
    Plans {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// AIP-160 filter, e.g. 'year=2025 AND level=市'.
        #[arg(long, default_value = "")]
        filter: String,
    },
    /// List tasks, of one plan or of all; with --unit, that unit's ledger (台账).
    Tasks {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Plan name ("plans/3") or id ("3"); all plans when omitted.
        #[arg(long)]
        plan: Option<String>,
        /// A unit ("units/7" or a name as documents write it, e.g. 区发改局): list what it leads,
        /// answers for or supports, with the next reporting due date.
        #[arg(long)]
        unit: Option<String>,
        /// With --unit: the day the next due dates are counted from (YYYY-MM-DD, China
        /// Standard Time); today when omitted.
        #[arg(long, requires = "unit", default_value = "")]
        as_of: String,
        /// AIP-160 filter, e.g. 'has_indicator=true AND text:"营商环境"'.
        #[arg(long, default_value = "")]
        filter: String,
    },
    /// The same indicator across levels (province, city, district) in the same year.
    Lineage {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// A task ("plans/5/tasks/67") or an indicator ("plans/5/tasks/67/indicators/120").
        name: String,
    },
    /// A year's indicators against their stated outcomes: met, missed, unclear.
    Scorecard {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[arg(long)]
        year: i32,
    },
    /// Bearer tokens: issue (offline, with the deployment's key) and revoke.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The services' audit trails.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The unit registry.
    Units {
        #[command(flatten)]
        peers: client::Peers,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Only units created from documents and not yet reviewed.
        #[arg(long)]
        provisional: bool,
        #[command(subcommand)]
        command: Option<UnitsCommand>,
    },
    /// File progress reports: draft, sign, submit, review.
    Report {
        #[command(flatten)]
        peer: supervise::Peer,
        #[arg(long, value_enum, default_value_t, global = true)]
        format: Format,
        #[command(subcommand)]
        command: supervise::ReportCommand,
    },
    /// Who owes which report, since when (催办).
    Overdue {
        #[command(flatten)]
        peer: supervise::Peer,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Plan name ("plans/3") or id; every plan you may read when omitted.
        #[arg(long)]
        plan: Option<String>,
        /// YYYY-MM-DD in China Standard Time; today when omitted.
        #[arg(long, default_value = "")]
        as_of: String,
    },
    /// The light of every task of a plan in a period.
    Lights {
        #[command(flatten)]
        peer: supervise::Peer,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        #[arg(long)]
        plan: String,
        /// e.g. 2025Q2.
        #[arg(long)]
        period: String,
        #[arg(long, default_value = "")]
        as_of: String,
    },
    /// Write the bulletin (通报) of a plan and period to a file.
    Bulletin {
        #[command(flatten)]
        peer: supervise::Peer,
        #[arg(long)]
        plan: String,
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value = "docx")]
        format: supervise::DocumentFormat,
        #[arg(long, default_value = "")]
        as_of: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum UnitsCommand {
    /// Merge unit A into unit B (each "units/N" or a name): A's spellings and assignments move to B.
    Merge {
        a: String,
        b: String,
        /// Needed when both are reviewed units: no document read them as one body.
        #[arg(long)]
        reviewed: bool,
    },
    /// Undo the merge of unit A ("units/N"): what it brought moves back and it stands alone.
    Unmerge { a: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new signed token (its id and expiry go to stderr).
    Issue {
        /// The key file the services verify tokens with.
        #[arg(long, env = "DUBAN_TOKEN_KEY_FILE")]
        key_file: PathBuf,
        /// The holder's unit ("units/12" or its name); for role admin or supervisor, who they are.
        #[arg(long)]
        unit: String,
        /// reporter, unit_head, supervisor, admin or service.
        #[arg(long)]
        role: duban_kit::auth::Role,
        /// Lifetime: a number and s, m, h or d, e.g. 8h.
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: Duration,
        /// The government whose data the holder works on, e.g. 武昌区; empty: all.
        #[arg(long, default_value = "")]
        government: String,
    },
    /// Revoke a token by its id, or a client certificate by its serial (admin token required).
    Revoke {
        /// The token id printed by `duban token issue`, or cert:<serial in hex> of a client
        /// certificate (as `openssl x509 -noout -serial` prints it).
        token_id: String,
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        client: client::ClientAuth,
        #[arg(
            long,
            env = "DUBAN_ASSIGNMENTS_URL",
            default_value = "http://127.0.0.1:50053"
        )]
        assignments_url: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Fetch every service's audit trail and recompute its hash chain; exit 1 on any break.
    Verify {
        #[command(flatten)]
        client: client::ClientAuth,
        /// The services to check (repeat); the four local defaults when omitted.
        #[arg(long = "url")]
        urls: Vec<String>,
        /// A file keeping each trail's newest row between runs, on storage the database's
        /// administrators cannot change: rows cut from the end of a trail, or an end rewritten
        /// with recomputed hashes, are found only against it. Created on first use; updated
        /// after a run without breaks.
        #[arg(long, value_name = "FILE")]
        heads: Option<PathBuf>,
    },
}

fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and s, m, h or d, e.g. 8h"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    if number == 0 {
        return Err("the lifetime must be positive".to_string());
    }
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ExtractFormat {
    Json,
    Pretty,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    output::set_wide(cli.wide);
    let result = match cli.command {
        Command::Up(args) => {
            return duban_kit::app::run("duban", &cli.log, |shutdown| up::run(*args, shutdown))
                .await;
        }
        Command::Migrate { database_url } => {
            return duban_kit::app::run("duban", &cli.log, |_| up::migrate(database_url)).await;
        }
        Command::Health { addr, service } => health(&addr, &service).await,
        Command::Db { command } => db::run(command).await,
        Command::Config {
            command: ConfigCommand::Reference,
        } => {
            print!("{}", reference::markdown());
            Ok(())
        }
        Command::Bench(args) => bench::run(args).await,
        Command::Extract { format, files } => extract(format, &files),
        Command::Ingest {
            peers,
            format,
            files,
        } => client::ingest(&peers, format, &files).await,
        Command::Summary { peers, wait } => summary::run(&peers, Duration::from_secs(wait)).await,
        Command::Plans {
            peers,
            format,
            filter,
        } => client::plans(&peers, format, &filter).await,
        Command::Tasks {
            peers,
            format,
            plan,
            unit: Some(unit),
            as_of,
            ..
        } => ledger::unit_tasks(&peers, format, &unit, plan.as_deref(), &as_of).await,
        Command::Tasks {
            peers,
            format,
            plan,
            unit: None,
            filter,
            ..
        } => client::tasks(&peers, format, plan.as_deref(), &filter).await,
        Command::Lineage {
            peers,
            format,
            name,
        } => indicators::lineage(&peers, format, &name).await,
        Command::Scorecard {
            peers,
            format,
            year,
        } => indicators::scorecard(&peers, format, year).await,
        Command::Token { command } => token(command).await,
        Command::Audit {
            command:
                AuditCommand::Verify {
                    client,
                    urls,
                    heads,
                },
        } => audit_verify(&client, urls, heads.as_deref()).await,
        Command::Units {
            peers,
            format,
            command: Some(UnitsCommand::Merge { a, b, reviewed }),
            ..
        } => ledger::merge(&peers, format, &a, &b, reviewed).await,
        Command::Units {
            peers,
            format,
            command: Some(UnitsCommand::Unmerge { a }),
            ..
        } => ledger::unmerge(&peers, format, &a).await,
        Command::Units {
            peers,
            format,
            provisional,
            command: None,
        } => ledger::units(&peers, format, provisional).await,
        Command::Report {
            peer,
            format,
            command,
        } => supervise::report(&peer, format, command).await,
        Command::Overdue {
            peer,
            format,
            plan,
            as_of,
        } => supervise::overdue(&peer, format, plan.as_deref(), &as_of).await,
        Command::Lights {
            peer,
            format,
            plan,
            period,
            as_of,
        } => supervise::lights(&peer, format, &plan, &period, &as_of).await,
        Command::Bulletin {
            peer,
            plan,
            period,
            format,
            as_of,
            out,
        } => supervise::bulletin(&peer, &plan, &period, format, &as_of, &out).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `duban tasks | head`: the reader has what it wanted.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("duban: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Asks the health service once, with a deadline so that a hung server fails the check.
async fn health(addr: &str, service: &str) -> anyhow::Result<()> {
    let url = format!("http://{addr}");
    let status = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        duban_cli::stack::health_check(&url, service, None),
    )
    .await
    .unwrap_or_else(|_| Err("no answer within 5 s".to_string()));
    match status {
        Ok(ServingStatus::Serving) => {
            println!("SERVING");
            Ok(())
        }
        Ok(other) => anyhow::bail!("{addr}: {}", other.as_str_name()),
        Err(why) => anyhow::bail!("{addr}: {why}"),
    }
}

async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Issue {
            key_file,
            unit,
            role,
            ttl,
            government,
        } => {
            let key = duban_kit::auth::TokenKey::from_file(&key_file)?;
            let (token, claims) = key.issue(&unit, role, &government, ttl)?;
            println!("{token}");
            eprintln!(
                "token id {} for {} ({role}{}), expires {}",
                claims.jti,
                claims.sub,
                if government.is_empty() {
                    String::new()
                } else {
                    format!(", {government}")
                },
                duban_kit::calendar::china_time(claims.exp)
            );
            Ok(())
        }
        TokenCommand::Revoke {
            token_id,
            reason,
            client,
            assignments_url,
        } => {
            let channel =
                duban_cli::security::channel(&assignments_url, &client.token, client.tls()?)?;
            let revocation =
                duban_proto::v1::token_service_client::TokenServiceClient::new(channel)
                    .revoke_token(duban_proto::v1::RevokeTokenRequest {
                        request_id: format!("revoke-{token_id}"),
                        token_id,
                        reason,
                        expire_time: None,
                    })
                    .await
                    .map_err(client::status_error)?
                    .into_inner();
            println!("revoked {} (#{})", revocation.token_id, revocation.seq);
            Ok(())
        }
    }
}

async fn audit_verify(
    client: &client::ClientAuth,
    urls: Vec<String>,
    heads_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use duban_cli::security::Head;
    use std::collections::BTreeMap;
    let urls = if urls.is_empty() {
        (50051..=50054)
            .map(|port| format!("http://127.0.0.1:{port}"))
            .collect()
    } else {
        urls
    };
    let mut heads: BTreeMap<String, Head> = match heads_file {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: not a heads file: {e}", path.display()))?
        }
        _ => BTreeMap::new(),
    };
    let tls = client.tls()?;
    let mut broken = 0;
    for url in urls {
        let channel = duban_cli::security::channel(&url, &client.token, tls.clone())?;
        let verified = duban_cli::security::verify(&url, channel, heads.get(&url)).await?;
        if verified.breaks.is_empty() {
            println!(
                "{url}: {} rows after anchor #{}, chain intact",
                verified.rows, verified.anchor_seq
            );
        }
        for chain_break in &verified.breaks {
            broken += 1;
            println!("{url}: BROKEN at {chain_break}");
        }
        heads.insert(url, verified.head);
    }
    if broken > 0 {
        anyhow::bail!("{broken} break(s) in the audit trail");
    }
    if let Some(path) = heads_file {
        // Written aside and renamed, so an interrupted run leaves the previous heads whole.
        let aside = path.with_extension("tmp");
        std::fs::write(&aside, serde_json::to_string_pretty(&heads)? + "\n")
            .and_then(|()| std::fs::rename(&aside, path))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        println!("heads kept in {}", path.display());
    }
    Ok(())
}

/// Prints one JSON object per file (one per line), the extraction contract.
fn extract(format: ExtractFormat, files: &[PathBuf]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let extraction = duban_extract::extract(&bytes, &name);
        let json = match format {
            ExtractFormat::Json => serde_json::to_string(&extraction)?,
            ExtractFormat::Pretty => serde_json::to_string_pretty(&extraction)?,
        };
        writeln!(out, "{json}")?;
    }
    Ok(())
}
