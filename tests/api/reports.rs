//! `/reports/{id}`: a report's public page, in the citizen-facing languages, with no phone
//! number, no hidden description and no internal note.

use crate::each_backend;
use crate::helpers::{Backend, Options, spawn_app_with};

each_backend!(
    a_report_s_public_page_in_three_languages_shows_what_the_public_may_see,
    a_hidden_description_and_a_missing_report_show_nothing_more,
);

fn riverton(settings: &mut civicline::config::Settings) {
    settings.places.file =
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/places/demo.geojson").into();
    settings.department = vec![civicline::config::DepartmentSettings {
        name: "Roads".to_owned(),
        email: "roads@riverton.example".to_owned(),
        categories: vec!["pothole".to_owned()],
        areas: Vec::new(),
        default_assignee: String::new(),
    }];
    settings.sla.hours = [("pothole".to_owned(), 72.0)].into();
}

async fn get_in(app: &crate::helpers::TestApp, path: &str, accept: &str) -> (u16, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .header("accept-language", accept)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn a_report_s_public_page_in_three_languages_shows_what_the_public_may_see(backend: Backend) {
    let options = Options {
        tune: Some(riverton),
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    app.text("+14155550701", "POTHOLE Main St & 5th <b>deep</b>")
        .await;
    let gateway = app.gateway().await;
    gateway
        .note(1, "official:1", "the caller is my neighbour Ana")
        .await
        .unwrap();
    gateway
        .change_status(1, "in_progress", "official:1", "crew sent Tuesday")
        .await
        .unwrap();
    app.wait_outbox_empty().await;

    let (status, en) = get_in(&app, "/reports/1", "de-DE,en;q=0.5").await;
    assert_eq!(status, 200);
    assert!(en.contains(r#"<html lang="en">"#), "{en}");
    assert!(en.contains("Report #1: Pothole"), "{en}");
    assert!(en.contains("work in progress"), "{en}");
    assert!(
        en.contains("work in progress: crew sent Tuesday"),
        "the public note is history"
    );
    assert!(en.contains("Roads"), "the department");
    assert!(en.contains("Main St &#38; 5th Ave (Northside)"), "{en}");
    assert!(en.contains("Reported by SMS"));
    assert!(
        en.contains("&#60;b&#62;deep&#60;/b&#62;"),
        "the citizen's words are escaped"
    );
    assert!(!en.contains("<b>deep</b>"));
    assert!(
        !en.contains("neighbour Ana"),
        "an internal note is not public"
    );
    assert!(!en.contains("4155550701"), "no phone number");

    let (_, es) = get_in(&app, "/reports/1", "es-MX,es;q=0.9").await;
    assert!(
        es.contains(r#"<html lang="es">"#) && es.contains("Reporte #1: Bache"),
        "{es}"
    );
    assert!(es.contains("en proceso: crew sent Tuesday"), "{es}");
    assert!(es.contains("Departamento") && es.contains("Plazo"), "{es}");
    let (_, fr) = get_in(&app, "/reports/1?lang=fr", "es").await;
    assert!(
        fr.contains(r#"<html lang="fr">"#) && fr.contains("Signalement #1"),
        "{fr}"
    );
    assert!(
        fr.contains("travaux en cours"),
        "?lang= wins over the browser's"
    );

    // Open311 and the CSV link to it.
    let (_, json) = app.get("/open311/v2/requests/1.json").await;
    assert!(
        json.contains(r#""report_url":"https://sms.civicline.test/reports/1""#),
        "{json}"
    );
    let (_, csv) = app.get("/exports/issues.csv").await;
    assert!(
        csv.contains(",https://sms.civicline.test/reports/1,1\r\n"),
        "{csv}"
    );
}

async fn a_hidden_description_and_a_missing_report_show_nothing_more(backend: Backend) {
    let Some(app) = spawn_app_with(backend, Options::default()).await else {
        return;
    };
    app.text("+14155550801", "TRASH my landlord John Smith dumps it here")
        .await;
    let gateway = app.gateway().await;
    gateway.set_hidden(1, true, "official:1").await.unwrap();
    let (status, page) = app.get("/reports/1").await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("John Smith"),
        "a hidden description stays hidden: {page}"
    );
    assert!(page.contains("Not assigned to a department yet"), "{page}");
    assert!(page.contains("No promised date"), "{page}");
    for path in ["/reports/2", "/reports/abc", "/reports/-1", "/reports/1%00"] {
        let (status, page) = app.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            page.contains("There is no report with this number"),
            "{path}: {page}"
        );
    }
}
