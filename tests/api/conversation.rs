//! What a citizen texts and what they hear back, end to end over HTTP.

use crate::both_backends;
use crate::helpers::TestApp;

const ANA: &str = "+14158675309";
const BEN: &str = "+442079460958";

both_backends!(
    a_category_keyword_files_a_report_and_names_its_number,
    every_required_category_is_reachable_by_its_keyword,
    status_reveals_only_the_citizens_own_reports,
    help_explains_the_number,
    stop_is_confirmed_once_then_silence_until_start,
    every_carrier_opt_out_word_opts_out,
    a_longer_message_starting_with_stop_is_not_an_opt_out,
    lightning_is_free_text_not_a_streetlight,
    free_text_opens_a_report_then_follows_up_on_it,
    free_text_follows_up_on_the_latest_open_report_never_a_closed_one,
    a_follow_up_marks_its_report_as_just_updated,
    follow_ups_arriving_together_each_mark_their_own_report_updated,
    a_keyword_always_opens_a_new_report,
    an_empty_message_is_stored_and_answered_without_a_report,
    phone_numbers_are_stored_in_e164
);

async fn a_category_keyword_files_a_report_and_names_its_number(app: TestApp) {
    let reply = app
        .text(ANA, "POTHOLE deep hole on Main St at 5th")
        .await
        .reply();
    assert_eq!(
        reply,
        "Thanks! Report #1 (Pothole) is logged. Text STATUS 1 for updates."
    );
    assert_eq!(
        app.text_value("select service_code from issue where issue_id = 1")
            .await
            .as_deref(),
        Some("pothole")
    );
    assert_eq!(
        app.text_value("select description from issue where issue_id = 1")
            .await
            .as_deref(),
        Some("deep hole on Main St at 5th")
    );
    // The inbound message and the reply are both filed under the issue.
    assert_eq!(
        app.scalar("select count(*) from message where issue_id = 1")
            .await,
        2
    );
    assert_eq!(
        app.text_value("select kind from issue_event where issue_id = 1")
            .await
            .as_deref(),
        Some("created")
    );
}

async fn every_required_category_is_reachable_by_its_keyword(app: TestApp) {
    for (n, (word, name)) in [
        ("POTHOLE", "Pothole"),
        ("LIGHT", "Streetlight"),
        ("TRASH", "Trash"),
        ("GRAFFITI", "Graffiti"),
        ("WATER", "Water"),
        ("NOISE", "Noise"),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = app
            .text(
                &format!("+1415555{:04}", 100 + n),
                &format!("{word} at the corner"),
            )
            .await
            .reply();
        assert!(
            reply.contains(&format!("Report #{} ({name})", n + 1)),
            "{word}: {reply}"
        );
    }
}

async fn status_reveals_only_the_citizens_own_reports(app: TestApp) {
    app.text(ANA, "LIGHT out on Elm").await.reply();
    let own = app.text(ANA, "STATUS 1").await.reply();
    assert!(
        own.starts_with("Report #1 (Streetlight): received"),
        "{own}"
    );
    let latest = app.text(ANA, "status").await.reply();
    assert_eq!(latest, own);

    let other = app.text(BEN, "STATUS 1").await.reply();
    assert!(
        other.starts_with("We found no report #1 from this number"),
        "{other}"
    );
    let missing = app.text(ANA, "STATUS #999").await.reply();
    assert!(missing.contains("no report #999"), "{missing}");
    let none = app.text(BEN, "STATUS").await.reply();
    assert!(none.starts_with("You have no reports yet"), "{none}");
    // Asking is not reporting: no issue was opened for STATUS.
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
}

async fn help_explains_the_number(app: TestApp) {
    let reply = app.text(ANA, "help").await.reply();
    assert!(
        reply.contains("POTHOLE") && reply.contains("STATUS") && reply.contains("STOP"),
        "{reply}"
    );
    assert_eq!(app.scalar("select count(*) from issue").await, 0);
}

