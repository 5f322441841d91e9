//! `/reports/{id}` (public): one report as the citizen who sent it and their neighbours may see
//! it, in the citizen-facing languages (`?lang=`, else `Accept-Language`): its status, the
//! department that has it and its promise, where it is, its public history. No phone number;
//! a description officials hid stays hidden; internal notes are not history.

use super::error::ApiError;
use super::open311::wire::{iso8601, wire_status};
use crate::store::issues::CLOSED_STATUSES;
use crate::store::open_data;
use crate::web::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/reports/{id}", get(report))
}

/// The page's words in one language.
pub struct Words {
    pub report: &'static str,
    pub status: &'static str,
    pub department: &'static str,
    pub unrouted: &'static str,
    pub due: &'static str,
    pub no_promise: &'static str,
    pub overdue: &'static str,
    pub place: &'static str,
    pub unknown: &'static str,
    pub filed: &'static str,
    pub history: &'static str,
    pub dashboard: &'static str,
    pub privacy: &'static str,
    pub not_found: &'static str,
    /// What happened, by event kind.
    pub created: &'static str,
    pub confirmed_fixed: &'static str,
    pub escalated: &'static str,
    /// Statuses, as `view_status_label` has them in English.
    pub statuses: [(&'static str, &'static str); 7],
}

const EN: Words = Words {
    report: "Report",
    status: "Status",
    department: "Department",
    unrouted: "Not assigned to a department yet",
    due: "Due",
    no_promise: "No promised date for this kind of report",
    overdue: "overdue",
    place: "Where",
    unknown: "Not known",
    filed: "Reported",
    history: "History",
    dashboard: "Is the city listening?",
    privacy: "Who reported it is never shown.",
    not_found: "There is no report with this number.",
    created: "Reported by SMS",
    confirmed_fixed: "The citizen confirmed it is fixed",
    escalated: "Overdue: escalated to the department",
    statuses: [
        ("open", "received, waiting for review"),
        ("acknowledged", "seen by the city"),
        ("in_progress", "work in progress"),
        ("resolved", "resolved"),
        ("closed_duplicate", "closed: already reported"),
        ("closed_not_ours", "closed: not the city's to fix"),
        ("closed_wont_fix", "closed: will not be fixed"),
    ],
};

const ES: Words = Words {
    report: "Reporte",
    status: "Estado",
    department: "Departamento",
    unrouted: "Aun sin departamento asignado",
    due: "Plazo",
    no_promise: "Sin plazo para este tipo de reporte",
    overdue: "vencido",
    place: "Lugar",
    unknown: "Desconocido",
    filed: "Reportado",
    history: "Historial",
    dashboard: "¿La ciudad escucha?",
    privacy: "Nunca se muestra quién lo reportó.",
    not_found: "No hay ningún reporte con este número.",
    created: "Reportado por SMS",
    confirmed_fixed: "El ciudadano confirmó que está arreglado",
    escalated: "Vencido: escalado al departamento",
    statuses: [
        ("open", "recibido, en espera de revisión"),
        ("acknowledged", "visto por la ciudad"),
        ("in_progress", "en proceso"),
        ("resolved", "resuelto"),
        ("closed_duplicate", "cerrado: ya reportado"),
        ("closed_not_ours", "cerrado: no corresponde a la ciudad"),
        ("closed_wont_fix", "cerrado: no se arreglará"),
    ],
};

const FR: Words = Words {
    report: "Signalement",
    status: "État",
    department: "Service",
    unrouted: "Pas encore confié à un service",
    due: "Échéance",
    no_promise: "Pas d'échéance pour ce type de signalement",
    overdue: "en retard",
    place: "Lieu",
    unknown: "Inconnu",
    filed: "Signalé",
    history: "Historique",
    dashboard: "La ville écoute-t-elle ?",
    privacy: "L'auteur du signalement n'est jamais affiché.",
    not_found: "Aucun signalement ne porte ce numéro.",
    created: "Signalé par SMS",
    confirmed_fixed: "Le citoyen a confirmé la réparation",
    escalated: "En retard : transmis au service",
    statuses: [
        ("open", "enregistré, en attente"),
        ("acknowledged", "vu par la ville"),
        ("in_progress", "travaux en cours"),
        ("resolved", "résolu"),
        ("closed_duplicate", "clos : déjà signalé"),
        ("closed_not_ours", "clos : hors compétence de la ville"),
        ("closed_wont_fix", "clos : ne sera pas réparé"),
    ],
};

/// The languages of the page, with their names as their speakers write them.
const LANGUAGES: [(&str, &str, &Words); 3] = [
    ("en", "English", &EN),
    ("es", "Español", &ES),
    ("fr", "Français", &FR),
];

