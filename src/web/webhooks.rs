//! Provider webhooks: verify, decode, hand to the gateway (or record a delivery status), answer
//! in the provider's format. Refused requests store nothing.
//!
//! Closed by default: a provider's routes are in the router only when that provider's secret is
//! configured ([`Inbound`]); without it they answer 404 like any unknown path. The one exception
//! is the console trial without a Twilio token, whose `/sms/twilio` takes unsigned requests and
//! says so at start.

use super::error::ApiError;
use crate::config::{Secret, Settings};
use crate::gateway::delivery_status::StatusReport;
use crate::providers::form::Form;
use crate::providers::{africastalking, smsgate, twilio, ussd};
use crate::sms::Provider;
use crate::web::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use std::sync::Arc;

/// How each provider's webhooks are verified; a provider with `None` has no routes at all.
#[derive(Clone, Default)]
pub struct Inbound {
    pub twilio: Option<TwilioAuth>,
    /// The secret in Africa's Talking callback URLs (`africastalking.webhook_token`).
    pub africastalking: Option<Arc<Secret>>,
    /// The phone app's webhook signing key (`smsgate.webhook_key`) and the skew allowed.
    pub smsgate: Option<SmsgateAuth>,
}

#[derive(Clone)]
pub struct SmsgateAuth {
    pub key: Arc<Secret>,
    pub max_skew_secs: i64,
}

/// How `/sms/twilio` and its status callbacks are verified.
#[derive(Clone)]
pub enum TwilioAuth {
    /// `X-Twilio-Signature` with this auth token, always when one is configured.
    Signed(Arc<Secret>),
    /// Console provider, no token: a local trial, accepted unsigned (said at start).
    UnsignedTrial,
}

impl Inbound {
    /// The routes that exist for what `settings` configures (see the module's comment).
    pub fn from_settings(settings: &Settings) -> Result<Inbound, String> {
        let provider = settings.provider()?;
        let secret = |s: &Option<Secret>| s.clone().filter(|t| !t.expose().is_empty());
        let twilio = match (secret(&settings.twilio.auth_token), provider) {
            (Some(token), _) => Some(TwilioAuth::Signed(Arc::new(token))),
            (None, Provider::Console) => Some(TwilioAuth::UnsignedTrial),
            (None, Provider::Twilio) => {
                return Err("sms.provider is twilio but twilio.auth_token is not set: \
                     refusing to accept unsigned webhooks"
                    .into());
            }
            (None, _) => None,
        };
        let africastalking = secret(&settings.africastalking.webhook_token).map(Arc::new);
        if provider == Provider::AfricasTalking && africastalking.is_none() {
            return Err(
                "sms.provider is africastalking but africastalking.webhook_token is \
                 not set: refusing to accept unauthenticated callbacks"
                    .into(),
            );
        }
        let smsgate = secret(&settings.smsgate.webhook_key).map(|key| SmsgateAuth {
            key: Arc::new(key),
            max_skew_secs: i64::try_from(settings.smsgate.max_skew_secs).unwrap_or(i64::MAX),
        });
        if provider == Provider::Smsgate && smsgate.is_none() {
            return Err(
                "sms.provider is smsgate but smsgate.webhook_key is not set: refusing to \
                 accept unsigned webhooks"
                    .into(),
            );
        }
        Ok(Inbound {
            twilio,
            africastalking,
            smsgate,
        })
    }

    /// The paths of the webhook routes that exist, for the log at start.
    pub fn paths(&self) -> Vec<&'static str> {
        let mut paths = Vec::new();
        if self.twilio.is_some() {
            paths.extend(["/sms/twilio", "/sms/twilio/status"]);
        }
        if self.africastalking.is_some() {
            paths.extend([
                "/sms/africastalking",
                "/sms/africastalking/delivery",
                "/ussd/africastalking",
                "/ussd/africastalking/end",
            ]);
        }
        if self.smsgate.is_some() {
            paths.push("/sms/smsgate");
        }
        paths
    }
}

