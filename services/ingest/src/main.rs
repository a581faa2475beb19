use std::process::ExitCode;

use duban_ingest::{ABOUT, Application, Config, NAME};
use duban_kit::app::{ServiceCli, ServiceCommand};

// Extraction makes many small strings; mimalloc serves them in about half of glibc's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = ServiceCli::<Config>::parse_for(NAME, ABOUT);
    duban_kit::app::run(NAME, &cli.log, |shutdown| async move {
        match cli.command {
            Some(ServiceCommand::Migrate) => Application::migrate(&cli.config).await,
            Some(ServiceCommand::Serve) | None => {
                Application::build(cli.config).await?.run(shutdown).await
            }
        }
    })
    .await
}
