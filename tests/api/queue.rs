//! The officials' pages over HTTP: who may do what, CSRF, cookies, escaping, and the loop from a
//! citizen's text to an official's SMS arriving at the provider.

use crate::each_backend;
use crate::fake_provider::FakeProvider;
use crate::helpers::{Backend, Options, TestApp, eventually, session_cookie, spawn_app_with};

const CITIZEN: &str = "+14158675309";

/// An app on `backend` with a fake Twilio API, one report on file, and an account per role.
async fn office(backend: crate::helpers::Backend) -> Option<(TestApp, FakeProvider, [String; 3])> {
    let fake = FakeProvider::start().await;
    let app = spawn_app_with(backend, Options::twilio_api(&fake)).await?;
    app.text(CITIZEN, "POTHOLE deep hole on Main St at 5th")
        .await;
    eventually("the auto-reply is sent", || async {
        fake.delivered().len() == 1
    })
    .await;
    let mut cookies = Vec::new();
    for role in ["viewer", "agent", "admin"] {
        let email = format!("{role}@city.example");
        let password = app.add_official(&email, role).await;
        cookies.push(app.login(&email, &password).await);
    }
    Some((app, fake, cookies.try_into().unwrap()))
}

each_backend!(
    every_route_checks_the_session_and_the_role,
    cross_site_posts_are_refused,
    an_agent_reply_reaches_the_citizens_phone,
    an_opted_out_citizen_cannot_be_texted_and_the_page_says_why,
    phone_numbers_are_masked_except_for_admins_whose_views_are_logged,
    citizen_text_is_escaped_everywhere_it_is_shown,
    the_queue_filters_searches_and_pages,
    login_cycles_the_session_sets_safe_cookies_and_is_rate_limited,
    expired_sessions_are_deleted_and_live_ones_kept
);

async fn every_route_checks_the_session_and_the_role(backend: Backend) {
    let Some((app, _fake, [viewer, agent, admin])) = office(backend).await else {
        return;
    };
    let reads = ["/queue", "/issues/1"];
    for path in reads {
        let anonymous = app.get_page(path, None).await;
        assert_eq!(anonymous.status, 303, "{path} without a session");
        assert!(
            anonymous.location.unwrap().starts_with("/login?next="),
            "{path} sends to the login page"
        );
        for cookie in [&viewer, &agent, &admin] {
            assert_eq!(app.get_page(path, Some(cookie)).await.status, 200, "{path}");
        }
    }
    assert_eq!(app.get_page("/issues/999", Some(&agent)).await.status, 404);
    assert_eq!(app.get_page("/login", None).await.status, 200);
    // (route, form, status for: nobody, viewer, agent, admin)
    let actions: [(&str, &[(&str, &str)]); 4] = [
        ("/issues/1/note", &[("body", "called the roads team")]),
        ("/issues/1/assign", &[("official_id", "0")]),
        (
            "/issues/1/status",
            &[("status", "acknowledged"), ("note", "")],
        ),
        ("/issues/1/reply", &[("body", "We are on it.")]),
    ];
    for (path, form) in actions {
        let expected = [
            (None, 401),
            (Some(&viewer), 403),
            (Some(&agent), 303),
            (Some(&admin), 303),
        ];
        for (cookie, status) in expected {
            let page = app
                .post_page(path, cookie.map(String::as_str), form, &[])
                .await;
            assert_eq!(
                page.status,
                status,
                "{path} as {:?}: {}",
                cookie.map(|_| "someone"),
                page.body
            );
        }
    }
    app.wait_outbox_empty().await;
}

