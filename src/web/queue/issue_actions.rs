//! What officials do with an issue, each form a gateway operation: reply by SMS (through the
//! outbox), change its status (the citizen gets a notice), assign it, note something internal
//! (never sent), merge it into another report or split a supporter off, hide its description from open data. Each answers
//! with a redirect to the issue's page, a refusal by its `?error=` code (`issue::page` says it).

use super::auth::Acting;
use super::{not_found, view};
use crate::gateway::ActionError;
use crate::web::AppState;
use crate::web::error::ApiError;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

fn back(id: i64, error: Option<&str>) -> Response {
    let to = match error {
        Some(code) => format!("/issues/{id}?error={code}"),
        None => format!("/issues/{id}"),
    };
    Redirect::to(&to).into_response()
}

#[derive(Deserialize)]
pub struct ReplyForm {
    body: String,
}

pub async fn reply(
    State(state): State<AppState>,
    Acting(official): Acting,
    Path(id): Path<i64>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, ApiError> {
    match state
        .gateway
        .official_reply(id, &official.actor(), &form.body)
        .await
    {
        Ok(_) => Ok(back(id, None)),
        Err(error) => refused(id, error),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn status(
    State(state): State<AppState>,
    Acting(official): Acting,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, ApiError> {
    if !view::STATUSES.iter().any(|(s, _)| *s == form.status) {
        return Ok(back(id, Some("status")));
    }
    match state
        .gateway
        .change_status(id, &form.status, &official.actor(), &form.note)
        .await
    {
        Ok(Some(_)) => Ok(back(id, None)),
        Ok(None) => Ok(not_found()),
        Err(error) => refused(id, error),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    /// An official's id, or 0 for nobody.
    official_id: i64,
}

pub async fn assign(
    State(state): State<AppState>,
    Acting(official): Acting,
    Path(id): Path<i64>,
    Form(form): Form<AssignForm>,
) -> Result<Response, ApiError> {
    let assignee = (form.official_id != 0).then_some(form.official_id);
    match state.gateway.assign(id, assignee, &official.actor()).await {
        Ok(()) => Ok(back(id, None)),
        Err(ActionError::NoOfficial) => Ok(super::refusal(
            StatusCode::BAD_REQUEST,
            "No such official",
            "Choose someone from the list.",
        )),
        Err(other) => refused(id, other),
    }
}

/// The answer to a refused action: a missing issue is a 404 page, a store that failed a 503.
fn refused(id: i64, error: ActionError) -> Result<Response, ApiError> {
    match error {
        ActionError::NoIssue => Ok(not_found()),
        ActionError::NotADuplicate => Ok(back(id, Some("duplicate"))),
        ActionError::MergeClosed => Ok(back(id, Some("merge_closed"))),
        ActionError::NotASupporter => Ok(back(id, Some("not_a_supporter"))),
        ActionError::NoteTooLong => Ok(back(id, Some("note_too_long"))),
        ActionError::OptedOut => Ok(back(id, Some("opted_out"))),
        ActionError::Empty => Ok(back(id, Some("empty"))),
        ActionError::TooLong => Ok(back(id, Some("too_long"))),
        ActionError::NoCitizen => Ok(back(id, Some("no_citizen"))),
        other => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct NoteForm {
    body: String,
}

/// An internal note: in the trail, never sent.
pub async fn note(
    State(state): State<AppState>,
    Acting(official): Acting,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> Result<Response, ApiError> {
    match state.gateway.note(id, &official.actor(), &form.body).await {
        Ok(()) => Ok(back(id, None)),
        Err(error) => refused(id, error),
    }
}

#[derive(Deserialize)]
pub struct MergeForm {
    /// The report this one is merged into (`of` on the older "duplicate" form).
    #[serde(alias = "of")]
    into: i64,
}

/// Merges this report into another open one, with all its citizens (`/merge`; `/duplicate` is
/// its older name): they become the other's supporters and hear its number; this one closes
/// as a duplicate.
pub async fn merge(
    State(state): State<AppState>,
    Acting(official): Acting,
    Path(id): Path<i64>,
    Form(form): Form<MergeForm>,
) -> Result<Response, ApiError> {
    match state.gateway.merge(id, form.into, &official.actor()).await {
        Ok(_) => Ok(back(id, None)),
        Err(error) => refused(id, error),
    }
}

#[derive(Deserialize)]
pub struct SplitForm {
    /// The supporter who reported something else.
    citizen_id: i64,
}

/// Splits a supporter off into a report of their own; the page of the new report opens.
pub async fn split(
    State(state): State<AppState>,
    Acting(official): Acting,
    Path(id): Path<i64>,
    Form(form): Form<SplitForm>,
) -> Result<Response, ApiError> {
    match state
        .gateway
        .split(id, form.citizen_id, &official.actor())
        .await
    {
        Ok(new) => Ok(back(new, None)),
        Err(error) => refused(id, error),
    }
}

#[derive(Deserialize)]
pub struct HideForm {
    /// 1 hides the description from open data, 0 publishes it again.
    hidden: i64,
}

/// Keeps what a citizen wrote out of public output (Open311, exports); the issue stays counted.
pub async fn hide(
    State(state): State<AppState>,
    Acting(official): Acting,
    Path(id): Path<i64>,
    Form(form): Form<HideForm>,
) -> Result<Response, ApiError> {
    match state
        .gateway
        .set_hidden(id, form.hidden == 1, &official.actor())
        .await
    {
        Ok(()) => Ok(back(id, None)),
        Err(error) => refused(id, error),
    }
}
