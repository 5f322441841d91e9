//! Outbound delivery: the outbox, the providers' REST APIs (a local fake speaking their wire
//! format), retries, consent at send time, leases, several workers, status callbacks.

use crate::each_backend;
use crate::fake_provider::{Answer, FakeProvider};
use crate::helpers::{
    AT_WEBHOOK_TOKEN, Backend, OUR_NUMBER, Options, PUBLIC_URL, TestApp, eventually, spawn_app_with,
};
use civicline::providers::form::Form;

const ANA: &str = "+14158675309";

/// The app with Twilio replies through the API of a fresh fake; `None` when Postgres is skipped.
async fn twilio_api_app(
    backend: crate::helpers::Backend,
    extra: &[(&'static str, &str)],
) -> Option<(TestApp, FakeProvider)> {
    let fake = FakeProvider::start().await;
    let mut options = Options::twilio_api(&fake);
    for (key, value) in extra {
        options = options.with(key, value);
    }
    Some((spawn_app_with(backend, options).await?, fake))
}

async fn wait_for_requests(fake: &FakeProvider, n: usize) {
    eventually(&format!("the provider got {n} request(s)"), || async {
        fake.received().len() >= n
    })
    .await;
}

async fn message_status(app: &TestApp, message_id: i64) -> (String, Option<String>) {
    let status = app
        .text_value(&format!(
            "select status from message where message_id = {message_id}"
        ))
        .await;
    let code = app
        .text_value(&format!(
            "select error_code from message where message_id = {message_id}"
        ))
        .await;
    (status.unwrap(), code)
}

async fn last_reply_id(app: &TestApp) -> i64 {
    app.scalar("select max(message_id) from message where direction = 'out'")
        .await
}

/// One row of the outbound table: what the fake answers, and what must follow.
struct OutboundCase {
    label: &'static str,
    answers: Vec<Answer>,
    /// Requests the provider sees in all.
    requests: usize,
    status: &'static str,
    error_code: Option<&'static str>,
    opted_out: bool,
}

fn twilio_outbound_cases() -> Vec<OutboundCase> {
    vec![
        OutboundCase {
            label: "accepted at once",
            answers: vec![],
            requests: 1,
            status: "queued",
            error_code: None,
            opted_out: false,
        },
        OutboundCase {
            label: "500 three times, then accepted: arrives exactly once",
            answers: vec![
                Answer::status(500),
                Answer::status(500),
                Answer::status(500),
            ],
            requests: 4,
            status: "queued",
            error_code: None,
            opted_out: false,
        },
        OutboundCase {
            label: "429 backs off and arrives",
            answers: vec![Answer::twilio_error(429, 20429, "Too Many Requests")],
            requests: 2,
            status: "queued",
            error_code: None,
            opted_out: false,
        },
        OutboundCase {
            label: "21610 is never retried and opts the citizen out",
            answers: vec![Answer::twilio_error(
                400,
                21610,
                "Attempt to send to unsubscribed recipient",
            )],
            requests: 1,
            status: "failed",
            error_code: Some("21610"),
            opted_out: true,
        },
        OutboundCase {
            label: "21211 invalid number fails at once",
            answers: vec![Answer::twilio_error(
                400,
                21211,
                "The 'To' number is not a valid phone number.",
            )],
            requests: 1,
            status: "failed",
            error_code: Some("21211"),
            opted_out: false,
        },
        OutboundCase {
            label: "503 on every attempt gives up after max_attempts",
            answers: vec![Answer::status(503); 5],
            requests: 5,
            status: "failed",
            error_code: Some("transient"),
            opted_out: false,
        },
    ]
}

each_backend!(
    twilio_outbound_table,
    the_api_request_speaks_twilios_wire_format,
    a_backoff_waits_longer_each_time,
    a_stop_after_queueing_wins_over_the_queued_reply,
    a_worker_that_dies_after_claiming_loses_its_lease_and_the_message_still_goes,
    a_burst_of_reports_each_gets_its_own_reply_through_the_provider,
    two_app_instances_drain_a_thousand_messages_each_sent_once,
    status_callbacks_in_any_order_end_in_the_right_status,
    status_callbacks_must_be_signed,
    an_inline_twiml_reply_asks_for_status_callbacks_and_takes_them,
    africastalking_inbound_reply_and_delivery_report,
    africastalking_table_of_inbound_cases,
    africastalking_outbound_table,
    replies_go_before_bulk,
    a_queued_reply_wakes_the_worker_without_waiting_for_the_poll
);

async fn twilio_outbound_table(backend: Backend) {
    for case in twilio_outbound_cases() {
        let Some((app, fake)) =
            twilio_api_app(backend, &[("CIVICLINE_DELIVERY__MAX_ATTEMPTS", "5")]).await
        else {
            return;
        };
        fake.script(case.answers.clone());
        let answer = app.text(ANA, "POTHOLE deep hole on Main St at 5th").await;
        assert!(
            answer.replies().is_empty(),
            "{}: api mode answers an empty TwiML",
            case.label
        );
        let reply_id = last_reply_id(&app).await;
        app.wait_outbox_empty().await;
        let received = fake.received();
        assert_eq!(
            received.len(),
            case.requests,
            "{}: {received:?}",
            case.label
        );
        assert_eq!(
            fake.delivered().len(),
            usize::from(case.status == "queued"),
            "{}",
            case.label
        );
        let (status, code) = message_status(&app, reply_id).await;
        assert_eq!(status, case.status, "{}", case.label);
        assert_eq!(code.as_deref(), case.error_code, "{}", case.label);
        let opted_out = app
            .scalar("select count(*) from citizen where opted_out_at is not null")
            .await
            == 1;
        assert_eq!(opted_out, case.opted_out, "{}", case.label);
        if case.opted_out {
            let source = app.text_value("select source from consent_event").await;
            assert_eq!(source.as_deref(), Some("provider"), "{}", case.label);
            // Nothing more is sent to that number.
            app.text(ANA, "POTHOLE still there").await;
            app.wait_outbox_empty().await;
            assert_eq!(
                fake.received().len(),
                1,
                "{}: nothing more was sent",
                case.label
            );
        }
        if case.status == "failed" {
            let detail = app
                .text_value(&format!(
                    "select error_detail from message where message_id = {reply_id}"
                ))
                .await;
            assert!(
                detail.is_some_and(|d| !d.is_empty()),
                "{}: the reason is recorded",
                case.label
            );
        }
    }
}

async fn the_api_request_speaks_twilios_wire_format(backend: Backend) {
    let Some((app, fake)) = twilio_api_app(backend, &[]).await else {
        return;
    };
    app.text(ANA, "POTHOLE deep hole on Main St at 5th").await;
    wait_for_requests(&fake, 1).await;
    app.wait_outbox_empty().await;
    let sent = &fake.delivered()[0];
    assert_eq!(sent.to, ANA);
    assert_eq!(sent.from.as_deref(), Some(OUR_NUMBER));
    assert_eq!(
        sent.body,
        "Thanks! Report #1 (Pothole) is logged. Text STATUS 1 for updates."
    );
    let reply_id = last_reply_id(&app).await;
    assert_eq!(
        sent.status_callback.as_deref(),
        Some(format!("{PUBLIC_URL}/sms/twilio/status?message_id={reply_id}").as_str())
    );
    let sid = app
        .text_value(&format!(
            "select provider_message_id from message where message_id = {reply_id}"
        ))
        .await;
    assert_eq!(sid, sent.sid, "the message keeps Twilio's SID");
}

async fn a_backoff_waits_longer_each_time(backend: Backend) {
    let Some((app, fake)) = twilio_api_app(
        backend,
        &[
            ("CIVICLINE_DELIVERY__BACKOFF_BASE_MS", "100"),
            ("CIVICLINE_DELIVERY__BACKOFF_MAX_MS", "10000"),
        ],
    )
    .await
    else {
        return;
    };
    fake.script([
        Answer::status(500),
        Answer::status(500),
        Answer::status(500),
    ]);
    app.text(ANA, "HELP").await;
    wait_for_requests(&fake, 4).await;
    app.wait_outbox_empty().await;
    let times: Vec<_> = fake.received().iter().map(|r| r.at).collect();
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    // Half of 100, 200, 400 ms at least (the other half is jitter).
    assert!(
        gaps[0] >= 50 && gaps[1] >= 100 && gaps[2] >= 200,
        "gaps {gaps:?}"
    );
}

async fn a_stop_after_queueing_wins_over_the_queued_reply(backend: Backend) {
    let fake = FakeProvider::start().await;
    let options = Options::twilio_api(&fake).with("CIVICLINE_DELIVERY__ENABLED", "false");
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    app.text(ANA, "POTHOLE deep hole on Main St at 5th").await;
    let queued_reply = last_reply_id(&app).await;
    app.text(ANA, "STOP").await;
    assert_eq!(app.scalar("select count(*) from outbox").await, 2);

    app.worker().await.drain().await.unwrap();
    let received = fake.received();
    assert_eq!(
        received.len(),
        1,
        "only the opt-out confirmation went out: {received:?}"
    );
    assert!(received[0].body.contains("unsubscribed"));
    let (status, code) = message_status(&app, queued_reply).await;
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("canceled", Some("opted-out"))
    );
}

async fn a_worker_that_dies_after_claiming_loses_its_lease_and_the_message_still_goes(
    backend: Backend,
) {
    let fake = FakeProvider::start().await;
    let options = Options::twilio_api(&fake).with("CIVICLINE_DELIVERY__ENABLED", "false");
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    app.text(ANA, "HELP").await;
    // A worker claims the row for 400 ms and dies without sending.
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    let now = civicline::store::now_ms();
    let claimed = civicline::store::outbox::claim(&store, "dead-worker", now, 400, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let worker = app.worker().await;
    assert_eq!(
        worker.drain().await.unwrap(),
        0,
        "the row is leased: nobody else takes it yet"
    );
    assert!(fake.received().is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    assert_eq!(
        worker.drain().await.unwrap(),
        1,
        "after the lease runs out another worker takes it"
    );
    assert_eq!(fake.delivered().len(), 1);
}

async fn a_burst_of_reports_each_gets_its_own_reply_through_the_provider(backend: Backend) {
    // Sixty numbers report at once: their messages share batches (on Postgres, rounds whose
    // replies and outbox rows are written together), and each number still hears about its
    // own report, once.
    let Some((app, fake)) = twilio_api_app(backend, &[]).await else {
        return;
    };
    let reports: Vec<(String, String)> = (0..60)
        .map(|i| {
            (
                format!("+1415{:07}", 3_000_000 + i),
                format!("POTHOLE outside number {i}"),
            )
        })
        .collect();
    futures_util::future::join_all(reports.iter().map(|(from, text)| app.text(from, text))).await;
    wait_for_requests(&fake, 60).await;
    app.wait_outbox_empty().await;
    let sent = fake.delivered();
    assert_eq!(sent.len(), 60, "one reply each");
    for reply in &sent {
        let number: i64 = reply
            .body
            .split('#')
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no report number in {:?}", reply.body));
        let (from, text) = reports.iter().find(|(from, _)| *from == reply.to).unwrap();
        let filed = app
            .text_value(&format!(
                "select description from issue where issue_id = {number}"
            ))
            .await;
        assert_eq!(
            filed.as_deref(),
            text.strip_prefix("POTHOLE "),
            "{from} heard about report #{number}"
        );
        let answered = app.text_value(&format!("select c.number_key from message r \
            join message m on m.message_id = r.in_reply_to join citizen c on c.citizen_id = m.citizen_id \
            where r.message_id = {}", reply.message_id().unwrap())).await;
        assert_eq!(
            answered.as_deref(),
            Some(from.as_str()),
            "the reply sent is the one stored for {from}"
        );
    }
}

async fn two_app_instances_drain_a_thousand_messages_each_sent_once(backend: Backend) {
    let fake = FakeProvider::start().await;
    let options = Options::twilio_api(&fake).with("CIVICLINE_DELIVERY__ENABLED", "false");
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let store = civicline::store::Store::connect(&app.settings.database.url, 2)
        .await
        .unwrap();
    queue_messages(&store, 1000).await;

    let (first, second) = (app.worker().await, app.worker().await);
    let (a, b) = tokio::join!(first.drain(), second.drain());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, 1000, "worker one sent {a}, worker two {b}");
    assert!(a > 0 && b > 0, "both workers took part: {a} and {b}");
    let mut ids: Vec<i64> = fake
        .delivered()
        .iter()
        .filter_map(|r| r.message_id())
        .collect();
    assert_eq!(ids.len(), 1000);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "no message was sent twice");
    assert_eq!(app.scalar("select count(*) from message where direction = 'out' and status = 'queued' and provider_message_id is not null").await, 1000);
}

async fn status_callbacks_in_any_order_end_in_the_right_status(backend: Backend) {
    let Some((app, fake)) = twilio_api_app(backend, &[]).await else {
        return;
    };
    let orders: [&[&str]; 5] = [
        &["queued", "sending", "sent", "delivered"],
        &["delivered", "sent", "sending", "queued"],
        &["sent", "delivered", "queued", "sending"],
        &["sending", "delivered", "sent", "teleported"],
        &["undelivered", "sent", "delivered"],
    ];
    let expected = [
        "delivered",
        "delivered",
        "delivered",
        "delivered",
        "undelivered",
    ];
    for (n, order) in orders.iter().enumerate() {
        let citizen = format!("+1415555{:04}", 300 + n);
        app.text(&citizen, "HELP").await;
        wait_for_requests(&fake, n + 1).await;
        app.wait_outbox_empty().await;
        let sent = fake.delivered()[n].clone();
        let message_id = sent.message_id().unwrap();
        for status in order.iter() {
            let form = Form::from_pairs([
                ("AccountSid", crate::fake_provider::ACCOUNT_SID),
                ("ApiVersion", "2010-04-01"),
                (
                    "ErrorCode",
                    if *status == "undelivered" {
                        "30003"
                    } else {
                        ""
                    },
                ),
                ("From", OUR_NUMBER),
                ("MessageSid", sent.sid.as_deref().unwrap()),
                ("MessageStatus", status),
                ("To", &citizen),
            ]);
            assert_eq!(post_status(&app, &form, Some(message_id), true).await, 204);
        }
        let (status, code) = message_status(&app, message_id).await;
        assert_eq!(status, expected[n], "order {order:?}");
        if expected[n] == "undelivered" {
            assert_eq!(code.as_deref(), Some("30003"));
        }
        let events = app
            .scalar(&format!(
                "select count(*) from delivery_event where message_id = {message_id}"
            ))
            .await;
        assert_eq!(
            events,
            order.len() as i64,
            "every callback is stored, the unknown one too"
        );
    }
}

async fn status_callbacks_must_be_signed(backend: Backend) {
    let Some((app, _fake)) = twilio_api_app(backend, &[]).await else {
        return;
    };
    let form = Form::from_pairs([("MessageSid", "SM1"), ("MessageStatus", "delivered")]);
    assert_eq!(post_status(&app, &form, None, false).await, 403);
    assert_eq!(app.scalar("select count(*) from delivery_event").await, 0);
    // Signed, for a message we never sent: stored, matched to nothing.
    assert_eq!(post_status(&app, &form, Some(999_999), true).await, 204);
    assert_eq!(
        app.scalar("select count(*) from delivery_event where message_id is null")
            .await,
        1
    );
}

async fn an_inline_twiml_reply_asks_for_status_callbacks_and_takes_them(backend: Backend) {
    let Some(app) = spawn_app_with(backend, Options::default()).await else {
        return;
    };
    let answer = app.text(ANA, "HELP").await;
    let doc = roxmltree::Document::parse(&answer.body).unwrap();
    let message = doc
        .descendants()
        .find(|n| n.has_tag_name("Message"))
        .unwrap();
    let reply_id = last_reply_id(&app).await;
    let callback = format!("{PUBLIC_URL}/sms/twilio/status?message_id={reply_id}");
    assert_eq!(message.attribute("statusCallback"), Some(callback.as_str()));
    assert_eq!(message_status(&app, reply_id).await.0, "accepted");
    let form = Form::from_pairs([("MessageSid", "SMabc"), ("MessageStatus", "delivered")]);
    assert_eq!(post_status(&app, &form, Some(reply_id), true).await, 204);
    assert_eq!(message_status(&app, reply_id).await.0, "delivered");
    assert_eq!(
        app.text_value(&format!(
            "select provider_message_id from message where message_id = {reply_id}"
        ))
        .await
        .as_deref(),
        Some("SMabc")
    );
}

async fn africastalking_inbound_reply_and_delivery_report(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some(app) = spawn_app_with(backend, Options::africastalking(&fake)).await else {
        return;
    };
    let form = at_inbound(
        "ATMsg_1",
        "+254711082300",
        "POTHOLE Moi Avenue near the market",
    );
    assert_eq!(
        post_at(&app, "/sms/africastalking", &form, Some(AT_WEBHOOK_TOKEN)).await,
        200
    );
    wait_for_requests(&fake, 1).await;
    app.wait_outbox_empty().await;
    let sent = &fake.delivered()[0];
    assert_eq!(sent.to, "+254711082300");
    assert!(
        sent.body.starts_with("Thanks! Report #1 (Pothole)"),
        "{}",
        sent.body
    );
    let reply_id = last_reply_id(&app).await;
    assert_eq!(message_status(&app, reply_id).await.0, "sent");

    let report = Form::from_pairs([
        ("id", sent.sid.as_deref().unwrap()),
        ("status", "Success"),
        ("phoneNumber", "+254711082300"),
        ("networkCode", "63902"),
        ("failureReason", ""),
        ("retryCount", "0"),
    ]);
    // Without our token a delivery report is refused and changes nothing.
    assert_eq!(
        post_at(&app, "/sms/africastalking/delivery", &report, Some("guess")).await,
        403
    );
    assert_eq!(app.scalar("select count(*) from delivery_event").await, 0);
    assert_eq!(
        post_at(
            &app,
            "/sms/africastalking/delivery",
            &report,
            Some(AT_WEBHOOK_TOKEN)
        )
        .await,
        200
    );
    assert_eq!(message_status(&app, reply_id).await.0, "delivered");

    // The same callback again (AT retries): one issue, one reply.
    assert_eq!(
        post_at(&app, "/sms/africastalking", &form, Some(AT_WEBHOOK_TOKEN)).await,
        200
    );
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'out'")
            .await,
        1
    );
}

