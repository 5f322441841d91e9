//! Africa's Talking: the SMS API most used across Africa, where citizens are most often on SMS
//! only. <https://developers.africastalking.com/docs/sms/overview>
//!
//! Its callbacks carry no signature, so the callback URLs carry a secret token of ours
//! (`?token=…`), compared in constant time.

use super::form::Form;
use super::{Accepted, OutboundSms, SendError, retry_after};
use crate::secret::Secret;
use crate::sms::{InboundSms, PhoneNumber, Provider};
use serde::Deserialize;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    #[error("missing form field {0}")]
    Missing(&'static str),
    #[error("id is not an Africa's Talking message id")]
    BadId,
    #[error("from is not a phone number")]
    BadFrom,
}

/// The incoming-message callback: `from`, `to`, `text`, `date`, `id`, optional `linkId`.
/// <https://developers.africastalking.com/docs/sms/notifications>
pub fn parse_inbound(
    form: &Form,
    default_region: Option<&str>,
) -> Result<InboundSms, CallbackError> {
    let id = form.get("id").ok_or(CallbackError::Missing("id"))?;
    if id.is_empty() || id.len() > 100 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CallbackError::BadId);
    }
    let from = form.get("from").ok_or(CallbackError::Missing("from"))?;
    let from = PhoneNumber::parse(from, default_region).map_err(|_| CallbackError::BadFrom)?;
    let to = form.get("to").ok_or(CallbackError::Missing("to"))?;
    let text = form.get("text").ok_or(CallbackError::Missing("text"))?;
    Ok(InboundSms::new(
        Provider::AfricasTalking,
        id.to_owned(),
        from,
        to.to_owned(),
        text.to_owned(),
    ))
}

/// A delivery report: which message, and its status in Twilio's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub provider_message_id: String,
    /// Mapped by [`DELIVERY_STATUSES`]; an unknown word is kept as it came.
    pub status: String,
    pub failure_reason: Option<String>,
}

/// Africa's Talking delivery statuses and what they mean in our lifecycle.
const DELIVERY_STATUSES: &[(&str, &str)] = &[
    ("Sent", "sent"),
    ("Submitted", "sent"),
    ("Buffered", "sent"),
    ("Success", "delivered"),
    ("Rejected", "failed"),
    ("Failed", "failed"),
    ("Expired", "undelivered"),
];

pub fn parse_delivery_report(form: &Form) -> Result<DeliveryReport, CallbackError> {
    let id = form.get("id").ok_or(CallbackError::Missing("id"))?;
    let status = form.get("status").ok_or(CallbackError::Missing("status"))?;
    let mapped = DELIVERY_STATUSES
        .iter()
        .find(|(theirs, _)| *theirs == status)
        .map_or(status, |(_, ours)| ours);
    Ok(DeliveryReport {
        provider_message_id: id.to_owned(),
        status: mapped.to_owned(),
        failure_reason: form
            .get("failureReason")
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
    })
}

/// What a recipient `statusCode` of the send answer means.
/// <https://developers.africastalking.com/docs/sms/sending/bulk>
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accepted(&'static str),
    OptedOut,
    Rejected,
    Config,
    Transient,
}

const RECIPIENT_CODES: &[(u16, Outcome)] = &[
    (100, Outcome::Accepted("queued")), // Processed
    (101, Outcome::Accepted("sent")),   // Sent
    (102, Outcome::Accepted("queued")), // Queued
    (401, Outcome::Rejected),           // RiskHold
    (402, Outcome::Config),             // InvalidSenderId
    (403, Outcome::Rejected),           // InvalidPhoneNumber
    (404, Outcome::Rejected),           // UnsupportedNumberType
    (405, Outcome::Config),             // InsufficientBalance
    (406, Outcome::OptedOut),           // UserInBlacklist
    (407, Outcome::Rejected),           // CouldNotRoute
    (409, Outcome::Rejected),           // DoNotDisturbRejection
    (500, Outcome::Transient),          // InternalServerError
    (501, Outcome::Transient),          // GatewayError
    (502, Outcome::Rejected),           // RejectedByGateway
];

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(rename = "SMSMessageData")]
    data: SmsMessageData,
}

#[derive(Deserialize)]
struct SmsMessageData {
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Recipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(rename = "statusCode")]
    status_code: u16,
    #[serde(default)]
    status: String,
    #[serde(rename = "messageId", default)]
    message_id: String,
}

