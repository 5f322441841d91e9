//! Settings: commented defaults in `config/civicline.toml`, an optional TOML file (`--config` or
//! `CIVICLINE_CONFIG`), then environment variables `CIVICLINE_<SECTION>__<KEY>`, later layers
//! winning. Secrets are a [`Secret`] and never appear in `Debug` or in `civicline config`.

pub use crate::secret::Secret;
use crate::sms::Provider;
use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The defaults, with a comment on every key; `civicline config` prints the effective values.
pub const DEFAULTS_TOML: &str = include_str!("../config/civicline.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub sms: SmsSettings,
    pub twilio: TwilioSettings,
    pub africastalking: AfricasTalkingSettings,
    pub smsgate: SmsgateSettings,
    pub gateway: GatewaySettings,
    pub crowd: CrowdSettings,
    pub spikes: SpikeSettings,
    pub delivery: DeliverySettings,
    pub log: LogSettings,
    pub places: PlacesSettings,
    /// `[[department]]` tables: who does what, where (see [`DepartmentSettings`]).
    #[serde(default)]
    pub department: Vec<DepartmentSettings>,
    pub sla: SlaSettings,
    pub smtp: SmtpSettings,
    pub privacy: PrivacySettings,
    /// The file these settings were read from, if any (a refusal names its line).
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

/// What open data leaves out of what citizens type, and how their numbers are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrivacySettings {
    /// Words (names, say) shown as `[redacted]` in public outputs, besides phone numbers and
    /// email addresses, which always are.
    #[serde(default)]
    pub scrub_words: Vec<String>,
    /// Base64 of 32 random bytes (`civicline keys new`): citizens' numbers are sealed at rest
    /// under it. Unset: numbers are kept in clear (a trial), and the server says so.
    #[serde(default)]
    pub seal_key: Option<Secret>,
    /// The key a rotation moves to (`civicline keys rotate`); new rows are sealed under it
    /// while it is set.
    #[serde(default)]
    pub new_seal_key: Option<Secret>,
    /// Citizens whose reports were all closed, and who last texted, longer ago than this are
    /// anonymized by the hourly housekeeping (number gone unless they opted out, words
    /// scrubbed). Unset: kept until an operator acts (`civicline retention`).
    #[serde(default)]
    pub anonymize_after_days: Option<f64>,
}

impl PrivacySettings {
    /// The time before which a citizen's last report must have closed for retention to
    /// anonymize them, at `now`; `None` when retention is off.
    pub fn retention_before(&self, now: i64) -> Option<i64> {
        let days = self.anonymize_after_days.filter(|d| *d > 0.0)?;
        Some(now - (days * 86_400_000.0) as i64)
    }
}

/// The mail server that escalations go through.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpSettings {
    /// `smtp://host:25` (plain), `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465`,
    /// credentials as `smtp://user:password@host`. Unset: escalations wait, unsent.
    pub url: Option<Secret>,
    /// The sender, e.g. `civicline <civicline@city.example>`.
    pub from: String,
    /// The first retry of an email that could not be sent waits this long; it doubles each
    /// time, up to an hour, and never stops.
    pub retry_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlacesSettings {
    /// A GeoJSON FeatureCollection imported at start (as `civicline places import FILE`);
    /// empty: the places imported last (none: the demo city with the console provider).
    pub file: String,
    /// How often a server looks for places imported by another process, in seconds.
    pub check_interval_secs: u64,
}

/// A department: the reports it takes, by category and area; the first department (in the
/// order of the file) whose rules both match takes a report, and an empty list matches all.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DepartmentSettings {
    pub name: String,
    /// Where its escalations go.
    #[serde(default)]
    pub email: String,
    /// Service codes (`pothole`, `streetlight`...); empty: every category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Area names, as in the places file; empty: everywhere.
    #[serde(default)]
    pub areas: Vec<String>,
    /// The email of the agent or admin its new reports are assigned to; empty: nobody.
    #[serde(default)]
    pub default_assignee: String,
}

