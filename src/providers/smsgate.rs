//! SMS Gateway for Android ("SMS Gate", capcom6/android-sms-gateway): an Android phone with a
//! SIM as the gateway, in its local-server mode, for a town or an NGO without an aggregator.
//!
//! - Webhooks: <https://docs.sms-gate.app/features/webhooks/> — a JSON envelope
//!   `{deviceId, event, id, payload, webhookId}`, signed: `X-Signature` is the hex HMAC-SHA256,
//!   keyed with the app's signing key, of the raw body followed by `X-Timestamp` (Unix seconds).
//!   The app retries a webhook that did not get a 2xx for about two days, signing each try anew.
//! - Sending: <https://docs.sms-gate.app/getting-started/local-server/> — `POST /message` on the
//!   phone, HTTP Basic, JSON `{id, textMessage: {text}, phoneNumbers, withDeliveryReport}`,
//!   answered 202 with `{id, state, recipients}`; an `id` it already holds is 409 Conflict.
//!   <https://docs.sms-gate.app/features/sending-messages/>
//!
//! We send our own id (`cl-<message id>`), so a send retried after a timeout meets the first
//! one (409) instead of texting the citizen twice, and the status webhooks name our message.
//! An incoming message's `messageId` is derived from its content and is not unique (two
//! citizens texting "HELP" get the same one), so we key it ourselves: an HMAC, under the signing
//! key, of the device, the sender, the time received and the text. The same SMS delivered twice
//! gets the same key; the key reveals no number to someone holding the database alone.

use super::{Accepted, Answer, OutboundSms, SendError};
use crate::secret::Secret;
use crate::sms::{InboundSms, PhoneNumber, Provider};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "x-signature";
pub const TIMESTAMP_HEADER: &str = "x-timestamp";

/// Why a webhook is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("no X-Signature or X-Timestamp header")]
    Unsigned,
    #[error("the signature does not match")]
    BadSignature,
    #[error("the timestamp is {0} seconds away from our clock")]
    Stale(i64),
    #[error("not a webhook envelope: {0}")]
    Malformed(String),
    #[error("missing payload field {0}")]
    Missing(&'static str),
    #[error("the sender is not a phone number")]
    BadFrom,
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed with the signing key over `parts`, one after the other.
fn mac(key: &str, parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The signature the app computes over `body` sent at `timestamp`, as hex.
pub fn signature(key: &str, body: &[u8], timestamp: &str) -> String {
    to_hex(
        &mac(key, &[body, timestamp.as_bytes()])
            .finalize()
            .into_bytes(),
    )
}

/// Checks a webhook's signature (constant time) and that its timestamp is within `max_skew`
/// seconds of `now` (Unix seconds), so a captured webhook cannot be played again later.
pub fn verify(
    key: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now: i64,
    max_skew: i64,
) -> Result<(), WebhookError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(WebhookError::Unsigned);
    };
    let given = hex(signature.trim()).ok_or(WebhookError::BadSignature)?;
    mac(key, &[body, timestamp.as_bytes()])
        .verify_slice(&given)
        .map_err(|_| WebhookError::BadSignature)?;
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookError::BadSignature)?;
    let skew = now - at;
    if skew.abs() > max_skew {
        return Err(WebhookError::Stale(skew));
    }
    Ok(())
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "deviceId")]
    device_id: String,
    event: String,
    #[serde(default)]
    payload: serde_json::Value,
}

/// A verified webhook, decoded.
#[derive(Debug)]
pub enum Event {
    /// `sms:received`.
    Received(InboundSms),
    /// `sms:sent`, `sms:delivered`, `sms:failed`, `sms:cancelled`: one of our messages moved.
    Status(StatusEvent),
    /// Anything else (`system:ping`, `app:started`, MMS, data SMS): acknowledged, nothing kept.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// Our id as we sent it (`cl-<message id>`).
    pub provider_message_id: String,
    /// In Twilio's vocabulary, by [`STATUS_EVENTS`].
    pub status: &'static str,
    pub reason: Option<String>,
    /// What is kept of it: the event, ids, reason and times, without the numbers.
    pub payload: String,
}

/// The app's status events and what they mean in our lifecycle.
pub const STATUS_EVENTS: &[(&str, &str)] = &[
    ("sms:sent", "sent"),
    ("sms:delivered", "delivered"),
    ("sms:failed", "failed"),
    ("sms:cancelled", "canceled"),
];

