//! Open data: Open311 GeoReport v2 in JSON and XML, field by field; the CSV export; and no phone
//! number in any public output.

use crate::each_backend;
use crate::fake_provider::FakeProvider;
use crate::helpers::{Backend, Options, TestApp, spawn_app, spawn_app_with};
use serde_json::Value;

const PHONES: [&str; 4] = [
    "+14158675309",
    "+525512345678",
    "+33612345678",
    "+14155550111",
];

/// Five reports, one resolved with a public note, one hidden; returns the app.
async fn seeded(backend: Backend) -> Option<(TestApp, FakeProvider)> {
    let fake = FakeProvider::start().await;
    let app = spawn_app_with(backend, Options::twilio_api(&fake)).await?;
    app.text(PHONES[0], "POTHOLE deep hole on Main St at 5th")
        .await;
    app.text(PHONES[1], "BACHE enorme en la calle Colón 12")
        .await;
    app.text(
        PHONES[2],
        "ORDURES rue de la Paix, \"poubelles\" pleines, vraiment",
    )
    .await;
    app.text(
        PHONES[3],
        "REPORT =HYPERLINK(\"http://evil.example\") at Elm St\nsecond line",
    )
    .await;
    app.text(
        "+14155550112",
        "NOISE my neighbour John Smith at 12 Oak St every night",
    )
    .await;
    let gateway = app.gateway().await;
    gateway
        .change_status(1, "resolved", "official:1", "Filled on Tuesday.")
        .await
        .unwrap();
    app.execute("update issue set hidden_at = 1 where issue_id = 5")
        .await;
    app.wait_outbox_empty().await;
    Some((app, fake))
}

async fn json(app: &TestApp, path: &str) -> (u16, Value) {
    let (status, body) = app.get(path).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path} is not JSON ({e}): {body}")),
    )
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap().to_owned())
        .collect()
}

each_backend!(
    services_list_the_catalog_in_both_formats,
    requests_carry_every_field_of_the_spec,
    every_filter_and_every_error_case,
    post_requires_a_key_and_files_into_the_same_queue,
    the_csv_export_parses_and_round_trips_hard_text,
    no_public_output_contains_a_phone_number,
    what_citizens_type_about_themselves_is_scrubbed_from_every_public_output
);

/// A citizen who writes their own number, email and name in a report: open data shows
/// `[phone]`, `[email]` and `[redacted]`; the official's page shows what was written.
async fn what_citizens_type_about_themselves_is_scrubbed_from_every_public_output(
    backend: Backend,
) {
    let options = Options {
        tune: Some(|settings| settings.privacy.scrub_words = vec!["John Smith".into()]),
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    app.text(
        "+14155550199",
        "NOISE john smith at 12 Oak St, call me (415) 555-0133 or jo@example.org since 2026-11-30",
    )
    .await;
    let public = "NOISE [redacted] at 12 Oak St, call me [phone] or [email] since 2026-11-30";
    let description = &public["NOISE ".len()..];
    let (_, list) = json(&app, "/open311/v2/requests.json").await;
    assert_eq!(list[0]["description"], description, "{list}");
    let (_, one) = json(&app, "/open311/v2/requests/1.json").await;
    assert_eq!(one[0]["description"], description, "{one}");
    let (_, xml) = app.get("/open311/v2/requests.xml").await;
    let (_, csv) = app.get("/exports/issues.csv").await;
    let (_, page) = app.get("/reports/1").await;
    assert!(page.contains(description), "{page}");
    for (output, body) in [("XML", &xml), ("CSV", &csv), ("report page", &page)] {
        for secret in ["555-0133", "jo@example.org", "john smith", "John Smith"] {
            assert!(!body.contains(secret), "{secret} in the {output}: {body}");
        }
    }
    let password = app.add_official("agent@city.example", "agent").await;
    let cookie = app.login("agent@city.example", &password).await;
    let issue = app.get_page("/issues/1", Some(&cookie)).await;
    assert!(
        issue.body.contains("(415) 555-0133") && issue.body.contains("jo@example.org"),
        "officials see what was written"
    );
}

async fn services_list_the_catalog_in_both_formats(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (status, services) = json(&app, "/open311/v2/services.json").await;
    assert_eq!(status, 200);
    let services = services.as_array().unwrap();
    assert_eq!(services.len(), 6);
    let pothole = services
        .iter()
        .find(|s| s["service_code"] == "pothole")
        .unwrap();
    assert_eq!(pothole["service_name"], "Pothole");
    assert_eq!(pothole["metadata"], false);
    assert_eq!(pothole["type"], "realtime");
    assert_eq!(pothole["group"], "Streets");
    assert!(pothole["keywords"].as_str().unwrap().contains("BACHE"));
    assert!(!pothole["description"].as_str().unwrap().is_empty());

    let (status, xml) = app.get("/open311/v2/services.xml").await;
    assert_eq!(status, 200);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "services");
    let first = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("service"))
        .unwrap();
    for field in [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ] {
        assert!(
            first.children().any(|n| n.has_tag_name(field)),
            "<service> has <{field}>"
        );
    }
}

