//! Public reads for Open311 and exports. Nothing here selects a phone number: the citizen table
//! is never joined. A hidden issue keeps its row (it is counted) but not its description, and
//! what citizens typed comes out scrubbed ([`Scrubber`]): every public read takes one.

use super::{Result, Store, Tx, on_pool, on_tx};
use crate::scrub::Scrubber;
use sha2::{Digest, Sha256};

/// An issue as open data.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicIssue {
    pub issue_id: i64,
    pub service_code: Option<String>,
    /// Empty when officials hid it.
    pub description: String,
    pub location: Option<String>,
    /// The places found in the report's words ("Main St & 5th Ave"), when any were.
    pub address: Option<String>,
    pub area: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    /// `None`: Unrouted.
    pub department: Option<String>,
    pub due_at: Option<i64>,
    pub status: String,
    /// The last public note of a status change (`resolved: filled on Tuesday`).
    pub status_note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The citizens who reported it: the first and those who joined ("me too").
    pub supporters: i64,
}

impl PublicIssue {
    /// The citizen's words (description, location) and the public note, scrubbed.
    fn scrubbed(mut self, scrub: &Scrubber) -> PublicIssue {
        self.description = scrubbed(scrub, self.description);
        self.location = self.location.map(|l| scrubbed(scrub, l));
        self.status_note = self.status_note.map(|n| scrubbed(scrub, n));
        self
    }
}

/// `text` scrubbed; most texts hold nothing to scrub and keep their allocation.
fn scrubbed(scrub: &Scrubber, text: String) -> String {
    let clean = match scrub.scrub(&text) {
        std::borrow::Cow::Owned(clean) => Some(clean),
        std::borrow::Cow::Borrowed(_) => None,
    };
    clean.unwrap_or(text)
}

const SELECT: &str = "select i.issue_id, i.service_code, \
     case when i.hidden_at is null then i.description else '' end as description, \
     case when i.hidden_at is null then i.location else null end as location, i.address, i.area, \
     i.lat, i.long, i.department, i.due_at, i.status, \
     (select e.body from issue_event e where e.issue_id = i.issue_id and e.kind = 'status' \
      order by e.issue_event_id desc limit 1) as status_note, i.created_at, i.updated_at, \
     cast(i.supporters as bigint) as supporters from issue i";

/// Which issues a public query wants.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub service_code: Option<String>,
    /// Inclusive bounds, unix ms.
    pub from: i64,
    pub to: i64,
    /// `Some(true)` open only, `Some(false)` closed only.
    pub open: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn issues(store: &Store, scrub: &Scrubber, q: &Query) -> Result<Vec<PublicIssue>> {
    let sql = format!(
        "{SELECT} where ($1 is null or i.service_code = $1) and i.created_at >= $2 and i.created_at <= $3 \
         and ($4 = 0 or ($4 = 1 and i.closed_at is null) or ($4 = 2 and i.closed_at is not null)) \
         order by i.created_at desc, i.issue_id desc limit $5 offset $6"
    );
    let open = match q.open {
        None => 0i64,
        Some(true) => 1,
        Some(false) => 2,
    };
    let rows = on_pool!(store, pool => sqlx::query_as::<_, PublicIssue>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(q.service_code.as_deref())
        .bind(q.from)
        .bind(q.to)
        .bind(open)
        .bind(q.limit)
        .bind(q.offset)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(|i| i.scrubbed(scrub)).collect())
}

pub async fn issue(store: &Store, scrub: &Scrubber, issue_id: i64) -> Result<Option<PublicIssue>> {
    let sql = format!("{SELECT} where i.issue_id = $1");
    let row = on_pool!(store, pool => sqlx::query_as::<_, PublicIssue>(sqlx::AssertSqlSafe(sql.clone())).bind(issue_id).fetch_optional(pool).await?);
    Ok(row.map(|i| i.scrubbed(scrub)))
}

/// A step of an issue's public history: filed, a status change with its public note,
/// confirmed fixed by the citizen, escalated as overdue. Internal notes and assignments are
/// officials' business and are not in it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicEvent {
    pub kind: String,
    /// For a status change, `status` or `status: public note`; empty otherwise.
    pub body: String,
    pub created_at: i64,
}

