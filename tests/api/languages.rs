//! Conversations in the citizen's language, as tables: each row the messages a citizen sends,
//! what they must hear back, and the state after. English, Spanish, French; typos in case and
//! accents; a pending question interrupted; stale answers; the flood guard.

use crate::both_backends;
use crate::fake_provider::FakeProvider;
use crate::helpers::{Options, TestApp, eventually, spawn_app_with};

/// What a reply must be.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Starts(&'static str),
    Contains(&'static str),
    Silence,
}
use Expect::{Contains, Silence, Starts};

/// The citizen's state after the conversation.
struct After {
    language: &'static str,
    opted_out: bool,
    /// The question still waiting for an answer.
    pending: Option<&'static str>,
    /// Reports filed by this citizen.
    reports: i64,
    /// Where the latest report is, as the citizen said.
    location: Option<&'static str>,
    topics: &'static [&'static str],
}

const FRESH: After = After {
    language: "en",
    opted_out: false,
    pending: None,
    reports: 0,
    location: None,
    topics: &[],
};

struct Conversation {
    label: &'static str,
    steps: &'static [(&'static str, Expect)],
    after: After,
}

fn conversations() -> Vec<Conversation> {
    vec![
        // English
        Conversation {
            label: "en: a report without a place gets one question, the answer is saved",
            steps: &[
                (
                    "POTHOLE very deep one",
                    Contains("Where is it? Reply with the street and cross street, or SKIP."),
                ),
                (
                    "Main St and 5th",
                    Starts("Thanks! We saved the place for report #"),
                ),
                ("STATUS", Starts("Report #")),
            ],
            after: After {
                reports: 1,
                location: Some("Main St and 5th"),
                ..FRESH
            },
        },
        Conversation {
            label: "en: SKIP leaves the report without a place",
            steps: &[
                ("light out again", Contains("Where is it?")),
                ("skip", Starts("OK. Report #")),
            ],
            after: After {
                reports: 1,
                ..FRESH
            },
        },
        Conversation {
            label: "en: HELP and STATUS still work while a question is pending",
            steps: &[
                ("NOISE all night", Contains("Where is it?")),
                (
                    "HELP",
                    Contains("Words: POTHOLE, LIGHT, TRASH, GRAFFITI, WATER, NOISE"),
                ),
                ("STATUS", Contains("received")),
                ("Elm St 4", Starts("Thanks! We saved the place")),
            ],
            after: After {
                reports: 1,
                location: Some("Elm St 4"),
                ..FRESH
            },
        },
        Conversation {
            label: "en: STOP interrupts a pending question and silences the rest",
            steps: &[
                ("TRASH bins overflowing", Contains("Where is it?")),
                ("STOP", Contains("unsubscribed")),
                ("Market Sq", Silence),
            ],
            after: After {
                opted_out: true,
                reports: 1,
                location: Some("Market Sq"),
                ..FRESH
            },
        },
        Conversation {
            label: "en: JOIN and LEAVE topics; UNSUBSCRIBE is the carrier opt-out, not LEAVE",
            steps: &[
                (
                    "JOIN ROADS",
                    Starts("You will get Roads alerts. Text LEAVE ROADS"),
                ),
                ("join alerts", Starts("You will get Alerts alerts")),
                ("LEAVE ROADS", Starts("You will get no more Roads alerts")),
                (
                    "JOIN PIZZA",
                    Starts("Topics you can join: ROADS, WATER, ALERTS"),
                ),
                ("UNSUBSCRIBE", Contains("unsubscribed")),
            ],
            after: After {
                opted_out: true,
                topics: &["alerts"],
                ..FRESH
            },
        },
        // Spanish
        Conversation {
            label: "es: Báche, bache and BACHE are the same keyword, and the language sticks",
            steps: &[
                ("Báche en la calle Colón 12", Starts("¡Gracias! Reporte #")),
                ("bache frente al mercado", Contains("(Bache) registrado")),
                ("BACHE Av 3", Contains("Envie ESTADO")),
                ("estado", Contains("recibido, en espera de revision")),
                (
                    "AYUDA",
                    Contains("Palabras: BACHE, LUZ, BASURA, GRAFITI, AGUA, RUIDO"),
                ),
            ],
            after: After {
                language: "es",
                reports: 3,
                location: None,
                ..FRESH
            },
        },
        Conversation {
            label: "es: the question in Spanish, OMITIR skips it",
            steps: &[
                ("BASURA", Contains("¿Donde esta?")),
                ("omitir", Starts("De acuerdo. Reporte #")),
            ],
            after: After {
                language: "es",
                reports: 1,
                ..FRESH
            },
        },
        Conversation {
            label: "es: PARAR and ALTA",
            steps: &[
                ("PARAR", Starts("Se dio de baja")),
                ("AYUDA", Silence),
                ("ALTA", Starts("Esta suscrito de nuevo")),
            ],
            after: After {
                language: "es",
                ..FRESH
            },
        },
        Conversation {
            label: "es: IDIOMA fr switches to French",
            steps: &[
                ("AGUA fuga en la calle 8", Starts("¡Gracias!")),
                ("IDIOMA fr", Starts("C'est noté")),
                ("SUIVI", Starts("Signalement #")),
            ],
            after: After {
                language: "fr",
                reports: 1,
                ..FRESH
            },
        },
        Conversation {
            label: "es: UNIRSE AGUA",
            steps: &[(
                "UNIRSE AGUA",
                Starts("Recibira alertas de Agua. Envie SALIR AGUA"),
            )],
            after: After {
                language: "es",
                topics: &["water"],
                ..FRESH
            },
        },
        // French
        Conversation {
            label: "fr: NID-DE-POULE with a place, then AIDE",
            steps: &[
                (
                    "nid-de-poule rue de la Paix",
                    Starts("Merci ! Signalement #"),
                ),
                ("AIDE", Contains("Mots : TROU, LAMPADAIRE, ORDURES")),
            ],
            after: After {
                language: "fr",
                reports: 1,
                ..FRESH
            },
        },
        Conversation {
            label: "fr: the question in French, answered",
            steps: &[
                ("ORDURES", Contains("Où est-ce ?")),
                (
                    "Coin de la rue Haute",
                    Starts("Merci ! Le lieu du signalement"),
                ),
            ],
            after: After {
                language: "fr",
                reports: 1,
                location: Some("Coin de la rue Haute"),
                ..FRESH
            },
        },
        Conversation {
            label: "fr: ARRÊT with its accent, COMMENCER, then LANGUE en switches to English",
            steps: &[
                ("ARRÊT", Starts("Désinscription faite")),
                ("COMMENCER", Starts("Inscription rétablie")),
                ("LANGUE en", Starts("OK, we will answer in English")),
            ],
            after: After {
                language: "en",
                ..FRESH
            },
        },
        // A language chosen with LANG is kept; a keyword's language only for who never chose.
        Conversation {
            label: "LANG FR, then an English keyword: still answered in French",
            steps: &[
                ("LANG FR", Starts("C'est noté : réponses en français.")),
                (
                    "TRASH bins overflowing on Oak St",
                    Starts("Merci ! Signalement #"),
                ),
                ("HELP", Contains("Mots : TROU, LAMPADAIRE, ORDURES")),
            ],
            after: After {
                language: "fr",
                reports: 1,
                ..FRESH
            },
        },
        Conversation {
            label: "IDIOMA es, a French keyword, then LANG en: the new choice holds",
            steps: &[
                (
                    "IDIOMA es",
                    Starts("De acuerdo, le responderemos en español."),
                ),
                ("nid-de-poule rue de la Paix", Starts("¡Gracias! Reporte #")),
                ("LANG en", Starts("OK, we will answer in English")),
                ("BACHE calle Mayor", Starts("Thanks! Report #")),
            ],
            after: After {
                language: "en",
                reports: 2,
                ..FRESH
            },
        },
    ]
}

