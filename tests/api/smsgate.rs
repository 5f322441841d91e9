//! A phone as the gateway: SMS Gateway for Android in local-server mode. Its webhooks (signed,
//! timestamped) in, its REST API out (a local fake phone speaking its wire format), its status
//! webhooks, a SIM's pace, and a phone switched off while the outbox fills.

use crate::each_backend;
use crate::fake_provider::{Answer, FakeProvider};
use crate::helpers::{Backend, Options, SMSGATE_WEBHOOK_KEY, TestApp, eventually, spawn_app_with};
use civicline::providers::smsgate::signature;

each_backend!(
    a_phone_takes_a_report_texts_the_reply_and_reports_how_it_went,
    webhooks_that_are_not_the_phone_s_store_nothing,
    a_phone_switched_off_keeps_the_backlog_and_drains_it_in_order,
    what_the_phone_answers_a_send_decides_what_follows,
);

const DEVICE: &str = "ffffffffceb0b1db0000018e937c815b";
const CITIZEN: &str = "+254711082300";

/// An `sms:received` envelope as the app sends it (the documentation's example, our values).
fn received(sender: &str, text: &str, at: &str) -> String {
    serde_json::json!({
        "deviceId": DEVICE,
        "event": "sms:received",
        "id": format!("ev-{at}"),
        "payload": {
            "messageId": "abc123",
            "message": text,
            "sender": sender,
            "recipient": "+254700000001",
            "phoneNumber": sender,
            "simNumber": 1,
            "receivedAt": at,
        },
        "webhookId": "LreFUt-Z3sSq0JufY9uWB",
    })
    .to_string()
}

/// A status envelope for our message `id`.
fn status(event: &str, id: &str, extra: serde_json::Value) -> String {
    let mut payload = serde_json::json!({
        "messageId": id,
        "sender": "+254700000001",
        "recipient": CITIZEN,
        "phoneNumber": CITIZEN,
        "simNumber": 1,
    });
    payload
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    serde_json::json!({"deviceId": DEVICE, "event": event, "id": format!("ev-{event}"),
        "payload": payload, "webhookId": "w1"})
    .to_string()
}

fn now() -> i64 {
    civicline::store::now_ms() / 1000
}

/// How a webhook is signed.
enum Signed {
    Now,
    At(i64),
    WithKey(&'static str),
    Not,
}

async fn post(app: &TestApp, body: &str, signed: Signed) -> u16 {
    let mut request = app
        .client
        .post(format!("{}/sms/smsgate", app.address))
        .header("content-type", "application/json")
        .body(body.to_owned());
    let (key, at) = match signed {
        Signed::Now => (SMSGATE_WEBHOOK_KEY, now()),
        Signed::At(at) => (SMSGATE_WEBHOOK_KEY, at),
        Signed::WithKey(key) => (key, now()),
        Signed::Not => ("", 0),
    };
    if !key.is_empty() {
        let timestamp = at.to_string();
        request = request
            .header("X-Timestamp", &timestamp)
            .header("X-Signature", signature(key, body.as_bytes(), &timestamp));
    }
    request.send().await.unwrap().status().as_u16()
}

async fn reply_status(app: &TestApp, id: i64) -> String {
    app.text_value(&format!(
        "select status from message where message_id = {id}"
    ))
    .await
    .unwrap()
}

async fn a_phone_takes_a_report_texts_the_reply_and_reports_how_it_went(backend: Backend) {
    let phone = FakeProvider::start().await;
    let Some(app) = spawn_app_with(backend, Options::smsgate(&phone.url)).await else {
        return;
    };
    let at = "2026-12-06T10:00:00.000+03:00";
    let text = received("0711082300", "POTHOLE Moi Avenue near the market", at);
    assert_eq!(post(&app, &text, Signed::Now).await, 200);
    eventually("the phone got the reply", || async {
        !phone.delivered().is_empty()
    })
    .await;
    app.wait_outbox_empty().await;
    let sent = &phone.delivered()[0];
    assert_eq!(
        sent.to, CITIZEN,
        "a national number read in the default region"
    );
    assert!(
        sent.body.starts_with("Thanks! Report #1 (Pothole)"),
        "{}",
        sent.body
    );
    let reply = app
        .scalar("select max(message_id) from message where direction = 'out'")
        .await;
    assert_eq!(sent.sid.as_deref(), Some(format!("cl-{reply}").as_str()));
    assert_eq!(reply_status(&app, reply).await, "sending", "on the phone");

    // The app retries a webhook (signed anew): the same message, one issue, one reply.
    assert_eq!(post(&app, &text, Signed::Now).await, 200);
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in'")
            .await,
        1
    );
    // The same words from the same number at another time are another message.
    let again = received(
        CITIZEN,
        "POTHOLE Moi Avenue near the market",
        "2026-12-06T10:09:00.000+03:00",
    );
    assert_eq!(post(&app, &again, Signed::Now).await, 200);
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in'")
            .await,
        2
    );

    // Status webhooks move the reply forward only; what is kept names no number.
    let id = format!("cl-{reply}");
    let sent_event = status(
        "sms:sent",
        &id,
        serde_json::json!({"partsCount": 1, "sentAt": at}),
    );
    let delivered = status("sms:delivered", &id, serde_json::json!({"deliveredAt": at}));
    assert_eq!(post(&app, &delivered, Signed::Now).await, 200);
    assert_eq!(reply_status(&app, reply).await, "delivered");
    assert_eq!(post(&app, &sent_event, Signed::Now).await, 200);
    assert_eq!(reply_status(&app, reply).await, "delivered", "a late sent");
    assert_eq!(
        app.scalar(&format!(
            "select count(*) from delivery_event where message_id = {reply}"
        ))
        .await,
        2
    );
    assert_eq!(
        app.scalar("select count(*) from delivery_event where payload like '%711082300%'")
            .await,
        0
    );
    // A failure on the phone, with its reason, for the next reply.
    app.wait_outbox_empty().await;
    let second = app
        .scalar("select max(message_id) from message where direction = 'out'")
        .await;
    assert_ne!(second, reply);
    let failed = status(
        "sms:failed",
        &format!("cl-{second}"),
        serde_json::json!({"failedAt": at, "reason": "RESULT_ERROR_NO_SERVICE"}),
    );
    assert_eq!(post(&app, &failed, Signed::Now).await, 200);
    assert_eq!(reply_status(&app, second).await, "failed");
    assert_eq!(
        app.text_value(&format!(
            "select error_code from message where message_id = {second}"
        ))
        .await
        .as_deref(),
        Some("RESULT_ERROR_NO_SERVICE")
    );
}

