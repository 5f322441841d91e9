//! A stand-in for the SMS providers' REST APIs, on 127.0.0.1, speaking their wire formats:
//! Twilio's `Messages.json` (HTTP Basic, form in, JSON out, error JSON with `code`) and Africa's
//! Talking's `version1/messaging` (`apiKey` header, form in, `SMSMessageData` out); and the
//! phone of SMS Gateway for Android's local server, `POST /message` (HTTP Basic, JSON in, 202
//! with `{id, state, recipients}` out, 409 for an id it holds already). Answers can be scripted
//! per request; everything received is recorded.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use civicline::providers::form::Form;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub const ACCOUNT_SID: &str = "AC11111111111111111111111111111111";
pub const AT_USERNAME: &str = "sandbox";
pub const AT_API_KEY: &str = "at-test-key";
pub const SMSGATE_USERNAME: &str = "sms";
pub const SMSGATE_PASSWORD: &str = "phone-pass";

/// One request the fake received, and what it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub body: String,
    pub from: Option<String>,
    pub status_callback: Option<String>,
    /// The provider id it gave, when it accepted.
    pub sid: Option<String>,
    pub at: Instant,
}

impl Received {
    /// Our message id, from the status callback URL.
    pub fn message_id(&self) -> Option<i64> {
        self.status_callback
            .as_deref()?
            .split("message_id=")
            .nth(1)?
            .parse()
            .ok()
    }
}

/// A scripted answer: HTTP status, JSON body, optional `Retry-After` seconds.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub json: String,
    pub retry_after: Option<u64>,
}

impl Answer {
    pub fn twilio_error(status: u16, code: u32, message: &str) -> Answer {
        Answer {
            status,
            json: serde_json::json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}).to_string(),
            retry_after: None,
        }
    }
    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            json: String::new(),
            retry_after: None,
        }
    }
    pub fn at_recipient(status_code: u16, status: &str) -> Answer {
        Answer {
            status: 201,
            json: serde_json::json!({"SMSMessageData": {"Message": "Sent to 0/1", "Recipients": [
                {"statusCode": status_code, "number": "+254711082300", "status": status, "cost": "0", "messageId": "None"}]}})
            .to_string(),
            retry_after: None,
        }
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Answer>,
    received: Vec<Received>,
    next_sid: u64,
    /// The ids the phone holds (SMS Gateway for Android).
    phone_ids: std::collections::HashSet<String>,
}

#[derive(Clone)]
pub struct FakeProvider {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeProvider {
    pub async fn start() -> FakeProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        FakeProvider::serve(listener)
    }

    /// On `address`, reserved earlier with [`FakeProvider::reserve`]: a phone switched on.
    pub async fn start_on(address: &str) -> FakeProvider {
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        FakeProvider::serve(listener)
    }

    /// A free local address nothing answers on yet: a phone switched off.
    pub fn reserve() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    }

    fn serve(listener: tokio::net::TcpListener) -> FakeProvider {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(twilio_send),
            )
            .route("/version1/messaging", post(africastalking_send))
            .route("/message", post(smsgate_send))
            .with_state(inner.clone());
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeProvider { url, inner }
    }

    /// The next requests get these answers, in order; then the default success.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.inner.lock().unwrap().script.extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// The requests it accepted.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.sid.is_some())
            .collect()
    }
}

fn next_answer(inner: &Mutex<Inner>) -> (Option<Answer>, u64) {
    let mut inner = inner.lock().unwrap();
    inner.next_sid += 1;
    (inner.script.pop_front(), inner.next_sid)
}

fn respond(answer: &Answer) -> Response {
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        answer.json.clone(),
    )
        .into_response();
    if let Some(seconds) = answer.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

fn record(inner: &Mutex<Inner>, received: Received) {
    inner.lock().unwrap().received.push(received);
}