/// Decodes a verified webhook. `key` (the signing key) keys our id for incoming messages.
pub fn parse_webhook(
    body: &[u8],
    key: &str,
    default_region: Option<&str>,
) -> Result<Event, WebhookError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let field = |name: &'static str| {
        envelope
            .payload
            .get(name)
            .and_then(serde_json::Value::as_str)
    };
    if envelope.event == "sms:received" {
        let text = field("message").ok_or(WebhookError::Missing("message"))?;
        // `sender` since 2026; `phoneNumber` before, and still sent.
        let sender = field("sender")
            .or_else(|| field("phoneNumber"))
            .ok_or(WebhookError::Missing("sender"))?;
        let from = PhoneNumber::parse(sender, default_region).map_err(|_| WebhookError::BadFrom)?;
        let received_at = field("receivedAt").unwrap_or_default();
        let to = field("recipient").unwrap_or(&envelope.device_id);
        let id = inbound_key(key, &envelope.device_id, from.e164(), received_at, text);
        return Ok(Event::Received(InboundSms::new(
            Provider::Smsgate,
            id,
            from,
            to.to_owned(),
            text.to_owned(),
        )));
    }
    let Some((_, status)) = STATUS_EVENTS.iter().find(|(e, _)| *e == envelope.event) else {
        return Ok(Event::Other(envelope.event));
    };
    let message_id = field("messageId").ok_or(WebhookError::Missing("messageId"))?;
    let reason = field("reason").map(str::to_owned);
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    kept.append_pair("event", &envelope.event);
    kept.append_pair("deviceId", &envelope.device_id);
    for name in [
        "messageId",
        "reason",
        "sentAt",
        "deliveredAt",
        "failedAt",
        "cancelledAt",
    ] {
        if let Some(value) = field(name) {
            kept.append_pair(name, value);
        }
    }
    Ok(Event::Status(StatusEvent {
        provider_message_id: message_id.to_owned(),
        status,
        reason,
        payload: kept.finish(),
    }))
}

/// Our deduplication key for an incoming message (see the module's comment).
fn inbound_key(key: &str, device: &str, sender: &str, received_at: &str, text: &str) -> String {
    let [d, s, r, t] = [device, sender, received_at, text].map(str::as_bytes);
    let tag = mac(key, &[d, b"\0", s, b"\0", r, b"\0", t, b"\0"]).finalize();
    format!("sg-{}", to_hex(&tag.into_bytes()[..16]))
}

/// Our id for an outgoing message, which the phone keeps and its status webhooks carry.
pub fn outbound_id(message_id: i64) -> String {
    format!("cl-{message_id}")
}

/// The app's message states and ours.
const STATES: &[(&str, &str)] = &[
    ("Pending", "sending"),
    ("Processed", "sending"),
    ("Sent", "sent"),
    ("Delivered", "delivered"),
    ("Failed", "failed"),
];

#[derive(Deserialize)]
struct SendAnswer {
    id: String,
    #[serde(default)]
    state: String,
}

/// The phone's REST API.
pub struct Client {
    http: reqwest::Client,
    /// `http://<phone's address>:8080`.
    url: String,
    username: String,
    password: Secret,
    /// At most one message per this long through the phone.
    interval: Duration,
}