async fn cross_site_posts_are_refused(backend: Backend) {
    let Some((app, _fake, [_, agent, _])) = office(backend).await else {
        return;
    };
    let form = [("body", "forged note")];
    for headers in [
        [("sec-fetch-site", "cross-site")],
        [("origin", "https://evil.example")],
    ] {
        let page = app
            .post_page("/issues/1/note", Some(&agent), &form, &headers)
            .await;
        assert_eq!(page.status, 403, "{headers:?}");
    }
    let same_site = app
        .post_page(
            "/issues/1/note",
            Some(&agent),
            &form,
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(same_site.status, 303);
    assert_eq!(
        app.scalar("select count(*) from issue_event where kind = 'note'")
            .await,
        1,
        "only the same-site note landed"
    );
}

async fn an_agent_reply_reaches_the_citizens_phone(backend: Backend) {
    let Some((app, fake, [_, agent, _])) = office(backend).await else {
        return;
    };
    let page = app
        .post_page(
            "/issues/1/reply",
            Some(&agent),
            &[("body", "A crew comes Tuesday. Thank you!")],
            &[],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/issues/1"));
    eventually("the official's SMS arrives", || async {
        fake.delivered().len() == 2
    })
    .await;
    let sms = fake.delivered().last().cloned().unwrap();
    assert_eq!(
        (sms.to.as_str(), sms.body.as_str()),
        (CITIZEN, "A crew comes Tuesday. Thank you!")
    );
    app.wait_outbox_empty().await;
    let issue = app.get_page("/issues/1", Some(&agent)).await.body;
    assert!(
        issue.contains("A crew comes Tuesday. Thank you!"),
        "the thread shows the reply"
    );
    assert_eq!(
        app.scalar("select count(*) from issue where first_response_at is not null")
            .await,
        1
    );

    // Changing the status texts a notice with the public note.
    app.post_page(
        "/issues/1/status",
        Some(&agent),
        &[("status", "in_progress"), ("note", "Crew booked.")],
        &[],
    )
    .await;
    eventually("the status notice arrives", || async {
        fake.delivered().len() == 3
    })
    .await;
    assert_eq!(
        fake.delivered()[2].body,
        "Report #1 (Pothole) is now in progress. Crew booked."
    );
    app.wait_outbox_empty().await;
}

async fn an_opted_out_citizen_cannot_be_texted_and_the_page_says_why(backend: Backend) {
    let Some((app, fake, [_, agent, _])) = office(backend).await else {
        return;
    };
    app.text(CITIZEN, "STOP").await;
    eventually("the STOP confirmation is sent", || async {
        fake.delivered().len() == 2
    })
    .await;
    let issue = app.get_page("/issues/1", Some(&agent)).await.body;
    assert!(
        issue.contains("This citizen texted STOP"),
        "the reply box explains itself"
    );
    assert!(!issue.contains("name=\"body\" rows=\"3\""), "no reply box");
    let page = app
        .post_page("/issues/1/reply", Some(&agent), &[("body", "Hello?")], &[])
        .await;
    assert_eq!(page.location.as_deref(), Some("/issues/1?error=opted_out"));
    assert_eq!(app.scalar("select count(*) from outbox").await, 0);
    assert_eq!(fake.delivered().len(), 2);
}

async fn phone_numbers_are_masked_except_for_admins_whose_views_are_logged(backend: Backend) {
    let Some((app, _fake, [viewer, agent, admin])) = office(backend).await else {
        return;
    };
    for cookie in [&viewer, &agent] {
        let page = app.get_page("/issues/1", Some(cookie)).await.body;
        assert!(page.contains("+1 *** *** 5309"));
        assert!(!page.contains("8675309"), "the whole number leaks");
    }
    assert_eq!(
        app.scalar("select count(*) from audit_event where action = 'phone.viewed'")
            .await,
        0
    );
    let page = app.get_page("/issues/1", Some(&admin)).await.body;
    assert!(page.contains(CITIZEN));
    assert_eq!(
        app.scalar("select count(*) from audit_event where action = 'phone.viewed'")
            .await,
        1
    );
    let queue = app.get_page("/queue", Some(&admin)).await.body;
    assert!(!queue.contains("8675309"), "the queue never shows numbers");
}

async fn citizen_text_is_escaped_everywhere_it_is_shown(backend: Backend) {
    let Some((app, _fake, [_, agent, _])) = office(backend).await else {
        return;
    };
    let attack = "<img src=x onerror=alert(1)> & \"quotes\"";
    app.text("+14155550999", &format!("REPORT {attack} Main St"))
        .await;
    for path in ["/queue", "/issues/2", "/queue?q=%3Cimg"] {
        let page = app.get_page(path, Some(&agent)).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("<img src=x"),
            "{path} renders markup from a citizen"
        );
        assert!(
            page.body.contains("&#60;img src=x onerror=alert(1)&#62;"),
            "{path} shows it as text"
        );
    }
}

async fn the_queue_filters_searches_and_pages(backend: Backend) {
    let Some((app, _fake, [_, agent, _])) = office(backend).await else {
        return;
    };
    for n in 0..59 {
        app.text(
            &format!("+1415556{n:04}"),
            &format!("TRASH bins full at Oak St {n}"),
        )
        .await;
    }
    app.text("+14155557777", "LIGHT flickering on Birch Ave")
        .await;
    app.wait_outbox_empty().await;
    let first = app.get_page("/queue", Some(&agent)).await.body;
    assert!(
        first.contains("#1<") && first.contains("#50<") && !first.contains("#51<"),
        "50 oldest first"
    );
    assert!(
        first.contains(">Trash (59)<")
            && first.contains(">Streetlight (1)<")
            && first.contains(">en (61)<"),
        "each filter choice shows its count"
    );
    let next = first
        .split("href=\"/queue?")
        .find(|s| s.starts_with("after="))
        .expect("a next-page link");
    let next = format!("/queue?{}", &next[..next.find('"').unwrap()]).replace("&amp;", "&");
    let second = app.get_page(&next, Some(&agent)).await.body;
    assert!(
        second.contains("#51<") && second.contains("#61<") && !second.contains("#50<"),
        "{next}"
    );

    let lights = app
        .get_page("/queue?category=streetlight", Some(&agent))
        .await
        .body;
    assert!(lights.contains("#61<") && !lights.contains("#2<"));
    let found = app.get_page("/queue?q=BIRCH", Some(&agent)).await.body;
    assert!(
        found.contains("#61<") && !found.contains("#1<"),
        "search is case-insensitive"
    );
    // Search reaches follow-up messages, not just descriptions.
    app.text(CITIZEN, "also a broken curb nearby").await;
    let curb = app.get_page("/queue?q=curb", Some(&agent)).await.body;
    assert!(curb.contains("#1<"), "found through its thread");
    app.post_page(
        "/issues/3/assign",
        Some(&agent),
        &[("official_id", "2")],
        &[],
    )
    .await;
    let mine = app
        .get_page("/queue?assignee=mine", Some(&agent))
        .await
        .body;
    assert!(mine.contains("#3<") && !mine.contains("#4<"));
    let none = app
        .get_page("/queue?status=resolved", Some(&agent))
        .await
        .body;
    assert!(none.contains("Nothing waiting here."));
    app.wait_outbox_empty().await;
}

async fn login_cycles_the_session_sets_safe_cookies_and_is_rate_limited(backend: Backend) {
    let Some(app) = spawn_app_with(backend, Options::default()).await else {
        return;
    };
    let password = app.add_official("agent@city.example", "agent").await;
    let other = app.add_official("other@city.example", "agent").await;
    let page = app
        .post_page(
            "/login",
            None,
            &[("email", "agent@city.example"), ("password", &password)],
            &[],
        )
        .await;
    let cookie = page
        .set_cookie
        .iter()
        .find(|c| c.starts_with("civicline_session="))
        .unwrap()
        .to_lowercase();
    assert!(
        cookie.contains("httponly")
            && cookie.contains("samesite=strict")
            && cookie.contains("secure"),
        "{cookie}"
    );
    let first = session_cookie(&page).unwrap();
    // A session id planted by someone else is never adopted.
    let planted = "civicline_session=AAAAAAAAAAAAAAAAAAAAAA";
    let fixated = app
        .post_page(
            "/login",
            Some(planted),
            &[("email", "agent@city.example"), ("password", &password)],
            &[],
        )
        .await;
    assert_ne!(session_cookie(&fixated).as_deref(), Some(planted));
    // Logging in again (as someone else) from that browser gets a new session id.
    let again = app
        .post_page(
            "/login",
            Some(&first),
            &[("email", "other@city.example"), ("password", &other)],
            &[],
        )
        .await;
    let second = session_cookie(&again).expect("a new cookie");
    assert_ne!(first, second, "the session id is cycled at login");
    // Log out: the session is gone.
    assert_eq!(
        app.post_page("/logout", Some(&second), &[], &[])
            .await
            .status,
        303
    );
    assert_eq!(app.get_page("/queue", Some(&second)).await.status, 303);

    let wrong = app
        .post_page(
            "/login",
            None,
            &[("email", "agent@city.example"), ("password", "guess-guess")],
            &[],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong email or password."));
    let mut last = 0;
    for _ in 0..5 {
        last = app
            .post_page(
                "/login",
                None,
                &[("email", "Agent@City.example"), ("password", "guess-guess")],
                &[],
            )
            .await
            .status;
    }
    assert_eq!(last, 429, "the sixth attempt in a minute is refused");
}

async fn expired_sessions_are_deleted_and_live_ones_kept(backend: Backend) {
    let Some(app) = spawn_app_with(backend, Options::default()).await else {
        return;
    };
    let password = app.add_official("agent@city.example", "agent").await;
    let old = app.login("agent@city.example", &password).await;
    app.execute("update session set expires_at = 1").await;
    let live = app.login("agent@city.example", &password).await;
    assert_eq!(app.scalar("select count(*) from session").await, 2);
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    let sessions = civicline::store::sessions::SessionStore::new(store);
    assert_eq!(sessions.delete_expired().await.unwrap(), 1);
    assert_eq!(app.scalar("select count(*) from session").await, 1);
    assert_eq!(
        app.get_page("/queue", Some(&live)).await.status,
        200,
        "the live session still works"
    );
    assert_eq!(
        app.get_page("/queue", Some(&old)).await.status,
        303,
        "the expired one leads to the login page"
    );
}

/// Runs on its own worker threads: the CLI is a second process on the same SQLite file, and a
/// test that blocked the app's only thread mid-transaction would hold the write lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_creates_an_account_that_can_log_in() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    let url = app.settings.database.url.expose().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_civicline"))
            .args([
                "user",
                "add",
                "--email",
                "ana@city.example",
                "--role",
                "admin",
            ])
            .env("CIVICLINE_DATABASE__URL", url)
            .env("CIVICLINE_USER_PASSWORD", "correct horse battery")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ana@city.example (admin)"));
    let cookie = app.login("ana@city.example", "correct horse battery").await;
    assert_eq!(app.get_page("/queue", Some(&cookie)).await.status, 200);
}

each_backend!(
    open_pages_hear_about_new_messages,
    a_burst_of_texts_reaches_open_pages_in_a_few_events,
    open_pages_hear_about_delivery_status,
    closing_as_a_duplicate_happens_whole_or_not_at_all,
    an_issue_can_be_closed_as_a_duplicate
);

async fn open_pages_hear_about_new_messages(backend: Backend) {
    let Some((app, _fake, [viewer, _, _])) = office(backend).await else {
        return;
    };
    let mut events = open_events(&app, &viewer).await;
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    app.text("+14155550123", "WATER leak on Pine St").await;
    let seen = read_events_until(&mut events, "data: 2").await;
    assert!(seen.contains("event: issue"), "{seen}");
    app.wait_outbox_empty().await;
}

/// A burst of texts (fifty about one burst main) reloads an official's open queue a few times,
/// not once a text: the first change is told at once, the rest together, every changed issue
/// named.
async fn a_burst_of_texts_reaches_open_pages_in_a_few_events(backend: Backend) {
    let Some((app, _fake, [viewer, _, _])) = office(backend).await else {
        return;
    };
    let mut events = open_events(&app, &viewer).await;
    let texts = 8;
    for n in 0..texts {
        let from = format!("+1415555{:04}", 300 + n);
        app.text(&from, &format!("WATER leak number {n} on Pine St"))
            .await;
    }
    // Everything the stream tells until it has been quiet for a while.
    let mut seen = String::new();
    while let Ok(chunk) =
        tokio::time::timeout(std::time::Duration::from_secs(5), events.chunk()).await
    {
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("open")));
    }
    let told: std::collections::BTreeSet<i64> = seen
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .flat_map(|data| data.split(','))
        .map(|id| id.parse().expect("an issue id"))
        .collect();
    assert!(!told.is_empty(), "nothing told: {seen}");
    let list = told
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let untold = app
        .scalar(&format!(
            "select count(*) from issue where issue_id > 1 and issue_id not in ({list})"
        ))
        .await;
    assert_eq!(untold, 0, "every report filed is told: {seen}");
    assert!(app.scalar("select count(*) from issue").await > 1);
    let events_told = seen.matches("event: issue").count();
    assert!(
        events_told < texts,
        "{events_told} events for {texts} texts: {seen}"
    );
}

