//! Polls (issue 18): an admin asks a topic's subscribers (or an area's citizens) a question in
//! their languages, with the recipients and the cost shown first; replies in any shipped
//! language count by option, anything else is kept as "other"; a reply files no report, and
//! STOP, HELP, STATUS and report keywords keep their meaning during a poll.

use crate::each_backend;
use crate::fake_provider::FakeProvider;
use crate::helpers::{Backend, Options, TestApp, eventually, spawn_app_with};

each_backend!(
    an_admin_asks_subscribers_and_answers_in_en_es_fr_count_by_option,
    during_a_poll_stop_help_status_and_reports_keep_their_meaning,
    a_poll_to_an_area_asks_the_citizens_who_reported_there,
);

const QUESTION: [(&str, &str, &str); 3] = [
    (
        "en",
        "Should the market open on Sundays?",
        "Yes\nNo\nNot sure",
    ),
    ("es", "Abrir el mercado los domingos?", "Si\nNo\nNo se"),
    (
        "fr",
        "Ouvrir le marche le dimanche ?",
        "Oui\nNon\nJe ne sais pas",
    ),
];

/// The poll form for `topic` (and `area`), with `action` and whether it is public.
fn poll_form(
    topic: &str,
    area: &str,
    public: bool,
    action: &str,
    question: &[(&str, &str, &str)],
) -> Vec<(String, String)> {
    let mut form = vec![
        ("topic".to_owned(), topic.to_owned()),
        ("area".to_owned(), area.to_owned()),
        ("days".to_owned(), "3".to_owned()),
        ("action".to_owned(), action.to_owned()),
    ];
    if public {
        form.push(("public".to_owned(), "1".to_owned()));
    }
    for (language, q, options) in question {
        form.push((format!("question_{language}"), (*q).to_owned()));
        form.push((format!("options_{language}"), (*options).to_owned()));
    }
    form
}

fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// An app whose replies and polls reach `fake`, with an agent and an admin logged in.
async fn city(backend: Backend, options: Options) -> Option<(TestApp, [String; 2])> {
    let app = spawn_app_with(backend, options).await?;
    let mut cookies = Vec::new();
    for role in ["agent", "admin"] {
        let email = format!("{role}@city.example");
        let password = app.add_official(&email, role).await;
        cookies.push(app.login(&email, &password).await);
    }
    Some((app, cookies.try_into().unwrap()))
}

/// The last text `fake` delivered to `phone`, waiting until there are `n` of them.
async fn nth_text_to(fake: &FakeProvider, phone: &str, n: usize) -> String {
    let to = |fake: &FakeProvider| -> Vec<String> {
        fake.delivered()
            .into_iter()
            .filter(|r| r.to == phone)
            .map(|r| r.body)
            .collect()
    };
    eventually(&format!("text {n} to {phone}"), || async {
        to(fake).len() >= n
    })
    .await;
    to(fake)[n - 1].clone()
}

