//! Settings, spawning the app on a backend, its teardown check, and what drives it.

use super::{
    AUTH_TOKEN, Answer, Backend, OUR_NUMBER, PUBLIC_URL, Pool, TestDb, eventually, new_sid,
    post_signed_form, sign, twilio_form,
};
use civicline::config::Settings;
use civicline::providers::form::Form;
use civicline::startup::Application;

pub struct TestApp {
    pub address: String,
    pub settings: Settings,
    pub client: reqwest::Client,
    /// Held so that the database is removed when the test ends.
    _db: TestDb,
    /// A connection pool of our own on the app's database, for assertions.
    pub pool: Pool,
}

pub struct Options {
    pub auth_token: Option<&'static str>,
    pub provider: &'static str,
    /// More settings, as environment pairs.
    pub env: Vec<(&'static str, String)>,
    /// Settings the environment cannot hold (`[[department]]` tables), set last.
    pub tune: Option<fn(&mut Settings)>,
    /// Officials' accounts (email, role) made before the server starts; password as
    /// `add_official` gives it.
    pub officials: Vec<(&'static str, &'static str)>,
    /// Statements run on the migrated database before the server starts (rows it finds there,
    /// as after a restart).
    pub seed: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            auth_token: Some(AUTH_TOKEN),
            provider: "twilio",
            env: Vec::new(),
            tune: None,
            officials: Vec::new(),
            seed: Vec::new(),
        }
    }
}

impl Options {
    /// Twilio, replies through the outbox and the REST API of `fake`.
    pub fn twilio_api(fake: &crate::fake_provider::FakeProvider) -> Options {
        Options::default()
            .with("CIVICLINE_TWILIO__REPLY", "api")
            .with("CIVICLINE_TWILIO__API_BASE", &fake.url)
            .with(
                "CIVICLINE_TWILIO__ACCOUNT_SID",
                crate::fake_provider::ACCOUNT_SID,
            )
    }

    /// Africa's Talking against `fake`, callbacks protected by [`AT_WEBHOOK_TOKEN`].
    pub fn africastalking(fake: &crate::fake_provider::FakeProvider) -> Options {
        Options {
            auth_token: None,
            provider: "africastalking",
            ..Options::default()
        }
        .with("CIVICLINE_AFRICASTALKING__API_BASE", &fake.url)
        .with(
            "CIVICLINE_AFRICASTALKING__USERNAME",
            crate::fake_provider::AT_USERNAME,
        )
        .with(
            "CIVICLINE_AFRICASTALKING__API_KEY",
            crate::fake_provider::AT_API_KEY,
        )
        .with("CIVICLINE_AFRICASTALKING__WEBHOOK_TOKEN", AT_WEBHOOK_TOKEN)
        .with("CIVICLINE_SMS__DEFAULT_REGION", "KE")
    }

    /// A phone running SMS Gateway for Android at `url` (the fake's, or a port nobody answers
    /// yet), its webhooks signed with [`SMSGATE_WEBHOOK_KEY`], one send per 50 ms.
    pub fn smsgate(url: &str) -> Options {
        Options {
            auth_token: None,
            provider: "smsgate",
            ..Options::default()
        }
        .with("CIVICLINE_SMSGATE__URL", url)
        .with(
            "CIVICLINE_SMSGATE__USERNAME",
            crate::fake_provider::SMSGATE_USERNAME,
        )
        .with(
            "CIVICLINE_SMSGATE__PASSWORD",
            crate::fake_provider::SMSGATE_PASSWORD,
        )
        .with("CIVICLINE_SMSGATE__WEBHOOK_KEY", SMSGATE_WEBHOOK_KEY)
        .with("CIVICLINE_SMSGATE__SEND_INTERVAL_MS", "50")
        .with("CIVICLINE_SMS__DEFAULT_REGION", "KE")
    }

    pub fn with(mut self, key: &'static str, value: &str) -> Options {
        self.env.push((key, value.to_owned()));
        self
    }
}

pub const AT_WEBHOOK_TOKEN: &str = "at-callback-s3cret";
pub const SMSGATE_WEBHOOK_KEY: &str = "sg-signing-k3y";

