//! Hostile and broken webhooks: each gets a clear 4xx or the normal answer, never a 500, and
//! nothing already stored changes.

use crate::both_backends;
use crate::helpers::{TestApp, new_sid, twilio_form};
use civicline::sms::{PhoneNumber, Provider};

const CITIZEN: &str = "+14158675309";

/// A citizen with one report on file, so "nothing changes" has something to protect.
async fn with_history(app: &TestApp) -> [i64; 5] {
    app.text(CITIZEN, "POTHOLE deep hole on Main St at 5th")
        .await
        .reply();
    app.snapshot().await
}

both_backends!(
    one_webhook_id_twice_in_a_round_of_the_writer_is_stored_once,
    one_message_id_sent_from_two_numbers_at_once_is_stored_once,
    forged_signature_is_refused_and_stores_nothing,
    missing_signature_is_refused_and_stores_nothing,
    signature_over_another_path_is_refused,
    missing_required_fields_are_a_400_naming_the_field,
    a_one_megabyte_body_is_refused_with_413,
    invalid_utf8_is_a_400_and_stray_percent_signs_are_text,
    emoji_and_right_to_left_text_are_stored_exactly,
    a_nul_character_is_stored_as_a_replacement_character,
    sql_and_script_in_a_message_are_stored_as_text,
    a_from_that_is_not_a_phone_number_is_a_400,
    a_replayed_webhook_gets_the_same_reply_and_creates_nothing,
    the_same_message_sid_twenty_times_at_once_files_one_issue_and_one_reply
);

async fn one_webhook_id_twice_in_a_round_of_the_writer_is_stored_once(app: TestApp) {
    // Below the lanes, deterministically: one round of the writer's transaction holding
    // the same id from two numbers (on Postgres a round that writes its messages at its
    // end would otherwise fail at commit on the unique key).
    use civicline::store::{LaneTx, LaneWork, Store, citizens, messages};
    struct Round {
        shared: String,
        other: String,
        stored: Vec<Option<i64>>,
    }
    impl LaneWork for Round {
        async fn apply(&mut self, tx: &mut LaneTx) -> civicline::store::Result<bool> {
            let now = civicline::store::now_ms();
            let one = PhoneNumber::parse("+14155550701", None).unwrap();
            let two = PhoneNumber::parse("+14155550702", None).unwrap();
            let numbers = [(&one, "p1"), (&two, "p2")];
            let found =
                citizens::find_or_create_all(tx, &civicline::seal::Seal::clear(), &numbers, now, 1)
                    .await?;
            let message = |citizen_id, provider_message_id| messages::NewInbound {
                citizen_id,
                provider: Provider::Twilio,
                provider_message_id,
                body: "POTHOLE on Main St",
                now,
            };
            tx.start_round(3);
            let (a, b) = (found[0].citizen_id, found[1].citizen_id);
            let all = [
                message(a, &self.shared),
                message(b, &self.other),
                message(b, &self.shared),
            ];
            self.stored = messages::insert_inbound_all(tx, &all).await?;
            Ok(true)
        }

        fn finished(&mut self) {}

        async fn again(&mut self) -> bool {
            false
        }
    }
    let store = Store::connect(&app.settings.database.url, 1).await.unwrap();
    let mut round = Round {
        shared: new_sid(),
        other: new_sid(),
        stored: Vec::new(),
    };
    store.run_lane(&mut round).await.unwrap();
    let stored = round.stored;
    assert!(stored[0].is_some() && stored[1].is_some(), "{stored:?}");
    assert_eq!(stored[2], None, "the copy is not stored again");
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in'")
            .await,
        2
    );
}

async fn one_message_id_sent_from_two_numbers_at_once_is_stored_once(app: TestApp) {
    // Forged (or buggy) webhooks each reusing another's MessageSid, all at once: each id
    // stored once, every delivery answered. On Postgres two writer lanes may take the
    // same ids in batches of their own and wait on each other (Postgres breaks the
    // deadlock) or fail on the unique key; the failed batch's messages are then applied
    // again one by one, the copies answered as replays.
    let sids: Vec<String> = (0..20).map(|_| new_sid()).collect();
    let app = &app;
    let answers = futures_util::future::join_all((0..40).map(|i| {
        let sid = sids[i % 20].clone();
        async move {
            let form = twilio_form(
                &sid,
                &format!("+1415556{:04}", 100 + i),
                "POTHOLE on Main St",
            );
            app.post_signed(&form).await.status
        }
    }))
    .await;
    assert!(answers.iter().all(|&status| status == 200), "{answers:?}");
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in'")
            .await,
        20
    );
    assert_eq!(app.scalar("select count(*) from issue").await, 20);
}