pub async fn public_events(
    store: &Store,
    scrub: &Scrubber,
    issue_id: i64,
) -> Result<Vec<PublicEvent>> {
    const SQL: &str = "select kind, case when kind = 'status' then body else '' end as body, \
         created_at from issue_event \
         where issue_id = $1 and kind in ('created', 'status', 'confirmed_fixed', 'escalated') \
         order by created_at, issue_event_id";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, PublicEvent>(SQL).bind(issue_id).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(|e| PublicEvent {
            body: scrub.scrub(&e.body).into_owned(),
            ..e
        })
        .collect())
}

/// Issues in id order after `after`, for streaming exports.
pub async fn export_page(
    store: &Store,
    scrub: &Scrubber,
    q: &Query,
    after: i64,
) -> Result<Vec<PublicIssue>> {
    let sql = format!(
        "{SELECT} where i.issue_id > $1 and ($2 is null or i.service_code = $2) and i.created_at >= $3 \
         and i.created_at <= $4 and ($5 = 0 or ($5 = 1 and i.closed_at is null) or ($5 = 2 and i.closed_at is not null)) \
         order by i.issue_id limit $6"
    );
    let open = match q.open {
        None => 0i64,
        Some(true) => 1,
        Some(false) => 2,
    };
    let rows = on_pool!(store, pool => sqlx::query_as::<_, PublicIssue>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(after)
        .bind(q.service_code.as_deref())
        .bind(q.from)
        .bind(q.to)
        .bind(open)
        .bind(q.limit)
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(|i| i.scrubbed(scrub)).collect())
}

/// Hides (or shows again) an issue's description in public output.
pub async fn set_hidden(tx: &mut Tx, issue_id: i64, hidden: bool, now: i64) -> Result<bool> {
    const SQL: &str = "update issue set hidden_at = case when $2 = 1 then coalesce(hidden_at, $3) else null end where issue_id = $1";
    let n = on_tx!(tx, conn => sqlx::query(SQL).bind(issue_id).bind(i64::from(hidden)).bind(now).execute(conn).await?.rows_affected());
    Ok(n == 1)
}

fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Creates an API key and returns it; only its hash is stored.
pub async fn create_api_key(store: &Store, name: &str, now: i64) -> Result<String> {
    const SQL: &str = "insert into api_key (name, key_hash, created_at) values ($1, $2, $3)";
    let key = format!("cl_{:032x}", rand::random::<u128>());
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(SQL).bind(name).bind(key_hash(&key)).bind(now).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(key)
}

/// The name of the live key `key`, if it is one.
pub async fn api_key_name(store: &Store, key: &str) -> Result<Option<String>> {
    const SQL: &str = "select name from api_key where key_hash = $1 and revoked_at is null";
    let name = on_pool!(store, pool => sqlx::query_scalar::<_, String>(SQL).bind(key_hash(key)).fetch_optional(pool).await?);
    Ok(name)
}

/// Files an issue that came from another channel (Open311 POST): no citizen, no phone.
pub async fn create_issue(
    store: &Store,
    service_code: &str,
    description: &str,
    location: Option<&str>,
    lat_long: Option<(f64, f64)>,
    source: &str,
    now: i64,
) -> Result<i64> {
    const SQL: &str = "insert into issue (citizen_id, service_code, description, location, lat, long, created_at, updated_at) \
         values (null, $1, $2, $3, $4, $5, $6, $6) returning issue_id";
    let mut tx = store.begin().await?;
    let id = on_tx!(&mut tx, conn => sqlx::query_scalar::<_, i64>(SQL)
        .bind(service_code)
        .bind(description)
        .bind(location)
        .bind(lat_long.map(|(lat, _)| lat))
        .bind(lat_long.map(|(_, long)| long))
        .bind(now)
        .fetch_one(&mut *conn)
        .await?);
    super::issues::add_event(&mut tx, id, "created", source, description, None, now).await?;
    tx.commit().await?;
    Ok(id)
}
