//! The README's first experience: `civicline simulate` texts a running server and prints replies.

use crate::helpers::{AUTH_TOKEN, Backend, PUBLIC_URL, spawn_app};
use std::io::Write;
use std::process::{Child, Command, Stdio};

/// `civicline simulate --url <address> <args>`, signing as the test app expects, fed `stdin`.
fn spawn_simulate(address: &str, args: &[&str], stdin: &[u8]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_civicline"))
        .args(["simulate", "--url", address])
        .args(args)
        .env("CIVICLINE_TWILIO__AUTH_TOKEN", AUTH_TOKEN)
        .env("CIVICLINE_SERVER__PUBLIC_URL", PUBLIC_URL)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("civicline binary runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_texts_the_server_signed_and_prints_each_reply() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        let stdin = b"POTHOLE deep hole on Main St at 5th\n\nSTATUS 1\nSTOP\nHELP\n";
        spawn_simulate(&address, &[], stdin)
            .wait_with_output()
            .unwrap()
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
        app.text_value("select number_key from citizen")
            .await
            .as_deref(),
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

/// With the console provider, what officials send later (through the outbox) reaches the
/// simulated phone too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_prints_messages_that_come_later_through_the_outbox() {
    use crate::helpers::{Options, spawn_app_with};
    let options = Options {
        auth_token: Some(AUTH_TOKEN),
        provider: "console",
        env: Vec::new(),
        ..Options::default()
    };
    let app = spawn_app_with(Backend::Sqlite, options).await.unwrap();
    let address = app.address.clone();
    let phone = tokio::task::spawn_blocking(move || {
        spawn_simulate(&address, &["--wait", "4"], b"POTHOLE on Elm St at Oak\n")
    })
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    // An official answers report #1: the message goes through the outbox to the console.
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    let now = civicline::store::now_ms();
    let mut tx = store.begin().await.unwrap();
    let from = civicline::sms::PhoneNumber::parse("+15555550100", None).unwrap();
    let citizen =
        civicline::store::citizens::find_or_create(&mut tx, store.seal(), &from, "p", now)
            .await
            .unwrap();
    let official = civicline::store::messages::NewOutbound {
        citizen_id: citizen.citizen_id,
        issue_id: Some(1),
        provider: civicline::sms::Provider::Console,
        in_reply_to: None,
        body: "A crew fills the pothole on Elm tomorrow morning.",
        status: "queued",
        now,
    };
    civicline::store::outbox::queue(&mut tx, official, civicline::store::outbox::Kind::Official)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let output = tokio::task::spawn_blocking(move || phone.wait_with_output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "Thanks! Report #1 (Pothole) is logged. Text STATUS 1 for updates.",
            "A crew fills the pothole on Elm tomorrow morning."
        ]
    );
    app.wait_outbox_empty().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_ussd_walks_the_menus_and_files_the_report_in_a_trial() {
    use crate::helpers::{Options, spawn_app_with};
    // The console trial: no Africa's Talking account, so the menus come from /console/ussd.
    let options = Options {
        auth_token: None,
        provider: "console",
        ..Options::default()
    };
    let app = spawn_app_with(Backend::Sqlite, options).await.unwrap();
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        let stdin = b"1\n42\n1\nElm St and 2nd\n1\n";
        spawn_simulate(&address, &["--ussd", "*384*12#"], stdin)
            .wait_with_output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("City line\n1 Report a problem"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Not a choice.\nWhat is the problem?"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Pothole: Elm St and 2nd\n1 Send"),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with("Thanks! Report #1 (Pothole) is logged. We will text you when it changes."),
        "{stdout}"
    );
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
    // The trial's route is not there with a real provider.
    let real = crate::helpers::spawn_app(Backend::Sqlite).await.unwrap();
    let status = real
        .client
        .post(format!("{}/console/ussd", real.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("sessionId=s&serviceCode=*1%23&phoneNumber=%2B15555550100&text=")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
}
