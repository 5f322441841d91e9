//! `/simulator`, with the console provider only: a phone on the left where you type as a
//! citizen, the officials' queue on the right, so a newcomer sees the whole loop on one screen.
//! Messages go through the same gateway as real ones; nothing leaves the machine. Beside the
//! phone, a USSD keypad dials the menus a basic phone would show (`/simulator/ussd`).

use super::error::ApiError;
use crate::sms::{InboundSms, PhoneNumber, Provider};
use crate::store::messages;
use crate::web::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

const DEFAULT_FROM: &str = "+15555550100";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/simulator", get(page).post(send))
        .route("/simulator/ussd", post(ussd))
        .layer(tower_http::csrf::CsrfLayer::new())
}

pub struct Bubble {
    pub inbound: bool,
    pub body: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "simulator.html")]
pub struct SimulatorPage {
    pub from: String,
    pub bubbles: Vec<Bubble>,
    /// The USSD keypad's session, once a code is dialled.
    pub ussd: Option<UssdView>,
    pub service_code: &'static str,
}

/// What the keypad shows: the screen, and the session it belongs to.
pub struct UssdView {
    pub session: String,
    /// Every input so far, joined by `*` as the network sends it.
    pub text: String,
    pub screen: String,
    pub ended: bool,
}

/// The code the keypad dials (any code reaches the same menus).
const SERVICE_CODE: &str = "*384*12#";

#[derive(Deserialize)]
pub struct PhoneQuery {
    from: Option<String>,
}

fn phone(raw: Option<&str>, region: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(
        raw.filter(|f| !f.trim().is_empty()).unwrap_or(DEFAULT_FROM),
        Some(region),
    )
    .map_err(ApiError::bad_request)
}

async fn page(
    State(state): State<AppState>,
    Query(query): Query<PhoneQuery>,
) -> Result<SimulatorPage, ApiError> {
    let from = phone(query.from.as_deref(), &state.default_region)?;
    simulator_page(&state, &from, None).await
}

async fn simulator_page(
    state: &AppState,
    from: &PhoneNumber,
    ussd: Option<UssdView>,
) -> Result<SimulatorPage, ApiError> {
    let bubbles = messages::conversation(state.gateway.store(), from.e164(), 50)
        .await?
        .into_iter()
        .map(|m| Bubble {
            inbound: m.direction == "in",
            body: m.body,
        })
        .collect();
    Ok(SimulatorPage {
        from: from.e164().to_owned(),
        bubbles,
        ussd,
        service_code: SERVICE_CODE,
    })
}

#[derive(Deserialize)]
pub struct KeyForm {
    from: String,
    /// Empty when dialling: a new session.
    #[serde(default)]
    session: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    input: String,
}

/// One step of the keypad: dial (no session yet) or answer the screen. The page is the
/// answer, not a redirect: the screen is the session's state, and sending the same step again
/// (a reload) meets the same session and files nothing twice.
async fn ussd(
    State(state): State<AppState>,
    Form(form): Form<KeyForm>,
) -> Result<SimulatorPage, ApiError> {
    let from = phone(Some(&form.from), &state.default_region)?;
    let (session, text) = match form.session.is_empty() {
        true => (
            format!("SIMUSSD{:016x}", rand::random::<u64>()),
            String::new(),
        ),
        false if form.text.is_empty() => (form.session, form.input.trim().to_owned()),
        false => (form.session, format!("{}*{}", form.text, form.input.trim())),
    };
    let request = crate::providers::ussd::Session {
        session_id: session.clone(),
        service_code: SERVICE_CODE.to_owned(),
        phone: from.clone(),
        inputs: crate::providers::ussd::inputs(&text),
    };
    let screen = super::webhooks::ussd_screen(&state, &request).await;
    let view = UssdView {
        session,
        text,
        screen: screen.text,
        ended: screen.end,
    };
    simulator_page(&state, &from, Some(view)).await
}

#[derive(Deserialize)]
pub struct SendForm {
    from: String,
    body: String,
}

async fn send(
    State(state): State<AppState>,
    Form(form): Form<SendForm>,
) -> Result<Response, ApiError> {
    let from = phone(Some(&form.from), &state.default_region)?;
    let sid = format!("SIM{:032x}", rand::random::<u128>());
    let sms = InboundSms::new(
        Provider::Console,
        sid,
        from.clone(),
        "simulator".to_owned(),
        form.body,
    );
    state.gateway.receive(sms).await?;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("from", from.e164())
        .finish();
    Ok(Redirect::to(&format!("/simulator?{query}")).into_response())
}
