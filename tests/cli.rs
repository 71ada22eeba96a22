//! The command line as a first-time user meets it (issue 11): flags in the wrong place are
//! refused rather than ignored, a locked store says what to do, `--server` takes the ways
//! people write an address, and `export --server` asks the running server.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use crate::util::start_binary;

fn tiegraph(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tiegraph"))
        .args(args)
        .current_dir(dir)
        .env_remove("TIEGRAPH_DATA_DIR")
        .env_remove("TIEGRAPH_LISTEN")
        .env_remove("TIEGRAPH_TOKEN")
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serve_flags_before_another_command_are_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.jsonl");
    std::fs::write(
        &file,
        r#"{"type": "entity", "id": "acme", "kind": "COMPANY", "name": "Acme"}"#,
    )
    .unwrap();
    let elsewhere = dir.path().join("elsewhere");
    let output = tiegraph(
        &[
            "--data-dir",
            elsewhere.to_str().unwrap(),
            "import",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("--data-dir must come after the command"),
        "{message}"
    );
    // Nothing was imported anywhere: not into ./data, not into the directory named.
    assert!(!dir.path().join("data").exists());
    assert!(!elsewhere.exists());

    // `health` does not answer for another server than the one it was asked about.
    let output = tiegraph(&["--listen", "127.0.0.1:9", "health"], dir.path());
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--listen must come after the command"));
    let output = tiegraph(&["health", "--listen", "127.0.0.1:9"], dir.path());
    assert!(!output.status.success(), "nothing listens on port 9");

    // After the command, the same flag does what it says.
    let output = tiegraph(
        &[
            "import",
            "--data-dir",
            elsewhere.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(elsewhere.is_dir());
}

#[test]
fn a_store_held_by_a_running_server_says_so_and_points_to_server() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (mut child, address) = start_binary(dir.path(), Arc::clone(&log));
    // The start message names the pages a first-time user wants.
    let started = log.lock().unwrap().clone();
    assert!(
        started.contains(&format!("http://{address}/explorer"))
            && started.contains(&format!("GraphiQL at http://{address}/")),
        "{started}"
    );
    let data = dir.path().to_str().unwrap();
    let output = tiegraph(&["export", "--data-dir", data], dir.path());
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("in use by another process"), "{message}");
    assert!(message.contains("--server"), "{message}");
    assert_eq!(
        message.matches("could not acquire lock").count(),
        0,
        "{message}"
    );

    // The same export through the server, addressed three ways.
    let port = address.rsplit(':').next().unwrap();
    for server in [
        address.clone(),
        format!("localhost:{port}"),
        format!("http://127.0.0.1:{port}/"),
    ] {
        let output = tiegraph(
            &["export", "--server", &server, "--format", "node-link"],
            dir.path(),
        );
        assert!(output.status.success(), "{server}: {}", stderr(&output));
        let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(
            document["nodes"].as_array().unwrap().len() >= 12,
            "{server}"
        );
    }
    let output = tiegraph(&["export", "--server", "https://127.0.0.1:1"], dir.path());
    assert!(stderr(&output).contains("plain HTTP"));
    let _ = child.kill();
    let _ = child.wait();
}
