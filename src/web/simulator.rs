//! `/simulator`, with the console provider only: a phone on the left where you type as a
//! citizen, the officials' queue on the right, so a newcomer sees the whole loop on one screen.
//! Messages go through the same gateway as real ones; nothing leaves the machine.

use super::error::ApiError;
use crate::sms::{InboundSms, PhoneNumber, Provider};
use crate::store::messages;
use crate::web::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

const DEFAULT_FROM: &str = "+15555550100";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/simulator", get(page).post(send))
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
}

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
    })
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
