//! What the operator sees at start.

use crate::helpers::{Backend, Options, TestDb, settings_for, spawn_app_with, twilio_form, new_sid};
use civicline::startup::Application;

#[tokio::test]
async fn twilio_provider_without_an_auth_token_refuses_to_start() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let settings = settings_for(&db, &Options { auth_token: None, provider: "twilio" });
    let error = Application::build(settings).await.err().expect("refuses to start");
    assert!(error.to_string().contains("auth_token"), "{error}");
}

#[tokio::test]
async fn console_provider_without_a_token_accepts_unsigned_webhooks() {
    let app = spawn_app_with(Backend::Sqlite, Options { auth_token: None, provider: "console" }).await.unwrap();
    let form = twilio_form(&new_sid(), "+14158675309", "POTHOLE local trial");
    let answer = app.post_raw(form.encode().into_bytes(), None).await;
    assert!(answer.reply().contains("Report #1"));
}

#[tokio::test]
async fn console_provider_with_a_token_still_verifies() {
    let app = spawn_app_with(Backend::Sqlite, Options { auth_token: Some(crate::helpers::AUTH_TOKEN), provider: "console" })
        .await
        .unwrap();
    let form = twilio_form(&new_sid(), "+14158675309", "POTHOLE unsigned");
    assert_eq!(app.post_raw(form.encode().into_bytes(), None).await.status, 403);
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