async fn open_pages_hear_about_delivery_status(backend: Backend) {
    let Some((app, _fake, [viewer, _, _])) = office(backend).await else {
        return;
    };
    app.wait_outbox_empty().await;
    let reply_id = app
        .scalar("select message_id from message where direction = 'out' and issue_id = 1")
        .await;
    let mut events = open_events(&app, &viewer).await;
    // Twilio says the auto-reply of report #1 was delivered.
    let path = format!("/sms/twilio/status?message_id={reply_id}");
    let form = civicline::providers::form::Form::from_pairs([
        ("MessageSid", "SMlive1"),
        ("MessageStatus", "delivered"),
    ]);
    let (status, _) = crate::helpers::post_signed_form(&app.address, &path, &form).await;
    assert_eq!(status, 204);
    read_events_until(&mut events, "data: 1").await;
    let page = app.get_page("/issues/1", Some(&viewer)).await;
    assert!(page.body.contains("delivered"), "{}", page.body);
}

async fn closing_as_a_duplicate_happens_whole_or_not_at_all(backend: Backend) {
    let Some((app, _fake, [_, agent, _])) = office(backend).await else {
        return;
    };
    app.text("+14155550124", "POTHOLE same hole Main St at 5th")
        .await;
    app.wait_outbox_empty().await;
    // The notice cannot be queued: the database refuses every outbox row.
    let (refuse, allow) = match backend {
        crate::helpers::Backend::Sqlite => (
            vec![
                "create trigger refuse_outbox before insert on outbox begin select raise(abort, 'outbox refused'); end",
            ],
            vec!["drop trigger refuse_outbox"],
        ),
        crate::helpers::Backend::Postgres => (
            vec![
                "create function refuse_outbox() returns trigger language plpgsql as $$ begin raise exception 'outbox refused'; end $$",
                "create trigger refuse_outbox before insert on outbox for each row execute function refuse_outbox()",
            ],
            vec!["drop trigger refuse_outbox on outbox"],
        ),
    };
    for sql in refuse {
        app.execute(sql).await;
    }
    let page = app
        .post_page("/issues/2/duplicate", Some(&agent), &[("of", "1")], &[])
        .await;
    assert_eq!(page.status, 503, "{}", page.body);
    // Nothing of it stayed: no trail entry without its status change.
    assert_eq!(
        app.scalar("select count(*) from issue_event where issue_id = 2 and kind <> 'created'")
            .await,
        0
    );
    assert_eq!(
        app.text_value("select status from issue where issue_id = 2")
            .await
            .as_deref(),
        Some("open")
    );
    for sql in allow {
        app.execute(sql).await;
    }
    let page = app
        .post_page("/issues/2/duplicate", Some(&agent), &[("of", "1")], &[])
        .await;
    assert_eq!(page.location.as_deref(), Some("/issues/2"));
    assert_eq!(
        app.scalar("select count(*) from issue_event where issue_id = 2 and kind = 'merged'")
            .await,
        1
    );
    assert_eq!(
        app.text_value("select status from issue where issue_id = 2")
            .await
            .as_deref(),
        Some("closed_duplicate")
    );
    app.wait_outbox_empty().await;
}