#[derive(Template, WebTemplate)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub lang: &'static str,
    pub languages: Vec<(&'static str, &'static str)>,
    pub w: &'static Words,
    pub id: i64,
    pub category: String,
    pub status: String,
    pub overdue: bool,
    pub department: String,
    pub due: String,
    pub place: String,
    pub filed: String,
    pub description: String,
    pub history: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

/// `?lang=` when it is one of ours, else the first of `Accept-Language` that is, else English.
fn language(query: Option<&str>, headers: &HeaderMap) -> &'static str {
    let ours = |tag: &str| {
        let primary = tag.split(['-', '_']).next().unwrap_or_default().trim();
        LANGUAGES
            .iter()
            .find(|(code, _, _)| code.eq_ignore_ascii_case(primary))
            .map(|(code, _, _)| *code)
    };
    if let Some(code) = query.and_then(ours) {
        return code;
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut tags: Vec<(f32, &str)> = accepted
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            (q > 0.0).then_some((q, tag))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0));
    tags.iter().find_map(|(_, tag)| ours(tag)).unwrap_or("en")
}

async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = language(query.lang.as_deref(), &headers);
    let w = LANGUAGES
        .iter()
        .find(|(c, _, _)| *c == lang)
        .map_or(&EN, |l| l.2);
    let store = state.gateway.store();
    let issue = match id.parse::<i64>() {
        Ok(id) => open_data::issue(store, &state.scrubber, id).await?,
        Err(_) => None,
    };
    let Some(issue) = issue else {
        return Ok(super::queue::refusal(
            StatusCode::NOT_FOUND,
            w.report,
            w.not_found,
        ));
    };
    let events = open_data::public_events(store, &state.scrubber, issue.issue_id).await?;
    let label = |status: &str| {
        w.statuses
            .iter()
            .find(|(s, _)| *s == status)
            .map_or_else(|| wire_status(status).to_owned(), |(_, l)| (*l).to_owned())
    };
    let history = events
        .iter()
        .map(|e| {
            let what = match e.kind.as_str() {
                "created" => w.created.to_owned(),
                "confirmed_fixed" => w.confirmed_fixed.to_owned(),
                "escalated" => w.escalated.to_owned(),
                _ => match e.body.split_once(": ") {
                    Some((status, note)) => format!("{}: {note}", label(status)),
                    None => label(&e.body),
                },
            };
            (day_and_time(e.created_at), what)
        })
        .collect();
    let catalog = state.gateway.catalog();
    let category = issue
        .service_code
        .as_deref()
        .and_then(|code| catalog.category_by_code(code))
        .map_or_else(|| "—".to_owned(), |c| c.name_in(lang).to_owned());
    let closed = CLOSED_STATUSES.contains(&issue.status.as_str());
    let overdue = !closed
        && issue
            .due_at
            .is_some_and(|due| due <= crate::store::now_ms());
    let place = match (&issue.address, &issue.area, &issue.location) {
        (Some(address), Some(area), _) => format!("{address} ({area})"),
        (Some(place), None, _) | (None, Some(place), _) => place.clone(),
        (None, None, Some(location)) => location.clone(),
        (None, None, None) => w.unknown.to_owned(),
    };
    let page = ReportPage {
        lang,
        languages: LANGUAGES.iter().map(|(c, n, _)| (*c, *n)).collect(),
        w,
        id: issue.issue_id,
        category,
        status: label(&issue.status),
        overdue,
        department: issue.department.unwrap_or_else(|| w.unrouted.to_owned()),
        due: issue
            .due_at
            .map_or_else(|| w.no_promise.to_owned(), day_and_time),
        place,
        filed: day_and_time(issue.created_at),
        description: issue.description,
        history,
    };
    Ok(page.into_response())
}

/// `2026-12-03 10:15 UTC`, as the Open311 time is, for people.
fn day_and_time(ms: i64) -> String {
    let iso = iso8601(ms);
    match (iso.get(..10), iso.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => iso,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_the_query_s_then_the_browser_s_then_english() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_LANGUAGE, value.parse().unwrap());
            headers
        };
        assert_eq!(language(Some("fr"), &accept("es")), "fr");
        assert_eq!(language(Some("de"), &accept("es-MX,es;q=0.9")), "es");
        assert_eq!(language(None, &accept("de-DE,fr-CA;q=0.8,en;q=0.5")), "fr");
        assert_eq!(language(None, &accept("en;q=0.2,es;q=0.9")), "es");
        assert_eq!(language(None, &accept("de,ja")), "en");
        assert_eq!(
            language(None, &accept("fr;q=0")),
            "en",
            "q=0 means not wanted"
        );
        assert_eq!(language(None, &HeaderMap::new()), "en");
    }
}