async fn stop_is_confirmed_once_then_silence_until_start(app: TestApp) {
    let confirmation = app.text(ANA, "Stop").await.reply();
    assert!(confirmation.contains("unsubscribed"), "{confirmation}");
    assert!(
        app.text(ANA, "STOP").await.replies().is_empty(),
        "a second STOP is not answered"
    );
    assert!(app.text(ANA, "HELP").await.replies().is_empty());
    // What an opted-out citizen reports is still filed, silently.
    assert!(
        app.text(ANA, "POTHOLE still there")
            .await
            .replies()
            .is_empty()
    );
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'out'")
            .await,
        1
    );

    let welcome = app.text(ANA, "START").await.reply();
    assert!(welcome.contains("subscribed again"), "{welcome}");
    assert!(
        app.text(ANA, "STATUS 1")
            .await
            .reply()
            .starts_with("Report #1")
    );

    let ledger = app.scalar("select count(*) from consent_event").await;
    assert_eq!(
        ledger, 2,
        "one opt-out and one opt-in, the repeated STOP changed nothing"
    );
    assert_eq!(
        app.text_value("select keyword from consent_event order by consent_event_id limit 1")
            .await
            .as_deref(),
        Some("STOP")
    );
    assert_eq!(
        app.scalar("select count(*) from citizen where opted_out_at is null")
            .await,
        1
    );
}

async fn every_carrier_opt_out_word_opts_out(app: TestApp) {
    for (n, word) in [
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
    ]
    .into_iter()
    .enumerate()
    {
        let from = format!("+1415555{:04}", 200 + n);
        assert!(
            app.text(&from, word).await.reply().contains("unsubscribed"),
            "{word}"
        );
    }
    assert_eq!(
        app.scalar("select count(*) from citizen where opted_out_at is not null")
            .await,
        8
    );
}

async fn a_longer_message_starting_with_stop_is_not_an_opt_out(app: TestApp) {
    let reply = app
        .text(ANA, "STOP the construction noise at night")
        .await
        .reply();
    assert!(reply.starts_with("Thanks! Report #1 is logged"), "{reply}");
    let reply = app.text(BEN, "STOPPED the bus for an hour").await.reply();
    assert!(reply.starts_with("Thanks! Report #2"), "{reply}");
    assert_eq!(
        app.scalar("select count(*) from citizen where opted_out_at is not null")
            .await,
        0
    );
    assert_eq!(app.scalar("select count(*) from consent_event").await, 0);
}

async fn lightning_is_free_text_not_a_streetlight(app: TestApp) {
    let reply = app
        .text(ANA, "LIGHTNING knocked a tree onto the road")
        .await
        .reply();
    assert!(reply.starts_with("Thanks! Report #1 is logged"), "{reply}");
    assert_eq!(app.text_value("select service_code from issue").await, None);
}

async fn free_text_opens_a_report_then_follows_up_on_it(app: TestApp) {
    let first = app
        .text(ANA, "the bench in Central Park is broken")
        .await
        .reply();
    assert!(first.starts_with("Thanks! Report #1 is logged"), "{first}");
    let second = app.text(ANA, "it is near the north gate").await.reply();
    assert_eq!(
        second,
        "Thanks, we added this to report #1. Text STATUS 1 for updates."
    );
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
    assert_eq!(
        app.scalar("select count(*) from message where issue_id = 1 and direction = 'in'")
            .await,
        2
    );
    assert_eq!(
        app.scalar("select count(*) from issue_event where issue_id = 1 and kind = 'message'")
            .await,
        1
    );
    // Another citizen's free text is their own report.
    assert!(
        app.text(BEN, "trash everywhere after the market")
            .await
            .reply()
            .contains("Report #2")
    );
}