async fn an_issue_can_be_closed_as_a_duplicate(backend: Backend) {
    let Some((app, fake, [_, agent, _])) = office(backend).await else {
        return;
    };
    app.text("+14155550124", "POTHOLE same hole Main St at 5th")
        .await;
    app.wait_outbox_empty().await;
    let before = fake.delivered().len();
    assert_eq!(
        app.post_page("/issues/2/duplicate", Some(&agent), &[("of", "2")], &[])
            .await
            .location
            .as_deref(),
        Some("/issues/2?error=duplicate")
    );
    assert_eq!(
        app.post_page("/issues/2/duplicate", Some(&agent), &[("of", "1")], &[])
            .await
            .location
            .as_deref(),
        Some("/issues/2")
    );
    assert_eq!(
        app.text_value("select status from issue where issue_id = 2")
            .await
            .as_deref(),
        Some("closed_duplicate")
    );
    eventually("the citizen hears it was already reported", || async {
        fake.delivered().len() == before + 1
    })
    .await;
    assert!(
        fake.delivered()
            .last()
            .unwrap()
            .body
            .contains("Already reported as #1. We will text you when it is fixed.")
    );
    app.wait_outbox_empty().await;
}

each_backend!(an_admin_broadcasts_to_a_topic_in_each_language_never_to_opted_out_numbers);

