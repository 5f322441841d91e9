//! Liveness and readiness for load balancers and orchestrators.

use crate::web::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up and serving HTTP.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers: send traffic here.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.gateway.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(error) => {
            tracing::warn!(%error, "not ready: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}

/// Prometheus text format. The outbox gauges are read from the database now, so every replica
/// reports the shared queue. With `server.metrics_token` set, only its bearer may read.
async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> (
    StatusCode,
    [(axum::http::HeaderName, &'static str); 1],
    String,
) {
    let content_type = [(
        axum::http::header::CONTENT_TYPE,
        "text/plain; version=0.0.4",
    )];
    if let Some(expected) = &state.metrics_token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !expected.matches(given) {
            return (
                StatusCode::UNAUTHORIZED,
                content_type,
                "metrics need the bearer token (server.metrics_token)\n".to_owned(),
            );
        }
    }
    let store = state.gateway.store();
    match crate::store::outbox::depth(store, crate::store::now_ms()).await {
        Ok((depth, oldest_ms)) => {
            metrics::gauge!("civicline_outbox_depth").set(depth as f64);
            metrics::gauge!("civicline_outbox_oldest_seconds").set(oldest_ms as f64 / 1000.0);
        }
        Err(error) => tracing::warn!(%error, "metrics: outbox depth unavailable"),
    }
    (
        StatusCode::OK,
        content_type,
        crate::metrics::handle().render(),
    )
}
