//! From a text to the right desk: the city's places, its departments and their promises (issue
//! 17), on both backends.

use crate::each_backend;
use crate::helpers::{
    Backend, Options, SmtpServer, TestApp, TestDb, eventually, settings_for, spawn_app_with,
};
use civicline::config::{DepartmentSettings, Settings};
use serde_json::Value;

each_backend!(
    reports_in_three_languages_reach_the_department_of_their_place_with_a_promise,
    the_answer_to_where_routes_a_report_that_did_not_say,
    a_burst_of_reports_is_routed_as_each_alone,
    a_refused_import_changes_nothing_and_a_newer_one_reaches_the_running_server,
    a_rule_naming_an_unknown_area_stops_the_server,
    a_department_s_default_assignee_takes_its_reports_when_they_are_filed_or_placed,
    the_dashboard_tells_the_middle_wait_of_a_category_and_of_a_department,
);

fn department(name: &str, categories: &[&str], areas: &[&str]) -> DepartmentSettings {
    DepartmentSettings {
        name: name.to_owned(),
        email: format!("{}@riverton.example", name.to_lowercase().replace(' ', "-")),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        areas: areas.iter().map(|a| a.to_string()).collect(),
        default_assignee: String::new(),
    }
}

/// The demo city, three departments, promises for potholes (72 h) and trash (30 min). Reports
/// of one problem stay apart here ("me too" off): each is routed alone (tests/api/crowd.rs has
/// them join).
fn riverton(settings: &mut Settings) {
    settings.crowd.merge_window_days = 0.0;
    settings.places.file =
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/places/demo.geojson").into();
    settings.places.check_interval_secs = 1;
    settings.department = vec![
        department("Roads North", &["pothole"], &["Northside"]),
        department("Roads", &["pothole", "streetlight"], &[]),
        department("Old Town Office", &[], &["Old Town"]),
    ];
    settings.sla.hours = [("pothole".to_owned(), 72.0), ("trash".to_owned(), 0.5)].into();
}

async fn app(backend: Backend) -> Option<TestApp> {
    let options = Options {
        tune: Some(riverton),
        ..Options::default()
    };
    spawn_app_with(backend, options).await
}

/// A text and where it lands.
struct Case {
    from: &'static str,
    text: &'static str,
    area: Option<&'static str>,
    department: Option<&'static str>,
    /// (longitude, latitude)
    point: Option<(f64, f64)>,
    address: Option<&'static str>,
    /// Hours from filing to the due time.
    due_hours: Option<f64>,
}

