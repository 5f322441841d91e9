//! Officials' accounts on the web: argon2 passwords (checked off the async runtime), sessions in
//! our own database (tower-sessions, cookie HttpOnly + SameSite=Strict, Secure behind https),
//! the session id cycled at login (axum-login), and login attempts limited per email and per
//! client address, counted in the database.

use crate::store::officials::{self, Official};
use crate::store::sessions::SessionStore;
use crate::store::{self, Store};
use crate::web::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder, AuthUser, AuthnBackend, UserId};
use serde::Deserialize;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

impl AuthUser for Official {
    type Id = i64;

    fn id(&self) -> i64 {
        self.official_id
    }

    /// A password change logs out every session of the account.
    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

#[derive(Clone)]
pub struct Backend {
    store: Store,
}

#[derive(Clone, Deserialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("password check: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl AuthnBackend for Backend {
    type User = Official;
    type Credentials = Credentials;
    type Error = AuthError;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<Official>, AuthError> {
        let official = officials::by_email(&self.store, creds.email.trim()).await?;
        // Verify even when there is no such account, so timing does not tell which emails exist.
        let hash = official
            .as_ref()
            .map_or_else(|| DUMMY_HASH.clone(), |o| o.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || {
            password_auth::verify_password(creds.password, &hash).is_ok()
        })
        .await?;
        Ok(official.filter(|_| ok))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<Official>, AuthError> {
        Ok(officials::by_id(&self.store, *id).await?)
    }
}

/// An argon2 hash of a random password nobody knows, made once.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    password_auth::generate_hash(format!("{:032x}", rand::random::<u128>()))
});

pub type AuthSession = axum_login::AuthSession<Backend>;

/// Sessions and authentication for the officials' pages.
pub fn layer(store: &Store, secure: bool) -> AuthManagerLayer<Backend, SessionStore> {
    let sessions = SessionManagerLayer::new(SessionStore::new(store.clone()))
        .with_name("civicline_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));
    AuthManagerLayerBuilder::new(
        Backend {
            store: store.clone(),
        },
        sessions,
    )
    .build()
}

/// Login attempts a minute per email, then 429: slows password guessing to a crawl.
pub const ATTEMPTS_PER_EMAIL: i64 = 5;
/// Login attempts a minute per client address: one machine trying many emails, with room for
/// an office of officials behind one router.
pub const ATTEMPTS_PER_CLIENT: i64 = 20;

/// The limiter's key for an email as typed: the longest address there can be, in one case.
fn login_key(email: &str) -> String {
    const LONGEST_EMAIL: usize = 254;
    email
        .trim()
        .chars()
        .take(LONGEST_EMAIL)
        .collect::<String>()
        .to_lowercase()
}

/// The client's address: the TCP peer, or the header the reverse proxy sets
/// (`server.client_ip_header`; of `X-Forwarded-For` the last entry, the one the proxy added).
fn client_address(
    header: &str,
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> String {
    if !header.is_empty() {
        let given = headers
            .get_all(header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty());
        // A proxy that does not set it leaves every request under one key: limited, not open.
        return given.unwrap_or("unknown").chars().take(64).collect();
    }
    peer.map_or_else(|| "unknown".to_owned(), |peer| peer.ip().to_string())
}

/// True when this attempt is over the limit for its email or its client address. Counted in
/// the database, so three replicas allow five attempts, not fifteen.
async fn over_limit(store: &Store, email: &str, client: &str) -> store::Result<bool> {
    let email_key = format!("email:{}", login_key(email));
    let client_key = format!("client:{client}");
    let counts =
        store::login_attempts::record(store, &[&email_key, &client_key], store::now_ms()).await?;
    Ok(counts[0] > ATTEMPTS_PER_EMAIL || counts[1] > ATTEMPTS_PER_CLIENT)
}

/// The official behind this request; pages redirect to the login page without one.
pub struct Signed(pub Official);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(|(status, message)| (status, message).into_response())?;
        match auth.user {
            Some(official) => Ok(Signed(official)),
            None if parts.method == axum::http::Method::GET => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/queue", |pq| pq.as_str());
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                Err(Redirect::to(&format!("/login?{query}")).into_response())
            }
            None => Err(super::refusal(
                StatusCode::UNAUTHORIZED,
                "Log in first",
                "Your session has ended. Log in again, then repeat what you did.",
            )),
        }
    }
}

/// An official who may act on issues (agent or admin); viewers get 403.
pub struct Acting(pub Official);

