//! Open311 GeoReport v2: the services (from the keyword catalog) and the service requests
//! (issues), in JSON and XML; POST with an API key so other channels file into the same queue.
//! <https://wiki.open311.org/GeoReport_v2/>. Public: nothing here reads a phone number.
//!
//! `wire` writes the format (JSON and XML from one record), `read` answers the GETs, `file`
//! takes the POST.

mod file;
mod read;
pub(crate) mod wire;

pub use wire::{iso8601, wire_status};

use crate::web::AppState;
use axum::Router;
use axum::routing::get;
use file::create;
use read::{request, requests, services};
use wire::Format;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/open311/v2/services.json",
            get(|s| services(s, Format::Json)),
        )
        .route(
            "/open311/v2/services.xml",
            get(|s| services(s, Format::Xml)),
        )
        .route(
            "/open311/v2/requests.json",
            get(|s, q| requests(s, q, Format::Json)).post(|s, b| create(s, b, Format::Json)),
        )
        .route(
            "/open311/v2/requests.xml",
            get(|s, q| requests(s, q, Format::Xml)).post(|s, b| create(s, b, Format::Xml)),
        )
        .route("/open311/v2/requests/{file}", get(request))
}