async fn an_admin_asks_subscribers_and_answers_in_en_es_fr_count_by_option(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some((app, [agent, admin])) = city(backend, Options::twilio_api(&fake)).await else {
        return;
    };
    // Ten subscribers of roads in three languages; one more who then opts out; one of water.
    let subscribers = [
        ("+14155550301", "JOIN ROADS"),
        ("+14155550302", "JOIN ROADS"),
        ("+14155550303", "JOIN ROADS"),
        ("+14155550304", "JOIN ROADS"),
        ("+525500000301", "UNIRSE CALLES"),
        ("+525500000302", "UNIRSE CALLES"),
        ("+525500000303", "UNIRSE CALLES"),
        ("+33600000301", "REJOINDRE ROUTES"),
        ("+33600000302", "REJOINDRE ROUTES"),
        ("+33600000303", "REJOINDRE ROUTES"),
        ("+14155550309", "JOIN ROADS"),
        ("+14155550309", "STOP"),
        ("+14155550310", "JOIN WATER"),
    ];
    for (phone, text) in subscribers {
        app.text(phone, text).await;
    }
    app.wait_outbox_empty().await;
    let before = fake.delivered().len();

    let send = poll_form("roads", "", true, "send", &QUESTION);
    assert_eq!(app.get_page("/polls", Some(&agent)).await.status, 403);
    let refused = app
        .post_page("/polls", Some(&agent), &pairs(&send), &[])
        .await;
    assert_eq!(refused.status, 403, "an agent cannot ask");
    let one_option = poll_form("roads", "", true, "send", &[("en", "Should we?", "Yes")]);
    let refused = app
        .post_page("/polls", Some(&admin), &pairs(&one_option), &[])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("2 to 5 options"), "{}", refused.body);
    let uneven = poll_form(
        "roads",
        "",
        true,
        "send",
        &[QUESTION[0], ("es", "Abrir?", "Si\nNo")],
    );
    let refused = app
        .post_page("/polls", Some(&admin), &pairs(&uneven), &[])
        .await;
    assert!(
        refused
            .body
            .contains("The es text has another number of options")
    );
    assert_eq!(app.scalar("select count(*) from poll").await, 0);

    let preview = poll_form("roads", "", true, "preview", &QUESTION);
    let page = app
        .post_page("/polls", Some(&admin), &pairs(&preview), &[])
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<b>10</b> recipients, <b>10</b> SMS segments"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("1 Si\n2 No\n3 No se\nResponda con un numero del 1 al 3.")
    );
    assert_eq!(fake.delivered().len(), before, "a preview sends nothing");

    let sent = app
        .post_page("/polls", Some(&admin), &pairs(&send), &[])
        .await;
    assert_eq!(sent.location.as_deref(), Some("/polls/1"));
    eventually("the poll reaches its ten recipients", || async {
        fake.delivered().len() == before + 10
    })
    .await;
    let asked: Vec<(String, String)> = fake.delivered()[before..]
        .iter()
        .map(|r| (r.to.clone(), r.body.clone()))
        .collect();
    assert!(
        asked
            .iter()
            .all(|(to, _)| to != "+14155550309" && to != "+14155550310")
    );
    let spanish = &asked
        .iter()
        .find(|(to, _)| to == "+525500000302")
        .unwrap()
        .1;
    assert_eq!(
        spanish,
        "Abrir el mercado los domingos?\n1 Si\n2 No\n3 No se\nResponda con un numero del 1 al 3."
    );

    // What each one answers, and the option it counts for (None: other words).
    let answers = [
        ("+14155550301", "1", Some(1)),
        ("+14155550302", "YES", Some(1)),
        ("+14155550303", "b", Some(2)),
        ("+14155550304", "not sure.", Some(3)),
        ("+525500000301", "Sí", Some(1)),
        ("+525500000302", "NO SÉ", Some(3)),
        ("+525500000303", "no", Some(2)),
        ("+33600000301", "Oui", Some(1)),
        ("+33600000302", "2 non", Some(2)),
        ("+33600000303", "<b>peut-être</b> l'été 😀", None),
    ];
    for (phone, text, _) in answers {
        app.text(phone, text).await;
    }
    // Each hears their answer was taken, in their language: the poll message was their 2nd
    // text (after the JOIN confirmation), the thanks the 3rd.
    for (phone, _, choice) in answers {
        let thanks = nth_text_to(&fake, phone, 3).await;
        let expected = match (phone.get(..3), choice) {
            (Some("+14"), Some(_)) => "Thanks! Your answer to poll #1 is counted.",
            (Some("+52"), Some(_)) => "Gracias! Su respuesta a la encuesta #1 fue contada.",
            (Some("+33"), Some(_)) => "Merci ! Votre reponse au sondage #1 est comptee.",
            _ => {
                "Merci, nous avons note votre reponse au sondage #1. Pour signaler un probleme, envoyez AIDE."
            }
        };
        assert_eq!(thanks, expected, "{phone}");
    }
    for (phone, text, choice) in answers {
        let sql = format!(
            "select coalesce(choice, 0) from poll_answer where poll_id = 1 and body = '{}'",
            text.replace('\'', "''")
        );
        assert_eq!(
            app.scalar(&sql).await,
            choice.unwrap_or(0),
            "{phone} {text}"
        );
    }
    assert_eq!(
        app.scalar("select count(*) from issue").await,
        0,
        "a poll reply files no issue"
    );
    // Answered: the next text is read as usual, not counted again.
    app.text("+14155550301", "2").await;
    app.wait_outbox_empty().await;
    assert_eq!(app.scalar("select count(*) from poll_answer").await, 10);
    assert_eq!(
        app.scalar("select count(*) from poll_answer where citizen_id = (select citizen_id from message where body = '2' and direction = 'in')").await,
        1
    );

    let results = app.get_page("/polls/1", Some(&admin)).await;
    assert_eq!(results.status, 200);
    let body = results.body;
    assert!(
        body.contains("<b>n = 10</b> answers from 10 asked (100 % of those asked)"),
        "{body}"
    );
    assert!(
        body.contains("<td>1 Yes</td><td>4</td><td>40 %</td>"),
        "{body}"
    );
    assert!(
        body.contains("<td>2 No</td><td>3</td><td>30 %</td>"),
        "{body}"
    );
    assert!(
        body.contains("<td>3 Not sure</td><td>2</td><td>20 %</td>"),
        "{body}"
    );
    assert!(
        body.contains("<td>Other words</td><td>1</td><td>10 %</td>"),
        "{body}"
    );
    // By language: es answered 1 Yes, 1 No, 1 Not sure.
    assert!(
        body.contains("<tr><td>es</td><td>3</td><td>1</td><td>1</td><td>1</td><td>0</td></tr>"),
        "{body}"
    );
    assert!(
        body.contains("&#60;b&#62;peut-être&#60;/b&#62; l&#39;été 😀"),
        "other words shown, escaped: {body}"
    );
    assert!(!body.contains("<b>peut"));
    assert!(!body.contains("+1415"), "no phone number on the page");

    let csv = app.get_page("/polls/1/answers.csv", Some(&admin)).await;
    assert_eq!(csv.status, 200);
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 10);
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "poll_id",
            "answered_datetime",
            "choice",
            "option",
            "language",
            "area",
            "words"
        ]
    );
    assert!(
        rows.iter()
            .any(|r| &r[3] == "other" && r[6].contains("peut-être"))
    );
    assert!(
        !csv.body.contains("+1415") && !csv.body.contains("+33") && !csv.body.contains("55000")
    );
    assert_eq!(
        app.get_page("/polls/1/answers.csv", Some(&agent))
            .await
            .status,
        403
    );

    // A second poll, not public: the dashboard shows the first only.
    let private = poll_form(
        "roads",
        "",
        false,
        "send",
        &[("en", "Internal: close the pier?", "Yes\nNo")],
    );
    let sent = app
        .post_page("/polls", Some(&admin), &pairs(&private), &[])
        .await;
    assert_eq!(sent.location.as_deref(), Some("/polls/2"));
    let (status, dashboard) = app.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(
        dashboard.contains("Poll #1: Should the market open on Sundays?"),
        "{dashboard}"
    );
    assert!(dashboard.contains("<b>n = 10</b>"));
    assert!(!dashboard.contains("close the pier"));
    assert!(
        !dashboard.contains("peut-être"),
        "other words stay with the officials"
    );
    assert_eq!(app.get("/dashboard/polls/1.csv").await.0, 200);
    assert_eq!(app.get("/dashboard/polls/2.csv").await.0, 404, "not public");
    assert_eq!(app.get("/dashboard/polls/9.csv").await.0, 404);
    app.wait_outbox_empty().await;
}

