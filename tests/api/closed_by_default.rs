//! Closed by default: a provider that is not configured with its secret has no routes, and a
//! refused webhook stores nothing and sends nothing.

use crate::both_backends;
use crate::each_backend;
use crate::fake_provider::FakeProvider;
use crate::helpers::{AT_WEBHOOK_TOKEN, AUTH_TOKEN, Backend, Options, TestApp, spawn_app_with};
use civicline::providers::form::Form;

/// A provider configuration, as an operator would write it.
struct Setup {
    label: &'static str,
    options: fn(&FakeProvider) -> Options,
    /// What an unsigned (or untokened) request to each route gets, in [`ROUTES`]' order.
    unsigned: [u16; 7],
}

/// Every inbound route, with a request a stranger could write by hand.
const ROUTES: [&str; 7] = [
    "/sms/twilio",
    "/sms/twilio/status",
    "/sms/africastalking",
    "/sms/africastalking/delivery",
    "/ussd/africastalking",
    "/ussd/africastalking/end",
    "/sms/smsgate",
];

fn forged_form(route: &str) -> Form {
    match route {
        "/sms/twilio" => crate::helpers::twilio_form("SMforged0001", "+14155550199", "POTHOLE x"),
        "/sms/twilio/status" => Form::from_pairs([
            ("MessageSid", "SMforged0002"),
            ("MessageStatus", "delivered"),
            ("To", "+14155550199"),
        ]),
        "/sms/africastalking" => Form::from_pairs([
            ("date", "2026-11-25 08:15:30"),
            ("from", "+254711000999"),
            ("id", "ATforged01"),
            ("text", "POTHOLE pumped"),
            ("to", "21525"),
        ]),
        "/ussd/africastalking" => Form::from_pairs([
            ("sessionId", "ATUid_forged"),
            ("serviceCode", "*384*12#"),
            ("phoneNumber", "+254711000999"),
            ("networkCode", "63902"),
            ("text", "1*1*Moi Avenue*1"),
        ]),
        "/ussd/africastalking/end" => Form::from_pairs([
            ("sessionId", "ATUid_forged"),
            ("status", "Success"),
            ("phoneNumber", "+254711000999"),
        ]),
        _ => Form::from_pairs([
            ("id", "ATforged02"),
            ("status", "Success"),
            ("phoneNumber", "+254711000999"),
        ]),
    }
}

fn setups() -> Vec<Setup> {
    vec![
        Setup {
            label: "twilio",
            options: |_| Options::default(),
            unsigned: [403, 403, 404, 404, 404, 404, 404],
        },
        Setup {
            label: "twilio and an Africa's Talking token",
            options: |_| {
                Options::default().with("CIVICLINE_AFRICASTALKING__WEBHOOK_TOKEN", AT_WEBHOOK_TOKEN)
            },
            unsigned: [403, 403, 403, 403, 403, 403, 404],
        },
        Setup {
            label: "africastalking",
            options: Options::africastalking,
            unsigned: [404, 404, 403, 403, 403, 403, 404],
        },
        Setup {
            label: "smsgate",
            options: |fake| Options::smsgate(&fake.url),
            unsigned: [404, 404, 404, 404, 404, 404, 403],
        },
        Setup {
            label: "console with a Twilio token",
            options: |_| Options {
                auth_token: Some(AUTH_TOKEN),
                provider: "console",
                env: Vec::new(),
                ..Options::default()
            },
            unsigned: [403, 403, 404, 404, 404, 404, 404],
        },
        Setup {
            label: "console without a token (the local trial)",
            options: |_| Options {
                auth_token: None,
                provider: "console",
                env: Vec::new(),
                ..Options::default()
            },
            // /sms/twilio takes unsigned requests in the trial: not in this table.
            unsigned: [0, 0, 404, 404, 404, 404, 404],
        },
    ]
}

/// Rows of every table a webhook or a status callback writes.
async fn stored(app: &TestApp) -> Vec<i64> {
    let mut counts = app.snapshot().await.to_vec();
    for table in ["delivery_event", "outbox"] {
        counts.push(app.scalar(&format!("select count(*) from {table}")).await);
    }
    counts
}

