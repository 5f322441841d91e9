//! One rule for the text that comes in from a browser or an Open311 client: U+0000 becomes
//! U+FFFD, on the way in, before any handler reads it. PostgreSQL's `text` cannot hold a NUL
//! (an insert or even a `where` with one fails), SQLite can: without this rule a login email, a
//! search, a note or an Open311 description with `%00` was a 503 on one backend and stored on
//! the other. The provider webhooks are not behind this layer: they are signed over the bytes as
//! sent, and decode with the same rule after verifying (`sms::without_nul`).
//!
//! In a query string or a form body a NUL can only be spelled `%00` (or, in a body, a raw zero
//! byte): a `%` always starts an escape, so `%00` is never part of another one.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// U+FFFD, percent-encoded in UTF-8.
const REPLACEMENT: &[u8] = b"%EF%BF%BD";

/// The middleware: the query string, and a form body (or one sent without a content type),
/// with every NUL replaced.
pub async fn replace_nul(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Some(query) = parts.uri.query()
        && let Some(clean) = cleaned(query.as_bytes())
    {
        let clean = String::from_utf8(clean).expect("ASCII in, ASCII out");
        match with_query(&parts.uri, &clean) {
            Some(uri) => parts.uri = uri,
            None => return (StatusCode::BAD_REQUEST, "malformed query string\n").into_response(),
        }
    }
    if !is_form(parts.headers.get(header::CONTENT_TYPE)) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    // The body limit layer outside has bounded it already.
    let bytes = match axum::body::to_bytes(body, crate::web::BODY_LIMIT_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
        }
    };
    let body = match cleaned(&bytes) {
        Some(clean) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(clean)
        }
        None => Body::from(bytes),
    };
    next.run(Request::from_parts(parts, body)).await
}

fn is_form(content_type: Option<&HeaderValue>) -> bool {
    content_type.is_none_or(|v| {
        v.to_str().is_ok_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
    })
}

/// `raw` with `%00` and raw NUL bytes spelled as U+FFFD; `None` when it holds neither.
fn cleaned(raw: &[u8]) -> Option<Vec<u8>> {
    let nul_at = |i: usize| raw[i] == 0 || raw[i..].starts_with(b"%00");
    if !(0..raw.len()).any(nul_at) {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len() + 16);
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == 0 {
            out.extend_from_slice(REPLACEMENT);
            i += 1;
        } else if raw[i..].starts_with(b"%00") {
            out.extend_from_slice(REPLACEMENT);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Some(out)
}

fn with_query(uri: &Uri, query: &str) -> Option<Uri> {
    let mut parts = uri.clone().into_parts();
    let path_and_query = format!("{}?{query}", uri.path());
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::cleaned;

    #[test]
    fn a_nul_in_any_spelling_becomes_the_replacement_character() {
        let decode = |raw: &[u8]| -> String {
            let clean = cleaned(raw).unwrap_or_else(|| raw.to_vec());
            url::form_urlencoded::parse(&clean)
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert_eq!(decode(b"q=Main%00St"), "q=Main\u{FFFD}St");
        assert_eq!(
            decode(b"q=Main\0St&n=%00%00"),
            "q=Main\u{FFFD}St&n=\u{FFFD}\u{FFFD}"
        );
        // A literal "%00" typed by someone is sent as %2500 and stays text.
        assert_eq!(decode(b"q=100%2500"), "q=100%00");
        assert_eq!(cleaned(b"q=100%2500"), None);
        assert_eq!(cleaned(b"q=plain&x=%20"), None);
    }
}
