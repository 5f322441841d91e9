use crate::both_backends;
use crate::helpers::{Backend, Options, TestApp, spawn_app_with};

both_backends!(
    healthz_and_readyz_answer_when_the_database_is_up,
    unknown_routes_are_404
);

async fn healthz_and_readyz_answer_when_the_database_is_up(app: TestApp) {
    assert_eq!(app.get("/healthz").await, (200, "ok\n".to_owned()));
    assert_eq!(app.get("/readyz").await, (200, "ready\n".to_owned()));
}

async fn unknown_routes_are_404(app: TestApp) {
    assert_eq!(app.get("/nope").await.0, 404);
}

both_backends!(metrics_count_messages_replies_and_the_outbox);

async fn metrics_count_messages_replies_and_the_outbox(app: TestApp) {
    app.text("+14158675309", "POTHOLE deep hole on Main St at 5th")
        .await
        .reply();
    let (status, text) = app.get("/metrics").await;
    assert_eq!(status, 200);
    for needle in [
        "civicline_inbound_messages_total{provider=\"twilio\",command=\"report\"}",
        "civicline_replies_total{path=\"inline\"}",
        "civicline_outbox_depth ",
        "civicline_outbox_oldest_seconds ",
        "civicline_webhook_seconds_bucket{provider=\"twilio\",le=\"0.01\"}",
    ] {
        assert!(text.contains(needle), "/metrics lacks {needle}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_with_a_token_answer_only_its_bearer() {
    let options = Options {
        env: vec![(
            "CIVICLINE_SERVER__METRICS_TOKEN",
            "scrape-s3cret".to_owned(),
        )],
        ..Options::default()
    };
    let app = spawn_app_with(Backend::Sqlite, options).await.unwrap();
    let scrape = |auth: Option<&'static str>| {
        let mut request = app.client.get(format!("{}/metrics", app.address));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    for refused in [
        None,
        Some("Bearer wrong"),
        Some("Bearer "),
        Some("scrape-s3cret"),
    ] {
        let (status, body) = scrape(refused).await;
        assert_eq!(status, 401, "{refused:?}");
        assert!(
            !body.contains("civicline_"),
            "{refused:?} read the metrics: {body}"
        );
    }
    let (status, body) = scrape(Some("Bearer scrape-s3cret")).await;
    assert_eq!(status, 200);
    assert!(body.contains("civicline_outbox_depth "), "{body}");
    // The other public routes are unaffected.
    assert_eq!(app.get("/healthz").await.0, 200);
}
