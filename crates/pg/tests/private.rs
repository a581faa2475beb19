//! The private server as `scripts/test` uses it: started in a folder given relative to the
//! working directory, left running, then stopped by naming the same folder.

use std::path::PathBuf;

use duban_pg::{Options, PrivatePostgres};

#[tokio::test]
async fn a_server_left_running_is_stopped_by_its_relative_folder() {
    let dir = PathBuf::from("../../target").join(format!("pg-stop-test-{}", std::process::id()));
    let options = Options {
        ephemeral: true,
        keep_running: true,
    };
    let server = PrivatePostgres::start(&dir, &options)
        .await
        .expect("a private server (PostgreSQL binaries are on this machine)");
    drop(server);
    assert!(
        PrivatePostgres::stop_in(&dir).expect("stop"),
        "the running server is found and stopped"
    );
    assert!(
        !PrivatePostgres::stop_in(&dir).expect("stop again"),
        "nothing runs there any more"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