async fn requests_carry_every_field_of_the_spec(backend: Backend) {
    let Some((app, _fake)) = seeded(backend).await else {
        return;
    };
    let (status, list) = json(&app, "/open311/v2/requests.json").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list), ["5", "4", "3", "2", "1"], "newest first");
    let one = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == "1")
        .unwrap();
    assert_eq!(one["status"], "closed");
    assert_eq!(one["status_notes"], "Filled on Tuesday.");
    assert_eq!(one["service_code"], "pothole");
    assert_eq!(one["service_name"], "Pothole");
    assert_eq!(one["description"], "deep hole on Main St at 5th");
    for field in [
        "agency_responsible",
        "service_notice",
        "expected_datetime",
        "address_id",
        "zipcode",
        "media_url",
        "lat",
        "long",
    ] {
        assert!(one.get(field).is_some(), "{field} is present");
    }
    let when = one["requested_datetime"].as_str().unwrap();
    assert!(
        when.len() == 25 && when.ends_with("+00:00") && when.as_bytes()[10] == b'T',
        "{when}"
    );
    let two = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == "2")
        .unwrap();
    assert_eq!(
        (two["status"].as_str(), two["status_notes"].as_str()),
        (Some("open"), Some("open"))
    );
    let hidden = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == "5")
        .unwrap();
    assert_eq!(
        hidden["description"], "",
        "a hidden description is not published, the issue still counts"
    );
    assert_eq!(hidden["service_code"], "noise");

    let (_, xml) = app.get("/open311/v2/requests.xml").await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "service_requests");
    let requests: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("request"))
        .collect();
    assert_eq!(requests.len(), 5);
    let text = |n: &roxmltree::Node, f: &str| {
        n.children()
            .find(|c| c.has_tag_name(f))
            .and_then(|c| c.text())
            .unwrap_or("")
            .to_owned()
    };
    let three = requests
        .iter()
        .find(|r| text(r, "service_request_id") == "3")
        .unwrap();
    assert_eq!(
        text(three, "description"),
        "rue de la Paix, \"poubelles\" pleines, vraiment"
    );
}

