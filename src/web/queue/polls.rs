//! `/polls` (admins): ask a topic's subscribers, an area's citizens, or both, a question with 2
//! to 5 options written per language; the recipients and the segment cost of each language's
//! SMS are shown before anything is sent. `/polls/{id}` has the results, `/polls/{id}/answers.csv`
//! every answer without phone numbers.

use super::auth::Signed;
use super::view;
use crate::gateway::catalog::DEFAULT_LANGUAGE;
use crate::gateway::polls::{Draft, DraftText, MAX_DAYS, PollError};
use crate::store::polls;
use crate::web::AppState;
use crate::web::error::ApiError;
use crate::web::params::Params;
use crate::web::poll_results::{self, PollResults};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// The fields of one language: its question and its options, one per line.
pub struct TextFields {
    pub language: String,
    pub question_name: String,
    pub question: String,
    pub options_name: String,
    pub options: String,
}

pub struct PollRow {
    pub poll_id: i64,
    pub question: String,
    pub audience: String,
    pub when: String,
    pub recipients: i64,
    pub answers: i64,
    pub public: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "polls.html")]
pub struct PollsPage {
    pub official: String,
    /// Always true: only admins reach this page; the nav shows the link.
    pub admin: bool,
    pub topics: Vec<view::Choice>,
    pub areas: Vec<view::Choice>,
    pub days: String,
    pub max_days: u32,
    pub public: bool,
    pub texts: Vec<TextFields>,
    /// Each language's SMS as it would be sent.
    pub bodies: Vec<(String, String)>,
    pub preview: view::CostPreview,
    pub previewed: bool,
    pub error: String,
    pub polls: Vec<PollRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "poll.html")]
pub struct PollPage {
    pub official: String,
    pub admin: bool,
    pub r: PollResults,
}

fn forbidden() -> Response {
    super::refusal(
        StatusCode::FORBIDDEN,
        "Only admins ask polls",
        "Ask an admin to send this poll or to show you its results.",
    )
}

/// The draft a form describes.
fn draft(state: &AppState, form: &Params) -> Draft {
    let field = |name: &str| form.get(name);
    Draft {
        topic: field("topic"),
        area: field("area"),
        public: field("public").is_some(),
        days: field("days").and_then(|d| d.parse().ok()).unwrap_or(0),
        texts: languages(state)
            .into_iter()
            .map(|language| DraftText {
                question: field(&format!("question_{language}")).unwrap_or_default(),
                options: field(&format!("options_{language}"))
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect(),
                language,
            })
            .collect(),
    }
}

/// The catalog's languages, the default first.
fn languages(state: &AppState) -> Vec<String> {
    let mut languages: Vec<String> = state
        .gateway
        .catalog()
        .languages()
        .map(str::to_owned)
        .collect();
    languages.sort_by_key(|l| l != DEFAULT_LANGUAGE);
    languages
}

