//! USSD on Africa's Talking (issue 19 item 1): a basic phone dials the service code and walks
//! the menus; a confirmed report is filed like an SMS one and confirmed by SMS; a repeated
//! request answers the same and files once; an abandoned session files nothing; "0" goes back,
//! "00" home, an invalid choice repeats the menu with a reason.

use crate::each_backend;
use crate::fake_provider::FakeProvider;
use crate::helpers::{AT_WEBHOOK_TOKEN, Backend, Options, TestApp, eventually, spawn_app_with};
use civicline::providers::form::Form;

each_backend!(
    a_caller_reports_a_pothole_through_the_menus_and_gets_its_number_by_sms,
    back_home_invalid_choices_tracking_and_language_walk_like_a_phone_menu,
    a_request_we_cannot_read_ends_the_session_with_an_apology_and_stores_nothing,
);

const CALLER: &str = "+254711082300";

async fn dial(app: &TestApp, session: &str, text: &str) -> String {
    let form = Form::from_pairs([
        ("sessionId", session),
        ("serviceCode", "*384*12#"),
        ("phoneNumber", CALLER),
        ("networkCode", "63902"),
        ("text", text),
    ]);
    let response = app
        .client
        .post(format!(
            "{}/ussd/africastalking?token={AT_WEBHOOK_TOKEN}",
            app.address
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.encode())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{text:?}");
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    assert!(
        body.starts_with("CON ") || body.starts_with("END "),
        "{body}"
    );
    assert!(
        body.chars().count() <= 182,
        "{} characters: {body}",
        body.chars().count()
    );
    body
}

async fn a_caller_reports_a_pothole_through_the_menus_and_gets_its_number_by_sms(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some(app) = spawn_app_with(backend, Options::africastalking(&fake)).await else {
        return;
    };
    let main = dial(&app, "ATUid_1", "").await;
    assert!(
        main.starts_with("CON ") && main.contains("1 Report a problem"),
        "{main}"
    );
    let categories = dial(&app, "ATUid_1", "1").await;
    assert!(categories.contains("1 Pothole"), "{categories}");
    assert!(categories.ends_with("0 Back"), "{categories}");
    let place = dial(&app, "ATUid_1", "1*1").await;
    assert!(place.contains("Where is it?"), "{place}");
    let confirm = dial(&app, "ATUid_1", "1*1*Moi Avenue near the market").await;
    assert!(
        confirm.starts_with("CON Pothole: Moi Avenue near the market\n1 Send"),
        "{confirm}"
    );
    assert_eq!(
        app.scalar("select count(*) from issue").await,
        0,
        "nothing filed before Send"
    );

    let filed = dial(&app, "ATUid_1", "1*1*Moi Avenue near the market*1").await;
    assert!(
        filed.starts_with("END Thanks! Report #1 (Pothole)"),
        "{filed}"
    );
    // The network repeats a request: the same answer, one report.
    let again = dial(&app, "ATUid_1", "1*1*Moi Avenue near the market*1").await;
    assert_eq!(again, filed);
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
    assert_eq!(
        app.text_value("select description from issue where issue_id = 1")
            .await
            .as_deref(),
        Some("Moi Avenue near the market")
    );
    // The confirmation goes by SMS, through the outbox, with the report's number.
    eventually("the confirming SMS", || async {
        fake.delivered()
            .iter()
            .any(|r| r.to == CALLER && r.body.contains("#1"))
    })
    .await;
    app.wait_outbox_empty().await;

    // A session abandoned at the confirmation files nothing.
    dial(&app, "ATUid_2", "1*2*Ngong Road").await;
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
    // The network's end-of-session notice is taken.
    let end = Form::from_pairs([
        ("sessionId", "ATUid_2"),
        ("status", "Incomplete"),
        ("phoneNumber", CALLER),
        ("serviceCode", "*384*12#"),
        ("input", "Ngong Road"),
        ("durationInMillis", "21000"),
        ("cost", "KES 0.0"),
    ]);
    let status = app
        .client
        .post(format!(
            "{}/ussd/africastalking/end?token={AT_WEBHOOK_TOKEN}",
            app.address
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(end.encode())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

async fn back_home_invalid_choices_tracking_and_language_walk_like_a_phone_menu(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some(app) = spawn_app_with(backend, Options::africastalking(&fake)).await else {
        return;
    };
    let main = dial(&app, "s1", "").await;
    let categories = dial(&app, "s1", "1").await;
    // "0" goes back a step, "00" to the main menu.
    assert_eq!(dial(&app, "s1", "1*0").await, main);
    assert_eq!(dial(&app, "s1", "1*1*0").await, categories);
    assert_eq!(dial(&app, "s1", "1*1*Moi Avenue*00").await, main);
    // An invalid choice repeats the menu with a reason, and the next input answers it.
    let invalid = dial(&app, "s1", "1*42").await;
    assert!(
        invalid.starts_with("CON Not a choice.\nWhat is the problem?"),
        "{invalid}"
    );
    assert!(
        dial(&app, "s1", "7")
            .await
            .starts_with("CON Not a choice.\nCity line")
    );

    // Track a report: only this number's.
    dial(&app, "s2", "1*1*Moi Avenue*1").await;
    let tracked = dial(&app, "s3", "2*1").await;
    assert!(
        tracked.starts_with("END Report #1 (Pothole): received"),
        "{tracked}"
    );
    let other = dial(&app, "s3", "2*99").await;
    assert!(other.starts_with("END We found no report #99"), "{other}");
    assert!(
        dial(&app, "s3", "2*abc")
            .await
            .starts_with("CON Not a choice.")
    );

    // Language: the menus answer in it from then on.
    let chosen = dial(&app, "s4", "3*2").await;
    assert!(chosen.starts_with("END "), "{chosen}");
    let spanish = dial(&app, "s5", "").await;
    assert!(spanish.contains("1 Reportar un problema"), "{spanish}");
    let categories = dial(&app, "s5", "1").await;
    assert!(categories.contains("Bache"), "{categories}");
    app.wait_outbox_empty().await;
}

async fn a_request_we_cannot_read_ends_the_session_with_an_apology_and_stores_nothing(
    backend: Backend,
) {
    let fake = FakeProvider::start().await;
    let Some(app) = spawn_app_with(backend, Options::africastalking(&fake)).await else {
        return;
    };
    let before = app.snapshot().await;
    let send = "sessionId=ATUid_x&serviceCode=*384*12%23&networkCode=63902&text=1*1*Moi*1";
    let cases: [(&str, Vec<u8>); 7] = [
        ("no phoneNumber", send.into()),
        (
            "a name as the phone number",
            format!("{send}&phoneNumber=Safaricom").into(),
        ),
        (
            "no sessionId",
            b"serviceCode=*1%23&phoneNumber=%2B254711082300&text=".to_vec(),
        ),
        (
            "no text",
            b"sessionId=s&serviceCode=*1%23&phoneNumber=%2B254711082300".to_vec(),
        ),
        (
            "a space in the session id",
            b"sessionId=a+b&serviceCode=*1%23&phoneNumber=%2B254711082300&text=".to_vec(),
        ),
        (
            "invalid UTF-8",
            b"sessionId=s&serviceCode=*1%23&phoneNumber=%2B254711082300&text=1*\xff".to_vec(),
        ),
        ("not a form", b"%%%".to_vec()),
    ];
    for (label, body) in cases {
        let response = app
            .client
            .post(format!(
                "{}/ussd/africastalking?token={AT_WEBHOOK_TOKEN}",
                app.address
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{label}");
        let screen = response.text().await.unwrap();
        assert_eq!(
            screen, "END Sorry, we could not read that. Please dial again.",
            "{label}"
        );
    }
    assert_eq!(app.snapshot().await, before, "nothing stored");
    assert!(fake.received().is_empty(), "nothing sent");
}