/// `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`
async fn twilio_send(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{ACCOUNT_SID}:{}", crate::helpers::AUTH_TOKEN))
    );
    let authorized = sid == ACCOUNT_SID
        && headers
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v == expected.as_str());
    let form = Form::parse(&body).expect("civicline sends a valid form");
    let (scripted, n) = next_answer(&inner);
    let answer = if !authorized {
        Answer::twilio_error(401, 20003, "Authenticate")
    } else {
        scripted.unwrap_or(Answer {
            status: 201,
            json: String::new(),
            retry_after: None,
        })
    };
    let accepted = answer.status == 201;
    let sms_sid = format!("SM{n:032}");
    record(
        &inner,
        Received {
            to: form.get("To").unwrap_or_default().to_owned(),
            body: form.get("Body").unwrap_or_default().to_owned(),
            from: form.get("From").map(str::to_owned),
            status_callback: form.get("StatusCallback").map(str::to_owned),
            sid: accepted.then(|| sms_sid.clone()),
            at: Instant::now(),
        },
    );
    if accepted {
        let json = serde_json::json!({"sid": sms_sid, "status": "queued", "to": form.get("To"), "body": form.get("Body"),
            "account_sid": ACCOUNT_SID, "num_segments": "1", "direction": "outbound-api"});
        return respond(&Answer {
            status: 201,
            json: json.to_string(),
            retry_after: None,
        });
    }
    respond(&answer)
}

/// `POST /version1/messaging`
async fn africastalking_send(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body).expect("civicline sends a valid form");
    let authorized = headers.get("apiKey").is_some_and(|v| v == AT_API_KEY)
        && form.get("username") == Some(AT_USERNAME);
    let (scripted, n) = next_answer(&inner);
    let answer = if !authorized {
        Answer::status(401)
    } else {
        scripted.unwrap_or_else(|| Answer::at_recipient(101, "Success"))
    };
    let accepted = answer.status == 201 && answer.json.contains("\"statusCode\":101");
    let message_id = format!("ATXid_{n}");
    record(
        &inner,
        Received {
            to: form.get("to").unwrap_or_default().to_owned(),
            body: form.get("message").unwrap_or_default().to_owned(),
            from: form.get("from").map(str::to_owned),
            status_callback: None,
            sid: accepted.then(|| message_id.clone()),
            at: Instant::now(),
        },
    );
    if accepted {
        let json = answer.json.replace(
            "\"messageId\":\"None\"",
            &format!("\"messageId\":\"{message_id}\""),
        );
        return respond(&Answer { json, ..answer });
    }
    respond(&answer)
}

/// The phone's `POST /message` (SMS Gateway for Android, local server).
async fn smsgate_send(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{SMSGATE_USERNAME}:{SMSGATE_PASSWORD}"))
    );
    let authorized = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v == expected.as_str());
    let request: serde_json::Value = serde_json::from_slice(&body).expect("civicline sends JSON");
    let id = request["id"]
        .as_str()
        .expect("civicline sends its own id")
        .to_owned();
    let to = request["phoneNumbers"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let text = request["textMessage"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (scripted, _) = next_answer(&inner);
    let held = inner.lock().unwrap().phone_ids.contains(&id);
    let answer = match (authorized, scripted) {
        (false, _) => Answer::status(401),
        (true, Some(answer)) => answer,
        (true, None) if held => Answer {
            status: 409,
            json: serde_json::json!({"message": format!("message with id {id} already exists")})
                .to_string(),
            retry_after: None,
        },
        (true, None) => Answer {
            status: 202,
            json: serde_json::json!({"id": id, "deviceId": "ffffffffceb0b1db0000018e937c815b",
                "state": "Pending", "isHashed": false, "isEncrypted": false,
                "recipients": [{"phoneNumber": to, "state": "Pending", "error": null}],
                "states": {"Pending": "2026-12-06T10:00:00.000+03:00"}})
            .to_string(),
            retry_after: None,
        },
    };
    let accepted = answer.status == 202;
    if accepted {
        inner.lock().unwrap().phone_ids.insert(id.clone());
    }
    record(
        &inner,
        Received {
            to,
            body: text,
            from: None,
            status_callback: None,
            sid: accepted.then_some(id),
            at: Instant::now(),
        },
    );
    respond(&answer)
}
