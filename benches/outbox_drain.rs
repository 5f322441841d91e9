//! How fast the delivery worker drains the outbox into a provider, and how closely it holds a
//! rate limit. The provider is a local HTTP server answering as Twilio's Messages API does.
//!
//!     cargo bench --bench outbox_drain
//!     cargo bench --bench outbox_drain -- --messages 5000 --rate 50 --rate-messages 250 \
//!         --database-url postgres://postgres@127.0.0.1:5432/bench
//!
//! Figures are recorded in BENCHMARKS.md.

use axum::Router;
use axum::routing::post;
use civicline::config::{Secret, Settings};
use civicline::delivery::Worker;
use civicline::providers::Sender;
use civicline::providers::twilio::client::Client;
use civicline::sms::{PhoneNumber, Provider};
use civicline::store::{self, Store, citizens, messages, outbox};
use std::sync::{Arc, Mutex};
use std::time::Instant;

struct Args {
    messages: usize,
    rate: u32,
    rate_messages: usize,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        messages: 5000,
        rate: 50,
        rate_messages: 250,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--messages" => args.messages = it.next().unwrap().parse().unwrap(),
            "--rate" => args.rate = it.next().unwrap().parse().unwrap(),
            "--rate-messages" => args.rate_messages = it.next().unwrap().parse().unwrap(),
            "--database-url" => args.database_url = it.next(),
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

/// A Twilio-shaped API that accepts everything and notes when each request came.
async fn fake_twilio() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let sids = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let app = Router::new().route(
        "/2010-04-01/Accounts/{sid}/Messages.json",
        post(move || {
            let (log, sids) = (log.clone(), sids.clone());
            async move {
                log.lock().unwrap().push(Instant::now());
                let n = sids.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (
                    axum::http::StatusCode::CREATED,
                    [("content-type", "application/json")],
                    format!(r#"{{"sid":"SM{n:032}","status":"queued"}}"#),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn queue(store: &Store, n: usize, offset: usize) {
    let now = store::now_ms();
    let mut tx = store.begin().await.unwrap();
    for i in 0..n {
        let phone = PhoneNumber::parse(&format!("+1415{:07}", offset + i), None).unwrap();
        let citizen = citizens::find_or_create(&mut tx, store.seal(), &phone, "p", now)
            .await
            .unwrap();
        let message = messages::NewOutbound {
            citizen_id: citizen.citizen_id,
            issue_id: None,
            provider: Provider::Twilio,
            in_reply_to: None,
            body: "Report #1042 (Pothole) is now in progress. Text STATUS 1042 for updates.",
            status: "queued",
            now,
        };
        outbox::queue(&mut tx, message, outbox::Kind::Notice)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

fn worker(store: &Store, api: &str, rate: u32) -> Worker {
    let settings = Settings::from_env_pairs([(
        "CIVICLINE_DELIVERY__RATE_PER_SECOND".to_owned(),
        rate.to_string(),
    )])
    .unwrap()
    .delivery;
    let client = Client::new(
        api,
        "AC00000000000000000000000000000000",
        Secret::new("token"),
        "+18005551212",
    );
    Worker::new(
        store.clone(),
        Sender::Twilio(client),
        settings,
        Arc::new(tokio::sync::Notify::new()),
        "http://bench.test",
    )
}

#[tokio::main]
async fn main() {
    let args = args();
    let mut log = Settings::from_env_pairs([]).unwrap().log;
    log.filter = "warn".to_owned();
    civicline::telemetry::init(&log);
    let temp = std::env::temp_dir().join(format!("civicline-bench-{}.db", std::process::id()));
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", temp.display()));
    let store = Store::connect(&civicline::config::DatabaseUrl::new(url.clone()), 8)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let (api, seen) = fake_twilio().await;
    println!("database: {}", store.backend_name());

    queue(&store, args.messages, 0).await;
    let unlimited = worker(&store, &api, 0);
    let started = Instant::now();
    let sent = unlimited.drain().await.unwrap();
    let elapsed = started.elapsed();
    println!(
        "drain, no rate limit: {sent} messages in {:.3} s = {:.0} msg/s",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64()
    );

    seen.lock().unwrap().clear();
    queue(&store, args.rate_messages, args.messages).await;
    let limited = worker(&store, &api, args.rate);
    let sent = limited.drain().await.unwrap();
    let times = seen.lock().unwrap().clone();
    let span = *times.last().unwrap() - times[0];
    let achieved = (times.len() - 1) as f64 / span.as_secs_f64();
    let error = (achieved - f64::from(args.rate)) / f64::from(args.rate) * 100.0;
    println!(
        "rate limit {} msg/s: {sent} messages over {:.3} s = {achieved:.2} msg/s ({error:+.2}%)",
        args.rate,
        span.as_secs_f64()
    );
    assert_eq!(
        outbox::depth(&store, store::now_ms()).await.unwrap().0,
        0,
        "the outbox drained"
    );
    store.close().await;
    if args.database_url.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    }
}
