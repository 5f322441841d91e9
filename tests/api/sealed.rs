//! Numbers sealed at rest (issue 21): a database kept in clear is sealed in place when a key is
//! set, after which neither its files (with the WAL) nor a `pg_dump` hold a citizen's number
//! in any form; the number still reaches the citizen and the admin; a missing or wrong key
//! stops the server; `civicline keys rotate` moves every number to a new key while a server
//! runs with both.

use crate::each_backend;
use crate::fake_provider::FakeProvider;
use crate::helpers::{
    Backend, Options, TestDb, civicline_cli, eventually, new_seal_key, serve, settings_for,
};

each_backend!(
    a_database_kept_in_clear_is_sealed_in_place_and_no_copy_of_it_holds_a_number,
    a_key_rotation_while_the_server_runs_moves_every_number_and_loses_no_citizen,
);

const ANA: &str = "+14155550123";
/// Ana's number as a person would write or a file might hold it.
const ANA_FORMS: [&str; 4] = [
    "4155550123",
    "415-555-0123",
    "(415) 555-0123",
    "415 555 0123",
];
const BEN: &str = "+14155550177";

fn with_keys(base: &Options, seal: Option<&str>, new: Option<&str>) -> Options {
    let mut env = base.env.clone();
    env.extend(seal.map(|k| ("CIVICLINE_PRIVACY__SEAL_KEY", k.to_owned())));
    env.extend(new.map(|k| ("CIVICLINE_PRIVACY__NEW_SEAL_KEY", k.to_owned())));
    Options {
        env,
        ..Options::default()
    }
}

/// Every byte the database keeps: the SQLite file with its WAL, or a `pg_dump` of the schema.
async fn every_copy(db: &TestDb) -> Vec<u8> {
    match db {
        TestDb::Sqlite { path } => {
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
            bytes
        }
        TestDb::Postgres { admin_url, schema } => {
            let out = std::process::Command::new("pg_dump")
                .args(["--dbname", admin_url, "--schema", schema])
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.stdout.len() > 1000, "a dump with the rows in it");
            out.stdout
        }
    }
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

async fn a_database_kept_in_clear_is_sealed_in_place_and_no_copy_of_it_holds_a_number(
    backend: Backend,
) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let api = Options::twilio_api(&fake);

    // Days in clear: Ana and Ben report, Ana's reply is delivered and Twilio says so (its
    // callback names her in `To`).
    let clear = settings_for(&db, &with_keys(&api, None, None));
    let app = serve(&clear).await.unwrap();
    assert_eq!(app.text(ANA, "POTHOLE Main St & 5th").await.status, 200);
    assert_eq!(app.text(BEN, "STREETLIGHT out on Elm").await.status, 200);
    eventually("both replies delivered", || async {
        fake.delivered().len() == 2
    })
    .await;
    let reply = fake.delivered().into_iter().find(|r| r.to == ANA).unwrap();
    assert_eq!(
        app.status_callback(reply.message_id().unwrap(), ANA).await,
        204
    );
    app.stop().await;
    assert!(
        holds(&every_copy(&db).await, ANA),
        "in clear, the number is there"
    );

    // A key: the next start seals every number in place.
    let key = new_seal_key();
    let sealed = settings_for(&db, &with_keys(&api, Some(&key), None));
    let app = serve(&sealed).await.unwrap();
    let copy = every_copy(&db).await;
    for number in [ANA, BEN].into_iter().chain(ANA_FORMS) {
        assert!(
            !holds(&copy, number),
            "{number} is in a copy of the database"
        );
    }
    assert_eq!(
        db.scalar("select count(*) from citizen where number_sealed is not null")
            .await,
        2
    );

    // Ana texts again: the same citizen, and her reply reaches her number.
    assert_eq!(app.text(ANA, "STATUS 1").await.status, 200);
    eventually("the third reply delivered", || async {
        fake.delivered().len() == 3
    })
    .await;
    let third = &fake.delivered()[2];
    assert_eq!(third.to, ANA);
    assert!(third.body.starts_with("Report #1 ("), "{}", third.body);
    assert_eq!(db.scalar("select count(*) from citizen").await, 2);
    // A callback now keeps its payload without the number.
    assert_eq!(
        app.status_callback(third.message_id().unwrap(), ANA).await,
        204
    );
    app.stop().await;
    let copy = every_copy(&db).await;
    for number in [ANA, BEN].into_iter().chain(ANA_FORMS) {
        assert!(
            !holds(&copy, number),
            "{number} is in a copy after more traffic"
        );
    }

    // No key, or another key: the server refuses to start, naming the problem.
    let error = serve(&settings_for(&db, &with_keys(&api, None, None)))
        .await
        .err()
        .expect("no key: refused");
    let error = format!("{error:#}");
    assert!(
        error.contains("sealed under key") && error.contains("CIVICLINE_PRIVACY__SEAL_KEY"),
        "{error}"
    );
    let other = new_seal_key();
    let error = serve(&settings_for(&db, &with_keys(&api, Some(&other), None)))
        .await
        .err()
        .expect("a wrong key: refused");
    let error = format!("{error:#}");
    assert!(error.contains("is not this database's key"), "{error}");
    let error = serve(&settings_for(&db, &with_keys(&api, Some("c2hvcnQ="), None)))
        .await
        .err()
        .expect("a malformed key: refused");
    assert!(format!("{error:#}").contains("32 bytes"), "{error:#}");
    assert_eq!(db.scalar("select count(*) from citizen").await, 2);
}