/// `[sla]`: the hours to fix a report, by service code (`pothole = 72`; fractions allowed),
/// counted in working time when `business_hours` is set, and `check_interval_secs`, how often
/// overdue work is looked for. One flat table, so the service codes sit beside the calendar
/// keys as the contract has them; read through [`SlaValue`] so an environment value (always a
/// string, `CIVICLINE_SLA__POTHOLE=72`) counts as the number it spells.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, SlaValue>",
    into = "BTreeMap<String, SlaValue>"
)]
pub struct SlaSettings {
    pub check_interval_secs: u64,
    /// `"08:00-17:00"`: promises count only these hours of working days; empty: every hour.
    pub business_hours: String,
    /// The working days (`mon` ... `sun`) when `business_hours` is set.
    pub business_days: Vec<String>,
    /// Days off (`2026-12-25`) when `business_hours` is set.
    pub holidays: Vec<String>,
    /// The city's time zone (IANA name) for business hours and holidays.
    pub timezone: String,
    /// Every other key: a service code and its hours.
    pub hours: BTreeMap<String, f64>,
}

/// A value of `[sla]` as written: a number, a list, or a string (which may spell either).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SlaValue {
    Number(f64),
    List(Vec<String>),
    Text(String),
}

impl SlaValue {
    fn number(&self) -> Option<f64> {
        match self {
            SlaValue::Number(n) => Some(*n),
            SlaValue::Text(text) => text.trim().parse().ok(),
            SlaValue::List(_) => None,
        }
    }

    fn text(self) -> String {
        match self {
            SlaValue::Number(n) => n.to_string(),
            SlaValue::Text(text) => text,
            SlaValue::List(list) => list.join(","),
        }
    }