async fn reports_in_three_languages_reach_the_department_of_their_place_with_a_promise(
    backend: Backend,
) {
    let Some(app) = app(backend).await else {
        return;
    };
    let cases = [
        Case {
            from: "+14155550201",
            text: "POTHOLE Main St & 5th",
            area: Some("Northside"),
            department: Some("Roads North"),
            point: Some((-69.99, 40.03)),
            address: Some("Main St & 5th Ave"),
            due_hours: Some(72.0),
        },
        Case {
            from: "+525512340202",
            text: "BACHE enorme en calle Mian y Elm",
            area: Some("Southside"),
            department: Some("Roads"),
            point: Some((-69.99, 40.01)),
            address: Some("Main St & Elm St"),
            due_hours: Some(72.0),
        },
        Case {
            from: "+33612340203",
            text: "ORDURES devant la Mairie",
            area: Some("Old Town"),
            department: Some("Old Town Office"),
            point: Some((-69.975, 40.015)),
            address: Some("City Hall"),
            due_hours: Some(0.5),
        },
        Case {
            from: "+525512340204",
            text: "LUZ apagada en el Casco Viejo",
            area: Some("Old Town"),
            department: Some("Roads"),
            point: None,
            address: None,
            due_hours: None,
        },
        Case {
            from: "+14155550205",
            text: "GRAFFITI all over the Fish Market",
            area: Some("Harbor"),
            department: None,
            point: Some((-69.98, 39.995)),
            address: Some("Fish Market"),
            due_hours: None,
        },
    ];
    for case in &cases {
        let reply = app.text(case.from, case.text).await.reply();
        assert!(!reply.contains("Where is it?"), "{}: {reply}", case.text);
        let id = app.scalar("select max(issue_id) from issue").await;
        let row = |column: &str| format!("select {column} from issue where issue_id = {id}");
        assert_eq!(
            app.text_value(&row("area")).await.as_deref(),
            case.area,
            "{}",
            case.text
        );
        let department = app.text_value(&row("department")).await;
        assert_eq!(department.as_deref(), case.department, "{}", case.text);
        let address = app.text_value(&row("address")).await;
        assert_eq!(address.as_deref(), case.address, "{}", case.text);
        let due = app
            .text_value(&row("cast(due_at - created_at as text)"))
            .await;
        let due = due.map(|ms| ms.parse::<f64>().unwrap() / 3_600_000.0);
        assert_eq!(due, case.due_hours, "{}", case.text);

        // Open311 says the same.
        let (status, body) = app.get(&format!("/open311/v2/requests/{id}.json")).await;
        assert_eq!(status, 200);
        let request: Value = serde_json::from_str::<Value>(&body).unwrap()[0].clone();
        assert_eq!(
            request["agency_responsible"].as_str(),
            case.department,
            "{}",
            case.text
        );
        let point = request["long"].as_f64().zip(request["lat"].as_f64());
        let rounded = point.map(|(x, y)| ((x * 1e6).round() / 1e6, (y * 1e6).round() / 1e6));
        assert_eq!(rounded, case.point, "{}", case.text);
        if let Some(address) = case.address {
            assert_eq!(request["address"].as_str(), Some(address), "{}", case.text);
        }
        let expected = request["expected_datetime"].as_str();
        assert_eq!(
            expected.is_some(),
            case.due_hours.is_some(),
            "{}: {request}",
            case.text
        );
    }
    // STATUS tells the promise.
    let status = app.text("+14155550201", "STATUS").await.reply();
    assert!(status.contains("The city aims to fix it by 20"), "{status}");
    // The CSV carries area, department and due time.
    let (_, csv) = app.get("/exports/issues.csv").await;
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with("area,agency_responsible,expected_datetime,report_url,supporters"),
        "{header}"
    );
    assert!(csv.contains("\"Roads North\""), "{csv}");
    // The dashboard: each department's record, and the map of open reports by area.
    let (_, dashboard) = app.get("/dashboard").await;
    assert!(
        dashboard.contains("Promises kept, by department"),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("<td>Roads North</td><td>no promise due yet</td>"),
        "{dashboard}"
    );
    assert!(dashboard.contains("Open reports by area"), "{dashboard}");
    for label in ["Northside: 1", "Southside: 1", "Old Town: 2", "Harbor: 1"] {
        assert!(dashboard.contains(label), "{label} on the map: {dashboard}");
    }
}

async fn the_answer_to_where_routes_a_report_that_did_not_say(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let asked = app.text("+14155550301", "POTHOLE").await.reply();
    assert!(asked.contains("Where is it?"), "{asked}");
    let department = "select department from issue where issue_id = 1";
    assert_eq!(
        app.text_value(department).await.as_deref(),
        Some("Roads"),
        "no place yet: the city-wide department"
    );
    app.text("+14155550301", "corner of main and 5th").await;
    assert_eq!(
        app.text_value(department).await.as_deref(),
        Some("Roads North")
    );
    let area = app
        .text_value("select area from issue where issue_id = 1")
        .await;
    assert_eq!(area.as_deref(), Some("Northside"));
    let location = app
        .text_value("select location from issue where issue_id = 1")
        .await;
    assert_eq!(
        location.as_deref(),
        Some("corner of main and 5th"),
        "the citizen's words kept"
    );
}

