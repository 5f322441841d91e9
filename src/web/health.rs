//! Liveness and readiness for load balancers and orchestrators.

use crate::startup::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
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