/// The route's side of Africa's Talking's callbacks (its token, a refusal's status, nothing
/// stored); what each form decodes to is `providers::africastalking`'s table.
async fn africastalking_table_of_inbound_cases(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some(app) = spawn_app_with(backend, Options::africastalking(&fake)).await else {
        return;
    };
    let cases: Vec<(&str, Form, Option<&str>, u16, i64)> = vec![
        (
            "valid",
            at_inbound("ATMsg_a", "+254711082301", "HELP"),
            Some(AT_WEBHOOK_TOKEN),
            200,
            1,
        ),
        (
            "wrong token",
            at_inbound("ATMsg_b", "+254711082302", "HELP"),
            Some("guess"),
            403,
            0,
        ),
        (
            "no token",
            at_inbound("ATMsg_c", "+254711082303", "HELP"),
            None,
            403,
            0,
        ),
        (
            "from is not a number",
            at_inbound("ATMsg_d", "Safaricom", "HELP"),
            Some(AT_WEBHOOK_TOKEN),
            400,
            0,
        ),
    ];
    for (label, form, token, status, stored) in cases {
        let before = app
            .scalar("select count(*) from message where direction = 'in'")
            .await;
        assert_eq!(
            post_at(&app, "/sms/africastalking", &form, token).await,
            status,
            "{label}"
        );
        let after = app
            .scalar("select count(*) from message where direction = 'in'")
            .await;
        assert_eq!(after - before, stored, "{label}");
    }
    app.wait_outbox_empty().await;
}

