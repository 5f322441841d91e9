//! The README's first experience: `civicline simulate` texts a running server and prints replies.

use crate::helpers::{AUTH_TOKEN, Backend, PUBLIC_URL, spawn_app};
use std::io::Write;
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_texts_the_server_signed_and_prints_each_reply() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_civicline"))
            .args(["simulate", "--url", &address])
            .env("CIVICLINE_TWILIO__AUTH_TOKEN", AUTH_TOKEN)
            .env("CIVICLINE_SERVER__PUBLIC_URL", PUBLIC_URL)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("civicline binary runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"POTHOLE deep hole on Main St at 5th\n\nSTATUS 1\nSTOP\nHELP\n")
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(
        lines[0],
        "Thanks! Report #1 (Pothole) is logged. Text STATUS 1 for updates."
    );
    assert!(
        lines[1].starts_with("Report #1 (Pothole): received"),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("unsubscribed"), "{}", lines[2]);
    assert_eq!(lines[3], "(no reply)");
    // The default citizen number is the one DESIGN.md names.
    assert_eq!(
        app.text_value("select phone from citizen").await.as_deref(),
        Some("+15555550100")
    );
}

#[tokio::test]
async fn simulate_says_when_no_server_is_listening() {
    let output = Command::new(env!("CARGO_BIN_EXE_civicline"))
        .args(["simulate", "--url", "http://127.0.0.1:9"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"HELP\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is `civicline serve` running?"));
}
