//! `duban bench`: speed figures, each next to a baseline measured the same way in the same run
//! (no timing is asserted anywhere; these are for BENCHMARKS.md and for operators).

mod echo;
mod extraction;
mod load;
mod pgbench;
mod province;

use std::{path::PathBuf, sync::Arc, time::Duration};

use duban_cli::stack::{Service, Stack, StackConfig};
use duban_proto::v1::{
    AssignmentInput, Comparator, CreateAssignmentsRequest, CreatePlanRequest, CreateReportRequest,
    EchoRequest, EchoTasksRequest, GetTaskRequest, Indicator, ListTasksRequest, Plan,
    ProgressStatus, Quantity, Report, Task, UnitRole,
    assignments_service_client::AssignmentsServiceClient, echo_service_client::EchoServiceClient,
    reporting_service_client::ReportingServiceClient, targets_service_client::TargetsServiceClient,
};
use prost::Message;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::client::{all_pages, status_error};

#[derive(clap::Args)]
pub struct Args {
    /// How long each load run lasts, in seconds.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrent callers in each load run.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Postgres to use; as for `duban up` when unset. The bench works in a database of its own.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    #[arg(long, env = "DUBAN_DATA_DIR", default_value = ".duban")]
    data_dir: PathBuf,
    /// Folder of documents for the extraction figure.
    #[arg(long, default_value = "seeds")]
    seeds: PathBuf,
    /// Province-scale data: districts, each with --plans plans of --tasks tasks and
    /// --quarters quarters of signed, submitted reports (100 districts is a province).
    #[arg(long, default_value_t = 5)]
    districts: usize,
    #[arg(long, default_value_t = 3)]
    plans: usize,
    #[arg(long, default_value_t = 200)]
    tasks: usize,
    #[arg(long, default_value_t = 4)]
    quarters: usize,
}

fn ratio(value: f64, baseline: f64) -> String {
    if baseline > 0.0 {
        format!("{:.2}", value / baseline)
    } else {
        "n/a".into()
    }
}

async fn connect(url: String) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(url)?.connect().await?)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let duration = Duration::from_secs(args.seconds.max(1));
    let concurrency = args.concurrency.max(1);
    println!(
        "duban bench: {concurrency} concurrent callers, {} s per run",
        duration.as_secs()
    );

    // 3. Extraction, on its own thread so CPU time is the extractor's alone.
    let mut inputs = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.seeds)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for file in files.into_iter().filter(|f| f.is_file()) {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        inputs.push((name, std::fs::read(&file)?));
    }
    let (figures, scaling) = tokio::task::spawn_blocking(move || {
        let figures = extraction::measure(&inputs, duration);
        // each size twice (as written, one line): a quarter of the run each keeps it short
        let scaling = extraction::scaling(&inputs, (duration / 4).max(Duration::from_secs(1)));
        (figures, scaling)
    })
    .await?;
    println!(
        "extraction          {:>8.1} MB/s per core   line-scan baseline {:>8.1} MB/s   ratio 1/{:.1}",
        figures.extract.mean,
        figures.line_scan.mean,
        figures.ratio()
    );
    println!(
        "  fastest round     {:>8.1} MB/s per core                      {:>8.1} MB/s   (bar: 100 MB/s per core)",
        figures.extract.fastest, figures.line_scan.fastest
    );
    for s in &scaling {
        println!(
            "extraction at {:>2}×   {:>8.1} MB/s per core as written, {:>8.1} MB/s as one line   time one line / as written {:.2}",
            s.factor,
            s.with_breaks_mb_s,
            s.one_line_mb_s,
            s.one_line_time_ratio()
        );
    }
    if let (Some(first), Some(last)) = (scaling.first(), scaling.last()) {
        println!(
            "extraction growth   time at {}× / time at {}×: {:.1} as written, {:.1} as one line (linear: {})",
            last.factor,
            first.factor,
            extraction::growth(
                first.with_breaks_mb_s,
                last.with_breaks_mb_s,
                last.factor / first.factor
            ),
            extraction::growth(
                first.one_line_mb_s,
                last.one_line_mb_s,
                last.factor / first.factor
            ),
            last.factor / first.factor
        );
    }

    let database = duban_pg::resolve(
        args.database_url.as_deref(),
        &args.data_dir,
        &duban_pg::Options::default(),
    )
    .await?;
    let bench_db = format!("duban_bench_{}", std::process::id());
    duban_pg::ensure_database(&database.url, &bench_db).await?;
    let url = duban_pg::with_database(&database.url, &bench_db);
    let scale = province::Scale {
        districts: args.districts,
        plans: args.plans,
        tasks: args.tasks,
        quarters: args.quarters.clamp(1, 4),
    };
    let result = services(&url, concurrency, duration, scale).await;
    drop_database(&database.url, &bench_db).await;
    result
}