/// Sends a conversation's messages from `phone`, one after the other, checking each reply and
/// the citizen's state after.
async fn converse(app: &TestApp, phone: &str, conversation: &Conversation) {
    let label = conversation.label;
    for (text, expect) in conversation.steps {
        let replies = app.text(phone, text).await.replies();
        match expect {
            Silence => assert!(replies.is_empty(), "{label}: {text:?} got {replies:?}"),
            Starts(prefix) => assert!(
                replies.len() == 1 && replies[0].starts_with(prefix),
                "{label}: {text:?} got {replies:?}"
            ),
            Contains(part) => assert!(
                replies.len() == 1 && replies[0].contains(part),
                "{label}: {text:?} got {replies:?}"
            ),
        }
    }
    let expected = &conversation.after;
    let (language, opted_out, pending, reports, location, topics) = after(app, phone).await;
    assert_eq!(language, expected.language, "{label}: language");
    assert_eq!(opted_out, expected.opted_out, "{label}: opted out");
    assert_eq!(
        pending.as_deref(),
        expected.pending,
        "{label}: pending question"
    );
    assert_eq!(reports, expected.reports, "{label}: reports");
    assert_eq!(location.as_deref(), expected.location, "{label}: location");
    assert_eq!(topics, expected.topics, "{label}: topics");
}