async fn webhooks_that_are_not_the_phone_s_store_nothing(backend: Backend) {
    let phone = FakeProvider::start().await;
    let Some(app) = spawn_app_with(backend, Options::smsgate(&phone.url)).await else {
        return;
    };
    let at = |n: u32| format!("2026-12-06T10:{n:02}:00.000+03:00");
    let help = |n: u32| received(CITIZEN, "HELP", &at(n));
    let ping = r#"{"deviceId":"d","event":"system:ping","id":"e","payload":{"health":{"status":"pass"}},"webhookId":"w"}"#;
    let cases: Vec<(&str, String, Signed, u16, i64)> = vec![
        ("signed now", help(1), Signed::Now, 200, 1),
        (
            "signed with another key",
            help(2),
            Signed::WithKey("guess"),
            403,
            0,
        ),
        ("unsigned", help(3), Signed::Not, 403, 0),
        (
            "signed an hour ago: a replay",
            help(4),
            Signed::At(now() - 3600),
            403,
            0,
        ),
        (
            "signed in the future",
            help(5),
            Signed::At(now() + 3600),
            403,
            0,
        ),
        (
            "signed, not JSON",
            "event=sms:received".into(),
            Signed::Now,
            400,
            0,
        ),
        (
            "signed, a name as the sender",
            received("MPESA", "You have received", &at(6)),
            Signed::Now,
            400,
            0,
        ),
        (
            "signed, NUL and emoji in the text",
            received(CITIZEN, "HELP \u{0} 🚰", &at(7)),
            Signed::Now,
            200,
            1,
        ),
        (
            "a ping: acknowledged, nothing kept",
            ping.into(),
            Signed::Now,
            200,
            0,
        ),
    ];
    for (label, body, signed, want, stored) in cases {
        let before = app
            .scalar("select count(*) from message where direction = 'in'")
            .await;
        assert_eq!(post(&app, &body, signed).await, want, "{label}");
        let after = app
            .scalar("select count(*) from message where direction = 'in'")
            .await;
        assert_eq!(after - before, stored, "{label}");
    }
    // A megabyte, announced: refused before it is read.
    let head = format!(
        "POST /sms/smsgate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Timestamp: {}\r\nX-Signature: {}\r\nContent-Length: 1048576\r\n\r\n",
        now(),
        "0".repeat(64)
    );
    assert_eq!(app.raw_http(&head, b"").await, 413);
    // A body changed after it was signed.
    let body = help(8);
    let timestamp = now().to_string();
    let forged = app
        .client
        .post(format!("{}/sms/smsgate", app.address))
        .header("X-Timestamp", &timestamp)
        .header(
            "X-Signature",
            signature(SMSGATE_WEBHOOK_KEY, body.as_bytes(), &timestamp),
        )
        .body(body.replace("HELP", "STOP"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(forged, 403);
    assert_eq!(
        app.scalar("select count(*) from citizen where opted_out_at is not null")
            .await,
        0
    );
    app.wait_outbox_empty().await;
}

async fn a_phone_switched_off_keeps_the_backlog_and_drains_it_in_order(backend: Backend) {
    let address = FakeProvider::reserve();
    let options = Options::smsgate(&format!("http://{address}"))
        .with("CIVICLINE_SMSGATE__SEND_INTERVAL_MS", "150")
        .with("CIVICLINE_DELIVERY__MAX_ATTEMPTS", "2");
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let citizens = ["+254711082301", "+254711082302", "+254711082303"];
    for (n, citizen) in citizens.iter().enumerate() {
        let text = received(citizen, "HELP", &format!("2026-12-06T11:0{n}:00.000+03:00"));
        assert_eq!(post(&app, &text, Signed::Now).await, 200);
    }
    // The worker finds the phone away (probing with the first row), more than max_attempts
    // times: nothing fails, nothing counts as an attempt, the outbox says why.
    eventually("the worker tried the phone", || async {
        app.scalar("select count(*) from outbox where last_error like '%cannot be reached%'")
            .await
            == 1
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(app.scalar("select count(*) from outbox").await, 3);
    assert_eq!(app.scalar("select max(attempts) from outbox").await, 0);
    assert_eq!(
        app.scalar("select count(*) from message where status = 'failed'")
            .await,
        0
    );
    // A notice to a fourth citizen is queued after the replies, and goes after them.
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    let fourth = ["+254711082304".to_owned()];
    crate::helpers::queue_notices(&store, &fourth, civicline::sms::Provider::Smsgate).await;

    let phone = FakeProvider::start_on(&address).await;
    eventually("the backlog drained", || async {
        phone.delivered().len() == 4
    })
    .await;
    app.wait_outbox_empty().await;
    let sent = phone.delivered();
    let order: Vec<&str> = sent.iter().map(|r| r.to.as_str()).collect();
    assert_eq!(
        order,
        [citizens[0], citizens[1], citizens[2], "+254711082304"],
        "replies in the order they were queued, then bulk"
    );
    for pair in sent.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= std::time::Duration::from_millis(140),
            "two sends {gap:?} apart: the SIM's pace is one per 150 ms"
        );
    }
    assert_eq!(phone.received().len(), 4, "each sent once");
}

/// The phone's answers to `POST /message`, and what follows: requests it sees in all, and the
/// reply's status and error code at the end.
type SendCase = (
    &'static str,
    Vec<Answer>,
    usize,
    &'static str,
    Option<&'static str>,
);

async fn what_the_phone_answers_a_send_decides_what_follows(backend: Backend) {
    let json = |status: u16, body: &str| Answer {
        status,
        json: body.to_owned(),
        retry_after: None,
    };
    let cases: [SendCase; 6] = [
        ("202 Pending: on the phone", vec![], 1, "sending", None),
        (
            "409: an earlier try got through (a timeout), not texted again",
            vec![json(
                409,
                r#"{"message":"message with id cl-2 already exists"}"#,
            )],
            1,
            "sending",
            None,
        ),
        (
            "500, then taken",
            vec![Answer::status(500)],
            2,
            "sending",
            None,
        ),
        (
            "429 with Retry-After 0, then taken",
            vec![Answer {
                retry_after: Some(0),
                ..Answer::status(429)
            }],
            2,
            "sending",
            None,
        ),
        (
            "401: the password is wrong, an operator must act",
            vec![Answer::status(401)],
            1,
            "failed",
            Some("http-401"),
        ),
        (
            "400: the phone refuses this message",
            vec![json(400, r#"{"message":"invalid phone number"}"#)],
            1,
            "failed",
            Some("http-400"),
        ),
    ];
    for (n, (label, answers, requests, want, code)) in cases.into_iter().enumerate() {
        let phone = FakeProvider::start().await;
        let Some(app) = spawn_app_with(backend, Options::smsgate(&phone.url)).await else {
            return;
        };
        phone.script(answers);
        let text = received(
            CITIZEN,
            "HELP",
            &format!("2026-12-06T12:{n:02}:00.000+03:00"),
        );
        assert_eq!(post(&app, &text, Signed::Now).await, 200, "{label}");
        eventually(label, || async { phone.received().len() >= requests }).await;
        app.wait_outbox_empty().await;
        assert_eq!(phone.received().len(), requests, "{label}");
        let reply = app
            .scalar("select max(message_id) from message where direction = 'out'")
            .await;
        let got = (
            reply_status(&app, reply).await,
            app.text_value(&format!(
                "select error_code from message where message_id = {reply}"
            ))
            .await,
        );
        assert_eq!((got.0.as_str(), got.1.as_deref()), (want, code), "{label}");
    }
}