async fn post(app: &TestApp, path: &str, form: &Form, headers: &[(&str, &str)]) -> u16 {
    let mut request = app
        .client
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.encode());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

each_backend!(every_inbound_route_refuses_what_its_provider_did_not_configure);

async fn every_inbound_route_refuses_what_its_provider_did_not_configure(backend: Backend) {
    let fake = FakeProvider::start().await;
    for setup in setups() {
        let Some(app) = spawn_app_with(backend, (setup.options)(&fake)).await else {
            return;
        };
        let before = stored(&app).await;
        for (route, expected) in ROUTES.iter().zip(setup.unsigned) {
            if expected == 0 {
                continue;
            }
            let form = forged_form(route);
            let stale = (civicline::store::now_ms() / 1000 - 3600).to_string();
            let zeros = "0".repeat(64);
            let attempts: [(String, &[(&str, &str)]); 5] = [
                (route.to_string(), &[]),
                (format!("{route}?token=guess"), &[]),
                (format!("{route}?token="), &[]),
                (
                    route.to_string(),
                    &[("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")],
                ),
                (
                    route.to_string(),
                    &[("X-Signature", &zeros), ("X-Timestamp", &stale)],
                ),
            ];
            for (path, headers) in attempts {
                let status = post(&app, &path, &form, headers).await;
                assert_eq!(status, expected, "{}: POST {path}", setup.label);
            }
        }
        assert_eq!(
            stored(&app).await,
            before,
            "{}: a refusal stored nothing",
            setup.label
        );
    }
    assert!(
        fake.received().is_empty(),
        "nothing was sent: {:?}",
        fake.received().len()
    );
}

/// A raw form body, sent as a browser on our own site sends it (the bytes as given).
async fn post_raw_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> (u16, Option<String>) {
    post_raw_form_to(&app.address, path, cookie, body).await
}

