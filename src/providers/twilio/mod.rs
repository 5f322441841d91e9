//! Twilio: the inbound SMS webhook, its `X-Twilio-Signature`, and TwiML replies.
//!
//! - Webhook: <https://www.twilio.com/docs/messaging/guides/webhook-request>
//! - Signature: <https://www.twilio.com/docs/usage/webhooks/webhooks-security>
//! - TwiML `<Message>`: <https://www.twilio.com/docs/messaging/twiml/message>
//!
//! Our own code, not a crate: the `twilio` crate drops the query string from the signed URL and
//! compares in non-constant time (see shared/DESIGN.md section 7).

pub mod client;

use super::form::{Form, FormError};
use crate::sms::{InboundSms, PhoneNumber, Provider};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The header Twilio signs each webhook with.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InboundError {
    #[error(transparent)]
    Form(#[from] FormError),
    #[error("missing form field {0}")]
    Missing(&'static str),
    #[error("MessageSid is not a Twilio message id")]
    BadMessageSid,
    #[error("From is not a phone number")]
    BadFrom,
}

/// The signature Twilio computes: HMAC-SHA1 keyed with the auth token over the URL followed by
/// each parameter's name and value, sorted by name (then value), base64.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    BASE64.encode(mac(auth_token, url, params).finalize().into_bytes())
}

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_unstable();
    let mut mac =
        Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// Checks `header` against the URL as configured and, as Twilio's SDKs do, with the default
/// port removed or added. The comparison is constant-time (`Mac::verify_slice`).
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    let Ok(expected) = BASE64.decode(header.trim()) else {
        return false;
    };
    url_variants(url).iter().any(|candidate| {
        mac(auth_token, candidate, params)
            .verify_slice(&expected)
            .is_ok()
    })
}

/// `url` itself and the same URL with its default port toggled (`:443` for https, `:80` for
/// http). The host is kept as written: Twilio signs it as configured, case included.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_end = authority
        .rfind(':')
        .filter(|&i| !authority[i..].contains(']'));
    match host_end {
        Some(i) if &authority[i + 1..] == default_port => {
            variants.push(format!("{scheme}://{}{tail}", &authority[..i]));
        }
        Some(_) => {}
        None => variants.push(format!("{scheme}://{authority}:{default_port}{tail}")),
    }
    variants
}

/// Reads an inbound SMS webhook. Unknown fields are kept in the form (for the signature) and
/// ignored here: Twilio adds fields without notice.
pub fn parse_inbound(
    form: &Form,
    default_region: Option<&str>,
) -> Result<InboundSms, InboundError> {
    let sid = ["MessageSid", "SmsMessageSid", "SmsSid"]
        .iter()
        .find_map(|name| form.get(name))
        .ok_or(InboundError::Missing("MessageSid"))?;
    if sid.is_empty() || sid.len() > 64 || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(InboundError::BadMessageSid);
    }
    let from = form.get("From").ok_or(InboundError::Missing("From"))?;
    let from = PhoneNumber::parse(from, default_region).map_err(|_| InboundError::BadFrom)?;
    let to = form.get("To").ok_or(InboundError::Missing("To"))?;
    // An MMS with only a picture carries `Body=`; a request without the field is not Twilio's.
    let body = form.get("Body").ok_or(InboundError::Missing("Body"))?;
    Ok(InboundSms::new(
        Provider::Twilio,
        sid.to_owned(),
        from,
        to.to_owned(),
        body.to_owned(),
    ))
}

/// The URL Twilio reports a message's delivery status to: our status webhook, with our message
/// id so the callback finds the message even before we know Twilio's SID.
pub fn status_callback_url(public_url: &str, message_id: i64) -> String {
    format!("{public_url}/sms/twilio/status?message_id={message_id}")
}

/// A TwiML response: one `<Message>` when there is a reply, `<Response/>` for silence. With a
/// `status_callback`, Twilio reports the reply's delivery there.
pub fn twiml(reply: Option<&str>, status_callback: Option<&str>) -> String {
    use quick_xml::escape::escape;
    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    match (reply, status_callback) {
        (Some(text), Some(url)) => format!(
            r#"{HEAD}<Response><Message statusCallback="{}">{}</Message></Response>"#,
            escape(url),
            escape(text)
        ),
        (Some(text), None) => format!(
            "{HEAD}<Response><Message>{}</Message></Response>",
            escape(text)
        ),
        (None, _) => format!("{HEAD}<Response/>"),
    }
}