async fn during_a_poll_stop_help_status_and_reports_keep_their_meaning(backend: Backend) {
    let fake = FakeProvider::start().await;
    let Some((app, [_, admin])) = city(backend, Options::twilio_api(&fake)).await else {
        return;
    };
    let (alice, bob) = ("+14155550401", "+14155550402");
    app.text(alice, "JOIN ROADS").await;
    app.text(bob, "JOIN ROADS").await;
    let send = poll_form("roads", "", false, "send", &QUESTION);
    app.post_page("/polls", Some(&admin), &pairs(&send), &[])
        .await;
    nth_text_to(&fake, alice, 2).await;

    app.text(alice, "HELP").await;
    assert!(
        nth_text_to(&fake, alice, 3)
            .await
            .starts_with("Text a problem and where")
    );
    app.text(alice, "POTHOLE deep hole on Main St at 5th").await;
    assert!(
        nth_text_to(&fake, alice, 4)
            .await
            .starts_with("Thanks! Report #1")
    );
    app.text(alice, "STATUS 1").await;
    assert!(nth_text_to(&fake, alice, 5).await.contains("#1"));
    assert_eq!(
        app.scalar("select count(*) from poll_answer").await,
        0,
        "none of those is an answer"
    );
    app.text(alice, "Oui").await;
    assert_eq!(
        nth_text_to(&fake, alice, 6).await,
        "Thanks! Your answer to poll #1 is counted."
    );

    // STOP opts out whatever is open; YES then opts in (an opted-out number has no poll open)
    // and the next answer counts.
    app.text(bob, "STOP").await;
    nth_text_to(&fake, bob, 3).await;
    assert_eq!(
        app.scalar("select count(*) from citizen where opted_out_at is not null")
            .await,
        1
    );
    app.text(bob, "YES").await;
    assert!(
        nth_text_to(&fake, bob, 4)
            .await
            .starts_with("You are subscribed again")
    );
    assert_eq!(app.scalar("select count(*) from poll_answer").await, 1);
    // A reply after the poll closed is read as usual.
    app.execute("update citizen set poll_until = 1").await;
    app.text(bob, "1").await;
    app.wait_outbox_empty().await;
    assert_eq!(app.scalar("select count(*) from poll_answer").await, 1);
    assert_eq!(
        app.scalar("select count(*) from poll_answer where choice = 1 and language = 'en'")
            .await,
        1
    );
}