/// The page for `form`; with `preview`, the texts `Gateway::poll_texts` made of it, shown with
/// their recipients and cost.
async fn render(
    state: &AppState,
    official: String,
    form: &Params,
    preview: Option<Vec<polls::PollText>>,
    error: &str,
) -> Result<PollsPage, ApiError> {
    let catalog = state.gateway.catalog();
    let field = |name: &str| form.get(name).unwrap_or_default();
    let places = state.gateway.places();
    let area_names: Vec<&str> = places.areas().map(|(name, _)| name).collect();
    let mut page = PollsPage {
        official,
        admin: true,
        topics: view::choices(
            Some("Any topic"),
            catalog
                .topics()
                .iter()
                .map(|t| (t.code.as_str(), t.name.as_str())),
            &field("topic"),
        ),
        areas: view::choices(
            Some("Any area"),
            area_names.iter().map(|a| (*a, *a)),
            &field("area"),
        ),
        days: form.get("days").unwrap_or_else(|| "3".to_owned()),
        max_days: MAX_DAYS,
        public: form.get("public").is_some(),
        texts: languages(state)
            .into_iter()
            .map(|l| TextFields {
                question_name: format!("question_{l}"),
                question: field(&format!("question_{l}")),
                options_name: format!("options_{l}"),
                options: field(&format!("options_{l}")),
                language: l,
            })
            .collect(),
        bodies: Vec::new(),
        preview: view::CostPreview::default(),
        previewed: false,
        error: error.to_owned(),
        polls: polls::list(state.gateway.store(), false, DEFAULT_LANGUAGE, 20)
            .await?
            .into_iter()
            .map(|p| PollRow {
                audience: [p.topic.as_deref(), p.area.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                poll_id: p.poll_id,
                question: p.question,
                when: view::when(p.created_at),
                recipients: p.recipients,
                answers: p.answers,
                public: p.public != 0,
            })
            .collect(),
    };
    let Some(texts) = preview else {
        return Ok(page);
    };
    let draft = draft(state, form);
    for (language, recipients) in state.gateway.poll_audience(&draft).await? {
        let own = texts.iter().find(|t| t.language == language);
        let text = own.or(texts.first()).map_or("", |t| t.body.as_str());
        page.preview.add(language, recipients, text, own.is_none());
    }
    page.bodies = texts.into_iter().map(|t| (t.language, t.body)).collect();
    page.previewed = true;
    Ok(page)
}

pub async fn page(
    State(state): State<AppState>,
    Signed(official): Signed,
) -> Result<Response, ApiError> {
    if !official.is_admin() {
        return Ok(forbidden());
    }
    let page = render(&state, official.email, &Params::default(), None, "").await?;
    Ok(page.into_response())
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
    let draft = draft(&state, &form);
    let done = match form.get("action").as_deref() {
        Some("send") => state.gateway.ask(&draft, official.official_id).await,
        _ => match state.gateway.poll_texts(&draft) {
            Ok(texts) => {
                let page = render(&state, official.email, &form, Some(texts), "").await?;
                return Ok(page.into_response());
            }
            Err(e) => Err(e),
        },
    };
    match done {
        Ok((poll_id, _)) => Ok(Redirect::to(&format!("/polls/{poll_id}")).into_response()),
        Err(PollError::Store(e)) => Err(e.into()),
        Err(e) => {
            let page = render(&state, official.email, &form, None, &e.to_string()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// The poll an admin asks for, or the page that says no (not an admin, no such poll).
async fn admin_poll(
    state: &AppState,
    official: &crate::store::officials::Official,
    poll_id: i64,
) -> Result<Result<polls::Poll, Response>, ApiError> {
    if !official.is_admin() {
        return Ok(Err(forbidden()));
    }
    let poll = polls::find(state.gateway.store(), poll_id, DEFAULT_LANGUAGE).await?;
    Ok(poll.ok_or_else(no_poll))
}

/// `GET /polls/{id}`: the results, with the "other" answers' words.
pub async fn results(
    State(state): State<AppState>,
    Signed(official): Signed,
    Path(poll_id): Path<i64>,
) -> Result<Response, ApiError> {
    let poll = match admin_poll(&state, &official, poll_id).await? {
        Ok(poll) => poll,
        Err(refusal) => return Ok(refusal),
    };
    let page = PollPage {
        official: official.email,
        admin: true,
        r: poll_results::results(&state, poll, true).await?,
    };
    Ok(page.into_response())
}

/// `GET /polls/{id}/answers.csv`.
pub async fn answers_csv(
    State(state): State<AppState>,
    Signed(official): Signed,
    Path(poll_id): Path<i64>,
) -> Result<Response, ApiError> {
    if let Err(refusal) = admin_poll(&state, &official, poll_id).await? {
        return Ok(refusal);
    }
    poll_results::csv(&state, poll_id).await
}

fn no_poll() -> Response {
    super::refusal(
        StatusCode::NOT_FOUND,
        "No such poll",
        "There is no poll with that number.",
    )
}
