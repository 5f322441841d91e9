//! The crowd (issue 18): one problem, many voices. A report of the same problem joins the open
//! one as a supporter ("me too"), on both backends, under a storm of fifty numbers at once.

use crate::each_backend;
use crate::fake_provider::{ACCOUNT_SID, FakeProvider};
use crate::helpers::{Backend, Options, TestApp, eventually, spawn_app_with};
use civicline::config::Settings;

each_backend!(
    fifty_numbers_texting_one_burst_main_at_once_are_one_issue_and_all_fifty_hear_it_is_fixed,
    a_report_that_only_looks_alike_is_never_merged,
    two_places_within_the_merge_distance_are_one_place,
    officials_merge_two_reports_with_all_their_citizens_and_split_one_off,
);

/// The demo city (areas, streets, landmarks), no departments.
fn riverton(settings: &mut Settings) {
    settings.places.file =
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/places/demo.geojson").into();
}

/// Replies ride on the webhook's answer; notices go through the outbox to `phone`'s API.
async fn app(backend: Backend, phone: &FakeProvider) -> Option<TestApp> {
    let options = Options {
        tune: Some(riverton),
        ..Options::default()
    }
    .with("CIVICLINE_TWILIO__API_BASE", &phone.url)
    .with("CIVICLINE_TWILIO__ACCOUNT_SID", ACCOUNT_SID);
    spawn_app_with(backend, options).await
}