    /// A list, or a string of comma-separated items (`CIVICLINE_SLA__HOLIDAYS=2026-12-25,...`).
    fn list(self) -> Vec<String> {
        match self {
            SlaValue::List(list) => list,
            other => other
                .text()
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

impl TryFrom<BTreeMap<String, SlaValue>> for SlaSettings {
    type Error = String;

    fn try_from(mut map: BTreeMap<String, SlaValue>) -> Result<Self, String> {
        let interval = map.remove("check_interval_secs").and_then(|v| v.number());
        let text = |map: &mut BTreeMap<String, SlaValue>, key: &str| {
            map.remove(key).map(SlaValue::text).unwrap_or_default()
        };
        let list = |map: &mut BTreeMap<String, SlaValue>, key: &str| {
            map.remove(key).map(SlaValue::list).unwrap_or_default()
        };
        let business_hours = text(&mut map, "business_hours");
        let timezone = text(&mut map, "timezone");
        let business_days = list(&mut map, "business_days");
        let holidays = list(&mut map, "holidays");
        let mut hours = BTreeMap::new();
        for (code, value) in map {
            let Some(n) = value.number() else {
                return Err(format!(
                    "[sla] {code}: expected the hours to fix a report of service code {code:?}, \
                     a number (or one of check_interval_secs, business_hours, business_days, \
                     holidays, timezone)"
                ));
            };
            hours.insert(code, n);
        }
        Ok(SlaSettings {
            check_interval_secs: match interval {
                Some(secs) if secs.is_finite() && secs >= 1.0 => secs as u64,
                _ => 60,
            },
            business_hours,
            business_days,
            holidays,
            timezone: if timezone.trim().is_empty() {
                "UTC".to_owned()
            } else {
                timezone
            },
            hours,
        })
    }
}

impl From<SlaSettings> for BTreeMap<String, SlaValue> {
    fn from(sla: SlaSettings) -> Self {
        let mut map: BTreeMap<String, SlaValue> = sla
            .hours
            .into_iter()
            .map(|(code, hours)| (code, SlaValue::Number(hours)))
            .collect();
        let entries = [
            (
                "check_interval_secs",
                SlaValue::Number(sla.check_interval_secs as f64),
            ),
            ("business_hours", SlaValue::Text(sla.business_hours)),
            ("business_days", SlaValue::List(sla.business_days)),
            ("holidays", SlaValue::List(sla.holidays)),
            ("timezone", SlaValue::Text(sla.timezone)),
        ];
        for (key, value) in entries {
            map.insert(key.to_owned(), value);
        }
        map
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerSettings {
    /// Address the HTTP server listens on.
    pub bind: String,
    /// The URL the SMS provider calls, without a trailing slash. Twilio signs requests over
    /// this URL, so it must be what the provider sees, not what the proxy forwards to.
    /// Empty means `http://<bind>`.
    pub public_url: String,
    /// Seconds before a request is answered 408; Twilio gives up after 15.
    pub request_timeout_secs: u64,
    /// Seconds that in-flight requests get to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Seconds the public dashboard is served from memory before its figures are read again.
    pub dashboard_cache_secs: u64,
    /// When set, `GET /metrics` answers only `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<Secret>,
    /// The header a reverse proxy puts the client's address in (`x-real-ip`,
    /// `x-forwarded-for`: its last entry); empty means the TCP peer's address.
    pub client_ip_header: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://civicline.db` (created if missing) or `postgres://user:pass@host/db`.
    pub url: DatabaseUrl,
    /// Connections in the pool (Postgres), readers (SQLite; writes go through one connection).
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsSettings {
    /// `console` (development), `twilio`, `africastalking` or `smsgate`.
    pub provider: String,
    /// ISO 3166 region for numbers that arrive without a `+` country code.
    pub default_region: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwilioSettings {
    pub account_sid: String,
    /// Verifies `X-Twilio-Signature` and authenticates API calls.
    pub auth_token: Option<Secret>,
    /// Our number (E.164) or sender id.
    pub from: String,
    pub api_base: String,
    /// `twiml`: replies ride on the webhook's HTTP response; `api`: through the outbox.
    pub reply: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AfricasTalkingSettings {
    pub username: String,
    pub api_key: Option<Secret>,
    pub from: String,
    pub api_base: String,
    /// Africa's Talking does not sign its callbacks: our callback URLs carry this secret as
    /// `?token=…`. Required when provider = "africastalking".
    pub webhook_token: Option<Secret>,
}

/// One problem, many voices: when a new report joins an open one as a supporter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrowdSettings {
    /// A report joins an open one of the same category and area filed at most this long ago.
    pub merge_window_days: f64,
    /// Two reports with points this close (metres) are the same place, whatever they named.
    pub merge_distance_m: f64,
}

impl CrowdSettings {
    pub fn window_ms(&self) -> i64 {
        (self.merge_window_days * 86_400_000.0) as i64
    }
}

/// When many reports of one problem in one place are news: the thresholds of a spike alert.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpikeSettings {
    /// At least this many reports in the window (0: spikes are off).
    pub reports: u32,
    pub window_minutes: u32,
    pub check_interval_secs: u64,
    /// And at least this many times the usual number in a window.
    pub factor: f64,
    /// The usual rate is measured over this many days before the window.
    pub baseline_days: u32,
}

impl SpikeSettings {
    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_minutes.max(1)) * 60_000
    }
}

/// An Android phone as the gateway (SMS Gateway for Android, local-server mode).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsgateSettings {
    /// The phone's API, `http://<address>:8080`.
    pub url: String,
    pub username: String,
    pub password: Option<Secret>,
    /// The app's webhook signing key; `/sms/smsgate` exists only when it is set.
    pub webhook_key: Option<Secret>,
    /// Seconds a webhook's `X-Timestamp` may be away from our clock.
    pub max_skew_secs: u64,
    /// At most one message per this many milliseconds through the phone.
    pub send_interval_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverySettings {
    /// Run the delivery worker inside `serve`.
    pub enabled: bool,
    /// Rows claimed at once and sent concurrently.
    pub batch_size: u32,
    /// How long a claim holds a row; a worker that dies frees its rows after this.
    pub lease_ms: u64,
    /// How often an idle worker looks for due rows that no wake-up announced.
    pub poll_interval_ms: u64,
    /// Attempts before a message is failed for good.
    pub max_attempts: u32,
    /// Age after which a message is not retried any more.
    pub max_age_secs: u64,
    /// First retry delay; it doubles each attempt, with jitter.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Messages per second handed to the provider; 0 = no limit.
    pub rate_per_second: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GatewaySettings {
    /// Keyword catalog; empty means the built-in `config/keywords.toml`.
    pub keywords: String,
    /// Free text within this many hours of a citizen's last report is a follow-up on it.
    pub followup_window_hours: u32,
    /// Minutes a question ("Where is it?") waits for its answer.
    pub question_timeout_minutes: u32,
    /// Days the "Is it fixed?" question waits after a report is resolved.
    pub fixed_question_days: u32,
    /// A number that sends more messages than this in a minute gets no more auto-replies and is
    /// flagged for officials (two auto-responders can loop forever); its messages are still
    /// stored. 0 turns the guard off.
    pub flood_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSettings {
    /// `text` for people, `json` for log collectors.
    pub format: String,
    /// A tracing filter; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Settings {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut figment = Figment::from(Toml::string(DEFAULTS_TOML));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let mut settings = Self::from_figment(figment.merge(env_provider(std::env::vars())))?;
        settings.file = file.map(Path::to_path_buf);
        Ok(settings)
    }

    /// The defaults overridden by the given `CIVICLINE_*` pairs only: for tests.
    pub fn from_env_pairs<I>(pairs: I) -> Result<Settings, Box<figment::Error>>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        Self::from_figment(Figment::from(Toml::string(DEFAULTS_TOML)).merge(env_provider(pairs)))
    }

    fn from_figment(figment: Figment) -> Result<Settings, Box<figment::Error>> {
        // Lossy: an environment value "3" fills a number field; strings stay strings.
        let mut settings: Settings = figment.extract_lossy().map_err(Box::new)?;
        settings.server.public_url = settings.server.public_url.trim_end_matches('/').to_owned();
        if settings.server.public_url.is_empty() {
            settings.server.public_url = format!("http://{}", settings.server.bind);
        }
        Ok(settings)
    }

    pub fn provider(&self) -> Result<Provider, String> {
        self.sms.provider.parse()
    }

    /// The effective settings as TOML, secrets replaced by `[redacted]`.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).expect("settings serialize to TOML")
    }
}

/// The line of a config file's `text` where the `[[department]]` named `department` names
/// `value` (one of its categories or areas, or its default assignee), for a refusal to point at.
pub fn department_line(text: &str, department: &str, value: &str) -> Option<usize> {
    use toml::Spanned;
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        department: Vec<Department>,
    }
    #[derive(Deserialize)]
    struct Department {
        #[serde(default)]
        name: String,
        #[serde(default)]
        categories: Vec<Spanned<String>>,
        #[serde(default)]
        areas: Vec<Spanned<String>>,
        default_assignee: Option<Spanned<String>>,
    }
    let file: File = toml::from_str(text).ok()?;
    let found = file
        .department
        .iter()
        .find(|d| d.name.trim() == department)?;
    let span = found
        .categories
        .iter()
        .chain(&found.areas)
        .chain(&found.default_assignee)
        .find(|v| v.get_ref().trim() == value)?
        .span();
    Some(text[..span.start].matches('\n').count() + 1)
}

/// `CIVICLINE_TWILIO__AUTH_TOKEN=x` becomes `twilio.auth_token = "x"`. Values stay strings
/// (figment converts them where a number is expected): figment's own `Env` reads
/// `+18005551212` as a number and loses the `+`.
fn env_provider<I>(pairs: I) -> Figment
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut figment = Figment::new();
    for (key, value) in pairs {
        let Some(rest) = key.strip_prefix("CIVICLINE_") else {
            continue;
        };
        if let Some((section, field)) = rest.split_once("__") {
            let path = format!("{}.{}", section.to_lowercase(), field.to_lowercase());
            figment = figment.merge(figment::providers::Serialized::default(&path, value));
        }
    }
    figment
}

/// A database URL whose password is hidden in `Debug` and in serialized output.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(url.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("redacted"));
                url.to_string()
            }
            Ok(_) => self.0.clone(),
            Err(_) => "[unparseable database url]".to_owned(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// Where the keyword catalog comes from.
impl GatewaySettings {
    pub fn keywords_path(&self) -> Option<PathBuf> {
        (!self.keywords.is_empty()).then(|| PathBuf::from(&self.keywords))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_themselves_and_empty_matches_nothing() {
        let secret = Secret::new("s3cret");
        assert!(secret.matches(Some("s3cret")));
        assert!(!secret.matches(Some("s3cre")));
        assert!(!secret.matches(Some("s3cret ")));
        assert!(!secret.matches(None));
        assert!(!Secret::new("").matches(Some("")));
    }

    #[test]
    fn a_department_s_value_is_found_at_its_line() {
        let text = "[server]\nbind = \"0.0.0.0:80\"\n\n[[department]]\nname = \"Roads\"\n\
            categories = [\"pothole\"]\n\n[[department]]\nname = \"Parks\"\ncategories = [\n  \
            \"noise\",\n  \"trees\",\n]\nareas = [\"Uptown\"]\ndefault_assignee = \"ana@x\"\n";
        assert_eq!(department_line(text, "Parks", "trees"), Some(12));
        assert_eq!(department_line(text, "Parks", "Uptown"), Some(14));
        assert_eq!(department_line(text, "Parks", "ana@x"), Some(15));
        assert_eq!(department_line(text, "Roads", "pothole"), Some(6));
        assert_eq!(department_line(text, "Roads", "trees"), None);
        assert_eq!(department_line("not toml [", "Roads", "x"), None);
    }

    #[test]
    fn sla_reads_hours_and_its_calendar_from_the_environment_too() {
        let settings = env(&[
            ("CIVICLINE_SLA__POTHOLE", "72"),
            ("CIVICLINE_SLA__TRASH", "0.5"),
            ("CIVICLINE_SLA__BUSINESS_HOURS", "08:00-17:00"),
            ("CIVICLINE_SLA__HOLIDAYS", "2026-12-25, 2027-01-01"),
            ("CIVICLINE_SLA__TIMEZONE", "Europe/Paris"),
        ]);
        let sla = &settings.sla;
        assert_eq!(sla.hours.get("pothole"), Some(&72.0));
        assert_eq!(sla.hours.get("trash"), Some(&0.5));
        assert_eq!(sla.hours.len(), 2, "{:?}", sla.hours);
        assert_eq!(sla.business_hours, "08:00-17:00");
        assert_eq!(sla.business_days, ["mon", "tue", "wed", "thu", "fri"]);
        assert_eq!(sla.holidays, ["2026-12-25", "2027-01-01"]);
        assert_eq!(sla.timezone, "Europe/Paris");
        assert_eq!(sla.check_interval_secs, 60);
        let refused = Settings::from_env_pairs([(
            "CIVICLINE_SLA__POTHOLE".to_owned(),
            "three days".to_owned(),
        )]);
        assert!(refused.unwrap_err().to_string().contains("pothole"));
    }

    fn env(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_env_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
    }

    #[test]
    fn defaults_give_a_local_sqlite_server_with_the_console_provider() {
        let s = env(&[]);
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.server.public_url, "http://127.0.0.1:8080");
        assert_eq!(s.database.url.expose(), "sqlite://civicline.db");
        assert_eq!(s.provider(), Ok(Provider::Console));
        assert!(s.twilio.auth_token.is_none());
    }

    #[test]
    fn environment_overrides_and_keeps_values_as_strings() {
        let s = env(&[
            ("CIVICLINE_TWILIO__FROM", "+18005551212"),
            ("CIVICLINE_TWILIO__AUTH_TOKEN", "12345"),
            ("CIVICLINE_DATABASE__MAX_CONNECTIONS", "3"),
            ("CIVICLINE_SERVER__PUBLIC_URL", "https://sms.example.org/"),
            ("CIVICLINE_USER_PASSWORD", "not a setting"),
        ]);
        assert_eq!(s.twilio.from, "+18005551212");
        assert_eq!(s.twilio.auth_token.as_ref().unwrap().expose(), "12345");
        assert_eq!(s.database.max_connections, 3);
        assert_eq!(s.server.public_url, "https://sms.example.org");
    }

    #[test]
    fn secrets_never_reach_debug_or_printed_config() {
        let s = env(&[
            ("CIVICLINE_TWILIO__AUTH_TOKEN", "tok-s3cret"),
            ("CIVICLINE_AFRICASTALKING__API_KEY", "at-s3cret"),
            (
                "CIVICLINE_DATABASE__URL",
                "postgres://civic:pg-s3cret@db.internal/civicline",
            ),
        ]);
        for shown in [format!("{s:?}"), s.to_redacted_toml()] {
            for secret in ["tok-s3cret", "at-s3cret", "pg-s3cret"] {
                assert!(!shown.contains(secret), "{secret} leaked in:\n{shown}");
            }
            assert!(shown.contains("[redacted]") || shown.contains("redacted@"));
        }
    }
}
