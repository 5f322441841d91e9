//! Africa's Talking: the SMS API most used across Africa, where citizens are most often on SMS
//! only. <https://developers.africastalking.com/docs/sms/overview>
//!
//! Its callbacks carry no signature, so the callback URLs carry a secret token of ours
//! (`?token=…`), compared in constant time.

use super::form::Form;
use super::{Accepted, Answer, OutboundSms, SendError};
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
        let reply = Answer::read(response).await?;
        if !matches!(reply.status, 200 | 201) {
            return Err(reply.refusal());
        }
        let answer: SendAnswer = serde_json::from_str(&reply.body).map_err(|e| {
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

    /// A callback's form and what it becomes: the message's (id, sender, text), or the refusal.
    struct InboundCase {
        name: &'static str,
        form: &'static [(&'static str, &'static str)],
        sms: Result<(&'static str, &'static str, &'static str), CallbackError>,
    }

    #[test]
    fn inbound_cases() {
        use CallbackError::{BadFrom, BadId, Missing};
        let cases = [
            InboundCase {
                name: "the documented fields",
                form: &[
                    ("date", "2017-05-03T06:04:45Z"),
                    ("from", "+254711082300"),
                    ("id", "bd5d4f71-c7a4-4d6a-9d2b-7b4b1d7d2a15"),
                    ("linkId", "SampleLinkId123"),
                    ("text", "POTHOLE Moi Avenue"),
                    ("to", "21525"),
                ],
                sms: Ok((
                    "bd5d4f71-c7a4-4d6a-9d2b-7b4b1d7d2a15",
                    "+254711082300",
                    "POTHOLE Moi Avenue",
                )),
            },
            InboundCase {
                name: "a national number, read in the default region",
                form: &[
                    ("id", "ATMsg_e"),
                    ("from", "0711082304"),
                    ("to", "21525"),
                    ("text", "HELP"),
                ],
                sms: Ok(("ATMsg_e", "+254711082304", "HELP")),
            },
            InboundCase {
                name: "no linkId (not a premium service): still a message",
                form: &[
                    ("id", "ATMsg_1"),
                    ("from", "+254711082300"),
                    ("to", "21525"),
                    ("text", ""),
                ],
                sms: Ok(("ATMsg_1", "+254711082300", "")),
            },
            InboundCase {
                name: "no text",
                form: &[
                    ("id", "ATMsg_f"),
                    ("from", "+254711082305"),
                    ("to", "21525"),
                ],
                sms: Err(Missing("text")),
            },
            InboundCase {
                name: "no id",
                form: &[("from", "+254711082305"), ("to", "21525"), ("text", "HELP")],
                sms: Err(Missing("id")),
            },
            InboundCase {
                name: "no to",
                form: &[
                    ("id", "ATMsg_g"),
                    ("from", "+254711082305"),
                    ("text", "HELP"),
                ],
                sms: Err(Missing("to")),
            },
            InboundCase {
                name: "a network's name as the sender",
                form: &[
                    ("id", "ATMsg_d"),
                    ("from", "Safaricom"),
                    ("to", "21525"),
                    ("text", "HELP"),
                ],
                sms: Err(BadFrom),
            },
            InboundCase {
                name: "a space in the id",
                form: &[
                    ("id", "AT Msg"),
                    ("from", "+254711082305"),
                    ("to", "21525"),
                    ("text", "HELP"),
                ],
                sms: Err(BadId),
            },
        ];
        for case in cases {
            let form = Form::from_pairs(case.form.iter().copied());
            let sms = parse_inbound(&form, Some("KE"));
            let got = sms.as_ref().map(|sms| {
                let (id, from, body) = (sms.provider_message_id(), sms.from().e164(), sms.body());
                (id.to_owned(), from.to_owned(), body.to_owned())
            });
            let want = case
                .sms
                .as_ref()
                .map(|(id, from, body)| (id.to_string(), from.to_string(), body.to_string()));
            assert_eq!(got, want, "{}", case.name);
            if let Ok(sms) = sms {
                assert_eq!(sms.provider(), Provider::AfricasTalking);
            }
        }
    }

    /// A delivery report's form and what it becomes: (id, our status, reason), or the refusal.
    struct ReportCase {
        name: &'static str,
        form: &'static [(&'static str, &'static str)],
        report: Result<(&'static str, &'static str, Option<&'static str>), CallbackError>,
    }

    #[test]
    fn delivery_report_cases() {
        use CallbackError::*;
        let report = |status| -> &'static [(&'static str, &'static str)] {
            match status {
                "Success" => &[
                    ("id", "ATXid_1"),
                    ("status", "Success"),
                    ("networkCode", "63902"),
                ],
                "Buffered" => &[
                    ("id", "ATXid_1"),
                    ("status", "Buffered"),
                    ("failureReason", ""),
                ],
                _ => unreachable!(),
            }
        };
        let cases = [
            ReportCase {
                name: "Success is delivered",
                form: report("Success"),
                report: Ok(("ATXid_1", "delivered", None)),
            },
            ReportCase {
                name: "Buffered is sent, an empty reason is none",
                form: report("Buffered"),
                report: Ok(("ATXid_1", "sent", None)),
            },
            ReportCase {
                name: "Sent and Submitted are sent",
                form: &[("id", "ATXid_2"), ("status", "Submitted")],
                report: Ok(("ATXid_2", "sent", None)),
            },
            ReportCase {
                name: "Rejected is failed, with the reason",
                form: &[
                    ("id", "ATXid_3"),
                    ("status", "Rejected"),
                    ("failureReason", "InvalidPhoneNumber"),
                ],
                report: Ok(("ATXid_3", "failed", Some("InvalidPhoneNumber"))),
            },
            ReportCase {
                name: "Failed is failed",
                form: &[
                    ("id", "ATXid_4"),
                    ("status", "Failed"),
                    ("failureReason", "UserInBlacklist"),
                ],
                report: Ok(("ATXid_4", "failed", Some("UserInBlacklist"))),
            },
            ReportCase {
                name: "Expired is undelivered",
                form: &[("id", "ATXid_5"), ("status", "Expired")],
                report: Ok(("ATXid_5", "undelivered", None)),
            },
            ReportCase {
                name: "a word we do not know is kept",
                form: &[("id", "ATXid_6"), ("status", "Odd")],
                report: Ok(("ATXid_6", "Odd", None)),
            },
            ReportCase {
                name: "no id",
                form: &[("status", "Success")],
                report: Err(Missing("id")),
            },
            ReportCase {
                name: "no status",
                form: &[("id", "ATXid_7")],
                report: Err(Missing("status")),
            },
        ];
        for case in cases {
            let form = Form::from_pairs(case.form.iter().copied());
            let got = parse_delivery_report(&form)
                .map(|r| (r.provider_message_id, r.status, r.failure_reason));
            let want = case.report.map(|(id, status, reason)| {
                (id.to_owned(), status.to_owned(), reason.map(str::to_owned))
            });
            assert_eq!(got, want, "{}", case.name);
        }
    }
}