async fn africastalking_outbound_table(backend: Backend) {
    let cases = vec![
        OutboundCase {
            label: "101 sent",
            answers: vec![],
            requests: 1,
            status: "sent",
            error_code: None,
            opted_out: false,
        },
        OutboundCase {
            label: "HTTP 500, then sent",
            answers: vec![Answer::status(500)],
            requests: 2,
            status: "sent",
            error_code: None,
            opted_out: false,
        },
        OutboundCase {
            label: "406 UserInBlacklist opts the citizen out",
            answers: vec![Answer::at_recipient(406, "UserInBlacklist")],
            requests: 1,
            status: "failed",
            error_code: Some("406"),
            opted_out: true,
        },
        OutboundCase {
            label: "403 InvalidPhoneNumber fails at once",
            answers: vec![Answer::at_recipient(403, "InvalidPhoneNumber")],
            requests: 1,
            status: "failed",
            error_code: Some("403"),
            opted_out: false,
        },
        OutboundCase {
            label: "405 InsufficientBalance fails: an operator must act",
            answers: vec![Answer::at_recipient(405, "InsufficientBalance")],
            requests: 1,
            status: "failed",
            error_code: Some("405"),
            opted_out: false,
        },
        OutboundCase {
            label: "501 GatewayError is retried",
            answers: vec![Answer::at_recipient(501, "GatewayError")],
            requests: 2,
            status: "sent",
            error_code: None,
            opted_out: false,
        },
    ];
    for (n, case) in cases.into_iter().enumerate() {
        let fake = FakeProvider::start().await;
        let Some(app) = spawn_app_with(backend, Options::africastalking(&fake)).await else {
            return;
        };
        fake.script(case.answers.clone());
        let form = at_inbound(&format!("ATMsg_{n}"), "+254711082300", "HELP");
        assert_eq!(
            post_at(&app, "/sms/africastalking", &form, Some(AT_WEBHOOK_TOKEN)).await,
            200,
            "{}",
            case.label
        );
        wait_for_requests(&fake, case.requests).await;
        app.wait_outbox_empty().await;
        assert_eq!(fake.received().len(), case.requests, "{}", case.label);
        let (status, code) = message_status(&app, last_reply_id(&app).await).await;
        assert_eq!(
            (status.as_str(), code.as_deref()),
            (case.status, case.error_code),
            "{}",
            case.label
        );
        let opted_out = app
            .scalar("select count(*) from citizen where opted_out_at is not null")
            .await
            == 1;
        assert_eq!(opted_out, case.opted_out, "{}", case.label);
    }
}