pub struct Client {
    http: reqwest::Client,
    /// `https://api.africastalking.com` (`https://api.sandbox.africastalking.com` for the sandbox).
    api_base: String,
    username: String,
    api_key: Secret,
    /// Sender id or short code; empty uses the account's default.
    from: String,
}

impl Client {
    pub fn new(api_base: &str, username: &str, api_key: Secret, from: &str) -> Client {
        Client {
            http: super::http_client(),
            api_base: api_base.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            api_key,
            from: from.to_owned(),
        }
    }

    pub async fn send(&self, sms: &OutboundSms<'_>) -> Result<Accepted, SendError> {
        let mut form = vec![
            ("username", self.username.as_str()),
            ("to", sms.to),
            ("message", sms.body),
        ];
        if !self.from.is_empty() {
            form.push(("from", &self.from));
        }
        let response = self
            .http
            .post(format!("{}/version1/messaging", self.api_base))
            .header("apiKey", self.api_key.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| SendError::from_transport(&e))?;
        let status = response.status().as_u16();
        let wait = retry_after(response.headers());
        let body = response
            .text()
            .await
            .map_err(|e| SendError::from_transport(&e))?;
        match status {
            200 | 201 => {}
            401 | 403 => {
                return Err(SendError::Config {
                    code: format!("http-{status}"),
                    message: body,
                });
            }
            429 => {
                return Err(SendError::Throttled {
                    code: "http-429".into(),
                    retry_after: wait,
                });
            }
            500..=599 => return Err(SendError::Transient(format!("HTTP {status}"))),
            _ => {
                return Err(SendError::Rejected {
                    code: format!("http-{status}"),
                    message: body,
                });
            }
        }
        let answer: SendAnswer = serde_json::from_str(&body).map_err(|e| {
            SendError::Transient(format!("unreadable answer from Africa's Talking ({e})"))
        })?;
        let Some(recipient) = answer.data.recipients.into_iter().next() else {
            return Err(SendError::Rejected {
                code: "no-recipient".into(),
                message: answer.data.message,
            });
        };
        let code = recipient.status_code.to_string();
        let outcome = RECIPIENT_CODES
            .iter()
            .find(|(c, _)| *c == recipient.status_code)
            .map_or(Outcome::Rejected, |(_, o)| *o);
        match outcome {
            Outcome::Accepted(status) => Ok(Accepted {
                provider_message_id: recipient.message_id,
                status: status.to_owned(),
            }),
            Outcome::OptedOut => Err(SendError::OptedOut { code }),
            Outcome::Rejected => Err(SendError::Rejected {
                code,
                message: recipient.status,
            }),
            Outcome::Config => Err(SendError::Config {
                code,
                message: recipient.status,
            }),
            Outcome::Transient => Err(SendError::Transient(format!("{code} {}", recipient.status))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_callback_becomes_an_sms() {
        let form = Form::from_pairs([
            ("date", "2017-05-03T06:04:45Z"),
            ("from", "+254711082300"),
            ("id", "bd5d4f71-c7a4-4d6a-9d2b-7b4b1d7d2a15"),
            ("linkId", "SampleLinkId123"),
            ("text", "POTHOLE Moi Avenue"),
            ("to", "21525"),
        ]);
        let sms = parse_inbound(&form, Some("KE")).unwrap();
        assert_eq!(sms.provider(), Provider::AfricasTalking);
        assert_eq!(sms.from().e164(), "+254711082300");
        assert_eq!(sms.body(), "POTHOLE Moi Avenue");
        let mut missing = form.pairs().to_vec();
        missing.retain(|(n, _)| n != "text");
        assert_eq!(
            parse_inbound(&Form::from_pairs(missing), None).unwrap_err(),
            CallbackError::Missing("text")
        );
    }

    #[test]
    fn delivery_statuses_map_onto_our_lifecycle() {
        for (theirs, ours) in [
            ("Success", "delivered"),
            ("Failed", "failed"),
            ("Buffered", "sent"),
            ("Odd", "Odd"),
        ] {
            let form =
                Form::from_pairs([("id", "ATXid_1"), ("status", theirs), ("failureReason", "")]);
            let report = parse_delivery_report(&form).unwrap();
            assert_eq!(report.status, ours, "{theirs}");
            assert_eq!(report.failure_reason, None);
        }
    }
}
