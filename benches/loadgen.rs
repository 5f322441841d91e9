//! Load generator for civicline's Twilio webhook, and the ceiling it is measured against.
//!
//!     cargo run --release --example loadgen -- ceiling --bind 127.0.0.1:18490 --token T
//!     cargo run --release --example loadgen -- run --url http://127.0.0.1:18491/sms/twilio \
//!         --token T --concurrency 64 --seconds 10 --server-pid PID --database-url sqlite://x.db
//!
//! `run` sends correctly signed webhooks with unique MessageSids from `--numbers` phone numbers
//! (60% new reports, 20% follow-ups from a number that just reported, 10% STATUS, 10%
//! HELP/STOP/START), `--concurrency` requests in flight for `--seconds`, and prints msg/s,
//! latency percentiles, errors, the server's CPU seconds and peak RSS (from /proc). With
//! `--database-url` it then checks that every MessageSid answered 200 is stored exactly once,
//! and exits non-zero when one is missing or doubled.
//!
//! `ceiling` is what the same generator is compared with: a bare axum handler that parses the
//! form and checks the signature with civicline's own code, then answers fixed TwiML.
//! `floor` is the same handler plus the cheapest honest durable store of a message in SQLite:
//! the citizen upserted, the inbound message (unique on its MessageSid), an issue and its
//! reply, four rows, group commit on one writer thread with its statements prepared once, WAL
//! with `synchronous=NORMAL` as civicline's. civicline's own figure is read against both.
//! `floor --lookups` also keeps the two indexes civicline's inbound path reads: the floor of a
//! store that can answer STATUS and guard against floods; `floor --checkpointer` checkpoints
//! in the background as civicline does.
//! `benches/load.sh` runs them for each backend and concurrency.
//!
//! `run --mix poll` sends nothing but answers to an open poll (`benches/polls.sh`), and `sink`
//! is a Twilio-shaped Messages API that accepts every send, for the poll's messages to drain to.
//!
//! `ussd` walks whole USSD sessions against `/ussd/africastalking` (main menu, report, the
//! first category, a place, Send: five requests, the last one filing the report) from a fresh
//! number each, `--concurrency` sessions at once, and prints the answer time of every request
//! and of the filing one apart; with `--database-url` it checks that every session answered
//! "Report #" filed exactly one message. `benches/ussd.sh` runs it.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use civicline::providers::form::Form;
use civicline::providers::twilio;
use clap::{Parser, Subcommand};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ceiling: parse the form, check the signature, answer fixed TwiML.
    Ceiling {
        #[arg(long, default_value = "127.0.0.1:18490")]
        bind: String,
        /// Twilio auth token the requests are signed with.
        #[arg(long)]
        token: String,
    },
    /// Serve the floor: the ceiling's handler plus four rows in SQLite, group committed.
    Floor {
        #[arg(long, default_value = "127.0.0.1:18492")]
        bind: String,
        #[arg(long)]
        token: String,
        /// The SQLite file (created; its tables too).
        #[arg(long)]
        database: String,
        /// Also keep the two indexes civicline's inbound path reads (a citizen's messages for
        /// the flood guard and the conversation, a citizen's issues for STATUS and follow-ups),
        /// so the floor pays for the lookups civicline cannot do without.
        #[arg(long)]
        lookups: bool,
        /// Checkpoint as civicline does: a background connection copies the WAL back every
        /// 20 ms (PASSIVE), the writer's own checkpoint only at 16,384 pages, instead of
        /// SQLite's default (the writer checkpoints at 1,000 pages, fsync included, before its
        /// commit returns).
        #[arg(long)]
        checkpointer: bool,
    },
    /// Send signed webhooks at a fixed concurrency for a fixed time.
    Run {
        /// The webhook URL, exactly as the server's public_url + path (it is signed over).
        #[arg(long)]
        url: String,
        #[arg(long)]
        token: String,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// How many distinct phone numbers text in.
        #[arg(long, default_value_t = 50_000)]
        numbers: u64,
        /// The server's process id, to read its CPU time and memory from /proc.
        #[arg(long)]
        server_pid: Option<u32>,
        /// The server's database, to check every acknowledged MessageSid afterwards.
        #[arg(long)]
        database_url: Option<String>,
        /// A name for this run in the printed line.
        #[arg(long, default_value = "run")]
        label: String,
        /// `civic` (the mix above) or `poll`: every message answers an open poll, each number
        /// once in turn (the first `--numbers` messages come from as many numbers).
        #[arg(long, default_value = "civic")]
        mix: String,
    },
    /// Serve a Twilio-shaped Messages API that accepts every send (the delivery worker's
    /// other end while a poll drains).
    Sink {
        #[arg(long, default_value = "127.0.0.1:18493")]
        bind: String,
    },
    /// Walk whole USSD sessions at a fixed concurrency for a fixed time.
    Ussd {
        /// `http://host:port/ussd/africastalking?token=...`
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long)]
        server_pid: Option<u32>,
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value = "ussd")]
        label: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ceiling { bind, token } => ceiling(bind, token).await,
        Command::Sink { bind } => sink(bind).await,
        Command::Floor {
            bind,
            token,
            database,
            lookups,
            checkpointer,
        } => floor(bind, token, database, lookups, checkpointer).await,
        Command::Ussd {
            url,
            concurrency,
            seconds,
            server_pid,
            database_url,
            label,
        } => {
            let deadline = Instant::now() + Duration::from_secs(seconds);
            ussd(
                url,
                concurrency.max(1),
                deadline,
                server_pid,
                database_url,
                label,
            )
            .await
        }
        Command::Run {
            url,
            token,
            concurrency,
            seconds,
            numbers,
            server_pid,
            database_url,
            label,
            mix,
        } => {
            anyhow::ensure!(mix == "civic" || mix == "poll", "--mix is civic or poll");
            let load = Load {
                poll: mix == "poll",
                url,
                token,
                numbers: numbers.max(1),
                deadline: Instant::now() + Duration::from_secs(seconds),
                next_sid: AtomicU64::new(0),
                reports: AtomicU64::new(0),
                nonce: std::process::id() as u64 ^ now_nanos(),
            };
            run(
                Arc::new(load),
                concurrency.max(1),
                server_pid,
                database_url,
                label,
            )
            .await
        }
    }
}

