//! `GET /exports/issues.csv`: every issue as open data (no phone number, hidden descriptions
//! blank), streamed page by page so a million rows need no more memory than a thousand.
//! Filters as Open311's: `service_code`, `start_date`, `end_date`, `status` (open|closed).

use super::open311::{iso8601, wire_status};
use super::params::Params;
use crate::store::open_data::{self, PublicIssue};
use crate::web::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/exports/issues.csv", get(issues))
}

const HEADER: &str = "service_request_id,status,status_notes,service_code,service_name,description,address,lat,long,requested_datetime,updated_datetime,area,agency_responsible,expected_datetime,report_url,supporters\r\n";
const PAGE: i64 = 1000;

/// One CSV field (RFC 4180), safe to open in a spreadsheet: text that a spreadsheet would run as
/// a formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading apostrophe.
pub fn field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

/// The places found in the report's words, or else where the citizen said it is.
fn address(issue: &PublicIssue) -> &str {
    issue
        .address
        .as_deref()
        .or(issue.location.as_deref())
        .unwrap_or_default()
}

fn row(state: &AppState, issue: &PublicIssue) -> String {
    let name = issue
        .service_code
        .as_deref()
        .and_then(|c| state.gateway.catalog().category_by_code(c))
        .map_or("Uncategorized", |c| c.name.as_str());
    let notes = issue
        .status_note
        .as_deref()
        .and_then(|n| n.split_once(": "))
        .map_or("", |(_, n)| n);
    let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}/reports/{},{}\r\n",
        issue.issue_id,
        wire_status(&issue.status),
        field(notes),
        field(issue.service_code.as_deref().unwrap_or_default()),
        field(name),
        field(&issue.description),
        field(address(issue)),
        number(issue.lat),
        number(issue.long),
        iso8601(issue.created_at),
        iso8601(issue.updated_at),
        field(issue.area.as_deref().unwrap_or_default()),
        field(issue.department.as_deref().unwrap_or_default()),
        issue.due_at.map(iso8601).unwrap_or_default(),
        state.public_url,
        issue.issue_id,
        issue.supporters,
    )
}

async fn issues(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let params = Params::parse(raw.as_deref());
    let (Ok(from), Ok(to)) = (params.date("start_date"), params.date("end_date")) else {
        return (
            StatusCode::BAD_REQUEST,
            "start_date and end_date must be ISO 8601 date-times with an offset\n",
        )
            .into_response();
    };
    let (from, to) = (from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX));
    let Ok(open) = params.open() else {
        return (StatusCode::BAD_REQUEST, "status must be open or closed\n").into_response();
    };
    let query = open_data::Query {
        service_code: params.get("service_code"),
        from,
        to,
        open,
        limit: PAGE,
        offset: 0,
    };
    // Each step yields one page of rows; the header goes first.
    let stream =
        futures_util::stream::unfold(Some((state, query, 0i64, true)), |step| async move {
            let (state, query, after, first) = step?;
            let rows =
                match open_data::export_page(state.gateway.store(), &state.scrubber, &query, after)
                    .await
                {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::error!(error = %e, "export stopped");
                        return Some((Err(std::io::Error::other("export stopped")), None));
                    }
                };
            let mut chunk = if first {
                HEADER.to_owned()
            } else {
                String::new()
            };
            let last = rows.last().map(|r| r.issue_id);
            for issue in &rows {
                chunk.push_str(&row(&state, issue));
            }
            let next = match last {
                Some(last) if rows.len() as i64 == PAGE => Some((state, query, last, false)),
                _ => None,
            };
            if chunk.is_empty() {
                None
            } else {
                Some((Ok::<_, std::io::Error>(chunk), next))
            }
        });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"issues.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "\"plain\"");
        assert_eq!(field("a, \"b\"\nc"), "\"a, \"\"b\"\"\nc\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+1 555"), "\"'+1 555\"");
        assert_eq!(field("-5"), "\"'-5\"");
        assert_eq!(field("@SUM(A1)"), "\"'@SUM(A1)\"");
    }
}