pub fn settings_for(db: &TestDb, options: &Options) -> Settings {
    let mut pairs = vec![
        ("CIVICLINE_SERVER__BIND", "127.0.0.1:0".to_owned()),
        ("CIVICLINE_SERVER__PUBLIC_URL", PUBLIC_URL.to_owned()),
        ("CIVICLINE_DATABASE__URL", db.url()),
        ("CIVICLINE_DATABASE__MAX_CONNECTIONS", "4".to_owned()),
        ("CIVICLINE_SMS__PROVIDER", options.provider.to_owned()),
        ("CIVICLINE_TWILIO__FROM", OUR_NUMBER.to_owned()),
        ("CIVICLINE_SERVER__SHUTDOWN_GRACE_SECS", "1".to_owned()),
        ("CIVICLINE_SERVER__DASHBOARD_CACHE_SECS", "0".to_owned()),
        // No test may reach a real provider: unless a test points these at its local fake, a
        // send fails at once on a closed local port.
        (
            "CIVICLINE_TWILIO__API_BASE",
            "http://127.0.0.1:9".to_owned(),
        ),
        (
            "CIVICLINE_AFRICASTALKING__API_BASE",
            "http://127.0.0.1:9".to_owned(),
        ),
        // Fast retries, so tests of backoff take milliseconds.
        ("CIVICLINE_DELIVERY__BACKOFF_BASE_MS", "20".to_owned()),
        ("CIVICLINE_DELIVERY__BACKOFF_MAX_MS", "200".to_owned()),
        ("CIVICLINE_DELIVERY__POLL_INTERVAL_MS", "50".to_owned()),
    ];
    pairs.extend(options.env.iter().cloned());
    if let Some(token) = options.auth_token {
        pairs.push(("CIVICLINE_TWILIO__AUTH_TOKEN", token.to_owned()));
    }
    let mut settings = Settings::from_env_pairs(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)))
        .expect("test settings");
    if let Some(tune) = options.tune {
        tune(&mut settings);
    }
    settings
}

/// A fresh app on `backend`, or `None` when Postgres is not reachable and not required.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> Option<TestApp> {
    let db = TestDb::create(backend).await?;
    let settings = settings_for(&db, &options);
    if !options.officials.is_empty() {
        let store = civicline::store::Store::connect(&settings.database.url, 1)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        for (email, role) in &options.officials {
            super::pages::add_official(&settings.database.url, email, role).await;
        }
    }
    let app = Application::build(settings.clone())
        .await
        .expect("app builds");
    let address = format!("http://{}", app.local_addr());
    let pool = match backend {
        Backend::Sqlite => Pool::Sqlite(
            sqlx::SqlitePool::connect(&db.url())
                .await
                .expect("assertion pool"),
        ),
        Backend::Postgres => Pool::Postgres(
            sqlx::PgPool::connect(&db.url())
                .await
                .expect("assertion pool"),
        ),
    };
    for sql in &options.seed {
        pool.execute(sql).await;
    }
    tokio::spawn(app.run_until(std::future::pending()));
    Some(TestApp {
        address,
        settings,
        client: civicline::providers::http_client(),
        _db: db,
        pool,
    })
}

/// Teardown: a test that ends with a message stuck in the outbox fails. A message the worker is
/// sending as the test ends (sent, not yet removed) is given up to three seconds to leave.
impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let url = self._db.url();
        let stuck = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let sql = "select count(*) from outbox";
                // One pool for every look, not one per look.
                let pool = if url.starts_with("sqlite") {
                    Pool::Sqlite(sqlx::SqlitePool::connect(&url).await.unwrap())
                } else {
                    Pool::Postgres(sqlx::PgPool::connect(&url).await.unwrap())
                };
                let count = async || -> i64 {
                    match &pool {
                        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
                        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
                    }
                    .unwrap()
                };
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
                loop {
                    let left = count().await;
                    if left == 0 || std::time::Instant::now() >= deadline {
                        return left;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            })
        })
        .join()
        .expect("outbox check");
        assert_eq!(
            stuck, 0,
            "{stuck} message(s) left stuck in the outbox at teardown"
        );
    }
}

impl TestApp {
    /// A delivery worker of our own on the app's database, for tests that drive it by hand.
    pub async fn worker(&self) -> civicline::delivery::Worker {
        let store = civicline::store::Store::connect(&self.settings.database.url, 4)
            .await
            .unwrap();
        let store = civicline::startup::sealed(store, &self.settings)
            .await
            .unwrap();
        let sender = civicline::startup::sender(&self.settings).unwrap();
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        civicline::delivery::Worker::new(
            store,
            sender,
            self.settings.delivery.clone(),
            wake,
            PUBLIC_URL,
        )
    }

