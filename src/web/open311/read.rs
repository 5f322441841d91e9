//! The GETs: the services (from the keyword catalog), the service requests with the spec's
//! filters and paging, one request.

use super::wire::{Format, error, request_record, respond, store_error};
use crate::store;
use crate::store::open_data;
use crate::web::AppState;
use crate::web::params::Params;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

pub(super) async fn services(State(state): State<AppState>, format: Format) -> Response {
    let records = state
        .gateway
        .catalog()
        .categories()
        .iter()
        .map(|c| {
            let keywords: Vec<&str> = c.keywords.values().flatten().map(String::as_str).collect();
            vec![
                ("service_code", json!(c.service_code)),
                ("service_name", json!(c.name)),
                ("description", json!(c.description)),
                ("metadata", json!(false)),
                ("type", json!("realtime")),
                ("keywords", json!(keywords.join(","))),
                ("group", json!(c.group)),
            ]
        })
        .collect();
    respond(format, StatusCode::OK, "services", "service", records)
}

pub(super) async fn requests(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    format: Format,
) -> Response {
    const WINDOW_MS: i64 = 90 * 24 * 3_600_000;
    const MAX: i64 = 1000;
    let params = Params::parse(raw.as_deref());
    let get = |name: &str| params.get(name);
    let store = state.gateway.store();

    // A list of ids answers alone: the spec says every other parameter is then ignored.
    if let Some(ids) = get("service_request_id") {
        let mut records = Vec::new();
        for id in ids.split(',').take(MAX as usize) {
            let Ok(id) = id.trim().parse::<i64>() else {
                return error(
                    format,
                    StatusCode::BAD_REQUEST,
                    "service_request_id must be numbers separated by commas",
                );
            };
            match open_data::issue(store, &state.scrubber, id).await {
                Ok(Some(issue)) => records.push(request_record(&state, issue)),
                Ok(None) => {}
                Err(e) => return store_error(format, e),
            }
        }
        return respond(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            records,
        );
    }

    let now = store::now_ms();
    let (start, end) = match (params.date("start_date"), params.date("end_date")) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(name), _) | (_, Err(name)) => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                &format!(
                    "{name} must be an ISO 8601 date-time with an offset, e.g. 2026-11-25T08:15:30-05:00"
                ),
            );
        }
    };
    // The spec's default window: the last 90 days, counted back from end_date if given.
    let to = end.unwrap_or(now);
    let from = start.unwrap_or(to - WINDOW_MS);
    let Ok(open) = params.open() else {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "status must be open or closed",
        );
    };
    let number = |name: &str, default: i64| {
        get(name).map_or(Ok(default), |v| {
            v.parse::<i64>().map_err(|_| name.to_owned())
        })
    };
    let (page, size) = match (number("page", 1), number("page_size", MAX)) {
        (Ok(page), Ok(size)) if page >= 1 && (1..=MAX).contains(&size) => (page, size),
        _ => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                "page must be 1 or more and page_size from 1 to 1000",
            );
        }
    };
    let service_code = get("service_code");
    if let Some(code) = &service_code
        && state.gateway.catalog().category_by_code(code).is_none()
    {
        return error(
            format,
            StatusCode::NOT_FOUND,
            "no service with that service_code",
        );
    }
    let query = open_data::Query {
        service_code,
        from,
        to,
        open,
        limit: size,
        offset: (page - 1) * size,
    };
    match open_data::issues(store, &state.scrubber, &query).await {
        Ok(rows) => {
            let records = rows
                .into_iter()
                .map(|issue| request_record(&state, issue))
                .collect();
            respond(
                format,
                StatusCode::OK,
                "service_requests",
                "request",
                records,
            )
        }
        Err(e) => store_error(format, e),
    }
}

pub(super) async fn request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let (id, format) = match file.rsplit_once('.') {
        Some((id, "json")) => (id, Format::Json),
        Some((id, "xml")) => (id, Format::Xml),
        _ => {
            return error(
                Format::Json,
                StatusCode::NOT_FOUND,
                "ask for requests/{id}.json or requests/{id}.xml",
            );
        }
    };
    let Ok(id) = id.parse::<i64>() else {
        return error(
            format,
            StatusCode::NOT_FOUND,
            "no service request with that id",
        );
    };
    match open_data::issue(state.gateway.store(), &state.scrubber, id).await {
        Ok(Some(issue)) => respond(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            vec![request_record(&state, issue)],
        ),
        Ok(None) => error(
            format,
            StatusCode::NOT_FOUND,
            "no service request with that id",
        ),
        Err(e) => store_error(format, e),
    }
}