async fn after(
    app: &TestApp,
    phone: &str,
) -> (
    String,
    bool,
    Option<String>,
    i64,
    Option<String>,
    Vec<String>,
) {
    let citizen = format!("(select citizen_id from citizen where number_key = '{phone}')");
    let language = app
        .text_value(&format!(
            "select language from citizen where number_key = '{phone}'"
        ))
        .await
        .unwrap();
    let opted_out = app
        .scalar(&format!(
            "select count(*) from citizen where number_key = '{phone}' and opted_out_at is not null"
        ))
        .await
        == 1;
    let pending = app
        .text_value(&format!(
            "select pending_question from citizen where number_key = '{phone}'"
        ))
        .await;
    let reports = app
        .scalar(&format!(
            "select count(*) from issue where citizen_id = {citizen}"
        ))
        .await;
    let location = if reports > 0 {
        app.text_value(&format!(
            "select location from issue where citizen_id = {citizen} order by issue_id desc limit 1"
        ))
        .await
    } else {
        None
    };
    let mut topics = Vec::new();
    let n = app
        .scalar(&format!(
            "select count(*) from subscription where citizen_id = {citizen}"
        ))
        .await;
    for i in 0..n {
        topics.push(app.text_value(&format!("select topic from subscription where citizen_id = {citizen} order by topic limit 1 offset {i}")).await.unwrap());
    }
    (language, opted_out, pending, reports, location, topics)
}

both_backends!(
    conversation_table,
    conversation_table_with_every_conversation_at_once,
    an_answer_after_the_question_expired_is_a_follow_up,
    a_longer_message_starting_with_stop_is_flagged_for_officials,
    longer_messages_starting_with_stop_arriving_together_are_each_flagged,
    the_flood_guard_stops_auto_replies_but_keeps_every_message,
    a_burst_from_one_number_is_counted_message_by_message
);

async fn conversation_table(app: TestApp) {
    for (n, conversation) in conversations().iter().enumerate() {
        converse(&app, &format!("+1415555{:04}", 500 + n), conversation).await;
    }
}

async fn conversation_table_with_every_conversation_at_once(app: TestApp) {
    // Four copies of every conversation, each from its own number, all at once: the writer
    // lane takes the messages of many numbers in one batch (on Postgres in rounds, their
    // rows written together), and each conversation must go exactly as it goes alone.
    let all = conversations();
    let talks = (0..4).flat_map(|copy| {
        all.iter()
            .enumerate()
            .map(move |(n, c)| (copy * 100 + n, c))
    });
    futures_util::future::join_all(talks.map(|(n, conversation)| {
        let phone = format!("+1415556{n:04}");
        let app = &app;
        async move { converse(app, &phone, conversation).await }
    }))
    .await;
}

async fn an_answer_after_the_question_expired_is_a_follow_up(app: TestApp) {
    const PHONE: &str = "+14155550600";
    assert!(
        app.text(PHONE, "POTHOLE huge")
            .await
            .reply()
            .contains("Where is it?")
    );
    // Thirty-one minutes later, as far as the question knows.
    let citizen = format!("(select citizen_id from citizen where number_key = '{PHONE}')");
    app.execute(&format!(
        "update citizen set pending_until = pending_until - 1860000 where citizen_id = {citizen}"
    ))
    .await;
    let reply = app.text(PHONE, "Main St and 5th").await.reply();
    assert!(
        reply.starts_with("Thanks, we added this to report #1"),
        "{reply}"
    );
    assert_eq!(
        app.text_value("select location from issue where issue_id = 1")
            .await,
        None
    );
}

async fn a_longer_message_starting_with_stop_is_flagged_for_officials(app: TestApp) {
    let reply = app
        .text(
            "+14155550601",
            "STOP the construction noise at night please",
        )
        .await
        .reply();
    assert!(reply.starts_with("Thanks! Report #1 is logged"), "{reply}");
    assert_eq!(
        app.text_value("select flag from message where direction = 'in'")
            .await
            .as_deref(),
        Some("possible_opt_out")
    );
    assert_eq!(
        app.scalar("select count(*) from citizen where opted_out_at is not null")
            .await,
        0
    );
}

async fn longer_messages_starting_with_stop_arriving_together_are_each_flagged(app: TestApp) {
    // Twenty numbers at once: on Postgres they share rounds of the writer lane, whose
    // messages are written, with their flags, when the round ends.
    let app = &app;
    futures_util::future::join_all((0..20).map(|i| async move {
        let reply = app
            .text(
                &format!("+1415555{:04}", 700 + i),
                "STOP the construction noise at night please",
            )
            .await
            .reply();
        assert!(reply.starts_with("Thanks! Report #"), "{reply}");
    }))
    .await;
    assert_eq!(
        app.scalar(
            "select count(*) from message where direction = 'in' and flag = 'possible_opt_out'"
        )
        .await,
        20
    );
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in' and issue_id is not null")
            .await,
        20
    );
    assert_eq!(
        app.scalar("select count(*) from citizen where opted_out_at is not null")
            .await,
        0
    );
}