impl FromRequestParts<AppState> for Acting {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Signed(official) = Signed::from_request_parts(parts, state).await?;
        if official.can_act() {
            Ok(Acting(official))
        } else {
            Err(super::refusal(
                StatusCode::FORBIDDEN,
                "Viewers cannot change reports",
                "Your account can read the queue. Ask an admin for an agent's account to act.",
            ))
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub error: Option<&'static str>,
    pub next: String,
    pub email: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Where to go after logging in: a path on this site, else `/queue`, so the login form cannot
/// bounce anyone elsewhere. `next` is resolved against `server.public_url` as a browser would
/// resolve it (tabs and newlines dropped, `\\` read as `/`) and kept only when it lands on the
/// same origin; what is returned is written out again from the parsed URL (percent-encoded), so
/// it is always a valid `Location` header, whatever the input held.
fn safe_next(public_url: &str, next: Option<&str>) -> String {
    const HOME: &str = "/queue";
    let Some(next) = next.filter(|n| n.starts_with('/')) else {
        return HOME.to_owned();
    };
    let Ok(base) = url::Url::parse(public_url) else {
        return HOME.to_owned();
    };
    let Ok(target) = base.join(next) else {
        return HOME.to_owned();
    };
    if target.origin() != base.origin() {
        return HOME.to_owned();
    }
    let mut path = target.path().to_owned();
    if let Some(query) = target.query() {
        path.push('?');
        path.push_str(query);
    }
    // `/.//evil.example` resolves to the path `//evil.example`, which a browser reads as a host.
    if path.starts_with("//") {
        return HOME.to_owned();
    }
    path
}

pub async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
) -> LoginPage {
    LoginPage {
        error: None,
        next: safe_next(&state.public_url, query.next.as_deref()),
        email: String::new(),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[tracing::instrument(name = "web.login", skip_all)]
pub async fn login(
    State(state): State<AppState>,
    mut auth: AuthSession,
    headers: axum::http::HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(&state.public_url, form.next.as_deref());
    let page = |error| LoginPage {
        error: Some(error),
        next: next.clone(),
        email: form.email.clone(),
    };
    let peer = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
    let client = client_address(&state.client_ip_header, &headers, peer);
    match over_limit(state.gateway.store(), &form.email, &client).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::warn!("login attempts over the limit: refused");
            return (
                StatusCode::TOO_MANY_REQUESTS,
                page("Too many attempts. Wait a minute and try again."),
            )
                .into_response();
        }
        Err(error) => {
            tracing::error!(%error, "counting login attempts failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                page("Could not log in right now. Try again."),
            )
                .into_response();
        }
    }
    let creds = Credentials {
        email: form.email.clone(),
        password: form.password,
    };
    match auth.authenticate(creds).await {
        Ok(Some(official)) => {
            // A new session id at every login: axum-login cycles it only for anonymous
            // sessions, and a login should never inherit a session, whoever held it.
            if auth.user.is_some()
                && let Err(error) = auth.session.cycle_id().await
            {
                tracing::error!(%error, "cycling the session id failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    page("Could not log in right now. Try again."),
                )
                    .into_response();
            }
            if let Err(error) = auth.login(&official).await {
                tracing::error!(%error, "starting a session failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    page("Could not log in right now. Try again."),
                )
                    .into_response();
            }
            tracing::info!(official_id = official.official_id, "official logged in");
            Redirect::to(&next).into_response()
        }
        Ok(None) => (StatusCode::UNAUTHORIZED, page("Wrong email or password.")).into_response(),
        Err(error) => {
            tracing::error!(%error, "login failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                page("Could not log in right now. Try again."),
            )
                .into_response()
        }
    }
}

pub async fn logout(mut auth: AuthSession) -> Response {
    match auth.logout().await {
        Ok(_) => Redirect::to("/login").into_response(),
        Err(error) => {
            tracing::error!(%error, "logout failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not log out, try again\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{client_address, login_key, safe_next};

    #[test]
    fn the_client_is_the_peer_or_the_last_address_the_proxy_added() {
        let peer = Some("203.0.113.9:51000".parse().unwrap());
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "198.51.100.1, 192.0.2.44".parse().unwrap(),
        );
        assert_eq!(client_address("", &headers, peer), "203.0.113.9");
        assert_eq!(
            client_address("x-forwarded-for", &headers, peer),
            "192.0.2.44"
        );
        assert_eq!(client_address("x-real-ip", &headers, peer), "unknown");
    }

    #[test]
    fn only_a_path_on_this_site_is_a_place_to_go_after_login() {
        let site = "https://sms.city.example";
        for (next, to) in [
            ("/issues/7", "/issues/7"),
            (
                "/queue?status=open&q=Main%20St",
                "/queue?status=open&q=Main%20St",
            ),
            ("/queue?q=Main St", "/queue?q=Main%20St"),
            ("/\t/evil.example/", "/queue"),
            ("/\n/evil.example/", "/queue"),
            ("//evil.example/", "/queue"),
            ("/\\evil.example/", "/queue"),
            ("/.//evil.example/", "/queue"),
            ("https://evil.example/", "/queue"),
            ("https://sms.city.example/issues/1", "/queue"),
            ("javascript:alert(1)", "/queue"),
            ("issues/7", "/queue"),
            ("", "/queue"),
        ] {
            assert_eq!(safe_next(site, Some(next)), to, "{next:?}");
        }
        assert_eq!(safe_next(site, None), "/queue");
        // CR and LF never reach a header: they are dropped or encoded.
        let header = safe_next(site, Some("/queue\r\nSet-Cookie: x=1"));
        assert!(
            axum::http::HeaderValue::from_str(&header).is_ok(),
            "{header:?}"
        );
        assert!(
            !header.contains('\r') && !header.contains('\n'),
            "{header:?}"
        );
    }

    #[test]
    fn an_email_is_one_limiter_entry_whatever_its_case_spacing_or_length() {
        assert_eq!(login_key("  Agent@City.EXAMPLE "), "agent@city.example");
        // A made-up address of any length costs the limiter at most the longest real one.
        let long = "x".repeat(100_000);
        assert_eq!(login_key(&long).len(), 254);
        assert_eq!(login_key(&long), login_key(&format!("{long}@city.example")));
    }
}
