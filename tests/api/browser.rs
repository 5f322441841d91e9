//! The officials' pages in a real headless Chromium, driven over the W3C WebDriver protocol
//! (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them). A few plain HTTP calls
//! to chromedriver are all these tests need, so they speak the protocol directly.
//!
//! With CIVICLINE_SCREENSHOTS=<dir> the tests also save the pictures shown in the README.

use crate::fake_provider::FakeProvider;
use crate::helpers::{Backend, Options, eventually, spawn_app_with};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A Chromium session through chromedriver; both end with the value.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    /// Ends the WebDriver session first: chromedriver then closes Chromium. Killing only the
    /// driver left two Chromium browsers running after every test run, on CI's machine too.
    /// Drop cannot wait on the async client, so this one request is written by hand.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let address = self.base.trim_start_matches("http://");
        if let Ok(mut stream) = std::net::TcpStream::connect(address) {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                self.session
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `None` when there is no chromedriver here and CI did not ask for browser tests.
async fn browser() -> Option<Browser> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("CIVICLINE_TEST_REQUIRE_BROWSER").is_err(),
            "browser tests required but {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("SKIPPED browser test: {CHROMEDRIVER} missing");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let base = format!("http://127.0.0.1:{port}");
    let http = civicline::providers::http_client();
    eventually("chromedriver answers", || async {
        http.get(format!("{base}/status")).send().await.is_ok()
    })
    .await;
    let profile = TempDir(std::env::temp_dir().join(format!("civicline-chromium-{port}")));
    let capabilities = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.0.display())]
        }
    }}});
    let created: Value = http
        .post(format!("{base}/session"))
        .json(&capabilities)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = created["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {created}"))
        .to_owned();
    Some(Browser {
        driver,
        base,
        session,
        http,
        _profile: profile,
    })
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        answer["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn script(&self, js: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
        .await
    }

    async fn text(&self) -> String {
        self.script("return document.body.innerText")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a PNG of the window when CIVICLINE_SCREENSHOTS names a folder.
    async fn screenshot(&self, name: &str) {
        let Ok(dir) = std::env::var("CIVICLINE_SCREENSHOTS") else {
            return;
        };
        use base64::Engine;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(
            std::path::Path::new(&dir).join(format!("{name}.png")),
            bytes,
        )
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_official_logs_in_finds_a_report_replies_and_the_sms_arrives() {
    let Some(browser) = browser().await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let app = spawn_app_with(Backend::Sqlite, Options::twilio_api(&fake))
        .await
        .unwrap();
    for (phone, text) in [
        (
            "+14158675309",
            "POTHOLE deep hole on Main St at 5th, two cars damaged",
        ),
        ("+14155550101", "LIGHT out on Elm St between 2nd and 3rd"),
        ("+525512345678", "BACHE enorme en la calle Colón 12"),
        ("+33612345678", "ORDURES rue de la Paix, poubelles pleines"),
        (
            "+14155550102",
            "<img src=x onerror=alert(1)> graffiti on the library, Oak St",
        ),
    ] {
        app.text(phone, text).await;
    }
    app.wait_outbox_empty().await;
    let password = app.add_official("agent@city.example", "agent").await;

    browser.go(&format!("{}/queue", app.address)).await;
    assert!(
        browser.text().await.contains("Log in"),
        "the queue asks for a login first"
    );
    browser
        .type_into("input[name=email]", "agent@city.example")
        .await;
    browser.type_into("input[name=password]", &password).await;
    browser.click("button[type=submit]").await;
    eventually("the queue shows", || async {
        browser.text().await.contains("deep hole on Main St")
    })
    .await;
    browser.screenshot("queue").await;

    browser.click("a[href='/issues/1']").await;
    eventually("the issue page shows", || async {
        browser.text().await.contains("Reply by SMS")
    })
    .await;
    browser
        .type_into("#reply-body", "Thank you! A crew will fill it on Tuesday.")
        .await;
    let counter = browser.text().await;
    assert!(
        counter.contains("GSM-7 · 1 SMS"),
        "the composer counts segments: {counter}"
    );
    // The public note's counter counts the notice it goes with.
    browser
        .type_into("#note-body", &"The crew filled it on Tuesday. ".repeat(3))
        .await;
    let counter = browser.text().await;
    assert!(
        counter.contains("With the notice: ") && counter.contains("GSM-7 · 2 SMS segments"),
        "the note's counter: {counter}"
    );
    browser
        .script("var n = document.querySelector('#note-body'); n.value = ''; n.dispatchEvent(new Event('input'))")
        .await;
    let counter = browser.text().await;
    assert!(
        counter.contains("With the notice: 72 characters · GSM-7 · 1 SMS\n"),
        "the note's counter, emptied: {counter}"
    );
    browser.screenshot("issue").await;
    browser.click("form.composer button").await;
    eventually("the SMS reaches the provider", || async {
        fake.delivered().iter().any(|sms| {
            sms.to == "+14158675309" && sms.body == "Thank you! A crew will fill it on Tuesday."
        })
    })
    .await;

    browser
        .script("document.querySelector('select[name=status]').value = 'in_progress'")
        .await;
    browser.click("form[action$='/status'] button").await;
    eventually("the status notice reaches the provider", || async {
        fake.delivered().iter().any(|sms| {
            sms.body
                .starts_with("Report #1 (Pothole) is now in progress")
        })
    })
    .await;
    eventually("the page shows the new status", || async {
        browser.text().await.contains("In progress")
    })
    .await;

    // A citizen's markup is text, never markup.
    browser.go(&format!("{}/issues/5", app.address)).await;
    let text = browser.text().await;
    assert!(text.contains("<img src=x onerror=alert(1)>"), "{text}");
    assert_eq!(
        browser
            .script("return document.querySelectorAll('main img').length")
            .await,
        json!(0)
    );
    let alert = browser
        .call(reqwest::Method::GET, "/alert/text", None)
        .await;
    assert!(
        alert["error"]
            .as_str()
            .is_some_and(|e| e.contains("no such alert")),
        "an alert opened: {alert}"
    );
    app.wait_outbox_empty().await;

    // The public dashboard renders its server-drawn charts.
    browser.go(&format!("{}/dashboard", app.address)).await;
    assert_eq!(
        browser
            .script("return document.querySelectorAll('figure.chart svg').length")
            .await,
        json!(3)
    );
    browser.screenshot("dashboard").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_shows_the_whole_loop_on_one_screen() {
    let Some(browser) = browser().await else {
        return;
    };
    let options = Options {
        auth_token: None,
        provider: "console",
        env: Vec::new(),
        ..Options::default()
    };
    let app = spawn_app_with(Backend::Sqlite, options).await.unwrap();
    app.text("+14155550111", "LIGHT out on Elm St between 2nd and 3rd")
        .await;
    app.text("+525512345678", "BACHE enorme en la calle Colón 12")
        .await;
    let password = app.add_official("agent@city.example", "agent").await;
    browser.log_in(&app.address, &password).await;

    browser.go(&format!("{}/simulator", app.address)).await;
    browser
        .type_into("input[name=body]", "POTHOLE deep hole on Main St at 5th")
        .await;
    browser.click(".phone-form button").await;
    eventually("the phone shows the reply", || async {
        browser
            .text()
            .await
            .contains("Thanks! Report #3 (Pothole) is logged. Text STATUS 3 for updates.")
    })
    .await;
    eventually("the queue beside it shows the report", || async {
        browser
            .script("return document.querySelector('iframe').contentDocument.body.innerText")
            .await
            .as_str()
            .is_some_and(|t| t.contains("deep hole on Main St"))
    })
    .await;
    browser.screenshot("simulator").await;
    assert_eq!(app.scalar("select count(*) from issue").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_s_keypad_walks_the_ussd_menus_and_the_phone_gets_the_sms() {
    let Some(browser) = browser().await else {
        return;
    };
    let options = Options {
        auth_token: None,
        provider: "console",
        env: Vec::new(),
        ..Options::default()
    };
    let app = spawn_app_with(Backend::Sqlite, options).await.unwrap();
    browser.go(&format!("{}/simulator", app.address)).await;
    browser.click(".ussd-dial button").await;
    let screen = || async {
        browser
            .script("return document.querySelector('.ussd-screen')?.innerText || ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    eventually("the main menu", || async {
        screen().await.contains("1 Report a problem")
    })
    .await;
    for (input, shows) in [
        ("1", "What is the problem?"),
        ("1", "Where is it?"),
        ("Main St and 5th Ave", "Pothole: Main St and 5th Ave"),
        ("1", "Thanks! Report #1 (Pothole) is logged."),
    ] {
        browser
            .type_into(".ussd-form input[name=input]", input)
            .await;
        browser.click(".ussd-form button").await;
        eventually(shows, || async { screen().await.contains(shows) }).await;
        if shows.starts_with("Pothole:") {
            browser.screenshot("simulator-ussd").await;
        }
    }
    // The session ended: no answer line; the SMS that confirms it (the demo city placed the
    // intersection, so no neighbourhood question) reaches the phone beside.
    assert_eq!(
        browser
            .script("return document.querySelectorAll('.ussd-form').length")
            .await
            .as_i64(),
        Some(0)
    );
    eventually("the confirming SMS on the phone", || async {
        browser.go(&format!("{}/simulator", app.address)).await;
        browser
            .text()
            .await
            .contains("Report #1 (Pothole) is logged. Text STATUS 1")
    })
    .await;
    assert_eq!(app.scalar("select count(*) from issue").await, 1);
}

impl Browser {
    /// Logs in as agent@city.example through the login page and waits for the queue.
    async fn log_in(&self, address: &str, password: &str) {
        self.go(&format!("{address}/login")).await;
        self.type_into("input[name=email]", "agent@city.example")
            .await;
        self.type_into("input[name=password]", password).await;
        self.click("button[type=submit]").await;
        eventually("logged in", || async {
            self.text().await.contains("Queue")
        })
        .await;
    }

    /// Navigates (or goes `back`/`forward`) and returns how long the page took to load; fails
    /// the test when it did not load within the page-load timeout the test set.
    async fn timed(&self, what: &str, path: &str, body: Value) -> std::time::Duration {
        let started = std::time::Instant::now();
        let answer = self.call(reqwest::Method::POST, path, Some(body)).await;
        let took = started.elapsed();
        assert!(answer.is_null(), "{what}: {answer}");
        took
    }
}

/// Officials live in these pages all day, in several tabs: a stream per page used to take one
/// of the browser's six connections to the host each, so the seventh page never loaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_tabs_and_thirty_clicks_back_and_forth_each_load_within_two_seconds() {
    let Some(browser) = browser().await else {
        return;
    };
    let app = spawn_app_with(Backend::Sqlite, Options::default())
        .await
        .unwrap();
    app.text("+14158675309", "POTHOLE deep hole on Main St at 5th")
        .await;
    app.text("+14155550101", "LIGHT out on Elm St").await;
    let password = app.add_official("agent@city.example", "agent").await;
    browser.log_in(&app.address, &password).await;
    browser
        .call(
            reqwest::Method::POST,
            "/timeouts",
            Some(json!({"pageLoad": 2000})),
        )
        .await;
    let mut slowest = std::time::Duration::ZERO;
    for tab in 0..10 {
        let handle = browser
            .call(
                reqwest::Method::POST,
                "/window/new",
                Some(json!({"type": "tab"})),
            )
            .await["handle"]
            .as_str()
            .unwrap()
            .to_owned();
        browser
            .call(
                reqwest::Method::POST,
                "/window",
                Some(json!({"handle": handle})),
            )
            .await;
        let path = if tab % 2 == 0 { "/queue" } else { "/issues/1" };
        let url = format!("{}{path}", app.address);
        slowest = slowest.max(
            browser
                .timed(&format!("tab {tab}: {path}"), "/url", json!({"url": url}))
                .await,
        );
    }
    // In the last tab: issue, queue, issue, ... then back and forward through them.
    for step in 0..10 {
        let path = if step % 2 == 0 { "/issues/2" } else { "/queue" };
        let url = format!("{}{path}", app.address);
        slowest = slowest.max(
            browser
                .timed(
                    &format!("click {step}: {path}"),
                    "/url",
                    json!({"url": url}),
                )
                .await,
        );
    }
    for click in 0..30 {
        let way = if (click / 5) % 2 == 0 {
            "/back"
        } else {
            "/forward"
        };
        slowest = slowest.max(
            browser
                .timed(&format!("click {click}: {way}"), way, json!({}))
                .await,
        );
    }
    assert!(
        browser.text().await.contains("Queue"),
        "the last page shows"
    );
    // Every tab still gets live updates: a new text reloads the queue in a tab that is not
    // the one holding the stream.
    browser.go(&format!("{}/queue", app.address)).await;
    app.text("+14155550199", "GRAFFITI on the bridge").await;
    eventually("the queue reloads with the new report", || async {
        browser.text().await.contains("on the bridge")
    })
    .await;
    // An issue page reloads when its issue is among changes told together (one event every
    // two seconds at most): a report starts the stream's gap, another report and a follow-up
    // to #1 come within it.
    browser.go(&format!("{}/issues/1", app.address)).await;
    app.text("+14155550198", "TRASH not collected on Oak St")
        .await;
    app.text("+14155550197", "NOISE from the plant at night")
        .await;
    app.text("+14158675309", "It is right in front of number 42")
        .await;
    eventually("the issue page reloads with the follow-up", || async {
        browser.text().await.contains("in front of number 42")
    })
    .await;
    assert!(
        slowest < std::time::Duration::from_secs(2),
        "slowest page load: {slowest:?}"
    );
    // At a phone's width the pages do not scroll sideways.
    browser
        .call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 390, "height": 844})),
        )
        .await;
    for path in ["/queue", "/issues/1", "/login"] {
        browser.go(&format!("{}{path}", app.address)).await;
        let widths = browser
            .script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            .await;
        assert!(
            widths[0].as_f64() <= widths[1].as_f64(),
            "{path} scrolls sideways at 390 px: {widths}"
        );
    }
}