async fn free_text_follows_up_on_the_latest_open_report_never_a_closed_one(app: TestApp) {
    app.text(ANA, "the bench in Central Park is broken")
        .await
        .reply();
    app.text(ANA, "POTHOLE on Main St").await.reply();
    // The newer report is closed: the older, open one takes the follow-up.
    app.execute("update issue set status = 'resolved', closed_at = 1 where issue_id = 2")
        .await;
    let reply = app.text(ANA, "it is near the north gate").await.reply();
    assert_eq!(
        reply,
        "Thanks, we added this to report #1. Text STATUS 1 for updates."
    );
    // With every report closed, free text is a new report.
    app.execute("update issue set status = 'resolved', closed_at = 1 where issue_id = 1")
        .await;
    let reply = app.text(ANA, "and the swings are broken too").await.reply();
    assert!(reply.starts_with("Thanks! Report #3 is logged"), "{reply}");
    assert_eq!(
        app.scalar("select count(*) from message where issue_id = 2")
            .await,
        2
    );
}

async fn a_follow_up_marks_its_report_as_just_updated(app: TestApp) {
    app.text(ANA, "POTHOLE on Main St").await.reply();
    app.execute("update issue set updated_at = 1 where issue_id = 1")
        .await;
    app.text(ANA, "it is very deep now").await.reply();
    // Officials' queue and Open311's updated_datetime read it (on Postgres it is written
    // when the writer lane's round ends).
    let follow_up = app
        .scalar("select max(created_at) from message where direction = 'in'")
        .await;
    assert_eq!(
        app.scalar("select updated_at from issue where issue_id = 1")
            .await,
        follow_up
    );
}

async fn follow_ups_arriving_together_each_mark_their_own_report_updated(app: TestApp) {
    // Forty numbers at once: on Postgres their follow-ups share rounds of the writer lane,
    // whose issues' `updated_at` are written together when the round ends.
    let numbers: Vec<String> = (0..40)
        .map(|i| format!("+1415{:07}", 3_100_000 + i))
        .collect();
    let app = &app;
    futures_util::future::join_all(
        numbers
            .iter()
            .map(|n| async move { app.text(n, "POTHOLE on Main St").await.reply() }),
    )
    .await;
    app.execute("update issue set updated_at = 1").await;
    futures_util::future::join_all(
        numbers
            .iter()
            .map(|n| async move { app.text(n, "it is very deep now").await.reply() }),
    )
    .await;
    for n in &numbers {
        let follow_up = app
            .scalar(&format!(
                "select m.created_at from message m join citizen c using (citizen_id) \
                where c.number_key = '{n}' and m.direction = 'in' and m.body like 'it is%'"
            ))
            .await;
        let updated = app
            .scalar(&format!("select i.updated_at from issue i join citizen c using (citizen_id) where c.number_key = '{n}'"))
            .await;
        assert_eq!(updated, follow_up, "the report of {n}");
    }
    // Each follow-up is filed under its own number's report.
    assert_eq!(
        app.scalar(
            "select count(*) from message m join issue i using (issue_id) \
            where m.direction = 'in' and m.citizen_id = i.citizen_id"
        )
        .await,
        80
    );
}

async fn a_keyword_always_opens_a_new_report(app: TestApp) {
    app.text(ANA, "POTHOLE on Main St").await.reply();
    let reply = app.text(ANA, "GRAFFITI on the library wall").await.reply();
    assert!(reply.starts_with("Thanks! Report #2 (Graffiti)"), "{reply}");
}

async fn an_empty_message_is_stored_and_answered_without_a_report(app: TestApp) {
    let reply = app.text(ANA, "").await.reply();
    assert!(reply.starts_with("We got an empty message"), "{reply}");
    assert_eq!(app.scalar("select count(*) from issue").await, 0);
    assert_eq!(
        app.scalar("select count(*) from message where direction = 'in'")
            .await,
        1
    );
}

async fn phone_numbers_are_stored_in_e164(app: TestApp) {
    app.text("(415) 867-5309", "REPORT national format")
        .await
        .reply();
    assert_eq!(
        app.text_value("select number_key from citizen")
            .await
            .as_deref(),
        Some(ANA)
    );
}
