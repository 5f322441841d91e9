//! The edge to SMS providers: one module per provider with its inbound form, its signature, its
//! outbound client and its status table. Nothing here knows about the store or the gateway:
//! `web` calls in to verify and decode, `delivery` calls in to send.

pub mod africastalking;
pub mod console;
pub mod form;
pub mod smsgate;
pub mod twilio;
pub mod ussd;

use crate::sms::Provider;
use std::time::Duration;

/// One text to hand to a provider.
#[derive(Debug, Clone)]
pub struct OutboundSms<'a> {
    /// Our id, carried in the status callback URL so callbacks find the message.
    pub message_id: i64,
    /// E.164.
    pub to: &'a str,
    pub body: &'a str,
    /// Where the provider should report delivery status (Twilio); `None` to not ask.
    pub status_callback: Option<String>,
}

/// The provider took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id (Twilio `SM…`), which its status callbacks carry.
    pub provider_message_id: String,
    /// The status word it answered with, in Twilio's vocabulary (see `sms::status_rank`).
    pub status: String,
}

/// Why a send failed: a closed set, each provider's codes mapped onto it by a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider could not take it now (5xx, connection failure, timeout): retry.
    #[error("transient: {0}")]
    Transient(String),
    /// Too many requests: retry later, after `retry_after` when the provider says.
    #[error("throttled ({code})")]
    Throttled {
        code: String,
        retry_after: Option<Duration>,
    },
    /// The provider refused this message for good (invalid number, body too long, …).
    #[error("rejected ({code}): {message}")]
    Rejected { code: String, message: String },
    /// The recipient opted out with the carrier: never retry, record it as consent.
    #[error("recipient opted out ({code})")]
    OptedOut { code: String },
    /// The gateway itself cannot be reached (a phone that is off or out of its network):
    /// nothing was sent; the message waits, counting no attempt, until it is back.
    #[error("gateway unavailable: {0}")]
    Unavailable(String),
    /// Our credentials or settings are wrong: no retry will help; an operator must act.
    #[error("provider configuration ({code}): {message}")]
    Config { code: String, message: String },
}

impl SendError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Transient(_) | SendError::Throttled { .. })
    }

    /// The provider's code, stored on the message (`message.error_code`).
    pub fn code(&self) -> &str {
        match self {
            SendError::Transient(_) => "transient",
            SendError::Unavailable(_) => "unavailable",
            SendError::Throttled { code, .. }
            | SendError::Rejected { code, .. }
            | SendError::OptedOut { code }
            | SendError::Config { code, .. } => code,
        }
    }

    /// From a transport error of the HTTP client. A request that timed out may have been
    /// accepted: it is retried (losing an official's answer is worse than a rare duplicate) and
    /// the error text says so.
    pub fn from_transport(error: &reqwest::Error) -> SendError {
        if error.is_connect() {
            SendError::Transient(format!("connection failed: {error}"))
        } else if error.is_timeout() {
            SendError::Transient(format!("timed out, may have been accepted: {error}"))
        } else {
            SendError::Transient(format!("transport: {error}"))
        }
    }
}

/// The configured outbound provider.
pub enum Sender {
    Console(console::Console),
    Twilio(twilio::client::Client),
    AfricasTalking(africastalking::Client),
    Smsgate(smsgate::Client),
}

impl Sender {
    pub async fn send(&self, sms: &OutboundSms<'_>) -> Result<Accepted, SendError> {
        match self {
            Sender::Console(c) => c.send(sms).await,
            Sender::Twilio(c) => c.send(sms).await,
            Sender::AfricasTalking(c) => c.send(sms).await,
            Sender::Smsgate(c) => c.send(sms).await,
        }
    }

    /// The least time between two sends this gateway can take (a SIM's pace); `None` when the
    /// provider sets none.
    pub fn min_interval(&self) -> Option<Duration> {
        match self {
            Sender::Smsgate(c) => Some(c.interval()).filter(|d| !d.is_zero()),
            _ => None,
        }
    }

    pub fn provider(&self) -> Provider {
        match self {
            Sender::Console(_) => Provider::Console,
            Sender::Twilio(_) => Provider::Twilio,
            Sender::AfricasTalking(_) => Provider::AfricasTalking,
            Sender::Smsgate(_) => Provider::Smsgate,
        }
    }
}

/// The HTTP client every provider uses: rustls with the ring provider, bounded timeouts.
pub fn http_client() -> reqwest::Client {
    // reqwest is built without a default crypto provider; install ring once (sqlx uses it too).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("civicline/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds")
}

/// A provider's answer to a send, read whole: its HTTP status, its `Retry-After`, its body.
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Answer {
    pub(crate) async fn read(response: reqwest::Response) -> Result<Answer, SendError> {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let body = response
            .text()
            .await
            .map_err(|e| SendError::from_transport(&e))?;
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// [`refusal`] of this answer.
    pub(crate) fn refusal(self) -> SendError {
        refusal(self.status, self.body, self.retry_after)
    }
}

/// What an HTTP status other than success means for a send, for the providers whose errors are
/// told by status alone (Africa's Talking, the phone): credentials, throttling, a passing fault,
/// or a refusal of this message, with the body's words.
fn refusal(status: u16, body: String, retry_after: Option<Duration>) -> SendError {
    match status {
        401 | 403 => SendError::Config {
            code: format!("http-{status}"),
            message: body,
        },
        429 => SendError::Throttled {
            code: "http-429".into(),
            retry_after,
        },
        500..=599 => SendError::Transient(format!("HTTP {status}")),
        _ => SendError::Rejected {
            code: format!("http-{status}"),
            message: body,
        },
    }
}

/// `Retry-After` in seconds, when the provider sends one.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