pub fn router(inbound: &Inbound) -> Router<AppState> {
    let mut router = Router::new();
    if inbound.twilio.is_some() {
        router = router
            .route("/sms/twilio", post(twilio_inbound))
            .route("/sms/twilio/status", post(twilio_status));
    }
    if inbound.africastalking.is_some() {
        router = router
            .route("/sms/africastalking", post(africastalking_inbound))
            .route(
                "/sms/africastalking/delivery",
                post(africastalking_delivery),
            )
            // USSD works whatever the SMS provider is, as long as the token is set.
            .route("/ussd/africastalking", post(africastalking_ussd))
            .route("/ussd/africastalking/end", post(africastalking_ussd_end));
    }
    if inbound.smsgate.is_some() {
        router = router.route("/sms/smsgate", post(smsgate_webhook));
    }
    router
}

/// Decodes a Twilio webhook's form and, when an auth token is configured, checks its
/// `X-Twilio-Signature` over `server.public_url` + the path and query as received. Without a
/// token (console provider only) requests are accepted unsigned for local trials.
/// <https://www.twilio.com/docs/usage/webhooks/webhooks-security>
fn verified_twilio_form(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Form, ApiError> {
    let token = match &state.inbound.twilio {
        Some(TwilioAuth::Signed(token)) => token,
        Some(TwilioAuth::UnsignedTrial) => return Form::parse(body).map_err(ApiError::bad_request),
        // The route does not exist then; refuse all the same should it ever be reached.
        None => return Err(ApiError::Forbidden),
    };
    let signature = headers
        .get(twilio::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Forbidden)?;
    let form = Form::parse(body).map_err(ApiError::bad_request)?;
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let url = format!("{}{}", state.public_url, path_and_query);
    if !twilio::verify(token.expose(), &url, form.pairs(), signature) {
        return Err(ApiError::Forbidden);
    }
    Ok(form)
}

/// Twilio's incoming-message webhook; the reply rides back as TwiML.
/// <https://www.twilio.com/docs/messaging/guides/webhook-request>
#[tracing::instrument(name = "webhook.twilio", skip_all)]
async fn twilio_inbound(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let started = std::time::Instant::now();
    let form = verified_twilio_form(&state, &uri, &headers, &body)?;
    let sms =
        twilio::parse_inbound(&form, Some(&state.default_region)).map_err(ApiError::bad_request)?;
    let received = state.gateway.receive(sms).await?;
    let callback = received
        .reply_message_id
        .filter(|_| matches!(state.inbound.twilio, Some(TwilioAuth::Signed(_))))
        .map(|id| twilio::status_callback_url(&state.public_url, id));
    let twiml = twilio::twiml(received.reply.as_deref(), callback.as_deref());
    metrics::histogram!("civicline_webhook_seconds", "provider" => "twilio")
        .record(started.elapsed().as_secs_f64());
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], twiml))
}

#[derive(Deserialize)]
struct StatusQuery {
    message_id: Option<i64>,
}

/// Twilio's message status callback, signed like the inbound webhook.
/// <https://www.twilio.com/docs/messaging/guides/track-outbound-message-status>
#[tracing::instrument(name = "webhook.twilio_status", skip_all)]
async fn twilio_status(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let form = verified_twilio_form(&state, &uri, &headers, &body)?;
    let query: StatusQuery = Query::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|_| ApiError::BadRequest("message_id must be a number".into()))?;
    let callback = twilio::parse_status_callback(&form).map_err(ApiError::bad_request)?;
    let payload = form.encode();
    let report = StatusReport {
        provider: Provider::Twilio,
        message_id: query.message_id,
        provider_message_id: Some(&callback.message_sid),
        status: &callback.status,
        error_code: callback.error_code.as_deref(),
        payload: &payload,
    };
    state.gateway.record_delivery(report).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Africa's Talking callbacks carry our secret token in the URL (they are not signed).