/// Many at once go through the writer's rounds (on Postgres, rows written together when a
/// round ends): each is routed as it would be alone.
async fn a_burst_of_reports_is_routed_as_each_alone(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let texts = [
        "POTHOLE Main St & 5th",
        "ORDURES devant la Mairie",
        "GRAFFITI on Elm",
    ];
    let sends = (0..30).map(|i| {
        let app = &app;
        async move {
            let from = format!("+1415555{:04}", 1000 + i);
            app.text(&from, texts[i % 3]).await.reply()
        }
    });
    futures_util::future::join_all(sends).await;
    let routed = "select count(*) from issue where \
         (description = 'Main St & 5th' and area = 'Northside' and department = 'Roads North' \
          and address = 'Main St & 5th Ave' and lat is not null and due_at - created_at = 259200000) \
      or (description = 'devant la Mairie' and area = 'Old Town' \
          and department = 'Old Town Office' and due_at - created_at = 1800000) \
      or (description = 'on Elm' and area is null and department is null and due_at is null \
          and address = 'Elm St')";
    assert_eq!(app.scalar("select count(*) from issue").await, 30);
    assert_eq!(app.scalar(routed).await, 30);
}

/// Uptown: one area and one street in it, far from Riverton.
const UPTOWN: &str = r#"{"type":"FeatureCollection","features":[
  {"type":"Feature","properties":{"name":"Uptown","kind":"area","aliases":{"es":["Barrio Alto"]}},
   "geometry":{"type":"Polygon","coordinates":[[[10,10],[11,10],[11,11],[10,11],[10,10]]]}},
  {"type":"Feature","properties":{"name":"Pine St","kind":"street"},
   "geometry":{"type":"LineString","coordinates":[[10.2,10.5],[10.8,10.5]]}}]}"#;

async fn a_refused_import_changes_nothing_and_a_newer_one_reaches_the_running_server(
    backend: Backend,
) {
    let Some(app) = app(backend).await else {
        return;
    };
    app.text("+14155550401", "POTHOLE Main St & 5th").await;
    let store = civicline::store::Store::connect(&app.settings.database.url, 1)
        .await
        .unwrap();
    let sets = "select count(*) from place_set";
    assert_eq!(
        app.scalar(sets).await,
        1,
        "the demo file, imported at start"
    );
    let bowtie = UPTOWN.replace("[10,10],[11,10],[11,11]", "[10,10],[11,11],[11,10]");
    let refused = civicline::city::import(&store, &bowtie).await.unwrap_err();
    assert!(format!("{refused:#}").contains("feature 0"), "{refused:#}");
    assert!(civicline::city::import(&store, "{\"type\":").await.is_err());
    assert_eq!(app.scalar(sets).await, 1, "a refused file stores nothing");

    civicline::city::import(&store, UPTOWN).await.unwrap();
    eventually("the running server routes by the new places", || async {
        app.text("+14155550402", "TRASH on Pine Street").await;
        let id = app.scalar("select max(issue_id) from issue").await;
        let area = format!("select area from issue where issue_id = {id}");
        app.text_value(&area).await.as_deref() == Some("Uptown")
    })
    .await;
    let first = app
        .text_value("select area from issue where issue_id = 1")
        .await;
    assert_eq!(
        first.as_deref(),
        Some("Northside"),
        "what was routed stays routed"
    );
}

async fn a_rule_naming_an_unknown_area_stops_the_server(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let mut settings = settings_for(&db, &Options::default());
    riverton(&mut settings);
    settings
        .department
        .push(department("Parks", &[], &["Uptown"]));
    let error = civicline::startup::Application::build(settings.clone())
        .await
        .err()
        .expect("refuses to start");
    assert!(format!("{error:#}").contains("\"Uptown\""), "{error:#}");
    riverton(&mut settings);
    settings
        .department
        .push(department("Trees", &["trees"], &[]));
    let error = civicline::startup::Application::build(settings.clone())
        .await
        .err()
        .expect("refuses to start");
    assert!(format!("{error:#}").contains("\"trees\""), "{error:#}");

    // From a config file, the refusal names the file and the line.
    let path =
        std::env::temp_dir().join(format!("civicline-city-{:08x}.toml", rand::random::<u32>()));
    std::fs::write(
        &path,
        "[sla]\npothole = 72\n\n[[department]]\nname = \"Parks\"\nareas = [\n  \"Old Town\",\n  \"Uptown\",\n]\n",
    )
    .unwrap();
    let from_file = Settings::load(Some(&path)).unwrap();
    riverton(&mut settings);
    settings.department = from_file.department;
    settings.file = from_file.file;
    let error = civicline::startup::Application::build(settings)
        .await
        .err()
        .expect("refuses to start");
    let _ = std::fs::remove_file(&path);
    let expected = format!("{}:8: [[department]] \"Parks\"", path.display());
    assert!(format!("{error:#}").contains(&expected), "{error:#}");
}