async fn every_filter_and_every_error_case(backend: Backend) {
    let Some((app, _fake)) = seeded(backend).await else {
        return;
    };
    let cases: &[(&str, &[&str])] = &[
        ("?service_code=pothole", &["2", "1"]),
        ("?status=closed", &["1"]),
        ("?status=open", &["5", "4", "3", "2"]),
        ("?service_request_id=1,3", &["1", "3"]),
        ("?service_request_id=3&service_code=pothole", &["3"]),
        ("?start_date=2099-01-01T00:00:00Z", &[]),
        ("?end_date=2001-01-01T00:00:00-05:00", &[]),
        (
            "?start_date=2001-01-01T00:00:00%2B02:00",
            &["5", "4", "3", "2", "1"],
        ),
        ("?page_size=2", &["5", "4"]),
        ("?page_size=2&page=2", &["3", "2"]),
        ("?page_size=2&page=9", &[]),
    ];
    for (query, expected) in cases {
        let (status, list) = json(&app, &format!("/open311/v2/requests.json{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(ids(&list), *expected, "{query}");
    }
    let errors: &[(&str, u16)] = &[
        ("/open311/v2/requests.json?start_date=yesterday", 400),
        ("/open311/v2/requests.json?status=pending", 400),
        ("/open311/v2/requests.json?page_size=5000", 400),
        ("/open311/v2/requests.json?service_code=unicorns", 404),
        ("/open311/v2/requests.json?service_request_id=abc", 400),
        ("/open311/v2/requests/999.json", 404),
        ("/open311/v2/requests/abc.json", 404),
    ];
    for (path, status) in errors {
        let (got, body) = json(&app, path).await;
        assert_eq!(got, *status, "{path}");
        assert_eq!(body[0]["code"], *status, "{path}: {body}");
        assert!(
            body[0]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{path}"
        );
    }
    let (status, xml) = app.get("/open311/v2/requests/999.xml").await;
    assert_eq!(status, 404);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "errors");
    let (status, single) = json(&app, "/open311/v2/requests/2.json").await;
    assert_eq!(
        (status, ids(&single)),
        (200, vec!["2".to_owned()]),
        "a one-element list"
    );
}

async fn post_requires_a_key_and_files_into_the_same_queue(backend: Backend) {
    let Some((app, _fake)) = seeded(backend).await else {
        return;
    };
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    let key = civicline::store::open_data::create_api_key(
        &store,
        "city-web-form",
        civicline::store::now_ms(),
    )
    .await
    .unwrap();
    let post = |form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let body = civicline::providers::form::Form::from_pairs(form).encode();
            let response = app
                .client
                .post(format!("{}/open311/v2/requests.json", app.address))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (
                status,
                serde_json::from_str::<Value>(&response.text().await.unwrap()).unwrap(),
            )
        }
    };
    let base = |key: &str| {
        vec![
            ("api_key", key.to_owned()),
            ("service_code", "streetlight".to_owned()),
            ("address_string", "Elm St & 3rd".to_owned()),
            ("description", "two lamps out".to_owned()),
        ]
    };
    let (status, body) = post(base("wrong")).await;
    assert_eq!((status, body[0]["code"].as_u64()), (403, Some(403)));
    let (status, _) = post(
        base("wrong")
            .into_iter()
            .filter(|(k, _)| *k != "api_key")
            .collect(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        base(&key)
            .into_iter()
            .filter(|(k, _)| *k != "address_string")
            .collect(),
    )
    .await;
    assert_eq!(status, 400, "a location is required");
    let mut unknown = base(&key);
    unknown[1].1 = "unicorns".into();
    assert_eq!(post(unknown).await.0, 400);
    assert_eq!(
        app.scalar("select count(*) from issue").await,
        5,
        "refused posts stored nothing"
    );

    let (status, body) = post(base(&key)).await;
    assert_eq!(status, 201);
    assert_eq!(body[0]["service_request_id"], "6");
    let (_, six) = json(&app, "/open311/v2/requests/6.json").await;
    assert_eq!(
        (six[0]["address"].as_str(), six[0]["description"].as_str()),
        (Some("Elm St & 3rd"), Some("two lamps out"))
    );
    let trail = app
        .text_value("select actor from issue_event where issue_id = 6")
        .await;
    assert_eq!(trail.as_deref(), Some("api:city-web-form"));
    let mut located = base(&key);
    located.truncate(2);
    located.extend([
        ("lat", "40.7128".to_owned()),
        ("long", "-74.0060".to_owned()),
    ]);
    let (status, _) = post(located).await;
    assert_eq!(status, 201);
    let (_, seven) = json(&app, "/open311/v2/requests/7.json").await;
    assert_eq!(
        (seven[0]["lat"].as_f64(), seven[0]["long"].as_f64()),
        (Some(40.7128), Some(-74.006))
    );
}

async fn the_csv_export_parses_and_round_trips_hard_text(backend: Backend) {
    let Some((app, _fake)) = seeded(backend).await else {
        return;
    };
    let (status, csv_text) = app.get("/exports/issues.csv").await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "service_request_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let description =
        |id: &str| rows.iter().find(|r| &r[0] == id).unwrap()[column("description")].to_owned();
    assert_eq!(
        description("3"),
        "rue de la Paix, \"poubelles\" pleines, vraiment"
    );
    assert_eq!(
        description("4"),
        "'=HYPERLINK(\"http://evil.example\") at Elm St\nsecond line",
        "a formula is defused, the text kept"
    );
    assert_eq!(description("5"), "", "hidden");
    assert_eq!(
        &rows.iter().find(|r| &r[0] == "1").unwrap()[column("status")],
        "closed"
    );
    let (_, filtered) = app.get("/exports/issues.csv?service_code=trash").await;
    assert_eq!(
        csv::Reader::from_reader(filtered.as_bytes())
            .records()
            .count(),
        1
    );
}

