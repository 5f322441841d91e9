//! The web application: what every handler can reach ([`AppState`]) and the router that puts
//! every module's routes behind the shared middleware. The application's life (build, serve,
//! housekeeping, signals) is `startup`'s.

use super::{
    console, dashboard, exports, health, input, open311, queue, reports, simulator, webhooks,
};
use crate::gateway::Gateway;
use crate::secret::Secret;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{Request, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Webhook forms are a few KB; anything past this is refused with 413 before it is read.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What every handler can reach. Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    /// Which providers' webhooks exist, and how each is verified.
    pub inbound: webhooks::Inbound,
    /// `server.public_url`, the base of the URLs providers sign.
    pub public_url: Arc<str>,
    /// Region for numbers that arrive without a country code.
    pub default_region: Arc<str>,
    /// The console provider is configured (local trial): dev-only routes are on.
    pub console: bool,
    /// `server.client_ip_header`: where the login limit reads the client's address.
    pub client_ip_header: Arc<str>,
    /// The rendered dashboard and when it was made; kept `server.dashboard_cache_secs`.
    pub dashboard: Arc<dashboard::Cache>,
    /// `server.metrics_token`: when set, `/metrics` needs it as a bearer token.
    pub metrics_token: Option<Arc<Secret>>,
    /// What public outputs leave out of citizens' words (`privacy.scrub_words` and more).
    pub scrubber: Arc<crate::scrub::Scrubber>,
}

pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let secure_cookies = state.public_url.starts_with("https://");
    let mut pages = Router::new()
        .merge(health::router())
        .merge(open311::router())
        .merge(exports::router())
        .merge(dashboard::router())
        .merge(reports::router())
        .merge(queue::router(state.gateway.store(), secure_cookies));
    if state.console {
        pages = pages.merge(console::router()).merge(simulator::router());
    }
    // Webhooks are signed over their bytes as sent: they apply the NUL rule after verifying.
    let routes = pages
        .layer(axum::middleware::from_fn(input::replace_nul))
        .merge(webhooks::router(&state.inbound));
    routes
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                // The route, not the URI: query strings may carry tokens.
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", MatchedPath::as_str);
                tracing::info_span!("http", method = %request.method(), route)
            }),
        )
}
