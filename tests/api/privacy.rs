//! A citizen's rights and retention (issue 21): `civicline citizen export` prints everything
//! held about a number, `civicline citizen forget` erases it and keeps an opt-out honoured,
//! `civicline retention` (and the housekeeping, with `privacy.anonymize_after_days`)
//! anonymizes citizens whose reports were all closed long ago; every act is audited.

use crate::each_backend;
use crate::helpers::{
    Backend, Options, Running, TestDb, civicline_cli, eventually, new_seal_key, serve, settings_for,
};

each_backend!(
    a_citizen_s_export_holds_everything_and_forget_erases_it_but_keeps_their_stop,
    retention_anonymizes_citizens_whose_reports_closed_long_ago_and_a_dry_run_changes_nothing,
);

const ANA: &str = "+14155550123";
const BEN: &str = "+14155550177";
const CARA: &str = "+14155550188";

/// A fresh database and a server on it sealing numbers under a new key.
async fn start_sealed(backend: Backend) -> Option<(TestDb, String, Running)> {
    let db = TestDb::create(backend).await?;
    let key = new_seal_key();
    let app = serve(&settings_for(&db, &sealed(&key, &[]))).await.unwrap();
    Some((db, key, app))
}

fn sealed(key: &str, more: &[(&'static str, &str)]) -> Options {
    let mut options = Options::default().with("CIVICLINE_PRIVACY__SEAL_KEY", key);
    for (k, v) in more {
        options = options.with(k, v);
    }
    options
}

async fn a_citizen_s_export_holds_everything_and_forget_erases_it_but_keeps_their_stop(
    backend: Backend,
) {
    let Some((db, key, app)) = start_sealed(backend).await else {
        return;
    };
    let env = [("CIVICLINE_PRIVACY__SEAL_KEY", key.as_str())];
    app.text(ANA, "POTHOLE outside 12 Elm St, write to ana@example.com")
        .await
        .reply();
    app.text(ANA, "STATUS").await.reply();
    app.text(BEN, "STREETLIGHT out on Oak Ave").await.reply();
    app.text(BEN, "STOP").await;

    // Export: everything about Ana, her number opened.
    let out = civicline_cli(&db, &env, &["citizen", "export", ANA]).await;
    assert!(out.ok, "{}", out.stderr);
    let export: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(export["number"], ANA);
    assert_eq!(export["issues"][0]["id"], 1);
    assert!(
        export["issues"][0]["description"]
            .as_str()
            .unwrap()
            .contains("12 Elm St")
    );
    let messages = export["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4, "two texts and two replies: {messages:?}");
    assert!(messages.iter().any(|m| m["direction"] == "out"));
    assert_eq!(export["consent"].as_array().unwrap().len(), 0);
    let ben = civicline_cli(&db, &env, &["citizen", "export", "(415) 555-0177"]).await;
    let ben: serde_json::Value = serde_json::from_str(&ben.stdout).unwrap();
    assert_eq!(ben["consent"][0]["kind"], "opt_out");
    // A number nobody texted from, and without the key.
    let nobody = civicline_cli(&db, &env, &["citizen", "export", "+14155550999"]).await;
    assert!(!nobody.ok && nobody.stderr.contains("no citizen has texted from"));
    let keyless = civicline_cli(&db, &[], &["citizen", "export", ANA]).await;
    assert!(!keyless.ok && keyless.stderr.contains("CIVICLINE_PRIVACY__SEAL_KEY"));

    // Forget Ana: her words erased everywhere, her number gone, the report kept as a report.
    let out = civicline_cli(&db, &env, &["citizen", "forget", ANA]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("the number removed"), "{}", out.stdout);
    assert_eq!(
        db.scalar("select count(*) from message m join citizen c using (citizen_id) where c.citizen_id = 1 and m.body <> '[erased]'")
            .await,
        0
    );
    assert_eq!(
        db.scalar("select count(*) from issue_event where kind = 'message' and body like '%Elm%'")
            .await,
        0
    );
    let (status, open311) = get(&app.address, "/open311/v2/requests/1.json").await;
    assert_eq!(status, 200);
    assert!(
        open311.contains("[erased]") && !open311.contains("Elm"),
        "{open311}"
    );
    assert_eq!(
        db.text_value("select number_key from citizen where citizen_id = 1")
            .await
            .as_deref(),
        Some("anon:1")
    );
    assert_eq!(
        db.scalar("select count(*) from citizen where citizen_id = 1 and number_sealed is null")
            .await,
        1
    );
    let again = civicline_cli(&db, &env, &["citizen", "export", ANA]).await;
    assert!(
        !again.ok,
        "a forgotten number is not found: {}",
        again.stdout
    );

    // Forget Ben, who texted STOP: his words go, his STOP stays.
    let out = civicline_cli(&db, &env, &["citizen", "forget", BEN]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("opted out"), "{}", out.stdout);
    let citizens = db.scalar("select count(*) from citizen").await;
    let answer = app.text(BEN, "POTHOLE on Oak Ave again").await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.replies().is_empty(),
        "texted after STOP: {:?}",
        answer.replies()
    );
    assert_eq!(db.scalar("select count(*) from citizen").await, citizens);

    // Ana texting again is someone new to us.
    app.text(ANA, "HELP").await.reply();
    assert_eq!(
        db.scalar("select count(*) from citizen").await,
        citizens + 1
    );
    assert_eq!(
        db.scalar("select count(*) from audit_event where action in ('citizen.exported', 'citizen.forgotten') and official_id is null")
            .await,
        4,
        "two exports and two erasures"
    );
    app.stop().await;
}

async fn get(address: &str, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{address}{path}")).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Closes report `id` and moves it, and its citizen's messages, `days` into the past.
async fn age(db: &TestDb, id: i64, days: i64) {
    let ago = civicline::store::now_ms() - days * 86_400_000;
    db.execute(&format!(
        "update issue set status = 'resolved', closed_at = {ago}, created_at = {ago} where issue_id = {id}"
    ))
    .await;
    db.execute(&format!(
        "update message set created_at = {ago} where citizen_id = (select citizen_id from issue where issue_id = {id})"
    ))
    .await;
}

async fn retention_anonymizes_citizens_whose_reports_closed_long_ago_and_a_dry_run_changes_nothing(
    backend: Backend,
) {
    let Some((db, key, app)) = start_sealed(backend).await else {
        return;
    };
    let env = [("CIVICLINE_PRIVACY__SEAL_KEY", key.as_str())];
    app.text(ANA, "POTHOLE on Elm St, call me on 415-555-0199")
        .await
        .reply();
    app.text(BEN, "STREETLIGHT out on Oak Ave").await.reply();
    app.text(CARA, "GRAFFITI on the library wall, mail cara@example.com")
        .await
        .reply();
    app.stop().await;
    // Ana's report closed 40 days ago; Ben's is still open; Cara's closed 40 days ago too.
    age(&db, 1, 40).await;
    age(&db, 3, 40).await;
    let pseudonym = db
        .text_value("select pseudonym from citizen where citizen_id = 1")
        .await;

    let off = civicline_cli(&db, &env, &["retention"]).await;
    assert!(
        !off.ok && off.stderr.contains("retention is off"),
        "{off:?}"
    );
    let dry = civicline_cli(&db, &env, &["retention", "--dry-run", "--days", "30"]).await;
    assert!(dry.ok, "{}", dry.stderr);
    assert!(
        dry.stdout.starts_with("would anonymize 2 citizens"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        db.scalar("select count(*) from citizen where anonymized_at is not null")
            .await,
        0,
        "a dry run changes nothing"
    );

    let out = civicline_cli(&db, &env, &["retention", "--days", "30"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("anonymized 2 citizens"),
        "{}",
        out.stdout
    );
    let description = db
        .text_value("select description from issue where issue_id = 1")
        .await
        .unwrap();
    assert!(
        description.contains("[phone]") && !description.contains("555-0199"),
        "{description}"
    );
    assert!(
        description.contains("Elm St"),
        "the report itself stays: {description}"
    );
    assert_eq!(
        db.scalar("select count(*) from message where body like '%cara@example.com%'")
            .await,
        0
    );
    assert_eq!(
        db.text_value("select number_key from citizen where citizen_id = 1")
            .await
            .as_deref(),
        Some("anon:1")
    );
    assert_eq!(
        db.text_value("select pseudonym from citizen where citizen_id = 1")
            .await,
        pseudonym,
        "the pseudonym is kept"
    );
    // Ben's open report keeps him as he is.
    assert_eq!(
        db.scalar("select count(*) from citizen where citizen_id = 2 and anonymized_at is null and number_sealed is not null")
            .await,
        1
    );
    let again = civicline_cli(&db, &env, &["retention", "--days", "30"]).await;
    assert!(
        again.stdout.starts_with("anonymized 0 citizens"),
        "{}",
        again.stdout
    );

    // The housekeeping does the same with privacy.anonymize_after_days: Ben's report closes.
    age(&db, 2, 40).await;
    let app = serve(&settings_for(
        &db,
        &sealed(&key, &[("CIVICLINE_PRIVACY__ANONYMIZE_AFTER_DAYS", "30")]),
    ))
    .await
    .unwrap();
    eventually("Ben anonymized by the housekeeping", || async {
        db.scalar("select count(*) from citizen where citizen_id = 2 and anonymized_at is not null")
            .await
            == 1
    })
    .await;
    assert_eq!(
        db.scalar("select count(*) from audit_event where action = 'citizen.retained'")
            .await,
        3
    );
    app.stop().await;
}
