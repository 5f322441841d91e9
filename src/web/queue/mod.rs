//! The officials' pages: log in, work the queue oldest first, read an issue's whole SMS thread,
//! answer by SMS, move it along. Server-rendered HTML (askama escapes every value), our own CSS
//! and a small script that the pages do not need to work.

pub mod auth;
mod broadcasts;
mod issue;
mod issue_actions;
mod list;
mod live;
mod polls;
mod view;

pub(crate) use view::{status_label as view_status_label, when as view_when};

use crate::store::Store;
use crate::web::AppState;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use tower_http::csrf::CsrfLayer;

const STYLESHEET: &str = include_str!("../../../static/app.css");
const SCRIPT: &str = include_str!("../../../static/app.js");

pub fn router(store: &Store, secure_cookies: bool) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/queue", get(list::queue))
        .route("/queue/events", get(live::events))
        .route(
            "/broadcasts",
            get(broadcasts::page).post(broadcasts::submit),
        )
        .route("/polls", get(polls::page).post(polls::submit))
        .route("/polls/{id}", get(polls::results))
        .route("/polls/{id}/answers.csv", get(polls::answers_csv))
        .route("/issues/{id}", get(issue::page))
        .route("/issues/{id}/reply", post(issue_actions::reply))
        .route("/issues/{id}/status", post(issue_actions::status))
        .route("/issues/{id}/assign", post(issue_actions::assign))
        .route("/issues/{id}/note", post(issue_actions::note))
        .route("/issues/{id}/merge", post(issue_actions::merge))
        .route("/issues/{id}/duplicate", post(issue_actions::merge))
        .route("/issues/{id}/split", post(issue_actions::split))
        .route("/issues/{id}/hide", post(issue_actions::hide))
        .route(
            "/static/app.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    STYLESHEET,
                )
            }),
        )
        .route(
            "/static/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    SCRIPT,
                )
            }),
        )
        // Cross-site form posts are refused (Sec-Fetch-Site / Origin); the session cookie is
        // SameSite=Strict as well.
        .layer(CsrfLayer::new())
        .layer(auth::layer(store, secure_cookies))
}

/// A page that says no, in the site's style: what an official may reach and not do.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "refusal.html")]
struct Refusal {
    title: &'static str,
    message: &'static str,
}

/// An HTML refusal with its status (403, 404, 401...), never a bare line of text.
pub(crate) fn refusal(
    status: axum::http::StatusCode,
    title: &'static str,
    message: &'static str,
) -> axum::response::Response {
    (status, Refusal { title, message }).into_response()
}

/// 404 page for an issue that does not exist.
pub(crate) fn not_found() -> axum::response::Response {
    refusal(
        axum::http::StatusCode::NOT_FOUND,
        "No such report",
        "There is no report with that number.",
    )
}
