//! For local trials with the console provider only: what the console "sent" to a number, so
//! `civicline simulate` can print officials' replies and notices that leave through the outbox.
//! The route does not exist with a real provider.

use super::error::ApiError;
use crate::sms::PhoneNumber;
use crate::store::messages::{self, ConsoleMessage};
use crate::web::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/console/messages", get(sent_to))
}

#[derive(Deserialize)]
struct SentQuery {
    to: String,
    #[serde(default)]
    after: i64,
}

async fn sent_to(
    State(state): State<AppState>,
    Query(query): Query<SentQuery>,
) -> Result<Json<Vec<ConsoleMessage>>, ApiError> {
    let phone = PhoneNumber::parse(&query.to, Some(&state.default_region))
        .map_err(ApiError::bad_request)?;
    Ok(Json(
        messages::console_sent(state.gateway.store(), phone.e164(), query.after).await?,
    ))
}
