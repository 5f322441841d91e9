//! `/queue/events`: server-sent events telling open queue and issue pages that something
//! changed, so new messages appear without a reload. Pages work without it (and replicas that
//! did not see the change are caught by the next reload).

use super::auth::Signed;
use crate::web::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub async fn events(
    State(state): State<AppState>,
    Signed(_): Signed,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.gateway.changes();
    let stream = futures_util::stream::unfold(changes, |mut changes| async move {
        let data = match changes.recv().await {
            Ok(issue_id) => issue_id.to_string(),
            // Fell behind: tell the page to refresh everything.
            Err(RecvError::Lagged(_)) => "*".to_owned(),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(Event::default().event("issue").data(data)), changes))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}
