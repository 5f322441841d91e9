//! Twilio's inbound webhook as Twilio sends it, its signature, and what the app answered.

use super::{AUTH_TOKEN, OUR_NUMBER, PUBLIC_URL};
use civicline::providers::form::Form;
use civicline::providers::twilio;

/// A Twilio inbound webhook's fields, as Twilio sends them.
pub fn twilio_form(sid: &str, from: &str, body: &str) -> Form {
    Form::from_pairs([
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", from),
        ("FromCountry", "US"),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsMessageSid", sid),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("To", OUR_NUMBER),
    ])
}

pub fn new_sid() -> String {
    format!("SM{:032x}", rand::random::<u128>())
}

/// What the app answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    /// The texts of the TwiML `<Message>`s; panics if the body is not valid TwiML.
    pub fn replies(&self) -> Vec<String> {
        assert_eq!(self.status, 200, "answer: {}", self.body);
        twilio::twiml_messages(&self.body)
            .unwrap_or_else(|e| panic!("not TwiML ({e}): {}", self.body))
    }

    /// The one reply; panics on silence or on several.
    pub fn reply(&self) -> String {
        let replies = self.replies();
        assert_eq!(replies.len(), 1, "expected one reply, got {replies:?}");
        replies.into_iter().next().unwrap()
    }
}

/// The `X-Twilio-Signature` of a webhook to `/sms/twilio`, as Twilio computes it.
pub fn sign(form: &Form) -> String {
    twilio::signature(
        AUTH_TOKEN,
        &format!("{PUBLIC_URL}/sms/twilio"),
        form.pairs(),
    )
}

/// Posts `form` to `path` of the server at `address`, signed as Twilio signs a request to our
/// public URL with that path; returns the status and the body.
pub async fn post_signed_form(address: &str, path: &str, form: &Form) -> (u16, String) {
    let signature = twilio::signature(AUTH_TOKEN, &format!("{PUBLIC_URL}{path}"), form.pairs());
    let response = civicline::providers::http_client()
        .post(format!("{address}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signature)
        .body(form.encode())
        .send()
        .await
        .expect("request reaches the app");
    let status = response.status().as_u16();
    (status, response.text().await.expect("response body"))
}

/// Queues a notice (bulk, as a status change queues one) to each of `numbers`, in order.
pub async fn queue_notices(
    store: &civicline::store::Store,
    numbers: &[String],
    provider: civicline::sms::Provider,
) {
    use civicline::sms::PhoneNumber;
    use civicline::store::{citizens, messages, outbox};
    let now = civicline::store::now_ms();
    let mut tx = store.begin().await.unwrap();
    for number in numbers {
        let phone = PhoneNumber::parse(number, None).unwrap();
        let citizen = citizens::find_or_create(&mut tx, store.seal(), &phone, "p", now)
            .await
            .unwrap();
        let message = messages::NewOutbound {
            citizen_id: citizen.citizen_id,
            issue_id: None,
            provider,
            in_reply_to: None,
            body: "Report #1 is now in progress.",
            status: "queued",
            now,
        };
        outbox::queue(&mut tx, message, outbox::Kind::Notice)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}
