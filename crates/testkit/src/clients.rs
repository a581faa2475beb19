//! Running the client suites written against other gRPC stacks (tests/grpcio, tests/grpcjs):
//! set-up commands that must succeed, and suites whose output is the test's evidence.

use std::{process::Stdio, time::Duration};

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
