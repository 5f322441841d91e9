//! Officials' accounts on the web: argon2 passwords (checked off the async runtime), sessions in
//! our own database (tower-sessions, cookie HttpOnly + SameSite=Strict, Secure behind https),
//! the session id cycled at login (axum-login), and login attempts limited per email.

use crate::startup::AppState;
use crate::store::officials::{self, Official};
use crate::store::sessions::SessionStore;
use crate::store::{self, Store};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder, AuthUser, AuthnBackend, UserId};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use std::num::NonZeroU32;
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

/// Five login attempts a minute per email, then 429: slows password guessing to a crawl.
pub type LoginLimiter = DefaultKeyedRateLimiter<String>;

pub fn login_limiter() -> LoginLimiter {
    RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(5).expect("5 > 0")))
}

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

/// Every minute, forgets the emails with no attempt left to count (a minute after their last),
/// until dropped: the limiter holds an entry per email tried, and attempts with made-up
/// addresses would otherwise grow it for as long as the server runs.
pub async fn forget_idle_logins(limiter: std::sync::Arc<LoginLimiter>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
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
            None => Err((StatusCode::UNAUTHORIZED, "log in first\n").into_response()),
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
            Err((StatusCode::FORBIDDEN, "viewers cannot change issues\n").into_response())
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

/// Only same-site paths, so the login form cannot bounce anyone elsewhere.
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/queue".to_owned())
}

pub async fn login_page(Query(query): Query<NextQuery>) -> LoginPage {
    LoginPage {
        error: None,
        next: safe_next(query.next),
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
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next);
    let page = |error| LoginPage {
        error: Some(error),
        next: next.clone(),
        email: form.email.clone(),
    };
    if state
        .login_limiter
        .check_key(&login_key(&form.email))
        .is_err()
    {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            page("Too many attempts. Wait a minute and try again."),
        )
            .into_response();
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
    use super::login_key;

    #[test]
    fn an_email_is_one_limiter_entry_whatever_its_case_spacing_or_length() {
        assert_eq!(login_key("  Agent@City.EXAMPLE "), "agent@city.example");
        // A made-up address of any length costs the limiter at most the longest real one.
        let long = "x".repeat(100_000);
        assert_eq!(login_key(&long).len(), 254);
        assert_eq!(login_key(&long), login_key(&format!("{long}@city.example")));
    }
}