async fn fifty_numbers_texting_one_burst_main_at_once_are_one_issue_and_all_fifty_hear_it_is_fixed(
    backend: Backend,
) {
    let phone = FakeProvider::start().await;
    let Some(app) = app(backend, &phone).await else {
        return;
    };
    let numbers: Vec<String> = (0..50).map(|i| format!("+1415555{i:04}")).collect();
    let texts = numbers
        .iter()
        .map(|number| app.text(number, "WATER burst main at Main St & 5th Ave"));
    let answers = futures_util::future::join_all(texts).await;
    let replies: Vec<String> = answers.iter().map(|a| a.reply()).collect();
    assert_eq!(
        app.scalar("select count(*) from issue").await,
        1,
        "{replies:?}"
    );
    // Its number: on Postgres a round reserves numbers for its reports, so not always 1.
    let id = app.scalar("select issue_id from issue").await;
    let logged = format!("Thanks! Report #{id} (Water) is logged.");
    let first = replies.iter().filter(|r| r.starts_with(&logged)).count();
    let already = format!("Already reported as #{id}. We will text you when it is fixed.");
    let joined = replies.iter().filter(|r| **r == already).count();
    assert_eq!((first, joined), (1, 49), "{replies:?}");
    assert_eq!(app.scalar("select supporters from issue").await, 50);
    assert_eq!(app.scalar("select count(*) from supporter").await, 49);
    assert_eq!(
        app.scalar(&format!(
            "select count(*) from message where direction = 'in' and issue_id = {id}"
        ))
        .await,
        50,
        "every voice in the thread"
    );
    // Open data carries the count; the CSV too, in its last column.
    let (_, json) = app.get(&format!("/open311/v2/requests/{id}.json")).await;
    assert!(json.contains(r#""supporters":50"#), "{json}");
    let (_, csv) = app.get("/exports/issues.csv").await;
    assert!(csv.lines().nth(1).unwrap().ends_with(",50"), "{csv}");
    // The same number again: nothing counted twice.
    app.text(&numbers[7], "WATER burst main at Main St & 5th Ave")
        .await;
    assert_eq!(app.scalar("select supporters from issue").await, 50);

    // Fixed: every one of the fifty is told, once, and asked whether it is.
    let gateway = app.gateway().await;
    gateway
        .change_status(id, "resolved", "agent@city.example", "")
        .await
        .unwrap()
        .unwrap();
    let notices = "from message where direction = 'out' and in_reply_to is null";
    let told = app
        .scalar(&format!(
            "select count(distinct citizen_id) {notices} and issue_id = {id}"
        ))
        .await;
    assert_eq!(told, 50);
    let sent = app.scalar(&format!("select count(*) {notices}")).await;
    assert_eq!(sent, 50, "each told once");
    let asked = "select count(*) from citizen where pending_question = 'fixed'";
    assert_eq!(app.scalar(asked).await, 50);
    eventually("the fifty notices are sent", || async {
        phone.delivered().len() == 50
    })
    .await;
    let mut reached: Vec<String> = phone.delivered().into_iter().map(|r| r.to).collect();
    reached.sort();
    assert_eq!(reached, numbers, "each of the fifty, once");
    // A supporter's answer counts: "2" (not fixed) reopens it for officials.
    let answer = app.text(&numbers[30], "2").await.reply();
    assert!(answer.contains(&format!("#{id}")), "{answer}");
    assert_ne!(
        app.text_value("select status from issue").await.as_deref(),
        Some("resolved")
    );
    // The answer's reply goes out before the app is torn down.
    app.wait_outbox_empty().await;
}

async fn a_report_that_only_looks_alike_is_never_merged(backend: Backend) {
    let phone = FakeProvider::start().await;
    let Some(app) = app(backend, &phone).await else {
        return;
    };
    let cases = [
        // (from, text, the issue it lands on)
        ("+14155550001", "POTHOLE deep one at Main St & 5th Ave", 1),
        ("+14155550002", "TRASH piled at Main St & 5th Ave", 2),
        ("+14155550003", "POTHOLE on Elm St and Oak St", 3),
        ("+14155550004", "POTHOLE by City Hall", 4),
        ("+14155550005", "POTHOLE", 5),
        ("+14155550006", "bache en Main St y 5th Ave", 1),
        ("+14155550007", "TROU près de City Hall", 4),
    ];
    for (from, text, issue) in cases {
        let reply = app.text(from, text).await.reply();
        assert!(reply.contains(&format!("#{issue}")), "{text}: {reply}");
    }
    assert_eq!(app.scalar("select count(*) from issue").await, 5);
    assert_eq!(
        app.scalar("select supporters from issue where issue_id = 1")
            .await,
        2
    );
    assert_eq!(
        app.scalar("select supporters from issue where issue_id = 4")
            .await,
        2
    );
    assert_eq!(
        app.scalar("select cast(sum(supporters) as bigint) from issue where issue_id in (2, 3, 5)")
            .await,
        3
    );
    // The Spanish and French supporters are told in their languages.
    let spanish = app
        .text_value(
            "select body from message where direction = 'out' and citizen_id = \
             (select citizen_id from supporter where issue_id = 1)",
        )
        .await
        .unwrap();
    assert!(
        spanish.starts_with("Ya fue reportado como #1."),
        "{spanish}"
    );
    let french = app
        .text_value(
            "select body from message where direction = 'out' and citizen_id = \
             (select citizen_id from supporter where issue_id = 4)",
        )
        .await
        .unwrap();
    assert!(french.starts_with("Déjà signalé sous le #4."), "{french}");

    // A supporter's follow-up goes on the report they joined, not a new one.
    let more = app
        .text("+14155550006", "sigue ahi, es enorme")
        .await
        .reply();
    assert!(more.contains("#1"), "{more}");
    assert_eq!(app.scalar("select count(*) from issue").await, 5);

    // Retention: a supporter is kept while the report they joined is open, and is due with the
    // reporter once it is closed (a day from now, both last texted before).
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    let tomorrow = civicline::store::now_ms() + 86_400_000;
    let due = || async {
        civicline::store::privacy::due_for_retention(&store, tomorrow, 100)
            .await
            .unwrap()
    };
    let supporter_of_1 = app
        .scalar("select citizen_id from supporter where issue_id = 1")
        .await;
    assert!(!due().await.contains(&supporter_of_1));
    let gateway = app.gateway().await;
    gateway
        .change_status(1, "resolved", "official:1", "")
        .await
        .unwrap()
        .unwrap();
    assert!(due().await.contains(&supporter_of_1));

    // A supporter forgotten since is not texted; the reporter is.
    app.execute(
        "update citizen set anonymized_at = 1 where citizen_id = \
         (select citizen_id from supporter where issue_id = 4)",
    )
    .await;
    gateway
        .change_status(4, "in_progress", "official:1", "")
        .await
        .unwrap()
        .unwrap();
    let notices = "select count(*) from message where direction = 'out' \
         and in_reply_to is null and issue_id = 4";
    assert_eq!(app.scalar(notices).await, 1);
    app.wait_outbox_empty().await;
}

async fn two_places_within_the_merge_distance_are_one_place(backend: Backend) {
    let phone = FakeProvider::start().await;
    // Oak St & Elm St and City Hall are 700 m apart, both in Old Town.
    let near = |settings: &mut Settings| {
        riverton(settings);
        settings.crowd.merge_distance_m = 1_000.0;
    };
    let options = Options {
        tune: Some(near),
        ..Options::default()
    }
    .with("CIVICLINE_TWILIO__API_BASE", &phone.url)
    .with("CIVICLINE_TWILIO__ACCOUNT_SID", ACCOUNT_SID);
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    app.text("+14155550011", "POTHOLE at Oak St and Elm St")
        .await;
    let reply = app
        .text("+14155550012", "POTHOLE by City Hall")
        .await
        .reply();
    assert_eq!(
        reply,
        "Already reported as #1. We will text you when it is fixed."
    );
    // Within the distance, another category is still another report.
    let other = app.text("+14155550013", "TRASH by City Hall").await.reply();
    assert!(other.contains("#2"), "{other}");
}

async fn officials_merge_two_reports_with_all_their_citizens_and_split_one_off(backend: Backend) {
    let phone = FakeProvider::start().await;
    let Some(app) = app(backend, &phone).await else {
        return;
    };
    let (a, b, c, d) = (
        "+14155550021",
        "+14155550022",
        "+14155550023",
        "+14155550024",
    );
    app.text(a, "POTHOLE at Main St & 5th Ave").await;
    app.text(b, "POTHOLE huge one, Main St & 5th Ave").await;
    app.text(c, "POTHOLE near City Hall").await;
    app.text(d, "TROU près de City Hall").await;
    let supporters = |id: i64| {
        let app = &app;
        async move {
            app.scalar(&format!(
                "select supporters from issue where issue_id = {id}"
            ))
            .await
        }
    };
    assert_eq!((supporters(1).await, supporters(2).await), (2, 2));
    let agent_password = app.add_official("agent@city.example", "agent").await;
    let agent = app.login("agent@city.example", &agent_password).await;
    let viewer_password = app.add_official("viewer@city.example", "viewer").await;
    let viewer = app.login("viewer@city.example", &viewer_password).await;
    let b_id = app
        .scalar("select citizen_id from message where direction = 'in' and body like '%huge one%'")
        .await;

    // Refusals change nothing: into itself, into no report, a viewer.
    for (into, error) in [("2", "duplicate"), ("999", "duplicate")] {
        let page = app
            .post_page("/issues/2/merge", Some(&agent), &[("into", into)], &[])
            .await;
        assert_eq!(
            page.location.as_deref(),
            Some(format!("/issues/2?error={error}").as_str())
        );
    }
    let page = app
        .post_page("/issues/2/merge", Some(&viewer), &[("into", "1")], &[])
        .await;
    assert_eq!(page.status, 403);
    assert_eq!((supporters(1).await, supporters(2).await), (2, 2));

    // #2 (City Hall) is the same hole as #1: its two citizens join #1 and hear its number.
    let page = app
        .post_page("/issues/2/merge", Some(&agent), &[("into", "1")], &[])
        .await;
    assert_eq!(page.location.as_deref(), Some("/issues/2"));
    assert_eq!(supporters(1).await, 4);
    assert_eq!(
        app.text_value("select status from issue where issue_id = 2")
            .await
            .as_deref(),
        Some("closed_duplicate")
    );
    let told = |number: i64| {
        format!(
            "select body from message where direction = 'out' and in_reply_to is null \
         and issue_id = 1 and citizen_id = {number}"
        )
    };
    let c_id = app
        .scalar("select citizen_id from issue where issue_id = 2")
        .await;
    let d_id = app
        .scalar("select citizen_id from supporter where issue_id = 2")
        .await;
    assert_eq!(
        app.text_value(&told(c_id)).await.as_deref(),
        Some("Already reported as #1. We will text you when it is fixed.")
    );
    let french = app.text_value(&told(d_id)).await.unwrap();
    assert!(french.starts_with("Déjà signalé sous le #1."), "{french}");
    let history = app.get_page("/issues/1", Some(&agent)).await.body;
    assert!(history.contains("#2 and its 2 citizens"), "{history}");
    assert!(
        app.get_page("/issues/2", Some(&agent))
            .await
            .body
            .contains("into #1")
    );
    // Closed now, #2 takes nothing more; and the queue shows who stands behind #1.
    let page = app
        .post_page("/issues/1/merge", Some(&agent), &[("into", "2")], &[])
        .await;
    assert_eq!(
        page.location.as_deref(),
        Some("/issues/1?error=merge_closed")
    );
    let queue = app.get_page("/queue", Some(&agent)).await.body;
    assert!(queue.contains("4 citizens"), "{queue}");

    // B wrote about something else: split off, B's words become #3, in #1's category and place.
    let page = app.get_page("/issues/1", Some(&agent)).await.body;
    assert!(page.contains("POTHOLE huge one"), "{page}");
    let split = [("citizen_id", b_id.to_string())];
    let split: Vec<(&str, &str)> = split.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = app
        .post_page("/issues/1/split", Some(&viewer), &split, &[])
        .await;
    assert_eq!(page.status, 403);
    // B joined two days ago, a day the dashboard keeps the counts of: B's report is filed on
    // that day, so the day's kept counts are forgotten (counted again until kept anew).
    let day = 86_400_000;
    let now = civicline::store::now_ms();
    let joined = now - 2 * day;
    app.execute(&format!(
        "update supporter set joined_at = {joined} where issue_id = 1 and citizen_id = {b_id}"
    ))
    .await;
    let gateway = app.gateway().await;
    civicline::store::stats::keep_days(gateway.store(), now - 90 * day, now)
        .await
        .unwrap();
    let kept = format!(
        "select count(*) from issue_day where day = {}",
        joined.div_euclid(day)
    );
    assert_eq!(app.scalar(&kept).await, 1, "the day is kept: its total, 0");
    let page = app
        .post_page("/issues/1/split", Some(&agent), &split, &[])
        .await;
    assert_eq!(page.location.as_deref(), Some("/issues/3"));
    assert_eq!(app.scalar(&kept).await, 0, "the split forgot the kept day");
    let (_, dashboard) = app.get("/dashboard").await;
    assert!(
        dashboard.contains("<b>3</b> reports"),
        "#1, #2 and B's #3, each once: {dashboard}"
    );
    assert_eq!((supporters(1).await, supporters(3).await), (3, 1));
    assert_eq!(
        app.text_value("select description from issue where issue_id = 3")
            .await
            .as_deref(),
        Some("POTHOLE huge one, Main St & 5th Ave")
    );
    assert_eq!(
        app.scalar(&format!(
            "select count(*) from issue where issue_id = 3 and citizen_id = {b_id} \
             and service_code = 'pothole' and area = (select area from issue where issue_id = 1)"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "select count(*) from message where citizen_id = {b_id} and issue_id = 1"
        ))
        .await,
        0,
        "B's messages moved to #3"
    );
    let b_told = app
        .text_value(&format!(
            "select body from message where direction = 'out' and in_reply_to is null \
             and citizen_id = {b_id} and issue_id = 3"
        ))
        .await
        .unwrap();
    assert!(
        b_told.starts_with("Thanks! Report #3 (Pothole) is logged."),
        "{b_told}"
    );
    let page = app.get_page("/issues/3", Some(&agent)).await.body;
    assert!(page.contains("from #1"), "{page}");
    let page = app
        .post_page("/issues/1/split", Some(&agent), &split, &[])
        .await;
    assert_eq!(
        page.location.as_deref(),
        Some("/issues/1?error=not_a_supporter")
    );

    // Fixed: A, C and D are told; B, on a report of their own now, is not.
    app.wait_outbox_empty().await;
    let before = phone.delivered().len();
    let page = app
        .post_page(
            "/issues/1/status",
            Some(&agent),
            &[("status", "resolved")],
            &[],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/issues/1"));
    eventually("three notices", || async {
        phone.delivered().len() == before + 3
    })
    .await;
    let mut reached: Vec<String> = phone.delivered()[before..]
        .iter()
        .map(|r| r.to.clone())
        .collect();
    reached.sort();
    assert_eq!(reached, [a, c, d]);
    app.wait_outbox_empty().await;
}
