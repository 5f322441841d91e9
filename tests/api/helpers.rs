//! The test app: a real server on a loopback port over a fresh database (an SQLite file, or a
//! Postgres schema of its own), and a client that texts it as Twilio would.

use civicline::config::Settings;
use civicline::providers::form::Form;
use civicline::providers::twilio;
use civicline::startup::Application;
use sqlx::{Connection, Executor};
use std::sync::atomic::{AtomicU64, Ordering};

pub const AUTH_TOKEN: &str = "test-auth-token-12345";
/// What the provider "sees": the app listens on a random loopback port behind it.
pub const PUBLIC_URL: &str = "https://sms.civicline.test";
pub const OUR_NUMBER: &str = "+18005551212";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The Postgres server tests run against. CI creates a throwaway database and sets this.
fn postgres_admin_url() -> String {
    std::env::var("CIVICLINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// With CIVICLINE_TEST_REQUIRE_POSTGRES=1 (as in CI) an unreachable server fails the test;
/// otherwise the Postgres half of each test is skipped, loudly.
fn postgres_required() -> bool {
    std::env::var("CIVICLINE_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}_{}_{n}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// A database that disappears with the test.
pub enum TestDb {
    Sqlite { path: std::path::PathBuf },
    Postgres { admin_url: String, schema: String },
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let path =
                    std::env::temp_dir().join(format!("{}.db", unique_name("civicline_test")));
                Some(TestDb::Sqlite { path })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
                    Ok(conn) => conn,
                    Err(error) if !postgres_required() => {
                        eprintln!("SKIPPED postgres half: {admin_url} unreachable ({error})");
                        return None;
                    }
                    Err(error) => {
                        panic!("Postgres required but {admin_url} is unreachable: {error}")
                    }
                };
                let schema = unique_name("t");
                conn.execute(sqlx::AssertSqlSafe(format!("create schema {schema}")))
                    .await
                    .expect("create test schema");
                Some(TestDb::Postgres { admin_url, schema })
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { path } => format!("sqlite://{}", path.display()),
            TestDb::Postgres { admin_url, schema } => {
                let sep = if admin_url.contains('?') { '&' } else { '?' };
                // Named after the schema, so a test can find the app's sessions.
                format!(
                    "{admin_url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}"
                )
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { admin_url, schema } => {
                let (url, sql) = (admin_url.clone(), format!("drop schema {schema} cascade"));
                // Drop runs inside the test's runtime: clean up from a thread of our own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                            let _ = conn.execute(sqlx::AssertSqlSafe(sql)).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            auth_token: Some(AUTH_TOKEN),
            provider: "twilio",
            env: Vec::new(),
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
            env: Vec::new(),
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

    pub fn with(mut self, key: &'static str, value: &str) -> Options {
        self.env.push((key, value.to_owned()));
        self
    }
}

pub const AT_WEBHOOK_TOKEN: &str = "at-callback-s3cret";

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
    Settings::from_env_pairs(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)))
        .expect("test settings")
}

/// A fresh app on `backend`, or `None` when Postgres is not reachable and not required.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> Option<TestApp> {
    let db = TestDb::create(backend).await?;
    let settings = settings_for(&db, &options);
    let app = Application::build(settings.clone())
        .await
        .expect("app builds");
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
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
    Some(TestApp {
        address,
        settings,
        client: civicline::providers::http_client(),
        _db: db,
        pool,
    })
}

/// A Twilio inbound webhook's fields, as Twilio sends them.
pub fn twilio_form(sid: &str, from: &str, body: &str) -> Form {
    Form::from_pairs([
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", from),
        ("FromCountry", "US"),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsMessageSid", sid),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("To", OUR_NUMBER),
    ])
}

pub fn new_sid() -> String {
    format!("SM{:032x}", rand::random::<u128>())
}

/// What the app answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    /// The texts of the TwiML `<Message>`s; panics if the body is not valid TwiML.
    pub fn replies(&self) -> Vec<String> {
        assert_eq!(self.status, 200, "answer: {}", self.body);
        twilio::twiml_messages(&self.body)
            .unwrap_or_else(|e| panic!("not TwiML ({e}): {}", self.body))
    }

    /// The one reply; panics on silence or on several.
    pub fn reply(&self) -> String {
        let replies = self.replies();
        assert_eq!(replies.len(), 1, "expected one reply, got {replies:?}");
        replies.into_iter().next().unwrap()
    }
}

