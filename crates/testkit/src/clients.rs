//! Running the client suites written against other gRPC stacks (tests/grpcio, tests/grpcjs):
//! set-up commands that must succeed, and suites whose output is the test's evidence.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

/// Makes `home` by `install` (a virtual environment, a package folder) when it was not made
/// from these `pins` (a requirements or lock file's text) before: a marker in it keeps the pins
/// it was made from, so a changed pin makes it again and an unchanged one costs nothing.
pub fn installed_once(home: &Path, pins: &str, install: impl FnOnce(&Path)) {
    let marker = home.join(".installed-from");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(pins) {
        return;
    }
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home).unwrap_or_else(|e| panic!("{}: {e}", home.display()));
    install(home);
    std::fs::write(&marker, pins).unwrap_or_else(|e| panic!("{}: {e}", marker.display()));
}

/// The Python of the virtual environment made from tests/grpcio/requirements.txt (grpcio and
/// the other packages from PyPI the suites use) under `tmp`, the test's CARGO_TARGET_TMPDIR.
pub fn grpcio_python(tmp: &Path) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/grpcio");
    let requirements = dir.join("requirements.txt");
    let pins = std::fs::read_to_string(&requirements)
        .unwrap_or_else(|e| panic!("{}: {e}", requirements.display()));
    let venv = tmp.join("grpcio-venv");
    let interpreter = venv.join("bin/python");
    installed_once(&venv, &pins, |venv| {
        run(
            std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(venv),
            "python3 -m venv",
        );
        run(
            std::process::Command::new(&interpreter)
                .args(["-m", "pip", "install", "--quiet", "-r"])
                .arg(&requirements),
            "pip install -r tests/grpcio/requirements.txt",
        );
    });
    interpreter
}

/// Runs a set-up command (a package install, a stub generator); panics with its output when
/// it fails.
pub fn run(command: &mut std::process::Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a client suite to its end (at most five minutes): its output, printed for the test's
/// log, or a panic with its output and errors when a check failed.
pub async fn suite(mut command: tokio::process::Command, what: &str) -> String {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 300 s"))
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
