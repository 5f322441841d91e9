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