async fn forged_signature_is_refused_and_stores_nothing(app: TestApp) {
    let before = with_history(&app).await;
    let form = twilio_form(&new_sid(), CITIZEN, "POTHOLE forged");
    let forged = civicline::providers::twilio::signature(
        "wrong-token",
        "https://sms.civicline.test/sms/twilio",
        form.pairs(),
    );
    let answer = app
        .post_raw(form.encode().into_bytes(), Some(&forged))
        .await;
    assert_eq!(answer.status, 403);
    // A signature for other parameters does not cover these.
    let other = twilio_form(&new_sid(), CITIZEN, "something else");
    let answer = app
        .post_raw(form.encode().into_bytes(), Some(&app.sign(&other)))
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(app.snapshot().await, before);
}

async fn missing_signature_is_refused_and_stores_nothing(app: TestApp) {
    let before = with_history(&app).await;
    let form = twilio_form(&new_sid(), CITIZEN, "POTHOLE unsigned");
    let answer = app.post_raw(form.encode().into_bytes(), None).await;
    assert_eq!(answer.status, 403);
    assert_eq!(app.snapshot().await, before);
}

async fn signature_over_another_path_is_refused(app: TestApp) {
    let before = with_history(&app).await;
    let form = twilio_form(&new_sid(), CITIZEN, "POTHOLE replayed elsewhere");
    let elsewhere = civicline::providers::twilio::signature(
        crate::helpers::AUTH_TOKEN,
        "https://sms.civicline.test/other",
        form.pairs(),
    );
    assert_eq!(
        app.post_raw(form.encode().into_bytes(), Some(&elsewhere))
            .await
            .status,
        403
    );
    assert_eq!(app.snapshot().await, before);
}

async fn missing_required_fields_are_a_400_naming_the_field(app: TestApp) {
    let before = with_history(&app).await;
    for field in ["MessageSid", "From", "Body"] {
        let full = twilio_form(&new_sid(), CITIZEN, "POTHOLE partial");
        let partial = civicline::providers::form::Form::from_pairs(
            full.pairs()
                .iter()
                .filter(|(name, _)| {
                    name != field
                        && !(field == "MessageSid"
                            && name.ends_with("Sid")
                            && name.starts_with("Sms"))
                })
                .cloned(),
        );
        let answer = app.post_signed(&partial).await;
        assert_eq!(answer.status, 400, "without {field}: {}", answer.body);
        assert!(
            answer.body.contains(field),
            "the answer names {field}: {}",
            answer.body
        );
    }
    assert_eq!(app.snapshot().await, before);
}

async fn a_one_megabyte_body_is_refused_with_413(app: TestApp) {
    let before = with_history(&app).await;
    // Announced with Content-Length: refused before the body is read.
    let head = "POST /sms/twilio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                X-Twilio-Signature: x\r\nContent-Length: 1048576\r\n\r\n";
    assert_eq!(app.raw_http(head, b"").await, 413);
    // Streamed in chunks without a length: refused once past the limit.
    let head = "POST /sms/twilio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                X-Twilio-Signature: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut chunks = Vec::new();
    for _ in 0..16 {
        chunks.extend_from_slice(
            format!("{:x}\r\nBody={}\r\n", 8192 + 5, "A".repeat(8192)).as_bytes(),
        );
    }
    chunks.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(app.raw_http(head, &chunks).await, 413);
    assert_eq!(app.snapshot().await, before);
}