fn check_africastalking_token(state: &AppState, uri: &Uri) -> Result<(), ApiError> {
    let Some(expected) = &state.inbound.africastalking else {
        return Err(ApiError::Forbidden);
    };
    let given = Query::<TokenQuery>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.token);
    if expected.matches(given.as_deref()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// An Africa's Talking callback's form, once its token is checked.
fn africastalking_form(state: &AppState, uri: &Uri, body: &[u8]) -> Result<Form, ApiError> {
    check_africastalking_token(state, uri)?;
    Form::parse(body).map_err(ApiError::bad_request)
}

/// Africa's Talking incoming message. Its replies cannot ride on the response: they go on the
/// outbox. <https://developers.africastalking.com/docs/sms/notifications>
#[tracing::instrument(name = "webhook.africastalking", skip_all)]
async fn africastalking_inbound(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let started = std::time::Instant::now();
    let form = africastalking_form(&state, &uri, &body)?;
    let sms = africastalking::parse_inbound(&form, Some(&state.default_region))
        .map_err(ApiError::bad_request)?;
    state.gateway.receive(sms).await?;
    metrics::histogram!("civicline_webhook_seconds", "provider" => "africastalking")
        .record(started.elapsed().as_secs_f64());
    Ok(StatusCode::OK)
}

/// Africa's Talking delivery report.
#[tracing::instrument(name = "webhook.africastalking_delivery", skip_all)]
async fn africastalking_delivery(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let form = africastalking_form(&state, &uri, &body)?;
    let report = africastalking::parse_delivery_report(&form).map_err(ApiError::bad_request)?;
    let payload = form.encode();
    let report = StatusReport {
        provider: Provider::AfricasTalking,
        message_id: None,
        provider_message_id: Some(&report.provider_message_id),
        status: &report.status,
        error_code: report.failure_reason.as_deref(),
        payload: &payload,
    };
    state.gateway.record_delivery(report).await?;
    Ok(StatusCode::OK)
}

/// An Africa's Talking USSD session request, answered `CON …` or `END …` in plain text.
/// <https://developers.africastalking.com/docs/ussd/overview>
#[tracing::instrument(name = "webhook.africastalking_ussd", skip_all)]
async fn africastalking_ussd(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    check_africastalking_token(&state, &uri)?;
    // A request the network relays always gets a screen: anything else is shown to the caller
    // as a system error. A form we cannot read ends the session with an apology, storing nothing.
    let session = Form::parse(&body)
        .map_err(|e| e.to_string())
        .and_then(|form| {
            ussd::parse_session(&form, Some(&state.default_region)).map_err(|e| e.to_string())
        });
    let screen = match session {
        Ok(session) => ussd_screen(&state, &session).await,
        Err(error) => {
            tracing::warn!(%error, "ussd: a session request we cannot read; the session ends");
            metrics::counter!("civicline_ussd_unreadable_total").increment(1);
            ussd::Screen::end(ussd::UNREADABLE)
        }
    };
    metrics::histogram!("civicline_webhook_seconds", "provider" => "africastalking_ussd")
        .record(started.elapsed().as_secs_f64());
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        screen.body(),
    )
        .into_response())
}

/// The screen for one request of a USSD session; a store that refuses ends the session with a
/// plain apology (the network shows an error screen for anything but CON or END).
pub async fn ussd_screen(state: &AppState, session: &ussd::Session) -> ussd::Screen {
    let request = crate::gateway::ussd::UssdRequest {
        session_id: &session.session_id,
        service_code: &session.service_code,
        phone: &session.phone,
        inputs: &session.inputs,
    };
    match state.gateway.ussd(request).await {
        Ok(screen) => ussd::Screen {
            text: screen.text,
            end: screen.end,
        },
        Err(error) => {
            tracing::warn!(%error, "ussd: the store refused; the session ends");
            ussd::Screen::end(ussd::UNAVAILABLE)
        }
    }
}

/// Africa's Talking's end-of-session notification: counted by status (a session that ended
/// before "Send" filed nothing, so there is nothing to undo).
#[tracing::instrument(name = "webhook.africastalking_ussd_end", skip_all)]
async fn africastalking_ussd_end(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let form = africastalking_form(&state, &uri, &body)?;
    let status = match form.get("status") {
        Some("Success") => "success",
        Some("Incomplete") => "incomplete",
        Some("Failed") => "failed",
        Some(_) => "other",
        None => return Err(ApiError::BadRequest("missing form field status".into())),
    };
    tracing::info!(
        status,
        session = form.get("sessionId").unwrap_or_default(),
        "ussd session ended"
    );
    metrics::counter!("civicline_ussd_sessions_ended_total", "status" => status).increment(1);
    Ok(StatusCode::OK)
}

