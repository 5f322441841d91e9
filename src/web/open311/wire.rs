//! The GeoReport v2 wire format: one record of ordered fields, written as JSON or XML.

use crate::store::StoreError;
use crate::store::issues::CLOSED_STATUSES;
use crate::store::open_data::PublicIssue;
use crate::web::AppState;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Xml,
}

/// One record (service or request) as ordered fields, written as JSON or XML alike.
pub(super) type Record = Vec<(&'static str, Value)>;

pub(super) fn respond(
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
pub(super) fn error(format: Format, status: StatusCode, description: &str) -> Response {
    let record = vec![
        ("code", json!(status.as_u16())),
        ("description", json!(description)),
    ];
    respond(format, status, "errors", "error", vec![record])
}

pub(super) fn store_error(format: Format, e: StoreError) -> Response {
    tracing::error!(error = %e, "open311 request failed");
    error(
        format,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily unavailable, try again",
    )
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

pub(super) fn request_record(state: &AppState, issue: PublicIssue) -> Record {
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
        ("agency_responsible", json!(issue.department)),
        ("service_notice", Value::Null),
        ("requested_datetime", json!(iso8601(issue.created_at))),
        ("updated_datetime", json!(iso8601(issue.updated_at))),
        ("expected_datetime", json!(issue.due_at.map(iso8601))),
        ("address", json!(issue.address.or(issue.location))),
        ("address_id", Value::Null),
        ("zipcode", Value::Null),
        ("lat", json!(issue.lat)),
        ("long", json!(issue.long)),
        ("media_url", Value::Null),
        // Not GeoReport v2 (clients ignore fields they do not know): the report's public page.
        (
            "report_url",
            json!(format!("{}/reports/{}", state.public_url, issue.issue_id)),
        ),
        // Not GeoReport v2 either: the citizens who reported it ("me too"), the first included.
        ("supporters", json!(issue.supporters)),
    ]
}
