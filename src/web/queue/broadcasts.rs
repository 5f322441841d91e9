//! `/broadcasts` (admins): an alert to a topic's subscribers, per language, with the recipient
//! count and segment cost shown before anything is sent, and a report of past broadcasts.

use super::auth::Signed;
use super::view;
use crate::gateway::catalog::DEFAULT_LANGUAGE;
use crate::store::broadcasts;
use crate::web::AppState;
use crate::web::error::ApiError;
use crate::web::params::Params;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

pub struct TextField {
    pub language: String,
    pub name: String,
    pub value: String,
}

pub struct ReportView {
    pub broadcast_id: i64,
    pub topic: String,
    pub when: String,
    pub recipients: i64,
    pub waiting: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "broadcasts.html")]
pub struct BroadcastsPage {
    pub official: String,
    /// Always true: only admins reach this page; the nav shows the link.
    pub admin: bool,
    pub topics: Vec<view::Choice>,
    pub texts: Vec<TextField>,
    pub preview: view::CostPreview,
    pub previewed: bool,
    pub error: String,
    pub reports: Vec<ReportView>,
}

fn forbidden() -> Response {
    super::refusal(
        StatusCode::FORBIDDEN,
        "Only admins send broadcasts",
        "Ask an admin to send this alert.",
    )
}

async fn render(
    state: &AppState,
    official: String,
    form: &Params,
    preview: bool,
    error: &str,
) -> Result<BroadcastsPage, ApiError> {
    let catalog = state.gateway.catalog();
    let field = |name: &str| form.get(name).unwrap_or_default();
    let topic = field("topic");
    let mut languages: Vec<&str> = catalog.languages().collect();
    languages.sort_by_key(|l| *l != DEFAULT_LANGUAGE);
    let texts: Vec<TextField> = languages
        .iter()
        .map(|l| TextField {
            language: (*l).to_owned(),
            name: format!("text_{l}"),
            value: field(&format!("text_{l}")),
        })
        .collect();
    let mut page = BroadcastsPage {
        official,
        admin: true,
        topics: view::choices(
            None,
            catalog
                .topics()
                .iter()
                .map(|t| (t.code.as_str(), t.name.as_str())),
            &topic,
        ),
        preview: view::CostPreview::default(),
        previewed: false,
        error: error.to_owned(),
        reports: broadcasts::reports(state.gateway.store(), 20)
            .await?
            .into_iter()
            .map(|r| ReportView {
                broadcast_id: r.broadcast_id,
                topic: r.topic,
                when: view::when(r.created_at),
                recipients: r.recipients,
                waiting: r.waiting,
                sent: r.sent,
                delivered: r.delivered,
                failed: r.failed,
            })
            .collect(),
        texts,
    };
    if preview && !topic.is_empty() {
        let default = page
            .texts
            .first()
            .map(|t| t.value.clone())
            .unwrap_or_default();
        for (language, recipients) in broadcasts::audience(state.gateway.store(), &topic).await? {
            let own = page
                .texts
                .iter()
                .find(|t| t.language == language)
                .map(|t| t.value.clone())
                .unwrap_or_default();
            let fallback = own.is_empty();
            let text = if fallback { default.clone() } else { own };
            page.preview.add(language, recipients, &text, fallback);
        }
        page.previewed = true;
    }
    Ok(page)
}

pub async fn page(
    State(state): State<AppState>,
    Signed(official): Signed,
) -> Result<Response, ApiError> {
    if !official.is_admin() {
        return Ok(forbidden());
    }
    Ok(
        render(&state, official.email, &Params::default(), false, "")
            .await?
            .into_response(),
    )
}

/// `action=preview` shows who would get what at which cost; `action=send` queues it.
pub async fn submit(
    State(state): State<AppState>,
    Signed(official): Signed,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if !official.is_admin() {
        return Ok(forbidden());
    }
    let form = Params::from(form);
    let field = |name: &str| form.get(name).unwrap_or_default();
    let topic = field("topic");
    let known_topic = state
        .gateway
        .catalog()
        .topics()
        .iter()
        .any(|t| t.code == topic);
    let default_text = field(&format!("text_{DEFAULT_LANGUAGE}"));
    let problem = if !known_topic {
        "Choose a topic."
    } else if default_text.is_empty() {
        "Write the message in the default language (it goes to everyone without a text in theirs)."
    } else if default_text.chars().count() > 1600 {
        "A message can be at most 1600 characters."
    } else {
        ""
    };
    if field("action") != "send" || !problem.is_empty() {
        return Ok(
            render(&state, official.email, &form, problem.is_empty(), problem)
                .await?
                .into_response(),
        );
    }
    let mut texts = vec![(DEFAULT_LANGUAGE.to_owned(), default_text)];
    for language in state
        .gateway
        .catalog()
        .languages()
        .filter(|l| *l != DEFAULT_LANGUAGE)
    {
        let text = field(&format!("text_{language}"));
        if !text.is_empty() {
            texts.push((language.to_owned(), text));
        }
    }
    let (id, queued) = state
        .gateway
        .broadcast(&topic, official.official_id, &texts)
        .await?;
    tracing::info!(broadcast_id = id, queued, topic = %topic, "broadcast queued");
    Ok(Redirect::to("/broadcasts").into_response())
}