/// Polls `check` every 20 ms until it holds, for at most 10 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Teardown: a test that ends with a message stuck in the outbox fails.
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
                if url.starts_with("sqlite") {
                    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                    sqlx::query_scalar::<_, i64>(sql)
                        .fetch_one(&pool)
                        .await
                        .unwrap()
                } else {
                    let pool = sqlx::PgPool::connect(&url).await.unwrap();
                    sqlx::query_scalar::<_, i64>(sql)
                        .fetch_one(&pool)
                        .await
                        .unwrap()
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
            routing,
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

    /// One number from the database, for assertions (`select count(*) from issue`).
    pub async fn scalar(&self, sql: &str) -> i64 {
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_scalar::<_, i64>(query).fetch_one(pool).await,
            Pool::Postgres(pool) => sqlx::query_scalar::<_, i64>(query).fetch_one(pool).await,
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs one statement on the app's database (to move time, say).
    pub async fn execute(&self, sql: &str) {
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query(query).execute(pool).await.map(|_| ()),
            Pool::Postgres(pool) => sqlx::query(query).execute(pool).await.map(|_| ()),
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// One text from the database (`None` for NULL).
    pub async fn text_value(&self, sql: &str) -> Option<String> {
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar::<_, Option<String>>(query)
                    .fetch_one(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar::<_, Option<String>>(query)
                    .fetch_one(pool)
                    .await
            }
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Row counts of every table a webhook writes: to show that a refused request stored nothing.
    pub async fn snapshot(&self) -> [i64; 5] {
        [
            self.scalar("select count(*) from citizen").await,
            self.scalar("select count(*) from message").await,
            self.scalar("select count(*) from issue").await,
            self.scalar("select count(*) from issue_event").await,
            self.scalar("select count(*) from consent_event").await,
        ]
    }
}

/// Runs each named `async fn name(app: TestApp)` once on SQLite and once on Postgres, as the
/// tests `name::sqlite` and `name::postgres`. The functions are ordinary ones beside the call, so
/// rustfmt formats them and go-to-definition finds them:
///
/// ```ignore
/// both_backends!(a_report_gets_a_number);
///
/// async fn a_report_gets_a_number(app: TestApp) { ... }
/// ```
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                        .await
                        .unwrap();
                    super::$name(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    // `None`: Postgres unreachable and not required (said on stderr).
                    if let Some(app) =
                        $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                    {
                        super::$name(app).await;
                    }
                }
            }
        )+
    };
}

/// Runs each named `async fn name(backend: Backend)` once per backend, for tests that build
/// their own app (`spawn_app_with`); a `None` app (Postgres unreachable and not required) ends
/// the test.
#[macro_export]
macro_rules! each_backend {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            }
        )+
    };
}

/// What an officials' page answered.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub body: String,
    /// Where a redirect points.
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
}

impl TestApp {
    /// Creates an account and returns its password.
    pub async fn add_official(&self, email: &str, role: &str) -> String {
        add_official(&self.settings.database.url, email, role).await
    }

    /// Logs in and returns the session cookie (`name=value`).
    pub async fn login(&self, email: &str, password: &str) -> String {
        let page = self
            .post_page(
                "/login",
                None,
                &[("email", email), ("password", password)],
                &[],
            )
            .await;
        assert_eq!(page.status, 303, "login as {email}: {}", page.body);
        session_cookie(&page).expect("a session cookie")
    }

    pub async fn get_page(&self, path: &str, cookie: Option<&str>) -> Page {
        let mut request = self.browser().get(format!("{}{path}", self.address));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        read_page(request.send().await.unwrap()).await
    }

    /// A form POST as a browser on our own site sends it.
    pub async fn post_page(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let body = Form::from_pairs(form.iter().copied()).encode();
        let mut request = self
            .browser()
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read_page(request.send().await.unwrap()).await
    }

    fn browser(&self) -> reqwest::Client {
        browser()
    }
}

/// A client that does not follow redirects, so tests see them.
pub fn browser() -> reqwest::Client {
    let _ = civicline::providers::http_client(); // installs the TLS provider
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `X-Twilio-Signature` of a webhook to `/sms/twilio`, as Twilio computes it.
pub fn sign(form: &Form) -> String {
    twilio::signature(
        AUTH_TOKEN,
        &format!("{PUBLIC_URL}/sms/twilio"),
        form.pairs(),
    )
}

/// Creates an account in the database at `url` and returns its password.
pub async fn add_official(url: &civicline::config::DatabaseUrl, email: &str, role: &str) -> String {
    let password = format!("pw-{email}-long-enough");
    let hash = password_auth::generate_hash(&password);
    let store = civicline::store::Store::connect(url, 1).await.unwrap();
    civicline::store::officials::upsert(&store, email, &hash, role, civicline::store::now_ms())
        .await
        .unwrap();
    store.close().await;
    password
}

pub fn session_cookie(page: &Page) -> Option<String> {
    page.set_cookie
        .iter()
        .find(|c| c.starts_with("civicline_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

async fn read_page(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let set_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    Page {
        status,
        body: response.text().await.unwrap(),
        location,
        set_cookie,
    }
}