/// A message status callback. <https://www.twilio.com/docs/messaging/guides/track-outbound-message-status>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallback {
    pub message_sid: String,
    /// Twilio's word, as sent; unknown words are kept.
    pub status: String,
    pub error_code: Option<String>,
}

pub fn parse_status_callback(form: &Form) -> Result<StatusCallback, InboundError> {
    let message_sid = form
        .get("MessageSid")
        .or_else(|| form.get("SmsSid"))
        .ok_or(InboundError::Missing("MessageSid"))?;
    if message_sid.is_empty()
        || message_sid.len() > 64
        || !message_sid.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(InboundError::BadMessageSid);
    }
    let status = form
        .get("MessageStatus")
        .or_else(|| form.get("SmsStatus"))
        .ok_or(InboundError::Missing("MessageStatus"))?;
    Ok(StatusCallback {
        message_sid: message_sid.to_owned(),
        status: status.to_ascii_lowercase(),
        error_code: form
            .get("ErrorCode")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
    })
}

/// The texts of the `<Message>` elements of a TwiML document (for `simulate` and tests).
pub fn twiml_messages(xml: &str) -> Result<Vec<String>, roxmltree::Error> {
    let doc = roxmltree::Document::parse(xml)?;
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("Message"))
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_params() -> Vec<(String, String)> {
        Form::from_pairs([
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
        .pairs()
        .to_vec()
    }

    /// Twilio's published vectors (twilio-python, twilio-php and twilio-csharp test suites).
    #[test]
    fn computes_twilios_published_signatures() {
        let cases = [
            (
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            ),
            (
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                "kvajT1Ptam85bY51eRf/AJRuM3w=",
            ),
            (
                "http://mycompany.com:80/myapp.php?foo=1&bar=2",
                "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            ),
            (
                "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            ),
            (
                "https://MyCompany.com/myapp.php?foo=1&bar=2",
                "g9IN/x4Cft2g517EjYvEvM/W7LU=",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(signature("12345", url, &vector_params()), expected, "{url}");
            assert!(verify("12345", url, &vector_params(), expected), "{url}");
        }
    }

    #[test]
    fn repeated_keys_are_signed_in_sorted_value_order() {
        let params = Form::from_pairs([
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            signature("12345", url, params.pairs()),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn accepts_the_url_with_or_without_the_default_port() {
        let params = vector_params();
        let without = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let with = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert!(verify(
            "12345",
            with,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(verify(
            "12345",
            without,
            &params,
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
    }

    #[test]
    fn refuses_wrong_token_tampered_params_other_port_and_garbage() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(!verify("54321", url, &vector_params(), good));
        let mut tampered = vector_params();
        tampered[2].1 = "9999".into();
        assert!(!verify("12345", url, &tampered, good));
        assert!(!verify(
            "12345",
            "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
            &vector_params(),
            good
        ));
        assert!(!verify("12345", url, &vector_params(), "not base64 !!"));
        assert!(!verify("12345", url, &vector_params(), ""));
    }

    #[test]
    fn twiml_escapes_every_xml_special_character() {
        let text = r#"Fish & chips <b>"quoted"</b> it's"#;
        let xml = twiml(Some(text), None);
        let doc = roxmltree::Document::parse(&xml).expect("valid XML");
        let message = doc
            .descendants()
            .find(|n| n.has_tag_name("Message"))
            .unwrap();
        assert_eq!(message.text(), Some(text));
        assert_eq!(twiml_messages(&xml).unwrap(), [text]);
    }

    #[test]
    fn status_callback_url_is_an_escaped_attribute() {
        let xml = twiml(
            Some("ok"),
            Some("https://x.test/sms/twilio/status?message_id=7&a=<b>"),
        );
        let doc = roxmltree::Document::parse(&xml).expect("valid XML");
        let message = doc
            .descendants()
            .find(|n| n.has_tag_name("Message"))
            .unwrap();
        assert_eq!(
            message.attribute("statusCallback"),
            Some("https://x.test/sms/twilio/status?message_id=7&a=<b>")
        );
    }

    #[test]
    fn silence_is_an_empty_response() {
        let xml = twiml(None, None);
        assert!(roxmltree::Document::parse(&xml).is_ok());
        assert!(twiml_messages(&xml).unwrap().is_empty());
    }

    /// A webhook's form and what it becomes: the message's (sid, sender, body), or the refusal.
    struct InboundCase {
        name: &'static str,
        form: &'static [(&'static str, &'static str)],
        sms: Result<(&'static str, &'static str, &'static str), InboundError>,
    }

    /// Twilio's published example of an incoming message's fields, less the ones we ignore.
    /// <https://www.twilio.com/docs/messaging/guides/webhook-request>
    const EXAMPLE: &[(&str, &str)] = &[
        ("ToCountry", "US"),
        ("SmsMessageSid", "SM1234567890abcdef1234567890abcdef"),
        ("NumMedia", "0"),
        ("SmsSid", "SM1234567890abcdef1234567890abcdef"),
        ("SmsStatus", "received"),
        ("Body", "POTHOLE Main St & 5th"),
        ("To", "+18005551212"),
        ("NumSegments", "1"),
        ("MessageSid", "SM1234567890abcdef1234567890abcdef"),
        ("AccountSid", "AC1234567890abcdef1234567890abcdef"),
        ("From", "+14158675309"),
        ("ApiVersion", "2010-04-01"),
    ];

    #[test]
    fn inbound_cases() {
        use InboundError::{BadFrom, BadMessageSid, Missing};
        let cases = [
            InboundCase {
                name: "Twilio's example",
                form: EXAMPLE,
                sms: Ok((
                    "SM1234567890abcdef1234567890abcdef",
                    "+14158675309",
                    "POTHOLE Main St & 5th",
                )),
            },
            InboundCase {
                name: "only the legacy SmsSid",
                form: &[
                    ("SmsSid", "SM9"),
                    ("From", "+14158675309"),
                    ("To", "+18005551212"),
                    ("Body", "hi"),
                ],
                sms: Ok(("SM9", "+14158675309", "hi")),
            },
            InboundCase {
                name: "a national number, read in the default region",
                form: &[
                    ("MessageSid", "SM1"),
                    ("From", "(415) 867-5309"),
                    ("To", "+18005551212"),
                    ("Body", "hi"),
                ],
                sms: Ok(("SM1", "+14158675309", "hi")),
            },
            InboundCase {
                name: "a picture alone: an empty body is a message",
                form: &[
                    ("MessageSid", "MM1"),
                    ("From", "+14158675309"),
                    ("To", "+18005551212"),
                    ("Body", ""),
                    ("NumMedia", "1"),
                ],
                sms: Ok(("MM1", "+14158675309", "")),
            },
            InboundCase {
                name: "emoji and right-to-left text, as sent",
                form: &[
                    ("MessageSid", "SM2"),
                    ("From", "+14158675309"),
                    ("To", "+18005551212"),
                    ("Body", "🚧 حفرة"),
                ],
                sms: Ok(("SM2", "+14158675309", "🚧 حفرة")),
            },
            InboundCase {
                name: "no sid",
                form: &[
                    ("From", "+14158675309"),
                    ("To", "+18005551212"),
                    ("Body", "hi"),
                ],
                sms: Err(Missing("MessageSid")),
            },
            InboundCase {
                name: "no From",
                form: &[
                    ("MessageSid", "SM1"),
                    ("To", "+18005551212"),
                    ("Body", "hi"),
                ],
                sms: Err(Missing("From")),
            },
            InboundCase {
                name: "no To",
                form: &[
                    ("MessageSid", "SM1"),
                    ("From", "+14158675309"),
                    ("Body", "hi"),
                ],
                sms: Err(Missing("To")),
            },
            InboundCase {
                name: "no Body field at all: not Twilio's",
                form: &[
                    ("MessageSid", "SM1"),
                    ("From", "+14158675309"),
                    ("To", "+18005551212"),
                ],
                sms: Err(Missing("Body")),
            },
            InboundCase {
                name: "an alphanumeric sender",
                form: &[
                    ("MessageSid", "SM1"),
                    ("From", "BANK"),
                    ("To", "+18005551212"),
                    ("Body", "hi"),
                ],
                sms: Err(BadFrom),
            },
            InboundCase {
                name: "SQL in the sid",
                form: &[
                    ("MessageSid", "SM1'; drop table message;--"),
                    ("From", "+14158675309"),
                    ("To", "+18005551212"),
                    ("Body", "hi"),
                ],
                sms: Err(BadMessageSid),
            },
            InboundCase {
                name: "an empty sid",
                form: &[
                    ("MessageSid", ""),
                    ("From", "+14158675309"),
                    ("To", "+18005551212"),
                    ("Body", "hi"),
                ],
                sms: Err(BadMessageSid),
            },
        ];
        for case in cases {
            let form = Form::from_pairs(case.form.iter().copied());
            let sms = parse_inbound(&form, Some("US"));
            let got = sms.as_ref().map(|sms| {
                let (id, from, body) = (sms.provider_message_id(), sms.from().e164(), sms.body());
                (id.to_owned(), from.to_owned(), body.to_owned())
            });
            let want = case
                .sms
                .as_ref()
                .map(|(id, from, body)| (id.to_string(), from.to_string(), body.to_string()));
            assert_eq!(got, want, "{}", case.name);
        }
    }

    /// A status callback's form and what it becomes: (sid, status, error code), or the refusal.
    struct StatusCase {
        name: &'static str,
        form: &'static [(&'static str, &'static str)],
        status: Result<(&'static str, &'static str, Option<&'static str>), InboundError>,
    }

    #[test]
    fn status_callback_cases() {
        use InboundError::{BadMessageSid, Missing};
        let cases = [
            StatusCase {
                name: "delivered, as in Twilio's example",
                form: &[
                    ("AccountSid", "AC1234567890abcdef1234567890abcdef"),
                    ("From", "+18005551212"),
                    ("MessageSid", "SM1234567890abcdef1234567890abcdef"),
                    ("MessageStatus", "delivered"),
                    ("SmsSid", "SM1234567890abcdef1234567890abcdef"),
                    ("SmsStatus", "delivered"),
                    ("To", "+14158675309"),
                ],
                status: Ok(("SM1234567890abcdef1234567890abcdef", "delivered", None)),
            },
            StatusCase {
                name: "undelivered with its error code",
                form: &[
                    ("MessageSid", "SM1"),
                    ("MessageStatus", "undelivered"),
                    ("ErrorCode", "30006"),
                ],
                status: Ok(("SM1", "undelivered", Some("30006"))),
            },
            StatusCase {
                name: "an empty error code is none",
                form: &[
                    ("MessageSid", "SM1"),
                    ("MessageStatus", "sent"),
                    ("ErrorCode", ""),
                ],
                status: Ok(("SM1", "sent", None)),
            },
            StatusCase {
                name: "the legacy fields only",
                form: &[("SmsSid", "SM1"), ("SmsStatus", "sent")],
                status: Ok(("SM1", "sent", None)),
            },
            StatusCase {
                name: "a status in capitals is read in lower case",
                form: &[("MessageSid", "SM1"), ("MessageStatus", "Delivered")],
                status: Ok(("SM1", "delivered", None)),
            },
            StatusCase {
                name: "a word we do not know is kept",
                form: &[("MessageSid", "SM1"), ("MessageStatus", "read")],
                status: Ok(("SM1", "read", None)),
            },
            StatusCase {
                name: "no sid",
                form: &[("MessageStatus", "delivered")],
                status: Err(Missing("MessageSid")),
            },
            StatusCase {
                name: "no status",
                form: &[("MessageSid", "SM1")],
                status: Err(Missing("MessageStatus")),
            },
            StatusCase {
                name: "markup in the sid",
                form: &[("MessageSid", "<script>"), ("MessageStatus", "delivered")],
                status: Err(BadMessageSid),
            },
        ];
        for case in cases {
            let form = Form::from_pairs(case.form.iter().copied());
            let got = parse_status_callback(&form).map(|c| (c.message_sid, c.status, c.error_code));
            let want = case.status.map(|(sid, status, code)| {
                (sid.to_owned(), status.to_owned(), code.map(str::to_owned))
            });
            assert_eq!(got, want, "{}", case.name);
        }
    }
}
