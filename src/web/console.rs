//! For local trials with the console provider only: what the console "sent" to a number, so
//! `civicline simulate` can print officials' replies and notices that leave through the outbox.
//! And a USSD session's screens without an Africa's Talking account. The routes do not exist
//! with a real provider.

use super::error::ApiError;
use crate::sms::PhoneNumber;
use crate::store::messages::{self, ConsoleMessage};
use crate::web::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/messages", get(sent_to))
        .route("/console/ussd", post(ussd))
}

/// A USSD session request in Africa's Talking's form, answered as `/ussd/africastalking`
/// answers (`civicline simulate --ussd` walks the menus through it in a trial).
async fn ussd(State(state): State<AppState>, body: Bytes) -> Result<String, ApiError> {
    let form = crate::providers::form::Form::parse(&body).map_err(ApiError::bad_request)?;
    let session = crate::providers::ussd::parse_session(&form, Some(&state.default_region))
        .map_err(ApiError::bad_request)?;
    Ok(super::webhooks::ussd_screen(&state, &session).await.body())
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