async fn a_key_rotation_while_the_server_runs_moves_every_number_and_loses_no_citizen(
    backend: Backend,
) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let api = Options::twilio_api(&fake);
    let (old, new) = (new_seal_key(), new_seal_key());
    let app = serve(&settings_for(&db, &with_keys(&api, Some(&old), None)))
        .await
        .unwrap();
    for i in 0..30 {
        let from = format!("+1415555{:04}", 2000 + i);
        assert_eq!(app.text(&from, "POTHOLE on Main St").await.status, 200);
    }
    app.stop().await;

    // Both keys on the server; the rotation runs beside it while citizens keep texting.
    let both = settings_for(&db, &with_keys(&api, Some(&old), Some(&new)));
    let app = serve(&both).await.unwrap();
    let keys = [
        ("CIVICLINE_PRIVACY__SEAL_KEY", old.as_str()),
        ("CIVICLINE_PRIVACY__NEW_SEAL_KEY", new.as_str()),
    ];
    let rotate = civicline_cli(&db, &keys, &["keys", "rotate"]);
    // Numbers known under the old key and new ones (sealed under the new key at once).
    let during: std::collections::BTreeSet<u32> = (0..30).map(|i| (i * 7) % 45).collect();
    let texts = async {
        for n in &during {
            let from = format!("+1415555{:04}", 2000 + n);
            assert_eq!(app.text(&from, "STATUS").await.status, 200);
        }
    };
    let (out, ()) = tokio::join!(rotate, texts);
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("numbers moved"), "{}", out.stdout);
    app.stop().await;
    // The first 30 citizens and the new numbers among the texts, none twice.
    let citizens = 30 + during.iter().filter(|n| **n >= 30).count() as i64;
    assert!(citizens > 30);
    assert_eq!(db.scalar("select count(*) from citizen").await, citizens);
    let (low, high) =
        civicline::seal::key_range(civicline::seal::SealKey::from_base64(&new).unwrap().id());
    assert_eq!(
        db.scalar(&format!(
            "select count(*) from citizen where number_key >= '{low}' and number_key < '{high}'"
        ))
        .await,
        citizens,
        "every number under the new key"
    );

    // The new key alone opens everything; the old one alone no longer starts.
    let error = serve(&settings_for(&db, &with_keys(&api, Some(&old), None)))
        .await
        .err()
        .expect("the old key after a rotation: refused");
    assert!(
        format!("{error:#}").contains("is not this database's key"),
        "{error:#}"
    );
    let app = serve(&settings_for(&db, &with_keys(&api, Some(&new), None)))
        .await
        .unwrap();
    // Replies still on the outbox from before go out first.
    eventually("the outbox drained", || async {
        db.scalar("select count(*) from outbox").await == 0
    })
    .await;
    let to_her = || {
        fake.delivered()
            .iter()
            .filter(|r| r.to == "+14155552003")
            .count()
    };
    let before = to_her();
    assert_eq!(app.text("+14155552003", "HELP").await.status, 200);
    eventually("HELP answered, to her number", || async {
        to_her() > before
    })
    .await;
    assert_eq!(db.scalar("select count(*) from citizen").await, citizens);
    app.stop().await;
}