impl Client {
    pub fn new(url: &str, username: &str, password: Secret, interval: Duration) -> Client {
        Client {
            http: super::http_client(),
            url: url.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            password,
            interval,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub async fn send(&self, sms: &OutboundSms<'_>) -> Result<Accepted, SendError> {
        let id = outbound_id(sms.message_id);
        let request = serde_json::json!({
            "id": id,
            "textMessage": { "text": sms.body },
            "phoneNumbers": [sms.to],
            "withDeliveryReport": true,
        });
        let response = self
            .http
            .post(format!("{}/message", self.url))
            .basic_auth(&self.username, Some(self.password.expose()))
            .json(&request)
            .send()
            .await
            .map_err(|e| match e.is_connect() {
                // The phone is off, out of Wi-Fi or its server stopped: nothing was sent.
                true => SendError::Unavailable(format!("the phone cannot be reached: {e}")),
                false => SendError::from_transport(&e),
            })?;
        let reply = Answer::read(response).await?;
        // 409: it holds this id already, an earlier try got through.
        if reply.status == 409 {
            return Ok(Accepted {
                provider_message_id: id,
                status: "sending".into(),
            });
        }
        if !reply.is_success() {
            return Err(reply.refusal());
        }
        let answer: SendAnswer = serde_json::from_str(&reply.body)
            .map_err(|e| SendError::Transient(format!("unreadable answer from the phone ({e})")))?;
        let status = STATES
            .iter()
            .find(|(state, _)| *state == answer.state)
            .map_or("sending", |(_, ours)| ours);
        Ok(Accepted {
            provider_message_id: answer.id,
            status: status.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "signing-key";
    const NOW: i64 = 1_765_000_000;

    /// The envelope of the documentation's `sms:received` example, with our numbers.
    fn received(sender: &str, text: &str, at: &str) -> String {
        serde_json::json!({
            "deviceId": "ffffffffceb0b1db0000018e937c815b",
            "event": "sms:received",
            "id": "Ey6ECgOkVVFjz3CL48B8C",
            "payload": {
                "messageId": "abc123",
                "message": text,
                "sender": sender,
                "recipient": "+254700000001",
                "simNumber": 1,
                "receivedAt": at,
            },
            "webhookId": "LreFUt-Z3sSq0JufY9uWB",
        })
        .to_string()
    }

    struct SignatureCase {
        name: &'static str,
        timestamp: Option<String>,
        signature: Option<String>,
        verdict: Result<(), WebhookError>,
    }

    #[test]
    fn signature_cases() {
        let body = received("+254711082300", "HELP", "2026-12-06T10:00:00.000+03:00");
        let at = |t: i64| t.to_string();
        let signed = |t: i64| signature(KEY, body.as_bytes(), &at(t));
        let cases = [
            SignatureCase {
                name: "signed now",
                timestamp: Some(at(NOW)),
                signature: Some(signed(NOW)),
                verdict: Ok(()),
            },
            SignatureCase {
                name: "upper-case hex is the same signature",
                timestamp: Some(at(NOW)),
                signature: Some(signed(NOW).to_uppercase()),
                verdict: Ok(()),
            },
            SignatureCase {
                name: "four minutes old: within the skew",
                timestamp: Some(at(NOW - 240)),
                signature: Some(signed(NOW - 240)),
                verdict: Ok(()),
            },
            SignatureCase {
                name: "an hour old: a replay",
                timestamp: Some(at(NOW - 3600)),
                signature: Some(signed(NOW - 3600)),
                verdict: Err(WebhookError::Stale(3600)),
            },
            SignatureCase {
                name: "from the future",
                timestamp: Some(at(NOW + 900)),
                signature: Some(signed(NOW + 900)),
                verdict: Err(WebhookError::Stale(-900)),
            },
            SignatureCase {
                name: "the timestamp changed after signing",
                timestamp: Some(at(NOW)),
                signature: Some(signed(NOW - 1)),
                verdict: Err(WebhookError::BadSignature),
            },
            SignatureCase {
                name: "signed with another key",
                timestamp: Some(at(NOW)),
                signature: Some(signature("guess", body.as_bytes(), &at(NOW))),
                verdict: Err(WebhookError::BadSignature),
            },
            SignatureCase {
                name: "not hex",
                timestamp: Some(at(NOW)),
                signature: Some("zz".repeat(32)),
                verdict: Err(WebhookError::BadSignature),
            },
            SignatureCase {
                name: "no signature",
                timestamp: Some(at(NOW)),
                signature: None,
                verdict: Err(WebhookError::Unsigned),
            },
            SignatureCase {
                name: "no timestamp",
                timestamp: None,
                signature: Some(signed(NOW)),
                verdict: Err(WebhookError::Unsigned),
            },
        ];
        for case in cases {
            let verdict = verify(
                KEY,
                body.as_bytes(),
                case.timestamp.as_deref(),
                case.signature.as_deref(),
                NOW,
                300,
            );
            assert_eq!(verdict, case.verdict, "{}", case.name);
        }
        // A byte of the body changed after signing.
        let forged = body.replace("HELP", "STOP");
        assert_eq!(
            verify(
                KEY,
                forged.as_bytes(),
                Some(&at(NOW)),
                Some(&signed(NOW)),
                NOW,
                300
            ),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn an_incoming_message_is_keyed_by_who_sent_what_when() {
        let id = |body: &str| match parse_webhook(body.as_bytes(), KEY, Some("KE")).unwrap() {
            Event::Received(sms) => sms.provider_message_id().to_owned(),
            other => panic!("{other:?}"),
        };
        let at = "2026-12-06T10:00:00.000+03:00";
        let first = id(&received("+254711082300", "HELP", at));
        assert!(first.starts_with("sg-") && first.len() == 35, "{first}");
        // The app's messageId is the same for all of these; ours is not.
        assert_eq!(first, id(&received("+254711082300", "HELP", at)));
        assert_ne!(first, id(&received("+254711082301", "HELP", at)));
        assert_ne!(
            first,
            id(&received(
                "+254711082300",
                "HELP",
                "2026-12-06T10:05:00.000+03:00"
            ))
        );
        assert_ne!(first, id(&received("+254711082300", "STOP", at)));
        // A national number read in the default region is the same sender.
        assert_eq!(first, id(&received("0711082300", "HELP", at)));
        assert!(!first.contains("711082300"));
    }

    #[test]
    fn webhook_cases() {
        let sms = parse_webhook(
            received("0711082300", "POTHOLE Moi Avenue", "t").as_bytes(),
            KEY,
            Some("KE"),
        );
        let Ok(Event::Received(sms)) = sms else {
            panic!("{sms:?}")
        };
        assert_eq!(
            (sms.provider(), sms.from().e164(), sms.to(), sms.body()),
            (
                Provider::Smsgate,
                "+254711082300",
                "+254700000001",
                "POTHOLE Moi Avenue"
            )
        );
        // Before 2026 the app named the sender `phoneNumber` only.
        let legacy = r#"{"deviceId":"d","event":"sms:received","id":"e","payload":{"messageId":"m","message":"HELP","phoneNumber":"+254711082300","receivedAt":"t"},"webhookId":"w"}"#;
        let Ok(Event::Received(sms)) = parse_webhook(legacy.as_bytes(), KEY, None) else {
            panic!("legacy payload refused")
        };
        assert_eq!((sms.from().e164(), sms.to()), ("+254711082300", "d"));

        let status = |event: &str, extra: &str| {
            format!(
                r#"{{"deviceId":"d","event":"{event}","id":"e","payload":{{"messageId":"cl-42","sender":"+254700000001","recipient":"+254711082300","simNumber":1{extra}}},"webhookId":"w"}}"#
            )
        };
        for (event, extra, want) in [
            ("sms:sent", r#","sentAt":"t","partsCount":1"#, "sent"),
            ("sms:delivered", r#","deliveredAt":"t""#, "delivered"),
            (
                "sms:failed",
                r#","failedAt":"t","reason":"RESULT_ERROR_NO_SERVICE""#,
                "failed",
            ),
            ("sms:cancelled", r#","cancelledAt":"t""#, "canceled"),
        ] {
            let Ok(Event::Status(report)) =
                parse_webhook(status(event, extra).as_bytes(), KEY, None)
            else {
                panic!("{event}")
            };
            assert_eq!(
                (report.provider_message_id.as_str(), report.status),
                ("cl-42", want)
            );
            assert!(
                !report.payload.contains("254"),
                "numbers kept: {}",
                report.payload
            );
            assert!(
                report.payload.contains("event=sms%3A"),
                "{}",
                report.payload
            );
            if event == "sms:failed" {
                assert_eq!(report.reason.as_deref(), Some("RESULT_ERROR_NO_SERVICE"));
            }
        }
        let ping = r#"{"deviceId":"d","event":"system:ping","id":"e","payload":{"health":{}},"webhookId":"w"}"#;
        assert!(
            matches!(parse_webhook(ping.as_bytes(), KEY, None), Ok(Event::Other(e)) if e == "system:ping")
        );

        for (name, body, want) in [
            ("not JSON", "event=sms:received".to_owned(), "malformed"),
            (
                "no deviceId",
                r#"{"event":"sms:received","payload":{}}"#.to_owned(),
                "malformed",
            ),
            (
                "no text",
                r#"{"deviceId":"d","event":"sms:received","payload":{"sender":"+254711082300"}}"#
                    .to_owned(),
                "missing message",
            ),
            (
                "no sender",
                r#"{"deviceId":"d","event":"sms:received","payload":{"message":"HELP"}}"#
                    .to_owned(),
                "missing sender",
            ),
            (
                "a name as the sender",
                received("MPESA", "You received", "t"),
                "bad from",
            ),
            (
                "a status without its message",
                r#"{"deviceId":"d","event":"sms:sent","payload":{}}"#.to_owned(),
                "missing messageId",
            ),
        ] {
            let got = match parse_webhook(body.as_bytes(), KEY, Some("KE")) {
                Err(WebhookError::Malformed(_)) => "malformed".to_owned(),
                Err(WebhookError::Missing(field)) => format!("missing {field}"),
                Err(WebhookError::BadFrom) => "bad from".to_owned(),
                other => format!("{other:?}"),
            };
            assert_eq!(got, want, "{name}");
        }
    }
}