async fn post_raw_form_to(
    address: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> (u16, Option<String>) {
    let mut request = crate::helpers::browser()
        .post(format!("{address}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(body.to_owned());
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), location)
}

both_backends!(
    after_login_only_a_path_on_this_site_is_followed,
    a_nul_in_officials_and_open311_input_is_the_replacement_character
);

async fn after_login_only_a_path_on_this_site_is_followed(app: TestApp) {
    let cases = [
        ("/issues/1", "/issues/1"),
        ("/\t/evil.example/", "/queue"),
        ("/\\evil.example", "/queue"),
        ("//evil.example", "/queue"),
        ("https://evil.example/", "/queue"),
        ("/queue\n", "/queue"),
        // Before: a 500 after logging the official in. The line breaks are dropped.
        (
            "/queue\r\nSet-Cookie: planted=1",
            "/queueSet-Cookie:%20planted=1",
        ),
    ];
    for (i, (next, to)) in cases.into_iter().enumerate() {
        // An account each: the login limit counts five attempts a minute per email.
        let email = format!("agent{i}@city.example");
        let password = app.add_official(&email, "agent").await;
        let form = Form::from_pairs([
            ("email", email.as_str()),
            ("password", password.as_str()),
            ("next", next),
        ])
        .encode();
        let (status, location) = post_raw_form(&app, "/login", None, &form).await;
        assert_eq!(
            (status, location.as_deref()),
            (303, Some(to)),
            "next={next:?}"
        );
    }
    // The login page carries only a safe `next` into its form.
    let (status, page) = app.get("/login?next=/%09/evil.example/").await;
    assert_eq!(status, 200);
    assert!(!page.contains("evil.example"), "{page}");
}

async fn a_nul_in_officials_and_open311_input_is_the_replacement_character(app: TestApp) {
    app.text("+14155550123", "POTHOLE deep hole on Main St")
        .await
        .reply();
    let password = app.add_official("agent@city.example", "agent").await;
    // A login email with a NUL: an answer, not a 503.
    let (status, _) = post_raw_form(
        &app,
        "/login",
        None,
        "email=agent%00@city.example&password=x",
    )
    .await;
    assert_eq!(status, 401, "a wrong login, not an error");
    let cookie = app.login("agent@city.example", &password).await;
    // A search with a NUL.
    let page = app.get_page("/queue?q=Main%00St", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // An internal note with a NUL, raw and escaped.
    let (status, _) = post_raw_form(
        &app,
        "/issues/1/note",
        Some(&cookie),
        "body=call%00back\0soon",
    )
    .await;
    assert_eq!(status, 303);
    let note = app
        .text_value("select body from issue_event where kind = 'note'")
        .await
        .unwrap();
    assert_eq!(note, "call\u{FFFD}back\u{FFFD}soon");
    // An Open311 description with a NUL.
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    let key =
        civicline::store::open_data::create_api_key(&store, "web-form", civicline::store::now_ms())
            .await
            .unwrap();
    store.close().await;
    let body = format!(
        "api_key={key}&service_code=streetlight&address_string=Elm%00St&description=two%00lamps"
    );
    let (status, _) = post_raw_form(&app, "/open311/v2/requests.json", None, &body).await;
    assert_eq!(status, 201);
    let stored = app
        .text_value("select description || '|' || location from issue where issue_id = 2")
        .await;
    assert_eq!(stored.as_deref(), Some("two\u{FFFD}lamps|Elm\u{FFFD}St"));
}

each_backend!(the_login_limit_holds_for_the_deployment_not_per_replica);

async fn the_login_limit_holds_for_the_deployment_not_per_replica(backend: Backend) {
    let Some(first) = spawn_app_with(backend, Options::default()).await else {
        return;
    };
    first.add_official("agent@city.example", "agent").await;
    // Two more replicas on the same database.
    let mut replicas = vec![first.address.clone()];
    for _ in 0..2 {
        let app = civicline::startup::Application::build(first.settings.clone())
            .await
            .unwrap();
        replicas.push(format!("http://{}", app.local_addr()));
        tokio::spawn(app.run_until(std::future::pending()));
    }
    let attempt = |n: usize, email: String| {
        let address = replicas[n % 3].clone();
        async move {
            let form = Form::from_pairs([("email", email.as_str()), ("password", "guess-guess")]);
            post_raw_form_to(&address, "/login", None, &form.encode())
                .await
                .0
        }
    };
    let mut statuses = Vec::new();
    for n in 0..30 {
        statuses.push(attempt(n, "agent@city.example".to_owned()).await);
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 25), "{statuses:?}");
    // Other emails from the same address: the per-client allowance ends at twenty.
    let mut statuses = Vec::new();
    for n in 0..20 {
        statuses.push(attempt(n, format!("x{n}@city.example")).await);
    }
    // 30 attempts from this address already count: every one of these is over twenty.
    assert!(statuses.iter().all(|s| *s == 429), "{statuses:?}");
}

both_backends!(login_attempts_older_than_an_hour_are_deleted_and_recent_ones_still_count);

/// The server's hourly housekeeping deletes what the login limit no longer reads.
async fn login_attempts_older_than_an_hour_are_deleted_and_recent_ones_still_count(app: TestApp) {
    use civicline::store::{Store, login_attempts, now_ms};
    let store = Store::connect(&app.settings.database.url, 1).await.unwrap();
    let now = now_ms();
    login_attempts::record(&store, &["email:old@city.example"], now - 7_200_000)
        .await
        .unwrap();
    let counts = login_attempts::record(&store, &["email:new@city.example"], now)
        .await
        .unwrap();
    assert_eq!(counts, [1]);
    let deleted = login_attempts::delete_older_than(&store, now - 3_600_000)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(app.scalar("select count(*) from login_attempt").await, 1);
    // The recent one still counts toward its email's limit.
    let counts = login_attempts::record(&store, &["email:new@city.example"], now)
        .await
        .unwrap();
    assert_eq!(counts, [2]);
    store.close().await;
}