async fn drop_database(server: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut conn) = sqlx::PgConnection::connect(server).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

async fn services(
    url: &str,
    concurrency: usize,
    duration: Duration,
    scale: province::Scale,
) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let mut config = StackConfig::ephemeral(url);
    config.metrics_addrs = Default::default();
    let stack = Stack::start(config).await?;
    stack.wait_serving(Duration::from_secs(30)).await?;
    let mut result = measure(&stack, &shutdown, url, concurrency, duration).await;
    if result.is_ok() && scale.districts > 0 {
        result = supervision(&stack, scale, concurrency).await;
    }
    shutdown.cancel();
    stack.stop().await?;
    result
}

async fn supervision(
    stack: &Stack,
    scale: province::Scale,
    concurrency: usize,
) -> anyhow::Result<()> {
    println!(
        "province data       {} districts x {} plans x {} tasks x {} quarters ...",
        scale.districts, scale.plans, scale.tasks, scale.quarters
    );
    let data = province::generate(stack, scale, concurrency).await?;
    println!(
        "                    {} reports created, signed and submitted in {:.0} s ({:.0} reports/s)",
        data.reports,
        data.seconds,
        data.reports as f64 / data.seconds.max(1e-9)
    );
    for (query, p95) in province::queries(stack, &data, 20).await? {
        println!(
            "{query:<20}p95 {:>8.1} ms   (bar: 200 ms)",
            p95.as_secs_f64() * 1e3
        );
    }
    Ok(())
}

/// Closed-loop Echo calls answering `response_size` bytes (0: a 64-byte echo).
async fn echo_load(
    echo: &EchoServiceClient<Channel>,
    response_size: usize,
    concurrency: usize,
    duration: Duration,
) -> load::Stats {
    let echo = echo.clone();
    let response_size = u32::try_from(response_size).unwrap_or(u32::MAX);
    load::drive(concurrency, duration, move |_, _| {
        let mut echo = echo.clone();
        async move {
            echo.echo(EchoRequest {
                payload: vec![0; 64],
                response_size,
            })
            .await
            .map(|_| ())
            .map_err(|s| s.to_string())
        }
    })
    .await
}