async fn replies_go_before_bulk(backend: Backend) {
    let fake = FakeProvider::start().await;
    let options = Options::twilio_api(&fake)
        .with("CIVICLINE_DELIVERY__ENABLED", "false")
        .with("CIVICLINE_DELIVERY__BATCH_SIZE", "1");
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    queue_messages(&store, 3).await; // notices, queued first
    app.text(ANA, "HELP").await; // a reply, queued last
    app.worker().await.drain().await.unwrap();
    let order: Vec<String> = fake.delivered().iter().map(|r| r.to.clone()).collect();
    assert_eq!(order.len(), 4);
    assert_eq!(order[0], ANA, "the reply jumped the queue: {order:?}");
}

async fn a_queued_reply_wakes_the_worker_without_waiting_for_the_poll(backend: Backend) {
    let Some((app, fake)) = twilio_api_app(
        backend,
        &[("CIVICLINE_DELIVERY__POLL_INTERVAL_MS", "600000")],
    )
    .await
    else {
        return;
    };
    // The worker's first look happens at start; give it time to go idle.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.text(ANA, "HELP").await;
    wait_for_requests(&fake, 1).await;
    app.wait_outbox_empty().await;
}

fn at_inbound(id: &str, from: &str, text: &str) -> Form {
    Form::from_pairs([
        ("date", "2026-11-25 08:15:30"),
        ("from", from),
        ("id", id),
        ("linkId", "Lk1"),
        ("text", text),
        ("to", "21525"),
    ])
}

async fn post_at(app: &TestApp, path: &str, form: &Form, token: Option<&str>) -> u16 {
    let url = match token {
        Some(token) => format!("{}{path}?token={token}", app.address),
        None => format!("{}{path}", app.address),
    };
    app.client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.encode())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn post_status(app: &TestApp, form: &Form, message_id: Option<i64>, signed: bool) -> u16 {
    let path = match message_id {
        Some(id) => format!("/sms/twilio/status?message_id={id}"),
        None => "/sms/twilio/status".to_owned(),
    };
    let mut request = app
        .client
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.encode());
    if signed {
        let signature = civicline::providers::twilio::signature(
            crate::helpers::AUTH_TOKEN,
            &format!("{PUBLIC_URL}{path}"),
            form.pairs(),
        );
        request = request.header("X-Twilio-Signature", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Queues a notice to each of `n` citizens.
async fn queue_messages(store: &civicline::store::Store, n: usize) {
    let numbers: Vec<String> = (0..n).map(|i| format!("+1415556{i:04}")).collect();
    crate::helpers::queue_notices(store, &numbers, civicline::sms::Provider::Twilio).await;
}