async fn invalid_utf8_is_a_400_and_stray_percent_signs_are_text(app: TestApp) {
    let before = with_history(&app).await;
    let mut body = twilio_form(&new_sid(), CITIZEN, "x").encode().into_bytes();
    body.extend_from_slice(b"&Extra=%C3%28%FF");
    // Signed over what the server would decode: irrelevant, decoding fails first.
    let answer = app
        .post_raw(body, Some(&app.sign(&twilio_form("SMx", CITIZEN, "x"))))
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("UTF-8"));
    assert_eq!(app.snapshot().await, before);

    let answer = app.text(CITIZEN, "REPORT 100% broken %zz sign").await;
    assert!(answer.reply().contains("Report #2"), "{}", answer.body);
    assert_eq!(
        app.text_value("select description from issue where issue_id = 2")
            .await
            .as_deref(),
        Some("100% broken %zz sign")
    );
}

async fn emoji_and_right_to_left_text_are_stored_exactly(app: TestApp) {
    let text = "REPORT 🚧🕳️ حفرة كبيرة في الشارع الرئيسي";
    let reply = app.text(CITIZEN, text).await.reply();
    assert!(reply.starts_with("Thanks! Report #1"), "{reply}");
    assert_eq!(
        app.text_value("select body from message where direction = 'in'")
            .await
            .as_deref(),
        Some(text)
    );
    assert_eq!(
        app.text_value("select encoding from message where direction = 'in'")
            .await
            .as_deref(),
        Some("ucs2")
    );
}

async fn a_nul_character_is_stored_as_a_replacement_character(app: TestApp) {
    // Postgres's text cannot hold U+0000: refused, the provider would retry the message
    // forever and it would never be stored. Both backends store the same.
    let reply = app
        .text(CITIZEN, "REPORT broken\u{0}light on Oak St")
        .await
        .reply();
    assert!(reply.starts_with("Thanks! Report #1"), "{reply}");
    assert_eq!(
        app.text_value("select body from message where direction = 'in'")
            .await
            .as_deref(),
        Some("REPORT broken\u{FFFD}light on Oak St")
    );
}

async fn sql_and_script_in_a_message_are_stored_as_text(app: TestApp) {
    let before = with_history(&app).await;
    let text = "'); DROP TABLE issue; -- <script>alert(\"x\")</script> & more";
    let answer = app.text(CITIZEN, text).await;
    assert!(
        answer.content_type.starts_with("text/xml"),
        "{}",
        answer.content_type
    );
    assert_eq!(answer.replies().len(), 1, "valid TwiML with one reply");
    assert_eq!(
        app.scalar("select count(*) from issue").await,
        before[2],
        "a follow-up, not a new issue"
    );
    let stored = app
        .text_value(
            "select body from message where direction = 'in' order by message_id desc limit 1",
        )
        .await;
    assert_eq!(stored.as_deref(), Some(text));
    assert_eq!(
        app.scalar("select count(*) from message").await,
        before[1] + 2
    );
}

async fn a_from_that_is_not_a_phone_number_is_a_400(app: TestApp) {
    let before = with_history(&app).await;
    for from in ["BANK", "", "12", "+1<script>"] {
        let answer = app
            .post_signed(&twilio_form(&new_sid(), from, "hello"))
            .await;
        assert_eq!(answer.status, 400, "From={from:?}: {}", answer.body);
    }
    assert_eq!(app.snapshot().await, before);
}

async fn a_replayed_webhook_gets_the_same_reply_and_creates_nothing(app: TestApp) {
    let form = twilio_form(&new_sid(), CITIZEN, "POTHOLE deep hole on Main St at 5th");
    let first = app.post_signed(&form).await.reply();
    let after_first = app.snapshot().await;
    let again = app.post_signed(&form).await.reply();
    assert_eq!(again, first);
    assert_eq!(app.snapshot().await, after_first);
}

async fn the_same_message_sid_twenty_times_at_once_files_one_issue_and_one_reply(app: TestApp) {
    let form = twilio_form(&new_sid(), CITIZEN, "POTHOLE crater at Elm and 3rd");
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, form) = (app.clone(), form.clone());
        tasks.push(tokio::spawn(async move { app.post_signed(&form).await }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        replies.push(answer.reply());
    }
    replies.dedup();
    assert_eq!(
        replies.len(),
        1,
        "every delivery got the same answer: {replies:?}"
    );
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'out'")
            .await,
        1
    );
    assert_eq!(app.scalar("select count(*) from citizen").await, 1);
}
