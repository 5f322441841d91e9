//! Officials' accounts, logins and pages, through a client that does not follow redirects.

use super::TestApp;
use civicline::providers::form::Form;

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

    /// Creates an account working in `department` and returns its password.
    pub async fn add_official_in(&self, email: &str, role: &str, department: &str) -> String {
        let password = format!("pw-{email}-long-enough");
        let hash = password_auth::generate_hash(&password);
        let store = civicline::store::Store::connect(&self.settings.database.url, 1)
            .await
            .unwrap();
        let now = civicline::store::now_ms();
        civicline::store::officials::upsert(&store, email, &hash, role, Some(department), now)
            .await
            .unwrap();
        store.close().await;
        password
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

/// Creates an account in the database at `url` and returns its password.
pub async fn add_official(url: &civicline::config::DatabaseUrl, email: &str, role: &str) -> String {
    let password = format!("pw-{email}-long-enough");
    let hash = password_auth::generate_hash(&password);
    let store = civicline::store::Store::connect(url, 1).await.unwrap();
    civicline::store::officials::upsert(
        &store,
        email,
        &hash,
        role,
        None,
        civicline::store::now_ms(),
    )
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