async fn measure(
    stack: &Stack,
    shutdown: &CancellationToken,
    url: &str,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<()> {
    let mut targets = TargetsServiceClient::new(connect(stack.url(Service::Targets)).await?);
    let plan = targets
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: "bench".into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            // Each task with one indicator, as a typical target sentence has.
            tasks: (0..200)
                .map(|i| Task {
                    number: (i + 1).to_string(),
                    text: format!("任务{i}:新增就业{i}人"),
                    indicators: vec![Indicator {
                        quantity: Some(Quantity {
                            phrase: format!("新增就业{i}人"),
                            metric: "新增就业".into(),
                            value: f64::from(i),
                            unit: "人".into(),
                            comparator: Comparator::AtLeast as i32,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .collect(),
            request_id: String::new(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let names: Arc<Vec<String>> = Arc::new(
        targets
            .list_tasks(ListTasksRequest {
                parent: plan.name.clone(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map_err(status_error)?
            .into_inner()
            .tasks
            .into_iter()
            .map(|t| t.name)
            .collect(),
    );
    // 1. Reads against the bare echo server, which also holds a page of this plan's tasks.
    let page = targets
        .list_tasks(ListTasksRequest {
            parent: plan.name.clone(),
            page_size: 50,
            ..Default::default()
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let page_bytes = page.encoded_len();
    let echo_addr = echo::start(page, shutdown.clone()).await?;
    let echo = EchoServiceClient::new(connect(format!("http://{echo_addr}")).await?);
    let baseline = echo_load(&echo, 0, concurrency, duration).await;
    println!("echo (baseline)     {}", baseline.summary());
    let get = {
        let targets = targets.clone();
        let names = names.clone();
        load::drive(concurrency, duration, move |w, n| {
            let mut targets = targets.clone();
            let name = names[(w * 7919 + n) % names.len()].clone();
            async move {
                targets
                    .get_task(GetTaskRequest { name })
                    .await
                    .map(|_| ())
                    .map_err(|s| s.to_string())
            }
        })
        .await
    };
    println!(
        "GetTask             {}   ratio to echo {}",
        get.summary(),
        ratio(get.per_second, baseline.per_second)
    );
    let list = {
        let targets = targets.clone();
        let parent = plan.name.clone();
        load::drive(concurrency, duration, move |_, _| {
            let mut targets = targets.clone();
            let parent = parent.clone();
            async move {
                targets
                    .list_tasks(ListTasksRequest {
                        parent,
                        page_size: 50,
                        ..Default::default()
                    })
                    .await
                    .map(|_| ())
                    .map_err(|s| s.to_string())
            }
        })
        .await
    };
    println!(
        "ListTasks (50)      {}   ratio to echo {}",
        list.summary(),
        ratio(list.per_second, baseline.per_second)
    );
    // The same echo answering as many bytes as a page, and answering the page itself from
    // memory: what moving such an answer, and encoding and decoding its 50 tasks, costs a bare
    // server and its callers.
    let page_echo = echo_load(&echo, page_bytes, concurrency, duration).await;
    println!(
        "echo ({page_bytes} B answer) {}   ListTasks ratio to it {}",
        page_echo.summary(),
        ratio(list.per_second, page_echo.per_second)
    );
    let canned = {
        let echo = echo.clone();
        load::drive(concurrency, duration, move |_, _| {
            let mut echo = echo.clone();
            async move {
                echo.echo_tasks(EchoTasksRequest {})
                    .await
                    .map(|_| ())
                    .map_err(|s| s.to_string())
            }
        })
        .await
    };
    println!(
        "echo (the page)     {}   ListTasks ratio to it {}",
        canned.summary(),
        ratio(list.per_second, canned.per_second)
    );

    // 2. Report writes against pgbench's single-row inserts on the same database.
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS public.bench_inserts (id bigserial PRIMARY KEY, payload bigint, created_at timestamptz)")
            .execute(&mut conn)
            .await?;
    }
    let pgbench = |script: &'static str| {
        let url = url.to_string();
        tokio::task::spawn_blocking(move || {
            pgbench::per_second(&url, concurrency, duration, script)
        })
    };
    let inserts = pgbench(pgbench::ONE_ROW).await??;
    println!("pgbench inserts     {inserts:>9.0} tx/s (baseline)");
    let report_rows = pgbench(pgbench::REPORT_ROWS).await??;
    println!("pgbench report rows {report_rows:>9.0} tx/s (a report's rows, SQL alone)");
    // Real assignments to report on: report writes look the assignment and schedule up. Each
    // takes four reports (2025Q1..Q4); enough of them for 4,000 reports a second.
    let writable = usize::try_from(duration.as_secs()).unwrap_or(5).max(2) * 1000;
    let write_plan = targets
        .create_plan(CreatePlanRequest {
            plan: Some(Plan {
                title: "bench writes".into(),
                year: 2025,
                level: "区".into(),
                ..Default::default()
            }),
            tasks: (0..writable)
                .map(|i| Task {
                    text: format!("写入任务{i}"),
                    ..Default::default()
                })
                .collect(),
            request_id: String::new(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let task_names: Vec<String> = all_pages(|page_token| {
        let mut targets = targets.clone();
        let parent = write_plan.name.clone();
        async move {
            let page = targets
                .list_tasks(ListTasksRequest {
                    parent,
                    page_size: 1000,
                    page_token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            Ok((
                page.tasks.into_iter().map(|t| t.name).collect(),
                page.next_page_token,
            ))
        }
    })
    .await?;
    let assignments =
        AssignmentsServiceClient::new(connect(stack.url(Service::Assignments)).await?);
    let mut assignment_names = Vec::with_capacity(task_names.len());
    for (i, task) in task_names.into_iter().enumerate() {
        let created = assignments
            .clone()
            .create_assignments(CreateAssignmentsRequest {
                task,
                assignments: vec![AssignmentInput {
                    written_name: format!("压测单位{}", i % 50),
                    role: UnitRole::Lead as i32,
                    ..Default::default()
                }],
                request_id: String::new(),
            })
            .await
            .map_err(status_error)?
            .into_inner();
        assignment_names.extend(created.assignments.into_iter().map(|a| a.name));
    }
    let assignment_names = Arc::new(assignment_names);
    let reporting = ReportingServiceClient::new(connect(stack.url(Service::Reporting)).await?);
    let writes = load::drive(concurrency, duration, move |w, n| {
        let mut reporting = reporting.clone();
        let slot = w + n * concurrency;
        let assignment = assignment_names[slot % assignment_names.len()].clone();
        let quarter = slot / assignment_names.len() + 1;
        async move {
            reporting
                .create_report(CreateReportRequest {
                    report: Some(Report {
                        assignment,
                        period: format!("2025Q{quarter}"),
                        status: ProgressStatus::OnPace as i32,
                        progress: "按序时推进".into(),
                        ..Default::default()
                    }),
                    request_id: format!("bench-{w}-{n}"),
                })
                .await
                .map(|_| ())
                .map_err(|s| s.to_string())
        }
    })
    .await;
    println!(
        "CreateReport        {}   ratio to pgbench {}   to its rows' SQL {}",
        writes.summary(),
        ratio(writes.per_second, inserts),
        ratio(writes.per_second, report_rows)
    );
    Ok(())
}
