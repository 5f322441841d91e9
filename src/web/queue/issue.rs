//! `/issues/{id}`: the whole SMS thread, the trail, and the forms for what officials do with an
//! issue (`issue_actions`). Errors of those forms come back as `?error=` codes, shown here.

use super::auth::Signed;
use super::{not_found, view};
use crate::store::{crowd, issues, messages, officials};
use crate::web::AppState;
use crate::web::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub struct MessageView {
    pub inbound: bool,
    pub body: String,
    pub when: String,
    pub status: String,
    pub problem: String,
    pub flag: String,
}

/// A citizen who joined the report ("me too"), as the page lists them.
pub struct SupporterView {
    pub citizen_id: i64,
    pub phone: String,
    pub language: String,
    pub body: String,
    pub when: String,
}

pub struct EventView {
    pub kind: String,
    pub actor: String,
    pub body: String,
    pub when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "issue.html")]
pub struct IssuePage {
    pub official: String,
    pub admin: bool,
    /// The "Is it fixed?" notice before any note: the note's counter counts it in.
    pub notice_prefix: String,
    pub can_act: bool,
    pub issue_id: i64,
    pub category: String,
    pub description: String,
    pub location: String,
    /// Where the places found put it: "Main St & 5th Ave (Northside)"; empty when none were.
    pub place: String,
    pub department: String,
    /// The citizens who reported it, the first included ("me too").
    pub supporters: i64,
    /// Who joined it, to split off one who reported something else.
    pub crowd: Vec<SupporterView>,
    /// The promise: "due in 5 h", "2 d late"; empty without one.
    pub due: String,
    pub overdue: bool,
    pub status: String,
    pub status_label: String,
    pub created: String,
    pub phone: String,
    pub phone_whole: bool,
    pub language: String,
    pub opted_out: bool,
    pub flagged: bool,
    pub hidden: bool,
    pub assignees: Vec<view::Choice>,
    pub statuses: Vec<view::Choice>,
    pub thread: Vec<MessageView>,
    pub events: Vec<EventView>,
    pub error: String,
    /// Ready-made replies in the citizen's language: (title, text).
    pub canned: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    error: Option<String>,
}

