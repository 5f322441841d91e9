//! Provider webhooks: verify, decode, hand to the gateway, answer in the provider's format.

use super::error::ApiError;
use crate::providers::form::Form;
use crate::providers::twilio;
use crate::startup::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::post;

pub fn router() -> Router<AppState> {
    Router::new().route("/sms/twilio", post(twilio_inbound))
}

/// Twilio's incoming-message webhook.
/// <https://www.twilio.com/docs/messaging/guides/webhook-request>
///
/// With an auth token configured every request must carry a valid `X-Twilio-Signature` over
/// `server.public_url` + the path and query as received; without one (console provider only)
/// requests are accepted unsigned for local trials.
#[tracing::instrument(name = "webhook.twilio", skip_all)]
async fn twilio_inbound(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let signature = match &state.twilio_auth_token {
        Some(_) => Some(
            headers
                .get(twilio::SIGNATURE_HEADER)
                .and_then(|v| v.to_str().ok())
                .ok_or(ApiError::Forbidden)?,
        ),
        None => None,
    };
    let form = Form::parse(&body).map_err(ApiError::bad_request)?;
    if let (Some(token), Some(signature)) = (&state.twilio_auth_token, signature) {
        let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
        let url = format!("{}{}", state.public_url, path_and_query);
        if !twilio::verify(token.expose(), &url, form.pairs(), signature) {
            return Err(ApiError::Forbidden);
        }
    }
    let sms =
        twilio::parse_inbound(&form, Some(&state.default_region)).map_err(ApiError::bad_request)?;
    let received = state.gateway.receive(&sms).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        twilio::twiml(received.reply.as_deref()),
    ))
}
