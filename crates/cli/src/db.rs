//! `duban db start|stop|url`: the private PostgreSQL, for scripts that need one running.

use std::path::PathBuf;

use clap::Subcommand;
use duban_pg::{Options, PrivatePostgres};

#[derive(Subcommand)]
pub enum Command {
    /// Find the database the way `duban up` does (DATABASE_URL, a server on 127.0.0.1:5432
    /// that accepts us, else a private one started in --data-dir, left running) and print its
    /// URL.
    Start {
        /// Folder holding the server's data.
        #[arg(long, env = "DUBAN_DATA_DIR", default_value = ".duban")]
        data_dir: PathBuf,
        /// Trade durability for speed (fsync off): for throw-away test data.
        #[arg(long)]
        ephemeral: bool,
    },
    /// Stop the private server started by `duban db start`.
    Stop {
        #[arg(long, env = "DUBAN_DATA_DIR", default_value = ".duban")]
        data_dir: PathBuf,
    },
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Start {
            data_dir,
            ephemeral,
        } => {
            let explicit = std::env::var("DATABASE_URL").ok();
            let database = duban_pg::resolve(
                explicit.as_deref(),
                &data_dir,
                &Options {
                    ephemeral,
                    keep_running: true,
                },
            )
            .await?;
            eprintln!("database: {}", database.origin);
            println!("{}", database.url);
            Ok(())
        }
        Command::Stop { data_dir } => {
            if PrivatePostgres::stop_in(&data_dir)? {
                eprintln!("stopped the private PostgreSQL in {}", data_dir.display());
            } else {
                eprintln!("no private PostgreSQL runs in {}", data_dir.display());
            }
            Ok(())
        }
    }
}