#[tracing::instrument(name = "web.issue", skip_all, fields(issue_id = id))]
pub async fn page(
    State(state): State<AppState>,
    Signed(official): Signed,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let store = state.gateway.store();
    let Some(issue) = issues::detail(store, id).await? else {
        return Ok(not_found());
    };
    let admin = official.is_admin();
    if admin && issue.phone.is_some() {
        // Every view of a whole number is accounted for.
        state.gateway.phone_viewed(official.official_id, id).await?;
    }
    let category = issue
        .service_code
        .as_deref()
        .and_then(|c| state.gateway.catalog().category_by_code(c))
        .map_or_else(|| "Uncategorized".to_owned(), |c| c.name.clone());
    let thread = messages::thread(store, id)
        .await?
        .into_iter()
        .map(|m| MessageView {
            inbound: m.direction == "in",
            when: view::when(m.created_at),
            problem: match (&m.error_code, &m.error_detail) {
                (_, Some(detail)) => detail.clone(),
                (Some(code), None) => format!("error {code}"),
                (None, None) => String::new(),
            },
            status: m.status,
            flag: m.flag.unwrap_or_default().replace('_', " "),
            body: m.body,
        })
        .collect();
    let crowd = crowd::supporters(store, id)
        .await?
        .into_iter()
        .map(|s| SupporterView {
            citizen_id: s.citizen_id,
            phone: if s.number_key.starts_with("anon:") {
                "(forgotten)".to_owned()
            } else {
                store
                    .seal()
                    .open(&s.number_key, s.number_sealed.as_deref())
                    .map_or_else(|_| "(sealed)".to_owned(), |p| view::phone_for(&p, false))
            },
            language: s.language,
            body: s.body.unwrap_or_default(),
            when: view::when(s.joined_at),
        })
        .collect();
    let officials = officials::all(store).await?;
    let events = issues::events(store, id)
        .await?
        .into_iter()
        .map(|e| {
            // "assigned · agent@city.example · nobody", not "official:1 · official:1".
            let body = if e.kind == "assigned" {
                named(&officials, &e.body)
            } else {
                e.body
            };
            EventView {
                kind: e.kind.replace('_', " "),
                actor: named(&officials, &e.actor),
                body,
                when: view::when(e.created_at),
            }
        })
        .collect();
    let statuses = view::choices(None, view::STATUSES.iter().copied(), &issue.status);
    let language = issue
        .citizen_language
        .clone()
        .unwrap_or_else(|| issue.language.clone());
    let canned = messages::canned_replies(store, &language)
        .await?
        .into_iter()
        .map(|c| (c.title, c.body))
        .collect();
    let location = match issue.location {
        Some(place) => place,
        None if state.gateway.catalog().mentions_a_place(&issue.description) => {
            "named in the report".to_owned()
        }
        None => String::new(),
    };
    let place = match (&issue.address, &issue.area) {
        (Some(address), Some(area)) => format!("{address} ({area})"),
        (Some(place), None) | (None, Some(place)) => place.clone(),
        (None, None) => String::new(),
    };
    let now = crate::store::now_ms();
    let open = issue.closed_at.is_none();
    let due = issue
        .due_at
        .filter(|_| open)
        .map(|due| view::due(due, now))
        .unwrap_or_default();
    let overdue = open && issue.due_at.is_some_and(|due| due <= now);
    let notice_prefix = state.gateway.notice_text(
        &language,
        issue.service_code.as_deref(),
        issue.issue_id,
        "resolved",
    );
    let page = IssuePage {
        official: official.email.clone(),
        admin,
        notice_prefix,
        can_act: official.can_act(),
        issue_id: issue.issue_id,
        category,
        description: issue.description,
        location,
        place,
        department: issue.department.unwrap_or_default(),
        supporters: issue.supporters,
        crowd,
        due,
        overdue,
        status_label: view::status_label(&issue.status).to_owned(),
        status: issue.status,
        created: view::when(issue.created_at),
        phone: issue.phone.as_deref().map_or_else(
            || "(no phone: filed online)".to_owned(),
            |p| view::phone_for(p, admin),
        ),
        phone_whole: admin,
        language: issue.citizen_language.unwrap_or(issue.language),
        opted_out: issue.opted_out_at.is_some(),
        flagged: issue.flagged_at.is_some(),
        hidden: issue.hidden_at.is_some(),
        assignees: {
            let officials: Vec<(String, String)> = officials
                .into_iter()
                .map(|o| (o.official_id.to_string(), o.email))
                .collect();
            let current = issue
                .assignee_id
                .map(|a| a.to_string())
                .unwrap_or_else(|| "0".to_owned());
            view::choices(
                None,
                std::iter::once(("0", "Nobody"))
                    .chain(officials.iter().map(|(i, e)| (i.as_str(), e.as_str()))),
                &current,
            )
        },
        statuses,
        thread,
        events,
        error: query
            .error
            .map(|e| error_text(&e).to_owned())
            .unwrap_or_default(),
        canned,
    };
    Ok(page.into_response())
}

/// An actor of the trail (`official:7`, `citizen`, `system`, `api:web-form`) as a person reads
/// it: an official by their email, a deleted one as "official #7".
fn named(officials: &[officials::Official], actor: &str) -> String {
    let Some(id) = actor.strip_prefix("official:") else {
        return actor.to_owned();
    };
    officials
        .iter()
        .find(|o| o.official_id.to_string() == id)
        .map_or_else(|| format!("official #{id}"), |o| o.email.clone())
}

/// The sentences behind `?error=` codes (never echo what the query says).
fn error_text(code: &str) -> &'static str {
    match code {
        "opted_out" => {
            "Not sent: the citizen opted out (STOP). Nothing can be sent until they text START."
        }
        "empty" => "Not sent: the message is empty.",
        "too_long" => "Not sent: the message is longer than 1600 characters.",
        "no_citizen" => "Not sent: this issue has no phone number.",
        "note_too_long" => {
            "Not changed: the notice with this public note would take more than two SMS. Shorten the note."
        }
        "status" => "Unknown status.",
        "duplicate" => "Give the number of another report that exists.",
        "merge_closed" => "Not merged: both reports must be open.",
        "not_a_supporter" => "Not split: that citizen is not a supporter of this report.",
        _ => "Something went wrong.",
    }
}
