//! Twilio's Messages API: send one SMS.
//! <https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>
//! Errors: <https://www.twilio.com/docs/api/errors>

use crate::providers::{Accepted, Answer, OutboundSms, SendError};
use crate::secret::Secret;
use serde::Deserialize;

pub struct Client {
    http: reqwest::Client,
    /// `https://api.twilio.com`, or a local fake in tests.
    api_base: String,
    account_sid: String,
    auth_token: Secret,
    /// Our number, or a Messaging Service SID (`MG…`).
    from: String,
}

/// What to do with a Twilio error code. The codes that are not here fall back on the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OptedOut,
    Rejected,
    Throttled,
    Config,
    Transient,
}

const ERROR_CODES: &[(u32, Kind)] = &[
    (21610, Kind::OptedOut),  // the recipient replied STOP
    (21211, Kind::Rejected),  // invalid To
    (21614, Kind::Rejected),  // To is not a mobile number
    (21604, Kind::Rejected),  // To missing
    (21602, Kind::Rejected),  // Body missing
    (21617, Kind::Rejected),  // body too long
    (21408, Kind::Rejected),  // region not enabled for this account
    (21612, Kind::Rejected),  // cannot route to this number
    (20003, Kind::Config),    // authentication failed
    (20404, Kind::Config),    // account or resource not found
    (21606, Kind::Config),    // From is not a number of this account
    (21659, Kind::Config),    // From is not a Twilio number
    (20429, Kind::Throttled), // too many requests
    (20500, Kind::Transient), // internal error
    (20503, Kind::Transient), // service unavailable
];

fn kind_for_http_status(status: u16) -> Kind {
    match status {
        429 => Kind::Throttled,
        401 | 403 => Kind::Config,
        500..=599 => Kind::Transient,
        _ => Kind::Rejected,
    }
}

#[derive(Deserialize)]
struct Created {
    sid: String,
    status: String,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    code: Option<u32>,
    message: Option<String>,
}

impl Client {
    pub fn new(api_base: &str, account_sid: &str, auth_token: Secret, from: &str) -> Client {
        Client {
            http: crate::providers::http_client(),
            api_base: api_base.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token,
            from: from.to_owned(),
        }
    }

    pub async fn send(&self, sms: &OutboundSms<'_>) -> Result<Accepted, SendError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_base, self.account_sid
        );
        let from_field = if self.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let mut form = vec![
            ("To", sms.to),
            ("Body", sms.body),
            (from_field, self.from.as_str()),
        ];
        if let Some(callback) = &sms.status_callback {
            form.push(("StatusCallback", callback));
        }
        let response = self
            .http
            .post(url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(&form)
            .send()
            .await
            .map_err(|e| SendError::from_transport(&e))?;
        let answer = Answer::read(response).await?;
        if answer.is_success() {
            let created: Created = serde_json::from_str(&answer.body).map_err(|e| {
                SendError::Transient(format!("unreadable answer from Twilio ({e})"))
            })?;
            return Ok(Accepted {
                provider_message_id: created.sid,
                status: created.status,
            });
        }
        let error: ErrorBody = serde_json::from_str(&answer.body).unwrap_or_default();
        Err(classify(answer.status, error, answer.retry_after))
    }
}

fn classify(
    http_status: u16,
    error: ErrorBody,
    retry_after: Option<std::time::Duration>,
) -> SendError {
    let kind = error
        .code
        .and_then(|code| {
            ERROR_CODES
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, k)| *k)
        })
        .unwrap_or_else(|| kind_for_http_status(http_status));
    let code = error
        .code
        .map_or_else(|| format!("http-{http_status}"), |c| c.to_string());
    let message = error
        .message
        .unwrap_or_else(|| format!("HTTP {http_status}"));
    match kind {
        Kind::OptedOut => SendError::OptedOut { code },
        Kind::Rejected => SendError::Rejected { code, message },
        Kind::Throttled => SendError::Throttled { code, retry_after },
        Kind::Config => SendError::Config { code, message },
        Kind::Transient => SendError::Transient(format!("{code}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Option<u32>) -> ErrorBody {
        ErrorBody {
            code,
            message: Some("m".into()),
        }
    }

    #[test]
    fn error_codes_decide_before_http_status() {
        type Check = fn(&SendError) -> bool;
        let cases: &[(&str, u16, Option<u32>, Check)] = &[
            (
                "opted out",
                400,
                Some(21610),
                |e| matches!(e, SendError::OptedOut { code } if code == "21610"),
            ),
            (
                "invalid To",
                400,
                Some(21211),
                |e| matches!(e, SendError::Rejected { code, .. } if code == "21211"),
            ),
            ("not mobile", 400, Some(21614), |e| {
                matches!(e, SendError::Rejected { .. })
            }),
            ("429 code", 429, Some(20429), |e| {
                matches!(e, SendError::Throttled { .. })
            }),
            (
                "429 bare",
                429,
                None,
                |e| matches!(e, SendError::Throttled { code, .. } if code == "http-429"),
            ),
            ("auth", 401, Some(20003), |e| {
                matches!(e, SendError::Config { .. })
            }),
            ("500", 500, None, |e| matches!(e, SendError::Transient(_))),
            ("503", 503, Some(20503), |e| e.is_retryable()),
            (
                "unknown 4xx",
                400,
                Some(99999),
                |e| matches!(e, SendError::Rejected { code, .. } if code == "99999"),
            ),
        ];
        for (label, status, code, check) in cases {
            let error = classify(*status, err(*code), None);
            assert!(check(&error), "{label}: {error:?}");
        }
    }
}