async fn no_public_output_contains_a_phone_number(backend: Backend) {
    let Some((app, _fake)) = seeded(backend).await else {
        return;
    };
    let paths = [
        "/open311/v2/services.json",
        "/open311/v2/services.xml",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        "/open311/v2/requests/1.json",
        "/open311/v2/requests/2.xml",
        "/open311/v2/requests.json?status=closed",
        "/exports/issues.csv",
        "/dashboard",
    ];
    for path in paths {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}");
        for phone in PHONES.iter().chain(["+14155550112"].iter()) {
            let national = &phone[phone.len() - 7..];
            assert!(
                !body.contains(phone) && !body.contains(national),
                "{path} contains {phone}"
            );
        }
    }
}

each_backend!(
    the_dashboard_shows_how_the_city_listens,
    an_empty_dashboard_says_none_yet_instead_of_empty_charts,
    past_days_are_kept_at_start_and_the_dashboard_counts_each_report_once
);

async fn the_dashboard_shows_how_the_city_listens(backend: Backend) {
    let Some((app, _fake)) = seeded(backend).await else {
        return;
    };
    app.text("+14155550113", "STOP").await;
    let gateway = app.gateway().await;
    gateway
        .official_reply(2, "official:1", "Una cuadrilla va el martes.")
        .await
        .unwrap();
    app.wait_outbox_empty().await;
    let (status, page) = app.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("<b>5</b> reports"), "the 90-day total");
    assert_eq!(page.matches("<svg").count(), 3, "three server-drawn charts");
    assert!(page.contains("<b>1</b> numbers have texted STOP"));
    assert!(
        page.contains("<b>POTHOLE</b> 2"),
        "BACHE counts as a pothole word"
    );
    // Report #2 (a pothole) got its first answer; report #1 was resolved.
    let pothole = page.split("<td>Pothole</td>").nth(1).unwrap();
    assert!(
        !pothole.starts_with("<td>no data</td>"),
        "a first-answer time for potholes: {}",
        &pothole[..80]
    );
    // The bar charts name their bars: statuses of the backlog, languages of the citizens.
    for label in ["\nOpen\n</text>", "\nen\n</text>", "\nes\n</text>"] {
        assert!(
            page.contains(label),
            "the dashboard lacks the bar label {label}"
        );
    }
}

async fn an_empty_dashboard_says_none_yet_instead_of_empty_charts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (status, page) = app.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("<b>0</b> reports"), "the 90-day total");
    assert_eq!(
        page.matches("<svg").count(),
        1,
        "only the per-day chart is drawn"
    );
    assert_eq!(
        page.matches("None yet.").count(),
        3,
        "backlog, languages and words"
    );
}

/// Reports of past days in the store when the server starts: its housekeeping keeps the 90 whole
/// days before today (a day without reports too), and the dashboard counts each report once,
/// from the kept days and today's rows.
async fn past_days_are_kept_at_start_and_the_dashboard_counts_each_report_once(backend: Backend) {
    let now = civicline::store::now_ms();
    let day = 86_400_000;
    let seed = [
        (0, "'pothole'"),
        (1, "'pothole'"),
        (2, "null"),
        (40, "'water'"),
    ]
    .iter()
    .map(|(days_ago, code)| {
        let at = now - days_ago * day;
        format!(
            "insert into issue (service_code, description, created_at, updated_at) \
                 values ({code}, '', {at}, {at})"
        )
    })
    .collect();
    let options = Options {
        seed,
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let kept = "select count(*) from issue_day where service_code = '*'";
    crate::helpers::eventually("the housekeeping keeps 90 days", || async {
        app.scalar(kept).await == 90
    })
    .await;
    let yesterday = (now - day).div_euclid(day);
    assert_eq!(
        app.scalar(&format!(
            "select issues from issue_day where day = {yesterday} and service_code = 'pothole'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "select issues from issue_day where day = {} and service_code = ''",
            yesterday - 1
        ))
        .await,
        1,
        "an uncategorized report is kept under ''"
    );
    assert_eq!(
        app.scalar("select count(*) from issue_day where service_code not in ('*', '')")
            .await,
        2,
        "only the days with reports have a category's row"
    );
    let (status, page) = app.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("<b>4</b> reports"), "the 90-day total");
}