/// The demo city, its areas and streets; reports never merge.
fn riverton(settings: &mut civicline::config::Settings) {
    settings.places.file =
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/places/demo.geojson").into();
    settings.crowd.merge_window_days = 0.0;
}

async fn a_poll_to_an_area_asks_the_citizens_who_reported_there(backend: Backend) {
    let fake = FakeProvider::start().await;
    let options = Options {
        tune: Some(riverton),
        ..Options::twilio_api(&fake)
    };
    let Some((app, [_, admin])) = city(backend, options).await else {
        return;
    };
    for (phone, text) in [
        ("+14155550501", "POTHOLE at City Hall"),
        ("+14155550502", "LIGHT out at City Hall"),
        ("+14155550503", "TRASH at Fish Market"),
    ] {
        app.text(phone, text).await;
        nth_text_to(&fake, phone, 1).await;
    }
    let northside: i64 = app
        .scalar(
            "select count(*) from issue where area = (select area from issue where issue_id = 1)",
        )
        .await;
    assert_eq!(northside, 2, "City Hall's two reports share an area");
    let city_hall_area = app
        .text_value("select area from issue where issue_id = 1")
        .await
        .expect("City Hall lies in an area");
    let unknown = poll_form("", "Atlantis", false, "preview", &QUESTION);
    let refused = app
        .post_page("/polls", Some(&admin), &pairs(&unknown), &[])
        .await;
    assert!(
        refused.body.contains("no area named that"),
        "{}",
        refused.body
    );
    let send = poll_form("", &city_hall_area, false, "send", &QUESTION);
    let sent = app
        .post_page("/polls", Some(&admin), &pairs(&send), &[])
        .await;
    assert_eq!(sent.location.as_deref(), Some("/polls/1"));
    nth_text_to(&fake, "+14155550501", 2).await;
    nth_text_to(&fake, "+14155550502", 2).await;
    app.wait_outbox_empty().await;
    let asked = fake
        .delivered()
        .iter()
        .filter(|r| r.body.starts_with("Should the market"))
        .count();
    assert_eq!(asked, 2, "only the citizens who reported there");
    app.text("+14155550502", "2").await;
    nth_text_to(&fake, "+14155550502", 3).await;
    let answered_in = app
        .text_value("select area from poll_answer")
        .await
        .unwrap();
    assert_eq!(answered_in, city_hall_area);
}