/// SMS Gateway for Android's webhooks, one route for every event: verified by `X-Signature`
/// and a fresh `X-Timestamp` before anything is read; an incoming SMS goes through the gateway
/// (its reply through the outbox and the phone), a status moves our message forward, anything
/// else is acknowledged (a non-2xx would have the app retry for two days).
/// <https://docs.sms-gate.app/features/webhooks/>
#[tracing::instrument(name = "webhook.smsgate", skip_all)]
async fn smsgate_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let started = std::time::Instant::now();
    let Some(auth) = &state.inbound.smsgate else {
        return Err(ApiError::Forbidden);
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = crate::store::now_ms() / 1000;
    smsgate::verify(
        auth.key.expose(),
        &body,
        header(smsgate::TIMESTAMP_HEADER),
        header(smsgate::SIGNATURE_HEADER),
        now,
        auth.max_skew_secs,
    )
    .map_err(|error| {
        tracing::warn!(%error, "smsgate: webhook refused");
        ApiError::Forbidden
    })?;
    let event = smsgate::parse_webhook(&body, auth.key.expose(), Some(&state.default_region))
        .map_err(ApiError::bad_request)?;
    match event {
        smsgate::Event::Received(sms) => {
            state.gateway.receive(sms).await?;
            metrics::histogram!("civicline_webhook_seconds", "provider" => "smsgate")
                .record(started.elapsed().as_secs_f64());
        }
        smsgate::Event::Status(status) => {
            let report = StatusReport {
                provider: Provider::Smsgate,
                message_id: None,
                provider_message_id: Some(&status.provider_message_id),
                status: status.status,
                error_code: status.reason.as_deref(),
                payload: &status.payload,
            };
            state.gateway.record_delivery(report).await?;
        }
        smsgate::Event::Other(event) => {
            tracing::debug!(%event, "smsgate: event acknowledged, nothing to do");
            metrics::counter!("civicline_smsgate_events_ignored_total").increment(1);
        }
    }
    Ok(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration's name, its variables, and the routes it opens or the words refusing it.
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        Result<&'static [&'static str], &'static str>,
    );

    #[test]
    fn a_provider_without_its_secret_refuses_to_start_and_a_secret_opens_its_routes_only() {
        let cases: [Case; 6] = [
            (
                "the console trial",
                &[],
                Ok(&["/sms/twilio", "/sms/twilio/status"]),
            ),
            (
                "twilio without its token",
                &[("CIVICLINE_SMS__PROVIDER", "twilio")],
                Err("twilio.auth_token is not set"),
            ),
            (
                "africastalking without its token",
                &[("CIVICLINE_SMS__PROVIDER", "africastalking")],
                Err("africastalking.webhook_token is not set"),
            ),
            (
                "smsgate without its signing key",
                &[("CIVICLINE_SMS__PROVIDER", "smsgate")],
                Err("smsgate.webhook_key is not set"),
            ),
            (
                "smsgate with its signing key",
                &[
                    ("CIVICLINE_SMS__PROVIDER", "smsgate"),
                    ("CIVICLINE_SMSGATE__WEBHOOK_KEY", "k"),
                ],
                Ok(&["/sms/smsgate"]),
            ),
            (
                "smsgate with an empty key",
                &[
                    ("CIVICLINE_SMS__PROVIDER", "smsgate"),
                    ("CIVICLINE_SMSGATE__WEBHOOK_KEY", ""),
                ],
                Err("smsgate.webhook_key is not set"),
            ),
        ];
        for (label, pairs, want) in cases {
            let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
            let settings = Settings::from_env_pairs(pairs).unwrap();
            match (Inbound::from_settings(&settings), want) {
                (Ok(inbound), Ok(paths)) => assert_eq!(inbound.paths(), paths, "{label}"),
                (Err(error), Err(words)) => assert!(error.contains(words), "{label}: {error}"),
                (got, _) => panic!("{label}: {:?}", got.map(|i| i.paths())),
            }
        }
    }
}
