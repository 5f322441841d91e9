//! Spikes (issue 18): many reports of one category in one area at once, well above its usual
//! rate, raise one alert: an email to the department through a real SMTP server, a banner on
//! the queue, the dashboard's "what is happening"; not repeated inside the window.

use crate::each_backend;
use crate::helpers::{Backend, Options, SmtpServer, eventually, spawn_app_with};
use civicline::config::{DepartmentSettings, Settings};

each_backend!(
    a_burst_in_one_area_raises_one_spike_and_a_busy_area_as_busy_as_usual_none,
    spikes_switched_off_raise_nothing,
);

fn water(name: &str, areas: &[&str]) -> DepartmentSettings {
    DepartmentSettings {
        name: name.to_owned(),
        email: format!("{}@riverton.example", name.to_lowercase().replace(' ', "-")),
        categories: vec!["water".to_owned()],
        areas: areas.iter().map(|a| a.to_string()).collect(),
        default_assignee: String::new(),
    }
}

/// The demo city; Water North takes Northside's water, Water the rest; a spike is 6 reports in
/// an hour and three times the usual, checked every second.
fn riverton(settings: &mut Settings) {
    settings.places.file =
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/places/demo.geojson").into();
    settings.department = vec![water("Water North", &["Northside"]), water("Water", &[])];
    settings.spikes.reports = 6;
    settings.spikes.window_minutes = 60;
    settings.spikes.factor = 3.0;
    settings.spikes.baseline_days = 28;
    settings.spikes.check_interval_secs = 1;
    settings.smtp.retry_secs = 1;
}

fn options(smtp: &SmtpServer) -> Options {
    Options {
        tune: Some(riverton),
        ..Options::default()
    }
    .with("CIVICLINE_SMTP__URL", &smtp.url())
    .with(
        "CIVICLINE_SMTP__FROM",
        "civicline <civicline@riverton.example>",
    )
}

async fn a_burst_in_one_area_raises_one_spike_and_a_busy_area_as_busy_as_usual_none(
    backend: Backend,
) {
    let smtp = SmtpServer::start().await;
    let Some(app) = spawn_app_with(backend, options(&smtp)).await else {
        return;
    };
    // Southside always has water trouble: 2016 reports over the 28 days before the last hour,
    // three an hour, so its usual hour is 3 and a spike there would take 9.
    let now = civicline::store::now_ms();
    app.execute(&format!(
        "with recursive n(k) as (select cast(1 as bigint) union all select k + 1 from n where k < 2016) \
         insert into issue (service_code, description, area, created_at, updated_at) \
         select 'water', 'old leak', 'Southside', {now} - 3600000 - k * 1200000, \
         {now} - 3600000 - k * 1200000 from n"
    ))
    .await;
    // Six in an hour there is a normal hour; six in Northside, where nothing usually happens,
    // is news (one burst main: one issue, five "me too"s, six reports).
    for i in 0..6 {
        let from = format!("+1415555{:04}", 100 + i);
        app.text(&from, "WATER leak at Main St & Elm St").await;
    }
    for i in 0..6 {
        let from = format!("+1415555{:04}", 200 + i);
        app.text(&from, "WATER burst main at Main St & 5th Ave")
            .await;
    }
    eventually("the department's email", || async {
        !smtp.messages().is_empty()
    })
    .await;
    let mail = smtp.messages().remove(0);
    assert!(mail.contains("To: water-north@riverton.example"), "{mail}");
    assert!(
        mail.contains("Subject: Spike: 6 Water reports in Northside in 60 min"),
        "{mail}"
    );
    assert!(mail.contains("Usually about 0.0 in that time."), "{mail}");
    assert!(
        mail.contains("https://sms.civicline.test/queue?category=water&department=all"),
        "{mail}"
    );
    // More of the same within the window: still one alert, one email.
    for i in 6..9 {
        let from = format!("+1415555{:04}", 200 + i);
        app.text(&from, "WATER burst main at Main St & 5th Ave")
            .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(app.scalar("select count(*) from spike").await, 1);
    assert_eq!(smtp.messages().len(), 1, "not repeated inside the window");
    let spike = "select count(*) from spike where area = 'Northside' and reports = 6 \
         and department = 'Water North' and sent_at is not null and attempts = 1";
    assert_eq!(app.scalar(spike).await, 1);
    // Another replica checking now raises nothing either.
    let replica = app.gateway().await;
    let raised = replica
        .check_spikes("https://sms.civicline.test", civicline::store::now_ms())
        .await
        .unwrap();
    assert_eq!(raised, 0);

    // Officials see the banner; the public sees it on the dashboard.
    let password = app.add_official("agent@city.example", "agent").await;
    let agent = app.login("agent@city.example", &password).await;
    let queue = app.get_page("/queue", Some(&agent)).await.body;
    assert!(
        queue.contains(
            "<b>Spike:</b> 6 Water reports in Northside within 60 min (usually 0.0), Water North."
        ),
        "{queue}"
    );
    let (_, dashboard) = app.get("/dashboard").await;
    assert!(
        dashboard.contains("<b>6 Water reports</b> in Northside within 60 min (usually 0.0)"),
        "{dashboard}"
    );
    assert!(!dashboard.contains("in Southside within"), "{dashboard}");
}

async fn spikes_switched_off_raise_nothing(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let options = options(&smtp);
    let options = Options {
        tune: Some(|settings: &mut Settings| {
            riverton(settings);
            settings.spikes.reports = 0;
        }),
        ..options
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    for i in 0..12 {
        let from = format!("+1415555{:04}", 300 + i);
        app.text(&from, "WATER burst main at Main St & 5th Ave")
            .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(app.scalar("select count(*) from spike").await, 0);
    assert!(smtp.messages().is_empty());
    let (_, dashboard) = app.get("/dashboard").await;
    assert!(
        dashboard.contains("None: no category has jumped"),
        "{dashboard}"
    );
}
