//! What the operator sees at start.

use crate::helpers::{
    Backend, Options, TestDb, new_sid, settings_for, spawn_app_with, twilio_form,
};
use civicline::startup::Application;

#[tokio::test]
async fn twilio_provider_without_an_auth_token_refuses_to_start() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let settings = settings_for(
        &db,
        &Options {
            auth_token: None,
            provider: "twilio",
            env: Vec::new(),
            ..Options::default()
        },
    );
    let error = Application::build(settings)
        .await
        .err()
        .expect("refuses to start");
    assert!(error.to_string().contains("auth_token"), "{error}");
}

#[tokio::test]
async fn console_provider_without_a_token_accepts_unsigned_webhooks() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            auth_token: None,
            provider: "console",
            env: Vec::new(),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let form = twilio_form(&new_sid(), "+14158675309", "POTHOLE local trial");
    let answer = app.post_raw(form.encode().into_bytes(), None).await;
    assert!(answer.reply().contains("Report #1"));
}

#[tokio::test]
async fn console_provider_with_a_token_still_verifies() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            auth_token: Some(crate::helpers::AUTH_TOKEN),
            provider: "console",
            env: Vec::new(),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let form = twilio_form(&new_sid(), "+14158675309", "POTHOLE unsigned");
    assert_eq!(
        app.post_raw(form.encode().into_bytes(), None).await.status,
        403
    );
}

#[tokio::test]
async fn migrations_applied_twice_change_nothing() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let url = civicline::config::DatabaseUrl::new(db.url());
    let store = civicline::store::Store::connect(&url, 1).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

/// The operator's view: the real binary serves, answers /healthz, and exits cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_and_stops_cleanly_on_sigterm() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_civicline"))
        .env("CIVICLINE_SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("CIVICLINE_DATABASE__URL", db.url())
        .env("CIVICLINE_SERVER__SHUTDOWN_GRACE_SECS", "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("civicline starts");
    let client = civicline::providers::http_client();
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            healthy = response.status().is_success();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(healthy, "the server answered /healthz");

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || {
        for _ in 0..100 {
            if child.try_wait().unwrap().is_some() {
                return child.wait_with_output().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        panic!("civicline did not stop within 5 s of SIGTERM");
    })
    .await
    .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit status {:?}: {log}",
        output.status
    );
    assert!(
        log.contains("UNSIGNED"),
        "the console provider's warning is shown at start: {log}"
    );
    assert!(log.contains("stopped"), "{log}");
}

/// An operator finds civicline's sessions in `pg_stat_activity` by name: `civicline` unless the
/// URL sets `application_name` (as the tests do, one name per test's schema).
#[tokio::test]
async fn postgres_sessions_are_named_civicline_unless_the_url_names_them() {
    use civicline::config::DatabaseUrl;
    use civicline::store::Store;
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let TestDb::Postgres { admin_url, schema } = &db else {
        unreachable!("a Postgres database")
    };
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let unnamed = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::connect(&DatabaseUrl::new(unnamed), 1).await.unwrap();
    store.ping().await.unwrap();
    let named = Store::connect(&DatabaseUrl::new(db.url()), 1)
        .await
        .unwrap();
    named.ping().await.unwrap();
    let pool = sqlx::PgPool::connect(admin_url).await.unwrap();
    let count = |name: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from pg_stat_activity where application_name = $1",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert!(count("civicline".to_owned()).await >= 1, "the default name");
    assert_eq!(count(schema.clone()).await, 1, "the URL's name");
    store.close().await;
    named.close().await;
}