async fn an_admin_broadcasts_to_a_topic_in_each_language_never_to_opted_out_numbers(
    backend: Backend,
) {
    let Some((app, fake, [_, agent, admin])) = office(backend).await else {
        return;
    };
    for (phone, text) in [
        ("+14155550201", "JOIN ROADS"),
        ("+525500000001", "UNIRSE CALLES"),
        ("+33600000001", "REJOINDRE ROUTES"),
        ("+14155550202", "JOIN ROADS"),
        ("+14155550202", "STOP"),
        ("+14155550203", "JOIN WATER"),
    ] {
        app.text(phone, text).await;
    }
    app.wait_outbox_empty().await;
    let before = fake.delivered().len();
    assert_eq!(app.get_page("/broadcasts", Some(&agent)).await.status, 403);
    assert_eq!(
        app.post_page(
            "/broadcasts",
            Some(&agent),
            &[("topic", "roads"), ("text_en", "x"), ("action", "send")],
            &[]
        )
        .await
        .status,
        403
    );
    let english = "Main St is closed Saturday 8-12. Please use Elm St.";
    let spanish = "La calle Main esta cerrada el sabado de 8 a 12. Use la calle Elm.";
    let form = [
        ("topic", "roads"),
        ("text_en", english),
        ("text_es", spanish),
        ("text_fr", ""),
        ("action", "preview"),
    ];
    let preview = app.post_page("/broadcasts", Some(&admin), &form, &[]).await;
    assert_eq!(preview.status, 200);
    assert!(
        preview
            .body
            .contains("<b>3</b> recipients, <b>3</b> SMS segments"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("default text"),
        "French subscribers get the default text"
    );
    assert_eq!(fake.delivered().len(), before, "a preview sends nothing");

    let form = [
        ("topic", "roads"),
        ("text_en", english),
        ("text_es", spanish),
        ("text_fr", ""),
        ("action", "send"),
    ];
    assert_eq!(
        app.post_page("/broadcasts", Some(&admin), &form, &[])
            .await
            .location
            .as_deref(),
        Some("/broadcasts")
    );
    eventually("the broadcast is delivered", || async {
        fake.delivered().len() == before + 3
    })
    .await;
    let mut got: Vec<(String, String)> = fake.delivered()[before..]
        .iter()
        .map(|r| (r.to.clone(), r.body.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("+14155550201".to_owned(), english.to_owned()),
            ("+33600000001".to_owned(), english.to_owned()),
            ("+525500000001".to_owned(), spanish.to_owned()),
        ]
    );
    app.wait_outbox_empty().await;
    let report = app.get_page("/broadcasts", Some(&admin)).await.body;
    assert!(report.contains("<td>roads</td>"), "the report lists it");
    assert_eq!(app.scalar("select count(*) from message where broadcast_id = 1 and provider_message_id is not null").await, 3);
}

each_backend!(canned_replies_come_in_the_citizens_language);

async fn canned_replies_come_in_the_citizens_language(backend: Backend) {
    let Some((app, fake, [_, agent, _])) = office(backend).await else {
        return;
    };
    app.text("+525500000009", "BACHE en la calle 5 y Av 3")
        .await;
    app.wait_outbox_empty().await;
    let spanish = app.get_page("/issues/2", Some(&agent)).await.body;
    assert!(
        spanish.contains("Cuadrilla programada") && !spanish.contains("Crew scheduled"),
        "Spanish canned replies"
    );
    let english = app.get_page("/issues/1", Some(&agent)).await.body;
    assert!(english.contains("Crew scheduled"));
    let text = "Gracias por su reporte. Una cuadrilla lo arreglara esta semana.";
    app.post_page("/issues/2/reply", Some(&agent), &[("body", text)], &[])
        .await;
    eventually("the canned reply is sent", || async {
        fake.delivered().last().is_some_and(|r| r.body == text)
    })
    .await;
    app.wait_outbox_empty().await;
}

each_backend!(hiding_a_description_from_the_issue_page_keeps_it_out_of_open_data);

async fn hiding_a_description_from_the_issue_page_keeps_it_out_of_open_data(backend: Backend) {
    let Some((app, _fake, [viewer, agent, _])) = office(backend).await else {
        return;
    };
    assert_eq!(
        app.post_page("/issues/1/hide", Some(&viewer), &[("hidden", "1")], &[])
            .await
            .status,
        403
    );
    assert_eq!(
        app.post_page("/issues/1/hide", Some(&agent), &[("hidden", "1")], &[])
            .await
            .location
            .as_deref(),
        Some("/issues/1")
    );
    let (_, public) = app.get("/open311/v2/requests/1.json").await;
    assert!(public.contains("\"description\":\"\""), "hidden: {public}");
    assert!(!public.contains("deep hole"));
    let (_, csv) = app.get("/exports/issues.csv").await;
    assert!(
        !csv.contains("deep hole") && csv.contains("\n1,"),
        "counted, not shown: {csv}"
    );
    assert!(
        app.get_page("/issues/1", Some(&agent))
            .await
            .body
            .contains("Publish it again")
    );
    app.post_page("/issues/1/hide", Some(&agent), &[("hidden", "0")], &[])
        .await;
    assert!(
        app.get("/open311/v2/requests/1.json")
            .await
            .1
            .contains("deep hole on Main St at 5th")
    );
    assert_eq!(
        app.scalar("select count(*) from issue_event where kind = 'publication'")
            .await,
        2
    );
}

each_backend!(
    a_public_note_reaches_the_citizen_as_written_or_the_change_is_refused,
    history_names_officials_and_refusals_are_pages_of_the_site
);

async fn a_public_note_reaches_the_citizen_as_written_or_the_change_is_refused(backend: Backend) {
    let Some((app, fake, [_viewer, agent, _admin])) = office(backend).await else {
        return;
    };
    // Resolving with a note: the note, then the question the citizen answers.
    let page = app
        .post_page(
            "/issues/1/status",
            Some(&agent),
            &[
                ("status", "resolved"),
                ("note", "Filled on Tuesday by the roads crew."),
            ],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    eventually("the notice is sent", || async {
        fake.delivered().len() == 2
    })
    .await;
    assert_eq!(
        fake.delivered()[1].body,
        "Filled on Tuesday by the roads crew. Report #1 (Pothole) is resolved. Is it fixed? Reply 1 for yes, 2 for no."
    );
    // A note that needs a second segment is sent whole, in two.
    let long = "The crew patched the hole and will return next week to resurface the whole block between 4th and 6th; expect one lane closed.";
    let page = app
        .post_page(
            "/issues/1/status",
            Some(&agent),
            &[("status", "in_progress"), ("note", long)],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    eventually("the second notice is sent", || async {
        fake.delivered().len() == 3
    })
    .await;
    let sent = fake.delivered()[2].body.clone();
    assert!(
        sent.ends_with(long) && civicline::sms::Segments::of(&sent).count == 2,
        "{sent}"
    );
    // Past two segments: refused with a reason, the status unchanged, nothing queued.
    let events = app.scalar("select count(*) from issue_event").await;
    let page = app
        .post_page(
            "/issues/1/status",
            Some(&agent),
            &[("status", "acknowledged"), ("note", &long.repeat(3))],
            &[],
        )
        .await;
    assert_eq!(
        page.location.as_deref(),
        Some("/issues/1?error=note_too_long")
    );
    let shown = app
        .get_page("/issues/1?error=note_too_long", Some(&agent))
        .await;
    assert!(shown.body.contains("more than two SMS"), "{}", shown.body);
    assert_eq!(
        app.text_value("select status from issue where issue_id = 1")
            .await
            .as_deref(),
        Some("in_progress")
    );
    assert_eq!(app.scalar("select count(*) from issue_event").await, events);
    app.wait_outbox_empty().await;
    assert_eq!(fake.delivered().len(), 3);
}

async fn history_names_officials_and_refusals_are_pages_of_the_site(backend: Backend) {
    let Some((app, _fake, [viewer, agent, admin])) = office(backend).await else {
        return;
    };
    let agent_id = app
        .scalar("select official_id from official where email = 'agent@city.example'")
        .await
        .to_string();
    let page = app
        .post_page(
            "/issues/1/assign",
            Some(&admin),
            &[("official_id", &agent_id)],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    let issue = app.get_page("/issues/1", Some(&agent)).await;
    assert!(
        issue.body.contains("assigned</b> · admin@city.example"),
        "{}",
        issue.body
    );
    assert!(
        issue.body.contains("<br>agent@city.example"),
        "{}",
        issue.body
    );
    assert!(!issue.body.contains("official:"), "{}", issue.body);
    // Only admins see the Broadcasts link; the others' refusals are HTML pages.
    for (cookie, link) in [(&viewer, false), (&agent, false), (&admin, true)] {
        let queue = app.get_page("/queue", Some(cookie)).await;
        assert_eq!(queue.body.contains("href=\"/broadcasts\""), link);
    }
    let refused = crate::helpers::browser()
        .get(format!("{}/broadcasts", app.address))
        .header("cookie", agent.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert!(
        refused.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("<h1>Only admins send broadcasts</h1>")
    );
    let viewer_post = app
        .post_page("/issues/1/note", Some(&viewer), &[("body", "x")], &[])
        .await;
    assert_eq!(viewer_post.status, 403);
    assert!(
        viewer_post
            .body
            .contains("<h1>Viewers cannot change reports</h1>"),
        "{}",
        viewer_post.body
    );
    let missing = app.get_page("/issues/999", Some(&agent)).await;
    assert!(
        missing.body.contains("<h1>No such report</h1>"),
        "{}",
        missing.body
    );
}

/// `/queue/events` as a logged-in page opens it.
async fn open_events(app: &TestApp, cookie: &str) -> reqwest::Response {
    civicline::providers::http_client()
        .get(format!("{}/queue/events", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// Reads a server-sent event stream until `wanted` appears (10 s at most per chunk).
async fn read_events_until(events: &mut reqwest::Response, wanted: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(wanted) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), events.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}
