//! Open311 GeoReport v2: the services (from the keyword catalog) and the service requests
//! (issues), in JSON and XML; POST with an API key so other channels file into the same queue.
//! <https://wiki.open311.org/GeoReport_v2/>. Public: nothing here reads a phone number.

use super::params::Params;
use crate::store::issues::CLOSED_STATUSES;
use crate::store::open_data::{self, PublicIssue};
use crate::store::{self, StoreError};
use crate::web::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// One record (service or request) as ordered fields, written as JSON or XML alike.
type Record = Vec<(&'static str, Value)>;

fn respond(
    format: Format,
    status: StatusCode,
    root: &str,
    item: &str,
    records: Vec<Record>,
) -> Response {
    match format {
        Format::Json => {
            let list: Vec<Value> = records
                .into_iter()
                .map(|r| {
                    Value::Object(
                        r.into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect::<Map<_, _>>(),
                    )
                })
                .collect();
            (
                status,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                Value::Array(list).to_string(),
            )
                .into_response()
        }
        Format::Xml => {
            use quick_xml::escape::escape;
            let mut xml = format!(r#"<?xml version="1.0" encoding="utf-8"?><{root}>"#);
            for record in records {
                xml.push_str(&format!("<{item}>"));
                for (name, value) in record {
                    let text = match value {
                        Value::Null => String::new(),
                        Value::String(s) => escape(s.as_str()).into_owned(),
                        other => other.to_string(),
                    };
                    xml.push_str(&format!("<{name}>{text}</{name}>"));
                }
                xml.push_str(&format!("</{item}>"));
            }
            xml.push_str(&format!("</{root}>"));
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                xml,
            )
                .into_response()
        }
    }
}

/// The spec's error list: `[{code, description}]` / `<errors><error>…`, with the same HTTP status.
fn error(format: Format, status: StatusCode, description: &str) -> Response {
    let record = vec![
        ("code", json!(status.as_u16())),
        ("description", json!(description)),
    ];
    respond(format, status, "errors", "error", vec![record])
}

fn store_error(format: Format, e: StoreError) -> Response {
    tracing::error!(error = %e, "open311 request failed");
    error(
        format,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily unavailable, try again",
    )
}

async fn services(State(state): State<AppState>, format: Format) -> Response {
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

/// `2026-11-25T08:15:30+00:00`.
pub fn iso8601(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => String::new(),
    }
}

/// `open` or `closed` on the wire; our finer statuses ride in `status_notes`.
pub fn wire_status(status: &str) -> &'static str {
    if CLOSED_STATUSES.contains(&status) {
        "closed"
    } else {
        "open"
    }
}

fn request_record(state: &AppState, issue: PublicIssue) -> Record {
    let catalog = state.gateway.catalog();
    let name = issue
        .service_code
        .as_deref()
        .and_then(|c| catalog.category_by_code(c))
        .map(|c| c.name.clone());
    // "resolved: filled on Tuesday" -> "filled on Tuesday"; a bare status says nothing more.
    let notes = issue
        .status_note
        .as_deref()
        .and_then(|n| n.split_once(": "))
        .map(|(_, note)| note.to_owned());
    vec![
        ("service_request_id", json!(issue.issue_id.to_string())),
        ("status", json!(wire_status(&issue.status))),
        (
            "status_notes",
            json!(notes.unwrap_or_else(|| issue.status.replace('_', " "))),
        ),
        (
            "service_name",
            json!(name.unwrap_or_else(|| "Uncategorized".to_owned())),
        ),
        (
            "service_code",
            json!(issue.service_code.unwrap_or_default()),
        ),
        ("description", json!(issue.description)),
        ("agency_responsible", Value::Null),
        ("service_notice", Value::Null),
        ("requested_datetime", json!(iso8601(issue.created_at))),
        ("updated_datetime", json!(iso8601(issue.updated_at))),
        ("expected_datetime", Value::Null),
        ("address", json!(issue.location)),
        ("address_id", Value::Null),
        ("zipcode", Value::Null),
        ("lat", json!(issue.lat)),
        ("long", json!(issue.long)),
        ("media_url", Value::Null),
    ]
}

async fn requests(
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
            match open_data::issue(store, id).await {
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
    match open_data::issues(store, &query).await {
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

async fn request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
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
    match open_data::issue(state.gateway.store(), id).await {
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

/// `POST requests`: another channel (a web form, the city's CRM) files a report. Phone, email
/// and names are not stored: this queue texts citizens only through their own SMS.
async fn create(State(state): State<AppState>, body: Bytes, format: Format) -> Response {
    let Ok(form) = crate::providers::form::Form::parse(&body) else {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "the form is not valid UTF-8",
        );
    };
    let get = |name: &str| form.get(name).map(str::trim).filter(|v| !v.is_empty());
    let store = state.gateway.store();
    let source = match get("api_key") {
        None => return error(format, StatusCode::FORBIDDEN, "api_key is required"),
        Some(key) => match open_data::api_key_name(store, key).await {
            Ok(Some(name)) => format!("api:{name}"),
            Ok(None) => return error(format, StatusCode::FORBIDDEN, "api_key is not valid"),
            Err(e) => return store_error(format, e),
        },
    };
    let Some(code) =
        get("service_code").filter(|c| state.gateway.catalog().category_by_code(c).is_some())
    else {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "service_code is missing or unknown",
        );
    };
    let lat_long = match (
        get("lat").map(str::parse::<f64>),
        get("long").map(str::parse::<f64>),
    ) {
        (Some(Ok(lat)), Some(Ok(long)))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long) =>
        {
            Some((lat, long))
        }
        (None, None) => None,
        _ => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                "lat and long must both be given, in degrees",
            );
        }
    };
    let address = get("address_string").or(get("address_id"));
    if lat_long.is_none() && address.is_none() {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "give a location: lat and long, address_string or address_id",
        );
    }
    let description = get("description").unwrap_or_default();
    if description.chars().count() > 4000 {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "description is longer than 4000 characters",
        );
    }
    match open_data::create_issue(
        store,
        code,
        description,
        address,
        lat_long,
        &source,
        store::now_ms(),
    )
    .await
    {
        Ok(id) => {
            let record = vec![
                ("service_request_id", json!(id.to_string())),
                ("service_notice", json!("")),
                ("account_id", Value::Null),
            ];
            respond(
                format,
                StatusCode::CREATED,
                "service_requests",
                "request",
                vec![record],
            )
        }
        Err(e) => store_error(format, e),
    }
}
