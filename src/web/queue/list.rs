//! `/queue`: issues waiting for an official, overdue first then oldest first, with filters and
//! keyset pages. An official of a department opens on its work (`department=all` for the whole
//! city); Unrouted work has its own filter and count.

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
/// The `department` filter's value for work no department took.
pub const UNROUTED: &str = "_unrouted";
/// The `department` filter's value for every department's work.
pub const ALL: &str = "all";

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    status: Option<String>,
    category: Option<String>,
    language: Option<String>,
    /// `mine` or `unassigned`.
    assignee: Option<String>,
    /// A department's name, [`UNROUTED`], or [`ALL`]; absent: the official's own department.
    department: Option<String>,
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
    pub department: String,
    /// Past its due time and still open.
    pub overdue: bool,
    /// When it is due, for people; empty without a promise.
    pub due: String,
    /// The citizens who reported it ("me too"), the first included.
    pub supporters: i64,
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
    pub departments: Vec<view::Choice>,
    /// Open work no department took, and open work past its due time, in this view's scope.
    pub unrouted: i64,
    pub overdue: i64,
    pub q: String,
    pub next: Option<String>,
    /// Spikes raised within the last window: the banner.
    pub spikes: Vec<crate::gateway::spikes::Alert>,
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
        let mut keys = a.split('.').map(|k| k.parse::<i64>().ok());
        Some((keys.next()??, keys.next()??, keys.next()??))
    });
    // An official of a department opens on its work; any other choice is theirs to make.
    let chosen = match query.department.as_deref().map(str::trim) {
        None | Some("") => official.department.clone(),
        Some(ALL) => None,
        Some(name) => Some(name.to_owned()),
    };
    let department = chosen.as_deref().map(|name| match name {
        UNROUTED => None,
        name => Some(name.to_owned()),
    });
    let now = crate::store::now_ms();
    let filter = Filter {
        status: non_empty(query.status.clone()),
        service_code: non_empty(query.category.clone()),
        language: non_empty(query.language.clone()),
        assignee,
        department,
        search: non_empty(query.q.clone()),
        after,
        now,
        limit: PAGE + 1,
    };
    // The page and every count of the filter bar at once: at a million issues each is a scan
    // of its own (the page about 0.1 s, each count 0.01-0.09 s), so both cores and the readers
    // work on them together instead of one after another (0.27-0.36 s a page before, 0.15-0.17 s
    // after: BENCHMARKS.md).
    let (mut rows, by_status, (unassigned, mine), by_category, by_language, by_department, spikes) =
        futures_util::try_join!(
            queue::page(store, &filter),
            queue::counts_by_status(store),
            queue::counts_by_assignee(store, official.official_id),
            queue::open_by_category(store),
            queue::open_by_language(store),
            queue::open_by_department(store, now),
            state.gateway.current_spikes(now),
        )?;
    let next = (rows.len() as i64 > PAGE).then(|| {
        rows.truncate(PAGE as usize);
        let last = rows.last().expect("a full page has a last row");
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("status", &query.status),
            ("category", &query.category),
            ("language", &query.language),
            ("assignee", &query.assignee),
            ("department", &query.department),
            ("q", &query.q),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                params.append_pair(key, value);
            }
        }
        let after = format!("{}.{}.{}", last.rank, last.created_at, last.issue_id);
        params.append_pair("after", &after);
        format!("/queue?{}", params.finish())
    });
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
            department: r.department.unwrap_or_default(),
            overdue: r.rank == 0,
            due: r.due_at.map(|due| view::due(due, now)).unwrap_or_default(),
            supporters: r.supporters,
        })
        .collect();
    let counts = by_status
        .into_iter()
        .map(|(status, n)| (view::status_label(&status).to_owned(), status, n))
        .collect();
    // Each choice says how many open issues it would show.
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
    let unrouted = by_department
        .iter()
        .find(|(d, _, _)| d.is_none())
        .map_or(0, |(_, n, _)| *n);
    let overdue = by_department
        .iter()
        .filter(|(d, _, _)| chosen.is_none() || d.as_deref() == chosen.as_deref())
        .map(|(_, _, late)| late)
        .sum();
    let open_of = |name: &str| {
        by_department
            .iter()
            .find(|(d, _, _)| d.as_deref() == Some(name))
            .map_or(0, |(_, n, _)| *n)
    };
    let mut department_labels: Vec<(String, String)> =
        vec![(UNROUTED.to_owned(), format!("Unrouted ({unrouted})"))];
    department_labels.extend(
        state
            .gateway
            .departments()
            .departments()
            .iter()
            .map(|d| (d.name.clone(), format!("{} ({})", d.name, open_of(&d.name)))),
    );
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
        departments: view::choices(
            None,
            std::iter::once((ALL, "Every department")).chain(
                department_labels
                    .iter()
                    .map(|(v, l)| (v.as_str(), l.as_str())),
            ),
            chosen.as_deref().unwrap_or(ALL),
        ),
        unrouted,
        overdue,
        q: query.q.unwrap_or_default(),
        next,
        spikes,
    })
}
