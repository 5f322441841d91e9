//! Crash safety: the server is killed with SIGKILL in the middle of a burst, three times, and
//! restarted on the same database. Every message it acknowledged (HTTP 200) must be stored, and
//! none twice. And the database's side of it: Postgres ending the server's sessions mid-burst.

use crate::helpers::{AUTH_TOKEN, Backend, PUBLIC_URL, TestDb, new_sid, twilio_form};
use civicline::providers::form::Form;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A server process, killed when dropped: a test that fails leaves none running.
struct Server(Child);

impl std::ops::Deref for Server {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(db: &TestDb, port: u16) -> Server {
    start_with(Command::new(env!("CARGO_BIN_EXE_civicline")), db, port)
}

/// Starts `command` (civicline, or a shell that becomes civicline) serving `db` on `port`.
fn start_with(mut command: Command, db: &TestDb, port: u16) -> Server {
    let child = command
        .env("CIVICLINE_SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("CIVICLINE_SERVER__PUBLIC_URL", PUBLIC_URL)
        .env("CIVICLINE_DATABASE__URL", db.url())
        .env("CIVICLINE_TWILIO__AUTH_TOKEN", AUTH_TOKEN)
        .env("CIVICLINE_GATEWAY__FLOOD_PER_MINUTE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("civicline starts");
    Server(child)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_up(client: &reqwest::Client, port: u16) {
    crate::helpers::eventually("the server is up", || async {
        client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok()
    })
    .await;
}

/// Delivers a webhook as Twilio does, signed; the status it was answered with.
async fn deliver(client: &reqwest::Client, port: u16, form: &Form) -> reqwest::Result<u16> {
    let response = client
        .post(format!("http://127.0.0.1:{port}/sms/twilio"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", crate::helpers::sign(form))
        .body(form.encode())
        .send()
        .await?;
    Ok(response.status().as_u16())
}

/// How many times each MessageSid is stored.
async fn stored_sids(db: &TestDb) -> std::collections::HashMap<String, i64> {
    const SQL: &str = "select provider_message_id, count(*) from message where direction = 'in' group by provider_message_id";
    let stored: Vec<(String, i64)> = match db {
        TestDb::Sqlite { .. } => sqlx::query_as(SQL)
            .fetch_all(&sqlx::SqlitePool::connect(&db.url()).await.unwrap())
            .await
            .unwrap(),
        TestDb::Postgres { .. } => sqlx::query_as(SQL)
            .fetch_all(&sqlx::PgPool::connect(&db.url()).await.unwrap())
            .await
            .unwrap(),
    };
    stored.into_iter().collect()
}

async fn crash_three_times(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let port = free_port();
    let client = civicline::providers::http_client();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..3 {
        let mut server = start(&db, port);
        wait_up(&client, port).await;
        // Sixteen senders texting as fast as they can until the server dies under them.
        let mut senders = Vec::new();
        for sender in 0..16 {
            let (client, acknowledged) = (client.clone(), acknowledged.clone());
            senders.push(tokio::spawn(async move {
                for n in 0.. {
                    let form = twilio_form(
                        &new_sid(),
                        &format!("+1415{:03}{:04}", 100 + round * 16 + sender, n % 10_000),
                        "POTHOLE on Main St",
                    );
                    match deliver(&client, port, &form).await {
                        Ok(200) => {
                            acknowledged
                                .lock()
                                .unwrap()
                                .push(form.get("MessageSid").unwrap().to_owned());
                        }
                        Ok(status) => panic!("unexpected answer {status}"),
                        Err(_) => return, // the server is gone
                    }
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        server.kill().unwrap(); // SIGKILL: no shutdown, no flush
        server.wait().unwrap();
        for sender in senders {
            sender.await.unwrap();
        }
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 100,
        "the bursts got going: {} acknowledged",
        acknowledged.len()
    );
    eprintln!(
        "{} messages acknowledged across three crashes",
        acknowledged.len()
    );
    let stored = stored_sids(&db).await;
    for sid in &acknowledged {
        assert_eq!(
            stored.get(sid),
            Some(&1),
            "acknowledged message {sid} must be stored exactly once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_message_is_lost_or_doubled_when_the_server_is_killed_sqlite() {
    crash_three_times(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_message_is_lost_or_doubled_when_the_server_is_killed_postgres() {
    crash_three_times(Backend::Postgres).await;
}

/// Committed messages reach the SQLite database file itself within a second, without waiting for
/// the WAL to fill to the writer's checkpoint mark (16,384 pages, far beyond this test): the
/// background checkpointer copies them, so the WAL stays short and a copy of the `.db` file
/// alone is recent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_messages_reach_the_sqlite_file_without_the_wal_filling() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await.unwrap();
    let url = app.settings.database.url.expose().to_owned();
    let path = url.trim_start_matches("sqlite://").to_owned();
    let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let before = size();
    for i in 0..50 {
        let text = format!("POTHOLE number {i} on Main St {}", "x".repeat(400));
        let answer = app.text(&format!("+1415555{:04}", 1000 + i), &text).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while size() <= before && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        size() > before,
        "50 reports of 400 bytes are committed but the database file is still {before} bytes"
    );
}

/// Postgres ends every session of the server, five times in a burst (a failover, a restart, an
/// operator's `pg_terminate_backend`): webhooks caught in a batch are answered 503, so the
/// provider delivers them again, and none that was answered 200 is lost; the server carries on
/// on new connections, and a message delivered again after a lost commit is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_ended_by_postgres_mid_burst_lose_and_double_nothing() {
    use futures_util::StreamExt;
    let Some(app) = crate::helpers::spawn_app(Backend::Postgres).await else {
        return;
    };
    let forms: Vec<_> = (0..800)
        .map(|i| {
            let from = format!("+1415{:07}", 6_000_000 + i % 400);
            twilio_form(&new_sid(), &from, &format!("POTHOLE number {i} on Main St"))
        })
        .collect();
    let sending = std::sync::atomic::AtomicBool::new(true);
    let app = &app;
    let burst = futures_util::stream::iter(&forms)
        .map(|form| async move { (form, app.post_signed(form).await.status) })
        .buffer_unordered(32)
        .collect::<Vec<_>>();
    let burst = async {
        let answers = burst.await;
        sending.store(false, std::sync::atomic::Ordering::SeqCst);
        answers
    };
    let schema = app
        .text_value("select current_setting('application_name')")
        .await;
    let end_sessions = format!(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity \
         where application_name = '{}' and pid <> pg_backend_pid()",
        schema.unwrap()
    );
    let faults = async {
        let mut ended = Vec::new();
        while ended.len() < 5 && sending.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            ended.push(app.scalar(&end_sessions).await);
        }
        ended
    };
    let (answers, ended) = tokio::join!(burst, faults);
    assert_eq!(ended.len(), 5, "the burst outlasted the faults: {ended:?}");
    let refused: Vec<_> = answers
        .iter()
        .filter(|(_, status)| *status != 200)
        .map(|(form, status)| {
            assert_eq!(*status, 503, "a lost connection asks for the message again");
            *form
        })
        .collect();
    eprintln!(
        "sessions ended {ended:?}: {} of {} webhooks answered 503",
        refused.len(),
        forms.len()
    );
    // The provider delivers the refused ones again, and (as after a timeout) some answered ones.
    for form in refused.iter().copied().chain(forms.iter().step_by(50)) {
        let answer = app.post_signed(form).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.reply().contains('#'), "{}", answer.body);
    }
    let stored = app
        .scalar("select count(distinct provider_message_id) from message where direction = 'in'")
        .await;
    assert_eq!(stored, 800);
    for (table, n) in [
        ("message where direction = 'in'", 800),
        ("message where direction = 'out'", 800),
        ("issue", 800),
    ] {
        assert_eq!(
            app.scalar(&format!("select count(*) from {table}")).await,
            n,
            "{table}"
        );
    }
}

/// The disk fills under the SQLite server: a file-size limit on its process (`ulimit -S -f`, with
/// SIGXFSZ ignored) makes its writes fail as they do on a full disk. Messages it cannot store
/// are answered 503 (unacknowledged: the provider can deliver them again), never 200; what it
/// acknowledged stays; it keeps running, and when space comes back (the limit lifted on the
/// running process) it stores again, the refused messages too, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_new_messages_keeps_the_rest_and_recovers_without_a_restart() {
    use futures_util::StreamExt;
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let port = free_port();
    let mut shell = Command::new("bash");
    shell.args([
        "-c",
        "trap '' XFSZ; ulimit -S -f 4096; exec \"$0\"",
        env!("CARGO_BIN_EXE_civicline"),
    ]);
    let mut server = start_with(shell, &db, port);
    let client = civicline::providers::http_client();
    wait_up(&client, port).await;
    // An official, written by this process (its files have no limit).
    let url = civicline::config::DatabaseUrl::new(db.url());
    let password = crate::helpers::add_official(&url, "agent@city.example", "agent").await;
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    let mut sent = 0;
    while refused.len() < 20 {
        assert!(sent < 30_000, "4 MiB never filled");
        let forms: Vec<Form> = (sent..sent + 16)
            .map(|n| {
                let from = format!("+1415{:07}", 7_000_000 + n % 1000);
                twilio_form(&new_sid(), &from, &format!("POTHOLE number {n} on Main St"))
            })
            .collect();
        sent += forms.len();
        let answers: Vec<_> = futures_util::stream::iter(forms)
            .map(|form| async {
                let status = deliver(&client, port, &form).await.unwrap();
                (form, status)
            })
            .buffer_unordered(16)
            .collect()
            .await;
        for (form, status) in answers {
            match status {
                200 => acknowledged.push(form),
                503 => refused.push(form),
                other => panic!("a full disk answered {other}"),
            }
        }
    }
    eprintln!(
        "the disk filled after {} acknowledged messages; {} refused",
        acknowledged.len(),
        refused.len()
    );
    assert!(
        acknowledged.len() > 50,
        "{} acknowledged",
        acknowledged.len()
    );
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server keeps running"
    );
    // Operators see it: every refused message is counted.
    let metrics = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let unstored = format!(
        "civicline_inbound_unstored_total{{provider=\"twilio\"}} {}",
        refused.len()
    );
    assert!(metrics.contains(&unstored), "{unstored} in:\n{metrics}");
    let health = client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let lifted = Command::new("prlimit")
        .args(["--pid", &server.id().to_string(), "--fsize=unlimited"])
        .status()
        .expect("prlimit runs");
    assert!(lifted.success());
    // The provider delivers the refused messages again, and some acknowledged ones (a retry
    // after a timeout): the first are stored now, the others are replays.
    for form in refused.iter().chain(acknowledged.iter().step_by(25)) {
        assert_eq!(deliver(&client, port, form).await.unwrap(), 200);
    }
    // The rest of the server writes again too: an official logs in (a session is stored).
    let login = crate::helpers::browser()
        .post(format!("http://127.0.0.1:{port}/login"))
        .form(&[
            ("email", "agent@city.example"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303, "{}", login.text().await.unwrap());
    server.kill().unwrap();
    server.wait().unwrap();

    let stored = stored_sids(&db).await;
    for form in acknowledged.iter().chain(&refused) {
        let sid = form.get("MessageSid").unwrap();
        assert_eq!(stored.get(sid), Some(&1), "{sid} is stored exactly once");
    }
    assert_eq!(stored.len(), acknowledged.len() + refused.len());
}