/// Roads North hands its new work to its dispatcher; other departments' work stays with nobody.
async fn a_department_s_default_assignee_takes_its_reports_when_they_are_filed_or_placed(
    backend: Backend,
) {
    let options = Options {
        tune: Some(|settings| {
            riverton(settings);
            settings.department[0].default_assignee = "Dispatch@Riverton.example".into();
        }),
        officials: vec![("dispatch@riverton.example", "agent")],
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let dispatcher = app
        .scalar("select official_id from official where email = 'dispatch@riverton.example'")
        .await;
    // A burst: on Postgres these are written together when the writer's round ends.
    let sends = (0..10).map(|i| {
        let app = &app;
        async move {
            let text = if i % 2 == 0 {
                "POTHOLE Main St & 5th"
            } else {
                "POTHOLE on Elm St"
            };
            app.text(&format!("+1415555{:04}", 2000 + i), text).await
        }
    });
    futures_util::future::join_all(sends).await;
    let assigned = format!(
        "select count(*) from issue i where department = 'Roads North' and assignee_id = {dispatcher} \
         and exists (select 1 from issue_event e where e.issue_id = i.issue_id \
             and e.kind = 'assigned' and e.actor = 'system' and e.body = 'official:{dispatcher}')"
    );
    assert_eq!(
        app.scalar(&assigned).await,
        5,
        "Main St & 5th is Northside's"
    );
    let nobody = "select count(*) from issue where department = 'Roads' and assignee_id is null \
         and not exists (select 1 from issue_event e where e.issue_id = issue.issue_id \
             and e.kind = 'assigned')";
    assert_eq!(
        app.scalar(nobody).await,
        5,
        "Elm St alone: the city-wide Roads"
    );

    // A report placed by its answer to "Where is it?" goes to the dispatcher then.
    let reply = app.text("+14155552100", "POTHOLE").await.reply();
    assert!(reply.contains("Where is it?"), "{reply}");
    let id = app.scalar("select max(issue_id) from issue").await;
    let assignee = format!("select coalesce(assignee_id, 0) from issue where issue_id = {id}");
    assert_eq!(
        app.scalar(&assignee).await,
        0,
        "no place yet: Roads, nobody"
    );
    app.text("+14155552100", "Main St and 5th Ave").await;
    assert_eq!(app.scalar(&assignee).await, dispatcher);
    let password = app.add_official("admin@riverton.example", "admin").await;
    let cookie = app.login("admin@riverton.example", &password).await;
    let page = app.get_page(&format!("/issues/{id}"), Some(&cookie)).await;
    assert!(
        page.body.contains("dispatch@riverton.example"),
        "the issue page names the assignee"
    );
}

each_backend!(
    an_overdue_report_escalates_once_by_email_to_its_department,
    an_email_the_mail_server_cannot_take_waits_and_goes_when_it_can,
);

/// Riverton with a pothole promise of about a second, checked every second, mail to `smtp`.
fn with_mail(backend: Backend, smtp: String) -> Options {
    let _ = backend;
    Options {
        tune: Some(|settings| {
            riverton(settings);
            settings
                .sla
                .hours
                .insert("pothole".to_owned(), 1.0 / 3600.0);
            settings.sla.check_interval_secs = 1;
            settings.smtp.retry_secs = 1;
            // "Roads" has no email: its overdue work is escalated, with nobody to write to.
            settings.department[1].email = String::new();
        }),
        ..Options::default()
    }
    .with("CIVICLINE_SMTP__URL", &smtp)
    .with(
        "CIVICLINE_SMTP__FROM",
        "civicline <civicline@riverton.example>",
    )
}

async fn an_overdue_report_escalates_once_by_email_to_its_department(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = spawn_app_with(backend, with_mail(backend, smtp.url())).await else {
        return;
    };
    app.text("+14155550501", "POTHOLE Main St & 5th").await;
    app.text("+14155550502", "ORDURES devant la Mairie").await; // due in 30 minutes
    app.text("+14155550503", "BACHE calle Main y Elm").await; // #3, Roads, due at once
    eventually("the escalation email arrives", || async {
        !smtp.messages().is_empty()
    })
    .await;
    let mail = smtp.messages().remove(0);
    assert!(mail.contains("To: roads-north@riverton.example"), "{mail}");
    assert!(
        mail.contains("From: civicline <civicline@riverton.example>"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: Overdue: report #1 (Pothole), Roads North"),
        "{mail}"
    );
    assert!(
        mail.contains("https://sms.civicline.test/reports/1"),
        "{mail}"
    );
    assert!(mail.contains("Main St & 5th Ave (Northside)"), "{mail}");
    eventually("both overdue reports are counted", || async {
        app.get("/metrics")
            .await
            .1
            .contains("civicline_overdue_issues 2")
    })
    .await;
    // Three more checks: still one email, one trail entry.
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    assert_eq!(smtp.messages().len(), 1, "escalated once");
    let trail = "select count(*) from issue_event where kind = 'escalated' and issue_id = 1";
    assert_eq!(app.scalar(trail).await, 1);
    let sent = "select count(*) from escalation where sent_at is not null and attempts = 1";
    assert_eq!(app.scalar(sent).await, 1);
    let unsendable = "select count(*) from escalation where issue_id = 3 and recipient = '' \
         and sent_at is not null and attempts = 0 and last_error = 'the department has no email'";
    assert_eq!(
        app.scalar(unsendable).await,
        1,
        "recorded, nothing to send, not retried"
    );
    let note = app
        .text_value("select body from issue_event where issue_id = 3 and kind = 'escalated'")
        .await;
    assert_eq!(note.as_deref(), Some("overdue; Roads has no email"));
    // The dashboard counts the promise as not kept.
    let (_, dashboard) = app.get("/dashboard").await;
    assert!(
        dashboard.contains("<td>Roads North</td><td>0 % (0 of 1)</td>"),
        "{dashboard}"
    );
}

async fn an_email_the_mail_server_cannot_take_waits_and_goes_when_it_can(backend: Backend) {
    // Nothing listens on this port yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("smtp://127.0.0.1:{port}");
    let Some(app) = spawn_app_with(backend, with_mail(backend, url)).await else {
        return;
    };
    app.text("+14155550601", "POTHOLE Main St & 5th").await;
    eventually("a failed attempt is recorded", || async {
        let failed = "select count(*) from escalation where sent_at is null \
             and attempts >= 1 and last_error is not null";
        app.scalar(failed).await == 1
    })
    .await;
    let smtp = SmtpServer::start_on(port).await;
    eventually("the email goes once the server is up", || async {
        smtp.messages().len() == 1
    })
    .await;
    let mail = smtp.messages().remove(0);
    assert!(mail.contains("report #1"), "{mail}");
    let sent = "select count(*) from escalation where sent_at is not null";
    eventually("it is recorded as sent", || async {
        app.scalar(sent).await == 1
    })
    .await;
}

each_backend!(an_official_s_queue_opens_on_their_department_overdue_work_first);

async fn an_official_s_queue_opens_on_their_department_overdue_work_first(backend: Backend) {
    let options = Options {
        tune: Some(|settings| {
            riverton(settings);
            // Potholes are due at once, trash in half an hour.
            settings
                .sla
                .hours
                .insert("pothole".to_owned(), 1.0 / 3_600_000.0);
        }),
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    app.text("+14155550901", "ORDURES devant la Mairie").await; // #1 Old Town Office
    app.text("+14155550902", "LUZ apagada en el Casco Viejo")
        .await; // #2 Roads, no promise
    app.text("+14155550903", "POTHOLE Oak St and Elm St").await; // #3 Roads, overdue
    app.text("+14155550904", "GRAFFITI at the Fish Market")
        .await; // #4 Unrouted
    let password = app
        .add_official_in("roads@riverton.example", "agent", "Roads")
        .await;
    let agent = app.login("roads@riverton.example", &password).await;
    let rows = |body: &str| -> Vec<String> {
        body.split("<tr class=")
            .skip(1)
            .filter_map(|row| row.split("href=\"/issues/").nth(1))
            .filter_map(|rest| rest.split('"').next().map(str::to_owned))
            .collect()
    };
    let own = app.get_page("/queue", Some(&agent)).await.body;
    assert_eq!(
        rows(&own),
        ["3", "2"],
        "their department's, the overdue one first: {own}"
    );
    assert!(own.contains("badge overdue"), "{own}");
    assert!(own.contains("Unrouted: <b>1</b>"), "{own}");
    let all = app
        .get_page("/queue?department=all", Some(&agent))
        .await
        .body;
    assert_eq!(
        rows(&all),
        ["3", "1", "2", "4"],
        "every department's: {all}"
    );
    let unrouted = app
        .get_page("/queue?department=_unrouted", Some(&agent))
        .await
        .body;
    assert_eq!(rows(&unrouted), ["4"]);
    let other = app
        .get_page("/queue?department=Old+Town+Office", Some(&agent))
        .await
        .body;
    assert_eq!(rows(&other), ["1"]);
    // The issue page says where it is, who has it and the promise.
    let page = app.get_page("/issues/3", Some(&agent)).await.body;
    assert!(page.contains("Oak St &#38; Elm St (Old Town)"), "{page}");
    assert!(
        page.contains("late") && page.contains("badge overdue"),
        "{page}"
    );
}

async fn the_dashboard_tells_the_middle_wait_of_a_category_and_of_a_department(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    // Potholes of Roads North reported a day ago: first answers after 10, 40, 20 and 30
    // minutes; closed after 3, 2 and 5 hours (one still open). One from 100 days ago, answered
    // and closed only after 30 days, is outside the dashboard's 90 days.
    let now = civicline::store::now_ms();
    let (minute, hour, day) = (60_000, 3_600_000, 86_400_000);
    let created = now - day;
    let mut rows = Vec::new();
    for (reply, closed) in [(10, Some(3)), (40, Some(2)), (20, None), (30, Some(5))] {
        let closed = closed.map_or("null".to_owned(), |h: i64| (created + h * hour).to_string());
        rows.push(format!(
            "('pothole', 'Roads North', '', 'open', {created}, {}, {closed}, {created})",
            created + reply * minute
        ));
    }
    let old = now - 100 * day;
    rows.push(format!(
        "('pothole', 'Roads North', '', 'resolved', {old}, {}, {}, {old})",
        old + 30 * day,
        old + 30 * day
    ));
    app.execute(&format!(
        "insert into issue (service_code, department, description, status, created_at, \
         first_response_at, closed_at, updated_at) values {}",
        rows.join(", ")
    ))
    .await;

    let (status, page) = app.get("/dashboard").await;
    assert_eq!(status, 200);
    // Category: first answer (median of 10, 20, 30, 40: the lower middle), answered, resolved.
    assert!(
        page.contains("<td>Pothole</td><td>20 min</td><td>4</td><td>3.0 h</td>"),
        "{page}"
    );
    assert!(
        page.contains(
            "<td>Roads North</td><td>no promise due yet</td><td>20 min</td><td>3.0 h</td>"
        ),
        "{page}"
    );
    assert!(
        page.contains("<td>Roads</td><td>no promise due yet</td><td>no data</td><td>no data</td>"),
        "{page}"
    );
}
