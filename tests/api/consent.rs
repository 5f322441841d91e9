//! Opt-out is honoured whatever happens around it: random interleavings of STOP and START (in
//! three languages), reports, official replies, status notices, broadcasts and delivery runs
//! never put a text on the wire to a number that is opted out, except the one confirmation of
//! each STOP. Delivery is driven by hand so that "opted out now" is exact at each send.

use crate::fake_provider::FakeProvider;
use crate::helpers::{Backend, Options, TestApp, spawn_app_with};
use civicline::gateway::Gateway;
use civicline::gateway::replies::{Replies, ReplyKey};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::atomic::{AtomicU64, Ordering};

const CITIZENS: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    /// A citizen texts one of the words below.
    Text(usize, &'static str),
    /// An official answers the citizen's report from the queue.
    OfficialReply(usize),
    /// An official resolves the report, which texts a notice and the "is it fixed?" question.
    Resolve(usize),
    /// An admin broadcasts to the alerts topic, which both citizens joined.
    Broadcast,
    /// The delivery worker drains the outbox.
    Deliver,
}

const WORDS: [&str; 10] = [
    "STOP",
    "stop",
    "PARAR",
    "ARRET",
    "START",
    "UNSTOP",
    "ALTA",
    "POTHOLE hole on Oak St",
    "HELP",
    "2",
];

fn op() -> impl Strategy<Value = Op> {
    let citizen = 0..CITIZENS;
    prop_oneof![
        4 => (citizen.clone(), 0..WORDS.len()).prop_map(|(c, w)| Op::Text(c, WORDS[w])),
        2 => citizen.clone().prop_map(Op::OfficialReply),
        1 => citizen.prop_map(Op::Resolve),
        1 => Just(Op::Broadcast),
        2 => Just(Op::Deliver),
    ]
}

struct World {
    app: TestApp,
    fake: FakeProvider,
    gateway: Gateway,
    worker: civicline::delivery::Worker,
    official_id: i64,
    confirmations: Vec<String>,
    cases: AtomicU64,
}

/// What the test believes about one number.
#[derive(Default, Clone)]
struct Citizen {
    phone: String,
    opted_out: bool,
    /// Opt-out confirmations that may still go out (one per STOP not yet delivered).
    confirmations_owed: usize,
}

fn is_opt_out(word: &str) -> bool {
    matches!(word, "STOP" | "stop" | "PARAR" | "ARRET")
}

fn is_opt_in(word: &str) -> bool {
    matches!(word, "START" | "UNSTOP" | "ALTA")
}

async fn latest_issue(world: &World, phone: &str) -> Option<i64> {
    let id = world
        .app
        .scalar(&format!(
            "select coalesce(max(issue_id), 0) from issue where citizen_id = \
             (select citizen_id from citizen where number_key = '{phone}')"
        ))
        .await;
    (id > 0).then_some(id)
}

/// Delivers everything due and checks each send against what the numbers chose.
async fn deliver(world: &World, citizens: &mut [Citizen], seen: &mut usize) -> Result<(), String> {
    world.worker.drain().await.map_err(|e| e.to_string())?;
    let received = world.fake.received();
    for send in &received[*seen..] {
        let Some(citizen) = citizens.iter_mut().find(|c| c.phone == send.to) else {
            continue;
        };
        if !citizen.opted_out {
            continue;
        }
        let confirmation = world.confirmations.contains(&send.body);
        if !confirmation || citizen.confirmations_owed == 0 {
            return Err(format!(
                "sent to opted-out {}: {:?} (confirmations owed: {})",
                send.to, send.body, citizen.confirmations_owed
            ));
        }
        citizen.confirmations_owed -= 1;
    }
    *seen = received.len();
    for citizen in citizens.iter_mut() {
        citizen.confirmations_owed = 0;
    }
    Ok(())
}

async fn run_case(world: &World, ops: Vec<Op>) -> Result<(), String> {
    let case = world.cases.fetch_add(1, Ordering::Relaxed);
    let mut citizens: Vec<Citizen> = (0..CITIZENS)
        .map(|i| Citizen {
            phone: format!("+1415{:07}", 3_000_000 + case * CITIZENS as u64 + i as u64),
            ..Citizen::default()
        })
        .collect();
    for citizen in &citizens {
        for body in ["POTHOLE deep hole on Main St", "JOIN ALERTS"] {
            assert_eq!(world.app.text(&citizen.phone, body).await.status, 200);
        }
    }
    let mut seen = world.fake.received().len();
    deliver(world, &mut citizens, &mut seen).await?;

    for op in ops.into_iter().chain(std::iter::once(Op::Deliver)) {
        match op {
            Op::Text(c, word) => {
                let answer = world.app.text(&citizens[c].phone, word).await;
                if answer.status != 200 {
                    return Err(format!("{word} answered {}", answer.status));
                }
                if is_opt_out(word) {
                    citizens[c].opted_out = true;
                    citizens[c].confirmations_owed += 1;
                } else if is_opt_in(word) {
                    citizens[c].opted_out = false;
                }
            }
            Op::OfficialReply(c) => {
                if let Some(issue) = latest_issue(world, &citizens[c].phone).await {
                    // Refused for an opted-out citizen; either way nothing may reach them.
                    let _ = world
                        .gateway
                        .official_reply(issue, "official:1", "A crew is on the way.")
                        .await;
                }
            }
            Op::Resolve(c) => {
                if let Some(issue) = latest_issue(world, &citizens[c].phone).await {
                    world
                        .gateway
                        .change_status(issue, "resolved", "official:1", "Filled.")
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            Op::Broadcast => {
                let texts = [(
                    "en".to_owned(),
                    "Water main repair on Elm St tonight.".to_owned(),
                )];
                world
                    .gateway
                    .broadcast("alerts", world.official_id, &texts)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Op::Deliver => deliver(world, &mut citizens, &mut seen).await?,
        }
    }
    Ok(())
}

fn interleavings_never_text_an_opted_out_number(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let world = runtime.block_on(async {
        let fake = FakeProvider::start().await;
        let options = Options::twilio_api(&fake).with("CIVICLINE_DELIVERY__ENABLED", "false");
        let app = spawn_app_with(backend, options).await?;
        app.add_official("admin@city.example", "admin").await;
        let official_id = app
            .scalar("select official_id from official where email = 'admin@city.example'")
            .await;
        let replies = Replies::builtin();
        let confirmations = ["en", "es", "fr"]
            .iter()
            .map(|language| replies.render(language, ReplyKey::OptedOut, &[]))
            .collect();
        Some(World {
            gateway: app.gateway().await,
            worker: app.worker().await,
            app,
            fake,
            official_id,
            confirmations,
            cases: AtomicU64::new(0),
        })
    });
    let Some(world) = world else {
        return;
    };
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..24), |ops| {
        runtime
            .block_on(run_case(&world, ops))
            .map_err(TestCaseError::fail)
    });
    runtime.block_on(world.app.wait_outbox_empty());
    drop(world);
    result.unwrap();
}

#[test]
fn interleavings_never_text_an_opted_out_number_sqlite() {
    interleavings_never_text_an_opted_out_number(Backend::Sqlite);
}

#[test]
fn interleavings_never_text_an_opted_out_number_postgres() {
    interleavings_never_text_an_opted_out_number(Backend::Postgres);
}