async fn the_flood_guard_stops_auto_replies_but_keeps_every_message(app: TestApp) {
    const BOT: &str = "+14155550602";
    let mut answered = 0;
    for n in 0..15 {
        if !app
            .text(BOT, &format!("AUTO-REPLY: I am away until Monday ({n})"))
            .await
            .replies()
            .is_empty()
        {
            answered += 1;
        }
    }
    assert_eq!(
        answered, 10,
        "the first 10 a minute are answered, then silence"
    );
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in'")
            .await,
        15,
        "every message is stored"
    );
    assert_eq!(
        app.scalar("select count(*) from message where flag = 'flood'")
            .await,
        5
    );
    assert_eq!(
        app.scalar("select count(*) from citizen where flagged_at is not null")
            .await,
        1
    );
    // Another number is not affected.
    assert!(!app.text("+14155550603", "HELP").await.replies().is_empty());
}

async fn a_burst_from_one_number_is_counted_message_by_message(app: TestApp) {
    // All at once: many of them share a write transaction, and each must still count the
    // ones before it. HELP writes nothing but the message and its reply, so no row they all
    // update (the citizen's pending question, one issue followed up) queues them one behind
    // the other anyway.
    const BOT: &str = "+14155550604";
    let answers = futures_util::future::join_all((0..15).map(|_| app.text(BOT, "HELP"))).await;
    assert!(answers.iter().all(|a| a.status == 200));
    let answered = answers.iter().filter(|a| !a.replies().is_empty()).count();
    assert_eq!(
        answered, 10,
        "the first 10 a minute are answered, then silence"
    );
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in'")
            .await,
        15
    );
    assert_eq!(
        app.scalar("select count(*) from message where flag = 'flood'")
            .await,
        5
    );
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'out'")
            .await,
        10
    );
}

/// After officials resolve a report, the citizen is asked whether it is fixed; 2 reopens it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_asks_is_it_fixed_and_two_reopens() {
    let fake = FakeProvider::start().await;
    let app = spawn_app_with(crate::helpers::Backend::Sqlite, Options::twilio_api(&fake))
        .await
        .unwrap();
    let gateway = app.gateway().await;
    for (phone, text, answer, reply, status) in [
        (
            "+14155550700",
            "BACHE Calle 5 y Av 3",
            "2",
            "Lo sentimos. El reporte #1 esta abierto de nuevo",
            "open",
        ),
        (
            "+14155550701",
            "POTHOLE Main St & 5th",
            "1",
            "Thank you for confirming report #2 is fixed!",
            "resolved",
        ),
    ] {
        app.text(phone, text).await;
        app.wait_outbox_empty().await; // the auto-reply is out
        let sent_before = fake.delivered().len();
        let issue_id = app.scalar("select max(issue_id) from issue").await;
        gateway
            .change_status(issue_id, "resolved", "official:1", "")
            .await
            .unwrap()
            .unwrap();
        eventually("the notice is sent", || async {
            fake.delivered().len() == sent_before + 1
        })
        .await;
        let notice = fake.delivered().last().unwrap().body.clone();
        assert!(
            notice.contains("1")
                && notice.contains("2")
                && (notice.contains("fixed") || notice.contains("arreglado")),
            "{notice}"
        );
        app.text(phone, answer).await;
        eventually("the answer is answered", || async {
            fake.delivered().len() == sent_before + 2
        })
        .await;
        let last = fake.delivered().last().unwrap().body.clone();
        assert!(last.starts_with(reply), "{last}");
        let now = app
            .text_value(&format!(
                "select status from issue where issue_id = {issue_id}"
            ))
            .await;
        assert_eq!(now.as_deref(), Some(status));
        let kept = format!("select fixed_answer from issue where issue_id = {issue_id}");
        let fixed = i64::from(answer == "1");
        assert_eq!(
            app.scalar(&kept).await,
            fixed,
            "the dashboard counts the answer"
        );
    }
    // A status notice carries the official's public note when it fits.
    gateway
        .change_status(1, "in_progress", "official:1", "Crew scheduled Tuesday.")
        .await
        .unwrap();
    eventually("the notice is sent", || async {
        fake.delivered()
            .last()
            .is_some_and(|r| r.body.contains("Crew scheduled Tuesday."))
    })
    .await;
    app.wait_outbox_empty().await;
}
