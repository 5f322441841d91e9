//! Emails kept until the mail server took them: each is a row of the table of what it is about
//! (an overdue issue's `escalation`, a `spike`), claimed with a lease so replicas never send
//! one twice at once, marked sent, or tried again later. One set of statements serves every
//! such table (`statements!` writes them as `const` text from the table's fixed name).

use super::{Pools, Result, Store, on_tx};

/// What an email is about: the table it is a row of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Escalation,
    Spike,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Escalation, Kind::Spike];

    /// Its statements, written once for both tables by [`statements!`].
    fn sql(self) -> &'static Statements {
        const ESCALATION: Statements = statements!("escalation", "issue_id");
        const SPIKE: Statements = statements!("spike", "spike_id");
        match self {
            Kind::Escalation => &ESCALATION,
            Kind::Spike => &SPIKE,
        }
    }

    /// Its name in logs and metrics.
    pub fn as_str(self) -> &'static str {
        self.sql().table
    }
}

struct Statements {
    table: &'static str,
    claim: &'static str,
    /// Postgres: rows another replica is claiming are skipped, not waited for.
    claim_skip_locked: &'static str,
    sent: &'static str,
    retry: &'static str,
}

/// The statements of a table of kept emails and its key, as `const` text.
macro_rules! statements {
    ($table:literal, $key:literal) => {
        Statements {
            table: $table,
            claim: statements!(@claim $table, $key, ""),
            claim_skip_locked: statements!(@claim $table, $key, " for update skip locked"),
            sent: concat!(
                "update ", $table, " set sent_at = $3, attempts = attempts + 1, ",
                "lease_owner = null, lease_until = null, last_error = null ",
                "where ", $key, " = $1 and lease_owner = $2 and sent_at is null"
            ),
            retry: concat!(
                "update ", $table, " set attempts = attempts + 1, next_attempt_at = $4, ",
                "last_error = $3, lease_owner = null, lease_until = null ",
                "where ", $key, " = $1 and lease_owner = $2 and sent_at is null"
            ),
        }
    };
    (@claim $table:literal, $key:literal, $lock:literal) => {
        concat!(
            "update ", $table, " set lease_owner = $1, lease_until = $2 ",
            "where ", $key, " in (select ", $key, " from ", $table, " where sent_at is null ",
            "and next_attempt_at <= $3 and (lease_until is null or lease_until < $3) ",
            "order by next_attempt_at limit $4", $lock, ") ",
            "returning ", $key, " as id, recipient, subject, body, attempts"
        )
    };
}
use statements;

/// An email claimed for sending.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Mail {
    /// Its row's key (the issue of an escalation, the spike's id).
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// Claims up to `limit` emails of `kind` that are due, for `lease_ms`.
pub async fn claim(
    store: &Store,
    kind: Kind,
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Mail>> {
    let sql = match store.pools() {
        Pools::Sqlite(_) => kind.sql().claim,
        Pools::Postgres(_) => kind.sql().claim_skip_locked,
    };
    let mut tx = store.begin().await?;
    let mails = on_tx!(&mut tx, conn => sqlx::query_as::<_, Mail>(sql)
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?);
    tx.commit().await?;
    Ok(mails)
}

/// The mail server took it.
pub async fn sent(store: &Store, kind: Kind, id: i64, owner: &str, now: i64) -> Result<bool> {
    let sql = kind.sql().sent;
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, conn => sqlx::query(sql).bind(id).bind(owner).bind(now).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(n == 1)
}

/// It could not be sent: tried again at `next_attempt_at`.
pub async fn retry_later(
    store: &Store,
    kind: Kind,
    id: i64,
    owner: &str,
    error: &str,
    next_attempt_at: i64,
) -> Result<bool> {
    let sql = kind.sql().retry;
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, conn => sqlx::query(sql)
        .bind(id)
        .bind(owner)
        .bind(error)
        .bind(next_attempt_at)
        .execute(conn)
        .await?
        .rows_affected());
    tx.commit().await?;
    Ok(n == 1)
}
