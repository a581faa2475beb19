//! A private PostgreSQL server in a data folder of ours, started with pg_ctl from the machine's
//! binaries.

use std::{
    ffi::OsStr,
    fs,
    os::unix::{
        fs::{PermissionsExt, chown},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Command, Output},
};

use anyhow::{Context, bail};
use nix::unistd::{Gid, Uid, User};

use crate::Options;

const SUPERUSER: &str = "duban";
const PORT_FILE: &str = "duban.port";
const INSTALL_HINT: &str = "no PostgreSQL server binaries (initdb, pg_ctl) were found on PATH or under \
/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install postgresql`; Fedora: \
`dnf install postgresql-server`; macOS: `brew install postgresql`) or set DATABASE_URL to an \
existing server";

pub struct PrivatePostgres {
    data: PathBuf,
    bin: PathBuf,
    port: u16,
    run_as: Option<(Uid, Gid)>,
    stop_on_drop: bool,
    ephemeral: bool,
}

impl PrivatePostgres {
    /// Starts (or adopts, when it is already running) the server whose data lives in
    /// `root/pg`, initialising the folder on first use.
    pub async fn start(root: &Path, options: &Options) -> anyhow::Result<Self> {
        let bin = find_binaries().context(INSTALL_HINT)?;
        let run_as = unprivileged_user()?;
        fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        let root = root.canonicalize()?;
        let data = data_dir(&root, run_as.is_some())?;
        if let Some((uid, gid)) = run_as {
            if !data.exists() {
                fs::create_dir(&data)?;
            }
            chown(&data, Some(uid.as_raw()), Some(gid.as_raw()))?;
            fs::set_permissions(&data, fs::Permissions::from_mode(0o700))?;
        }
        let mut server = Self {
            data,
            bin,
            port: 0,
            run_as,
            stop_on_drop: !options.keep_running,
            ephemeral: options.ephemeral,
        };
        if !server.data.join("PG_VERSION").exists() {
            server.initdb()?;
        }
        if server.running() {
            server.port = fs::read_to_string(server.data.join(PORT_FILE))
                .ok()
                .and_then(|p| p.trim().parse().ok())
                .context("a server is running in the data folder but its port file is missing")?;
            // Someone else started it; it is theirs to stop.
            server.stop_on_drop = false;
            tracing::info!(
                port = server.port,
                "adopting the private PostgreSQL already running"
            );
        } else {
            server.port = free_port()?;
            server.launch()?;
        }
        crate::ensure_database(&server.url("postgres"), crate::DATABASE_NAME).await?;
        Ok(server)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// Stops the server now (fast shutdown: open sessions are ended, data is kept).
    pub fn stop(&self) -> anyhow::Result<()> {
        let out = self.run(
            "pg_ctl",
            ["stop", "-D", self.data_str(), "-m", "fast", "-w"],
        )?;
        if !out.status.success() {
            bail!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Stops the server recorded in `root/pg`, if one runs there: `duban db stop`.
    pub fn stop_in(root: &Path) -> anyhow::Result<bool> {
        let bin = find_binaries().context(INSTALL_HINT)?;
        // The server's commands run from "/" when we are root: the folder must be absolute.
        let Ok(root) = root.canonicalize() else {
            return Ok(false);
        };
        let run_as = unprivileged_user()?;
        let server = Self {
            data: data_dir(&root, run_as.is_some())?,
            bin,
            port: 0,
            run_as,
            stop_on_drop: false,
            ephemeral: false,
        };
        if !server.running() {
            return Ok(false);
        }
        server.stop()?;
        Ok(true)
    }

    fn data_str(&self) -> &str {
        self.data.to_str().unwrap_or_default()
    }

    fn initdb(&self) -> anyhow::Result<()> {
        let out = self.run(
            "initdb",
            [
                "-D",
                self.data_str(),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        )?;
        if !out.status.success() {
            bail!(
                "initdb failed in {}: {}",
                self.data.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn running(&self) -> bool {
        self.data.join("postmaster.pid").exists()
            && self
                .run("pg_ctl", ["status", "-D", self.data_str()])
                .is_ok_and(|o| o.status.success())
    }

    /// Starts the server again on its port after [`stop`](Self::stop).
    pub fn restart(&self) -> anyhow::Result<()> {
        self.launch()
    }

    fn launch(&self) -> anyhow::Result<()> {
        let mut settings = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300",
            self.port
        );
        if self.ephemeral {
            settings.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = self.data.join("server.log");
        let out = self.run(
            "pg_ctl",
            [
                "start",
                "-D",
                self.data_str(),
                "-w",
                "-t",
                "60",
                "-l",
                log.to_str().unwrap_or_default(),
                "-o",
                &settings,
            ],
        )?;
        if !out.status.success() {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            bail!(
                "pg_ctl start failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                tail.lines().rev().take(10).collect::<Vec<_>>().join("\n")
            );
        }
        fs::write(self.data.join(PORT_FILE), self.port.to_string())?;
        tracing::info!(port = self.port, data = %self.data.display(), "private PostgreSQL started");
        Ok(())
    }

    fn run<I, S>(&self, program: &str, args: I) -> anyhow::Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(self.bin.join(program));
        command.args(args).env("LC_ALL", "C").env_remove("PGDATA");
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid.as_raw()).gid(gid.as_raw()).current_dir("/");
        }
        command
            .output()
            .with_context(|| format!("running {}", self.bin.join(program).display()))
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.stop_on_drop
            && let Err(err) = self.stop()
        {
            eprintln!("stopping the private PostgreSQL: {err:#}");
        }
    }
}

/// The folder holding initdb and pg_ctl: PATH first, else the newest /usr/lib/postgresql/N/bin.
fn find_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let version = entry.file_name().to_str()?.parse().ok()?;
                let bin = entry.path().join("bin");
                (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
                    .then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

/// When we are root, the user the server runs as: DUBAN_PG_USER, else "nobody".
fn unprivileged_user() -> anyhow::Result<Option<(Uid, Gid)>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let name = std::env::var("DUBAN_PG_USER").unwrap_or_else(|_| "nobody".to_string());
    let user = User::from_name(&name)?
        .with_context(|| format!("running as root, PostgreSQL needs an unprivileged user, and user {name:?} does not exist (set DUBAN_PG_USER)"))?;
    Ok(Some((user.uid, user.gid)))
}

/// The server's data folder: `root/pg`, unless the unprivileged server user cannot walk down
/// to `root` (a clone in a private folder such as `mktemp -d` makes); then a folder of ours under
/// the system's temporary directory, named after `root` so the same checkout finds it again.
fn data_dir(root: &Path, unprivileged: bool) -> anyhow::Result<PathBuf> {
    let reachable = root
        .ancestors()
        .all(|a| fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
    if !unprivileged || reachable {
        return Ok(root.join("pg"));
    }
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut hasher);
    let fallback = std::env::temp_dir().join(format!("duban-pg-{:016x}", hasher.finish()));
    tracing::info!(
        "{} is not reachable by the PostgreSQL user; keeping its data in {}",
        root.display(),
        fallback.display()
    );
    fs::create_dir_all(&fallback)?;
    fs::set_permissions(&fallback, fs::Permissions::from_mode(0o755))?;
    Ok(fallback.join("pg"))
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
