use crate::both_backends;

both_backends! {
    async fn healthz_and_readyz_answer_when_the_database_is_up(app) {
        assert_eq!(app.get("/healthz").await, (200, "ok\n".to_owned()));
        assert_eq!(app.get("/readyz").await, (200, "ready\n".to_owned()));
    }

    async fn unknown_routes_are_404(app) {
        assert_eq!(app.get("/nope").await.0, 404);
    }
}

both_backends! {
    async fn metrics_count_messages_replies_and_the_outbox(app) {
        app.text("+14158675309", "POTHOLE deep hole on Main St at 5th").await.reply();
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
}
