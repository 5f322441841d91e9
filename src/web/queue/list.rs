//! `/queue`: issues waiting for an official, oldest first, with filters and keyset pages.

use super::auth::Signed;
use super::view;
use crate::store::queue::{self, Filter};
use crate::web::AppState;
use crate::web::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    status: Option<String>,
    category: Option<String>,
    language: Option<String>,
    /// `mine` or `unassigned`.
    assignee: Option<String>,
    q: Option<String>,
    /// `created_at.issue_id` of the last row of the previous page.
    after: Option<String>,
}

pub struct RowView {
    pub issue_id: i64,
    pub category: String,
    pub description: String,
    pub location: String,
    pub status: String,
    pub status_label: String,
    pub language: String,
    pub assignee: String,
    pub waiting: String,
    pub last_message: String,
    pub answered: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "queue.html")]
pub struct QueuePage {
    pub official: String,
    pub admin: bool,
    pub rows: Vec<RowView>,
    pub counts: Vec<(String, String, i64)>,
    pub unassigned: i64,
    pub mine: i64,
    pub statuses: Vec<view::Choice>,
    pub categories: Vec<view::Choice>,
    pub languages: Vec<view::Choice>,
    pub assignees: Vec<view::Choice>,
    pub q: String,
    pub next: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[tracing::instrument(name = "web.queue", skip_all)]
pub async fn queue(
    State(state): State<AppState>,
    Signed(official): Signed,
    Query(query): Query<QueueQuery>,
) -> Result<QueuePage, ApiError> {
    let store = state.gateway.store();
    let catalog = state.gateway.catalog();
    let assignee = match query.assignee.as_deref() {
        Some("mine") => Some(Some(official.official_id)),
        Some("unassigned") => Some(None),
        _ => None,
    };
    let after = query.after.as_deref().and_then(|a| {
        let (time, id) = a.split_once('.')?;
        Some((time.parse().ok()?, id.parse().ok()?))
    });
    let filter = Filter {
        status: non_empty(query.status.clone()),
        service_code: non_empty(query.category.clone()),
        language: non_empty(query.language.clone()),
        assignee,
        search: non_empty(query.q.clone()),
        after,
        limit: PAGE + 1,
    };
    let mut rows = queue::page(store, &filter).await?;
    let next = (rows.len() as i64 > PAGE).then(|| {
        rows.truncate(PAGE as usize);
        let last = rows.last().expect("a full page has a last row");
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("status", &query.status),
            ("category", &query.category),
            ("language", &query.language),
            ("assignee", &query.assignee),
            ("q", &query.q),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                params.append_pair(key, value);
            }
        }
        params.append_pair("after", &format!("{}.{}", last.created_at, last.issue_id));
        format!("/queue?{}", params.finish())
    });
    let now = crate::store::now_ms();
    let rows = rows
        .into_iter()
        .map(|r| RowView {
            issue_id: r.issue_id,
            category: r
                .service_code
                .as_deref()
                .and_then(|c| catalog.category_by_code(c))
                .map_or_else(|| "Uncategorized".to_owned(), |c| c.name.clone()),
            description: r.description,
            location: r.location.unwrap_or_default(),
            status_label: view::status_label(&r.status).to_owned(),
            status: r.status,
            language: r.language,
            assignee: r.assignee_email.unwrap_or_default(),
            waiting: view::age(r.created_at, now),
            last_message: r.last_message.unwrap_or_default(),
            answered: r.first_response_at.is_some(),
        })
        .collect();
    let counts = queue::counts_by_status(store)
        .await?
        .into_iter()
        .map(|(status, n)| (view::status_label(&status).to_owned(), status, n))
        .collect();
    let (unassigned, mine) = queue::counts_by_assignee(store, official.official_id).await?;
    // Each choice says how many open issues it would show.
    let (by_category, by_language) = queue::open_counts(store).await?;
    let open_in = |code: &str| {
        by_category
            .iter()
            .find(|(c, _)| c.as_deref() == Some(code))
            .map_or(0, |(_, n)| *n)
    };
    let category_labels: Vec<(String, String)> = catalog
        .categories()
        .iter()
        .map(|c| {
            (
                c.service_code.clone(),
                format!("{} ({})", c.name, open_in(&c.service_code)),
            )
        })
        .collect();
    let language_labels: Vec<(String, String)> = catalog
        .languages()
        .map(|l| {
            (
                l.to_owned(),
                format!(
                    "{l} ({})",
                    by_language
                        .iter()
                        .find(|(x, _)| x == l)
                        .map_or(0, |(_, n)| *n)
                ),
            )
        })
        .collect();
    Ok(QueuePage {
        admin: official.is_admin(),
        official: official.email,
        rows,
        counts,
        unassigned,
        mine,
        statuses: view::choices(
            Some("Every open status"),
            view::STATUSES.iter().copied(),
            query.status.as_deref().unwrap_or(""),
        ),
        categories: view::choices(
            Some("Every category"),
            category_labels
                .iter()
                .map(|(code, label)| (code.as_str(), label.as_str())),
            query.category.as_deref().unwrap_or(""),
        ),
        languages: view::choices(
            Some("Every language"),
            language_labels
                .iter()
                .map(|(code, label)| (code.as_str(), label.as_str())),
            query.language.as_deref().unwrap_or(""),
        ),
        assignees: view::choices(
            Some("Anyone"),
            [("mine", "Assigned to me"), ("unassigned", "Unassigned")],
            query.assignee.as_deref().unwrap_or(""),
        ),
        q: query.q.unwrap_or_default(),
        next,
    })
}