    /// A gateway of our own on the app's database, for what officials do (until the queue pages
    /// exist): changing an issue's status texts the citizen through the outbox.
    pub async fn gateway(&self) -> civicline::gateway::Gateway {
        use civicline::gateway::{Gateway, ReplyRouting, catalog::Catalog, replies::Replies};
        let store = civicline::store::Store::connect(&self.settings.database.url, 2)
            .await
            .unwrap();
        let store = civicline::startup::sealed(store, &self.settings)
            .await
            .unwrap();
        let routing = ReplyRouting {
            twilio_inline: self.settings.twilio.reply != "api",
            outbound: civicline::startup::sender(&self.settings)
                .unwrap()
                .provider(),
            wake: std::sync::Arc::new(tokio::sync::Notify::new()),
        };
        Gateway::new(
            store,
            Catalog::builtin(),
            Replies::builtin(),
            self.settings.gateway.clone(),
            self.settings.crowd.clone(),
            self.settings.spikes.clone(),
            routing,
            civicline::places::Places::none(),
            civicline::gateway::routing::Routing::default(),
        )
        .await
        .unwrap()
    }

    pub async fn wait_outbox_empty(&self) {
        eventually("the outbox is empty", || async {
            self.scalar("select count(*) from outbox").await == 0
        })
        .await;
    }

    /// Texts `body` from `from`, signed, with a new MessageSid.
    pub async fn text(&self, from: &str, body: &str) -> Answer {
        self.post_signed(&twilio_form(&new_sid(), from, body)).await
    }

    pub fn sign(&self, form: &Form) -> String {
        sign(form)
    }

    pub async fn post_signed(&self, form: &Form) -> Answer {
        let signature = self.sign(form);
        self.post_raw(form.encode().into_bytes(), Some(&signature))
            .await
    }

    pub async fn post_raw(&self, body: Vec<u8>, signature: Option<&str>) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/sms/twilio", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        let response = request.send().await.expect("request reaches the app");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.expect("response body");
        Answer {
            status,
            content_type,
            body,
        }
    }

    /// Sends bytes as they are over a TCP connection and returns the response's status code:
    /// for requests an HTTP client would not send, or would fail to finish once refused.
    pub async fn raw_http(&self, head: &str, body: &[u8]) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.address.trim_start_matches("http://"))
            .await
            .expect("connect");
        stream.write_all(head.as_bytes()).await.expect("write head");
        // The server may answer and stop reading before the body is through: that is the point.
        let _ = stream.write_all(body).await;
        let mut response = vec![0u8; 1024];
        let n = stream.read(&mut response).await.expect("read response");
        let text = String::from_utf8_lossy(&response[..n]);
        text.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"))
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

/// A server on `settings` that a test can stop (and start again on the same database).
pub struct Running {
    pub address: String,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub async fn serve(settings: &Settings) -> anyhow::Result<Running> {
    let app = Application::build(settings.clone()).await?;
    let address = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    Ok(Running {
        address,
        stop,
        done,
    })
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.done.await.unwrap().unwrap();
    }

    /// Texts `body` from `from`, signed, with a new MessageSid.
    pub async fn text(&self, from: &str, body: &str) -> Answer {
        let form = twilio_form(&new_sid(), from, body);
        let (status, body) = post_signed_form(&self.address, "/sms/twilio", &form).await;
        Answer {
            status,
            content_type: String::new(),
            body,
        }
    }

    /// Twilio's status callback for our message `id`, naming the citizen in `To` as Twilio does.
    pub async fn status_callback(&self, id: i64, to: &str) -> u16 {
        let form = Form::from_pairs([
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("MessageSid", &format!("SMcb{id}")),
            ("MessageStatus", "delivered"),
            ("To", to),
            ("From", crate::helpers::OUR_NUMBER),
        ]);
        let path = format!("/sms/twilio/status?message_id={id}");
        post_signed_form(&self.address, &path, &form).await.0
    }
}

/// Runs the `civicline` binary with `args` on `db`'s database, `env` added (the seal keys).
pub async fn civicline_cli(db: &TestDb, env: &[(&str, &str)], args: &[&str]) -> CliOutput {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_civicline"));
    command
        .args(args)
        .env("CIVICLINE_DATABASE__URL", db.url())
        .env("CIVICLINE_LOG__FILTER", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("civicline runs");
    CliOutput {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What a run of the binary printed.
#[derive(Debug)]
pub struct CliOutput {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// A new seal key, as `civicline keys new` prints it.
pub fn new_seal_key() -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_civicline"))
        .args(["keys", "new"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