const FIXED_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Thanks! Report #1 (Pothole) is logged. Text STATUS 1 for updates.</Message></Response>";

struct CeilingState {
    token: String,
    public_url: String,
}

async fn ceiling(bind: String, token: String) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let state = Arc::new(CeilingState {
        token,
        public_url: format!("http://{}", listener.local_addr()?),
    });
    let app = axum::Router::new()
        .route("/sms/twilio", axum::routing::post(ceiling_handler))
        .with_state(state);
    eprintln!("ceiling listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Accepts every send as Twilio's Messages API does (201 and a message resource).
async fn sink(bind: String) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let sids = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/{sid}/Messages.json",
        axum::routing::post(move || {
            let sids = sids.clone();
            async move {
                let n = sids.fetch_add(1, Ordering::Relaxed);
                let body = format!("{{\"sid\":\"SMsink{n:026}\",\"status\":\"queued\"}}");
                (
                    StatusCode::CREATED,
                    [(header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    );
    eprintln!("sink listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The same decoding and signature check as civicline's webhook: the form, or the status to
/// refuse with.
fn verified(
    state: &CeilingState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Form, StatusCode> {
    let form = Form::parse(body).map_err(|_| StatusCode::BAD_REQUEST)?;
    let signature = headers
        .get(twilio::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(StatusCode::FORBIDDEN)?;
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let url = format!("{}{}", state.public_url, path_and_query);
    if !twilio::verify(&state.token, &url, form.pairs(), signature) {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(form)
}

fn fixed_twiml() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        FIXED_TWIML,
    )
        .into_response()
}

/// The decoding and signature check, and nothing else.
async fn ceiling_handler(
    State(state): State<Arc<CeilingState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match verified(&state, &uri, &headers, &body) {
        Ok(_) => fixed_twiml(),
        Err(status) => status.into_response(),
    }
}

/// One message for the floor's writer: who, what, its id, and where to say it is stored.
struct FloorJob {
    from: String,
    body: String,
    sid: String,
    stored: tokio::sync::oneshot::Sender<bool>,
}

struct FloorState {
    ceiling: CeilingState,
    writer: tokio::sync::mpsc::Sender<FloorJob>,
}

const FLOOR_SCHEMA: &str = "
    pragma journal_mode = wal;
    pragma synchronous = normal;
    create table if not exists citizen (citizen_id integer primary key, phone text not null unique);
    create table if not exists message (
        message_id integer primary key, citizen_id integer not null references citizen,
        direction text not null, provider text not null, provider_message_id text,
        body text not null, created_at integer not null);
    create unique index if not exists message_sid on message (provider, provider_message_id)
        where direction = 'in';
    create table if not exists issue (issue_id integer primary key,
        citizen_id integer not null references citizen, description text not null,
        created_at integer not null);
";

/// The indexes of `floor --lookups`, as civicline's (migrations 0001 and 0024).
const FLOOR_LOOKUPS: &str = "
    create index if not exists message_citizen on message (citizen_id, direction, created_at);
    create index if not exists issue_citizen on issue (citizen_id, created_at);
";

async fn floor(
    bind: String,
    token: String,
    database: String,
    lookups: bool,
    checkpointer: bool,
) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(&database)?;
    conn.execute_batch(FLOOR_SCHEMA)?;
    if lookups {
        conn.execute_batch(FLOOR_LOOKUPS)?;
    }
    if checkpointer {
        conn.execute_batch("pragma wal_autocheckpoint = 16384")?;
        let background = rusqlite::Connection::open(&database)?;
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_millis(20));
                let _ = background.query_row("pragma wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        });
    }
    let (writer, jobs) = tokio::sync::mpsc::channel::<FloorJob>(1024);
    std::thread::spawn(move || floor_writer(conn, jobs));
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let state = Arc::new(FloorState {
        ceiling: CeilingState {
            token,
            public_url: format!("http://{}", listener.local_addr()?),
        },
        writer,
    });
    let app = axum::Router::new()
        .route("/sms/twilio", axum::routing::post(floor_handler))
        .with_state(state);
    eprintln!("floor listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Takes every job waiting (up to 64), stores them in one transaction, commits, answers each.
fn floor_writer(conn: rusqlite::Connection, mut jobs: tokio::sync::mpsc::Receiver<FloorJob>) {
    const CITIZEN: &str = "insert into citizen (phone) values (?1) \
        on conflict (phone) do update set phone = excluded.phone returning citizen_id";
    const MESSAGE: &str = "insert into message (citizen_id, direction, provider, provider_message_id, body, created_at) \
        values (?1, 'in', 'twilio', ?2, ?3, ?4)";
    const ISSUE: &str =
        "insert into issue (citizen_id, description, created_at) values (?1, ?2, ?3)";
    const REPLY: &str = "insert into message (citizen_id, direction, provider, body, created_at) \
        values (?1, 'out', 'twilio', ?2, ?3)";
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < 64 {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let now = now_nanos() as i64 / 1_000_000;
        let stored = (|| -> rusqlite::Result<()> {
            conn.execute_batch("begin immediate")?;
            for job in &batch {
                let citizen: i64 = conn
                    .prepare_cached(CITIZEN)?
                    .query_row([&job.from], |row| row.get(0))?;
                conn.prepare_cached(MESSAGE)?
                    .execute(rusqlite::params![citizen, job.sid, job.body, now])?;
                conn.prepare_cached(ISSUE)?
                    .execute(rusqlite::params![citizen, job.body, now])?;
                conn.prepare_cached(REPLY)?.execute(rusqlite::params![
                    citizen,
                    FIXED_TWIML,
                    now
                ])?;
            }
            conn.execute_batch("commit")
        })();
        if stored.is_err() {
            let _ = conn.execute_batch("rollback");
        }
        for job in batch {
            let _ = job.stored.send(stored.is_ok());
        }
    }
}

/// The ceiling's decoding and signature check, then the four rows, then the fixed TwiML.
async fn floor_handler(
    State(state): State<Arc<FloorState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match verified(&state.ceiling, &uri, &headers, &body) {
        Ok(form) => form,
        Err(status) => return status.into_response(),
    };
    let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let (stored, answer) = tokio::sync::oneshot::channel();
    let job = FloorJob {
        from: field("From"),
        body: field("Body"),
        sid: field("MessageSid"),
        stored,
    };
    let queued = state.writer.send(job).await.is_ok();
    if !queued || !answer.await.unwrap_or(false) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    fixed_twiml()
}

struct Load {
    /// Every message answers a poll (`--mix poll`).
    poll: bool,
    url: String,
    token: String,
    numbers: u64,
    deadline: Instant,
    next_sid: AtomicU64,
    /// New reports answered so far: STATUS asks about one of them.
    reports: AtomicU64,
    nonce: u64,
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    acknowledged: Vec<String>,
    errors: HashMap<String, u64>,
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// xorshift64*: enough to pick message kinds and numbers, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

const REPORTS: [&str; 6] = [
    "POTHOLE deep hole on Main St at 5th",
    "STREETLIGHT out on Oak Ave near the school",
    "TRASH bins not collected on Elm St since Monday",
    "BACHE grande en la calle 8 frente al mercado",
    "GRAFFITI on the library wall, Pine St",
    "WATER leak from a hydrant at 3rd and Lake",
];
const FOLLOW_UPS: [&str; 3] = [
    "It is right in front of number 42, very deep",
    "Corner of 5th and Main, by the bus stop",
    "Still there this morning, a car lost a tire",
];

/// What citizens answer a yes/no/not-sure poll: numbers, letters and words in three languages,
/// and words that count as "other".
const POLL_ANSWERS: [&str; 10] = [
    "1",
    "2",
    "3",
    "yes",
    "Si",
    "Oui",
    "non",
    "B",
    "no se",
    "maybe next year",
];

/// The text of the next message and the number it comes from: with `--mix poll`, the `n`th
/// message answers the poll from number `n` (modulo the numbers).
fn next_message(load: &Load, n: u64, rng: &mut Rng, recent: &mut Vec<u64>) -> (u64, String) {
    if load.poll {
        let answer = POLL_ANSWERS[rng.below(POLL_ANSWERS.len() as u64) as usize];
        return (n % load.numbers, answer.to_owned());
    }
    let roll = rng.below(100);
    if roll < 60 {
        let number = rng.below(load.numbers);
        recent.push(number);
        if recent.len() > 32 {
            recent.remove(0);
        }
        (
            number,
            REPORTS[rng.below(REPORTS.len() as u64) as usize].to_owned(),
        )
    } else if roll < 80 {
        let number = match recent.len() {
            0 => rng.below(load.numbers),
            n => recent[rng.below(n as u64) as usize],
        };
        (
            number,
            FOLLOW_UPS[rng.below(FOLLOW_UPS.len() as u64) as usize].to_owned(),
        )
    } else if roll < 90 {
        let known = load.reports.load(Ordering::Relaxed).max(1);
        (
            rng.below(load.numbers),
            format!("STATUS {}", 1 + rng.below(known)),
        )
    } else {
        let word = match rng.below(4) {
            0 | 1 => "HELP",
            2 => "STOP",
            _ => "START",
        };
        (rng.below(load.numbers), word.to_owned())
    }
}

/// The fields Twilio posts for an inbound SMS, in its order.
fn webhook_params(sid: &str, number: u64, body: String) -> Vec<(String, String)> {
    let from = format!("+1415{:07}", 2_000_000 + number);
    [
        ("ToCountry", "US".to_owned()),
        ("ToState", "CA".to_owned()),
        ("SmsMessageSid", sid.to_owned()),
        ("NumMedia", "0".to_owned()),
        ("ToCity", "SAN FRANCISCO".to_owned()),
        ("FromZip", "94105".to_owned()),
        ("SmsSid", sid.to_owned()),
        ("FromState", "CA".to_owned()),
        ("SmsStatus", "received".to_owned()),
        ("FromCity", "SAN FRANCISCO".to_owned()),
        ("Body", body),
        ("FromCountry", "US".to_owned()),
        ("To", "+18005551212".to_owned()),
        ("ToZip", "94105".to_owned()),
        ("NumSegments", "1".to_owned()),
        ("MessageSid", sid.to_owned()),
        (
            "AccountSid",
            "ACloadgen00000000000000000000000000".to_owned(),
        ),
        ("From", from),
        ("ApiVersion", "2010-04-01".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

async fn connection(load: Arc<Load>, client: reqwest::Client, seed: u64) -> Tally {
    let mut rng = Rng(seed | 1);
    let mut recent = Vec::new();
    let mut tally = Tally::default();
    while Instant::now() < load.deadline {
        let n = load.next_sid.fetch_add(1, Ordering::Relaxed);
        let sid = format!("SM{:016x}{:016x}", load.nonce, n);
        let (number, body) = next_message(&load, n, &mut rng, &mut recent);
        let is_report = REPORTS.contains(&body.as_str());
        let params = webhook_params(&sid, number, body);
        let signature = twilio::signature(&load.token, &load.url, &params);
        let encoded = form_body(&params);
        let started = Instant::now();
        let result = client
            .post(&load.url)
            .header(twilio::SIGNATURE_HEADER, signature)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encoded)
            .send()
            .await;
        let outcome = match result {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(_) if status == StatusCode::OK => Ok(()),
                    Ok(_) => Err(format!("HTTP {}", status.as_u16())),
                    Err(e) => Err(format!("body: {e}")),
                }
            }
            Err(e) => Err(format!("request: {e}")),
        };
        tally
            .latencies_us
            .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        match outcome {
            Ok(()) => {
                if is_report {
                    load.reports.fetch_add(1, Ordering::Relaxed);
                }
                tally.acknowledged.push(sid);
            }
            Err(kind) => *tally.errors.entry(kind).or_default() += 1,
        }
    }
    tally
}

/// `application/x-www-form-urlencoded`, as Twilio sends it.
fn form_body(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// (CPU seconds user + system, peak RSS in KiB) of a process, from /proc.
fn process_usage(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let peak_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    // USER_HZ is 100 on Linux for every architecture's user ABI.
    Some((ticks as f64 / 100.0, peak_kib))
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

async fn run(
    load: Arc<Load>,
    concurrency: usize,
    server_pid: Option<u32>,
    database_url: Option<String>,
    label: String,
) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let before = server_pid.and_then(process_usage);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|i| {
            let seed = load
                .nonce
                .wrapping_add(i as u64)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15);
            tokio::spawn(connection(load.clone(), client.clone(), seed))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut acknowledged = Vec::new();
    let mut errors: HashMap<String, u64> = HashMap::new();
    for task in tasks {
        let tally = task.await?;
        latencies.extend(tally.latencies_us);
        acknowledged.extend(tally.acknowledged);
        for (kind, n) in tally.errors {
            *errors.entry(kind).or_default() += n;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = server_pid.and_then(process_usage);
    latencies.sort_unstable();
    let sent = latencies.len();
    let error_count: u64 = errors.values().sum();
    let per_second = acknowledged.len() as f64 / elapsed;
    let (cpu, per_cpu, peak_mib) = match (before, after) {
        (Some((cpu0, _)), Some((cpu1, peak))) => {
            let cpu = cpu1 - cpu0;
            let per_cpu = if cpu > 0.0 {
                acknowledged.len() as f64 / cpu
            } else {
                0.0
            };
            (
                format!("{cpu:.2}"),
                format!("{per_cpu:.0}"),
                format!("{:.1}", peak as f64 / 1024.0),
            )
        }
        _ => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
    };
    println!(
        "{label}\tc={concurrency}\tsent={sent}\tok={}\terrors={error_count}\tmsg/s={per_second:.0}\tp50={:.2}ms\tp99={:.2}ms\tmax={:.2}ms\tserver_cpu_s={cpu}\tmsg_per_cpu_s={per_cpu}\tpeak_rss_mib={peak_mib}",
        acknowledged.len(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    for (kind, n) in &errors {
        eprintln!("{label}\terror {kind}: {n}");
    }
    if let Some(url) = database_url {
        let (missing, doubled) = check_stored(&url, &acknowledged).await?;
        println!(
            "{label}\tchecked {} acknowledged MessageSids: {missing} missing, {doubled} stored more than once",
            acknowledged.len()
        );
        anyhow::ensure!(
            missing == 0 && doubled == 0,
            "acknowledged messages lost or doubled"
        );
    }
    Ok(())
}

/// How many of `acknowledged` are not stored, and how many are stored more than once.
async fn check_stored(url: &str, acknowledged: &[String]) -> anyhow::Result<(usize, usize)> {
    const SQL: &str = "select provider_message_id, count(*) from message \
        where direction = 'in' and provider = 'twilio' group by provider_message_id";
    let rows: Vec<(Option<String>, i64)> = if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::query_as(SQL).fetch_all(&pool).await?
    } else {
        let pool = sqlx::SqlitePool::connect(url).await?;
        sqlx::query_as(SQL).fetch_all(&pool).await?
    };
    let stored: HashMap<String, i64> = rows
        .into_iter()
        .filter_map(|(sid, n)| sid.map(|s| (s, n)))
        .collect();
    let missing = acknowledged
        .iter()
        .filter(|sid| !stored.contains_key(*sid))
        .count();
    let doubled = acknowledged
        .iter()
        .filter(|sid| stored.get(*sid).is_some_and(|n| *n > 1))
        .count();
    Ok((missing, doubled))
}

/// One caller's sessions: latencies of every request and of the filing ones, in microseconds,
/// the sessions that filed, and what went wrong.
#[derive(Default)]
struct UssdTally {
    every_us: Vec<u32>,
    filing_us: Vec<u32>,
    filed: Vec<String>,
    errors: HashMap<String, u64>,
}

async fn ussd(
    url: String,
    concurrency: usize,
    deadline: Instant,
    server_pid: Option<u32>,
    database_url: Option<String>,
    label: String,
) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let nonce = std::process::id() as u64 ^ now_nanos();
    let before = server_pid.and_then(process_usage);
    let started = Instant::now();
    let callers: Vec<_> = (0..concurrency)
        .map(|caller| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut tally = UssdTally::default();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let session = format!("ATUid_{nonce:x}_{caller}_{n}");
                    let phone =
                        format!("+2547{:08}", (caller as u64 * 1_000_003 + n) % 100_000_000);
                    let steps = [
                        "",
                        "1",
                        "1*1",
                        "1*1*Main St and 5th Ave",
                        "1*1*Main St and 5th Ave*1",
                    ];
                    for (i, text) in steps.iter().enumerate() {
                        let form = [
                            ("sessionId", session.as_str()),
                            ("serviceCode", "*384*12#"),
                            ("phoneNumber", phone.as_str()),
                            ("networkCode", "63902"),
                            ("text", text),
                        ];
                        let sent = Instant::now();
                        let answer = client.post(&url).form(&form).send().await;
                        let us = sent.elapsed().as_micros().min(u32::MAX as u128) as u32;
                        let body = match answer {
                            Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default(),
                            Ok(r) => {
                                *tally
                                    .errors
                                    .entry(format!("HTTP {}", r.status()))
                                    .or_default() += 1;
                                break;
                            }
                            Err(e) => {
                                *tally.errors.entry(format!("transport: {e}")).or_default() += 1;
                                break;
                            }
                        };
                        tally.every_us.push(us);
                        if i == steps.len() - 1 {
                            tally.filing_us.push(us);
                            if body.starts_with("END") && body.contains("Report #") {
                                tally.filed.push(format!("ussd:{session}"));
                            } else {
                                *tally.errors.entry("not filed".into()).or_default() += 1;
                            }
                        } else if !body.starts_with("CON") {
                            *tally.errors.entry("ended early".into()).or_default() += 1;
                            break;
                        }
                    }
                }
                tally
            })
        })
        .collect();
    let mut all = UssdTally::default();
    for caller in callers {
        let tally = caller.await?;
        all.every_us.extend(tally.every_us);
        all.filing_us.extend(tally.filing_us);
        all.filed.extend(tally.filed);
        for (kind, n) in tally.errors {
            *all.errors.entry(kind).or_default() += n;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = match (before, server_pid.and_then(process_usage)) {
        (Some((a, _)), Some((b, _))) => format!("{:.2}", b - a),
        _ => "-".to_owned(),
    };
    all.every_us.sort_unstable();
    all.filing_us.sort_unstable();
    let errors: u64 = all.errors.values().sum();
    println!(
        "{label}\tc={concurrency}\tsessions={}\tscreens/s={:.0}\tp50={:.2}ms\tp99={:.2}ms\tmax={:.2}ms\tsend_p50={:.2}ms\tsend_p99={:.2}ms\terrors={errors}\tserver_cpu_s={cpu}",
        all.filed.len(),
        all.every_us.len() as f64 / elapsed,
        percentile(&all.every_us, 50.0),
        percentile(&all.every_us, 99.0),
        all.every_us.last().copied().unwrap_or(0) as f64 / 1000.0,
        percentile(&all.filing_us, 50.0),
        percentile(&all.filing_us, 99.0),
    );
    for (kind, n) in &all.errors {
        eprintln!("{label}\terror {kind}: {n}");
    }
    if let Some(url) = database_url {
        const SQL: &str = "select provider_message_id, count(*) from message \
            where direction = 'in' and provider_message_id like 'ussd:%' group by provider_message_id";
        let rows: Vec<(Option<String>, i64)> = if url.starts_with("postgres") {
            sqlx::query_as(SQL)
                .fetch_all(&sqlx::PgPool::connect(&url).await?)
                .await?
        } else {
            sqlx::query_as(SQL)
                .fetch_all(&sqlx::SqlitePool::connect(&url).await?)
                .await?
        };
        let stored: HashMap<String, i64> = rows
            .into_iter()
            .filter_map(|(id, n)| id.map(|id| (id, n)))
            .collect();
        let missing = all
            .filed
            .iter()
            .filter(|id| !stored.contains_key(*id))
            .count();
        let doubled = stored.values().filter(|n| **n > 1).count();
        println!(
            "{label}\tchecked {} filed sessions: {missing} missing, {doubled} stored more than once",
            all.filed.len()
        );
        anyhow::ensure!(missing == 0 && doubled == 0, "USSD reports lost or doubled");
    }
    Ok(())
}
