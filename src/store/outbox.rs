//! The outbox: outbound messages waiting for the delivery worker.
//!
//! A row is written in the same transaction as the message it carries. Workers claim due rows
//! with a lease (`lease_until`, `lease_owner`); a worker that dies holding a lease simply lets it
//! run out and another worker claims the row again. Every later change checks that the lease is
//! still the claimer's, so a worker that stalled past its lease cannot overwrite a newer claim.
//! On Postgres, concurrent claimers skip each other's rows (`for update skip locked`); SQLite
//! has one writer, so its claim needs no locking clause.

use super::messages::{self, NewOutbound};
use super::query::query;
use super::{Exec, LaneTx, Pools, Result, Store, Tx, on_tx};

/// Why a message is going out; decides priority and whether consent is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An automatic reply to the citizen's own message.
    Reply,
    /// The one confirmation of an opt-out: sent even though the citizen just opted out.
    Consent,
    /// An official's reply from the queue.
    Official,
    /// A status notice (resolved, …).
    Notice,
    /// A broadcast to a topic's subscribers.
    Broadcast,
    /// A poll's question to its recipients.
    Poll,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reply => "reply",
            Kind::Consent => "consent",
            Kind::Official => "official",
            Kind::Notice => "notice",
            Kind::Broadcast => "broadcast",
            Kind::Poll => "poll",
        }
    }

    /// Lower goes first: a citizen waiting for an answer beats a broadcast.
    pub fn priority(self) -> i64 {
        match self {
            Kind::Reply | Kind::Consent | Kind::Official => 0,
            Kind::Notice => 5,
            Kind::Broadcast | Kind::Poll => 10,
        }
    }
}

/// Puts a stored outbound message on the outbox, due now.
async fn enqueue(tx: &mut impl Exec, message_id: i64, kind: Kind, now: i64) -> Result<()> {
    const SQL: &str = "insert into outbox (message_id, kind, priority, next_attempt_at, created_at) \
         values ($1, $2, $3, $4, $4)";
    query(SQL)
        .bind(message_id)
        .bind(kind.as_str())
        .bind(kind.priority())
        .bind(now)
        .execute(tx)
        .await?;
    Ok(())
}

/// Stores an outbound message (status `queued`) and puts it on the outbox: the way every
/// message that does not ride on a webhook's response leaves, one at a time (a broadcast's and
/// a round's replies have their set forms, `broadcasts::create` and `PgBatch::flush`). Returns
/// the message id.
pub async fn queue(tx: &mut impl Exec, message: NewOutbound<'_>, kind: Kind) -> Result<i64> {
    let now = message.now;
    let message_id = messages::insert_outbound(
        tx,
        NewOutbound {
            status: "queued",
            ..message
        },
    )
    .await?;
    enqueue(tx, message_id, kind, now).await?;
    Ok(message_id)
}

/// The writer lane's reply to an inbound message (`m.in_reply_to`): stored, and put on the
/// outbox when `outbox` says how it leaves (`None`: it rides on the webhook's response). Returns
/// its id; `None` in a Postgres round that defers, which stores it with the round's other
/// replies and their outbox entries when it ends (its set form, `PgBatch::flush`; the id is
/// in what `LaneTx::flush` returns).
pub async fn reply(
    tx: &mut LaneTx,
    m: NewOutbound<'_>,
    outbox: Option<Kind>,
) -> Result<Option<i64>> {
    if let Some(in_reply_to) = m.in_reply_to
        && let Some(deferred) = tx.deferred()
    {
        let status = if outbox.is_some() { "queued" } else { m.status };
        let (body, cost) = messages::as_sent(m.body);
        deferred.reply(super::batch::Reply {
            citizen_id: m.citizen_id,
            issue_id: m.issue_id,
            provider: m.provider.as_str(),
            in_reply_to,
            segments: cost.count as i64,
            encoding: cost.encoding.as_str(),
            body: body.into_owned(),
            status: status.to_owned(),
            status_rank: crate::sms::status_rank(status).unwrap_or(0),
            created_at: m.now,
            outbox,
        });
        return Ok(None);
    }
    Ok(Some(match outbox {
        Some(kind) => queue(tx, m, kind).await?,
        None => messages::insert_outbound(tx, m).await?,
    }))
}

/// A claimed row with what it takes to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub outbox_id: i64,
    pub message_id: i64,
    pub kind: String,
    pub attempts: i64,
    /// When the row was queued: retries stop after `delivery.max_age_secs`.
    pub created_at: i64,
    pub lease_until: i64,
    pub citizen_id: i64,
    number_key: String,
    number_sealed: Option<String>,
    /// The number to send to, opened from the citizen row.
    #[sqlx(skip)]
    pub phone: String,
    pub body: String,
    /// Read at claim time: a STOP that arrived after queueing still wins.
    pub opted_out_at: Option<i64>,
}

/// The fence on every change after a claim.
#[derive(Debug, Clone)]
pub struct Lease<'a> {
    pub owner: &'a str,
    pub until: i64,
}

/// Claims up to `limit` due rows, replies before bulk, for `lease_ms`, each with its number
/// opened (the delivery worker is one of the few paths that need it).
pub async fn claim(
    store: &Store,
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Claimed>> {
    const SQLITE: &str = "update outbox set lease_until = $1, lease_owner = $2 where outbox_id in (\
         select outbox_id from outbox \
         where next_attempt_at <= $3 and (lease_until is null or lease_until < $3) \
         order by priority, next_attempt_at limit $4) returning outbox_id";
    const POSTGRES: &str = "update outbox set lease_until = $1, lease_owner = $2 where outbox_id in (\
         select outbox_id from outbox \
         where next_attempt_at <= $3 and (lease_until is null or lease_until < $3) \
         order by priority, next_attempt_at limit $4 for update skip locked) returning outbox_id";
    // The claimed rows by their ids (a JSON array on SQLite): looking them up by their lease
    // read the whole outbox, 15 ms a claim with a 100,000-message poll waiting.
    const DETAILS: &str = "select o.outbox_id, o.message_id, o.kind, o.attempts, o.created_at, \
         o.lease_until, c.citizen_id, c.number_key, c.number_sealed, m.body, c.opted_out_at \
         from outbox o join message m on m.message_id = o.message_id \
         join citizen c on c.citizen_id = m.citizen_id \
         where o.outbox_id in (select value from json_each($1)) \
         order by o.priority, o.next_attempt_at";
    const DETAILS_PG: &str = "select o.outbox_id, o.message_id, o.kind, o.attempts, o.created_at, \
         o.lease_until, c.citizen_id, c.number_key, c.number_sealed, m.body, c.opted_out_at \
         from outbox o join message m on m.message_id = o.message_id \
         join citizen c on c.citizen_id = m.citizen_id \
         where o.outbox_id = any($1) \
         order by o.priority, o.next_attempt_at";
    let until = now + lease_ms;
    let mut tx = store.begin().await?;
    let sql = match store.pools() {
        Pools::Sqlite(_) => SQLITE,
        Pools::Postgres(_) => POSTGRES,
    };
    let claimed: Vec<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(sql)
        .bind(until)
        .bind(owner)
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?);
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = match &mut tx {
        Tx::Sqlite(conn) => {
            let ids = format!(
                "[{}]",
                claimed
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            sqlx::query_as::<_, Claimed>(DETAILS)
                .bind(ids)
                .fetch_all(&mut **conn)
                .await?
        }
        Tx::Postgres(conn) => {
            sqlx::query_as::<_, Claimed>(DETAILS_PG)
                .bind(&claimed)
                .fetch_all(&mut **conn)
                .await?
        }
    };
    tx.commit().await?;
    for row in &mut rows {
        row.phone = store
            .seal()
            .open(&row.number_key, row.number_sealed.as_deref())?;
    }
    Ok(rows)
}

/// Removes a row whose message has reached an outcome. `false` when the lease was lost.
pub async fn remove(tx: &mut Tx, outbox_id: i64, lease: &Lease<'_>) -> Result<bool> {
    const SQL: &str =
        "delete from outbox where outbox_id = $1 and lease_owner = $2 and lease_until = $3";
    let n = on_tx!(tx, conn => sqlx::query(SQL)
        .bind(outbox_id)
        .bind(lease.owner)
        .bind(lease.until)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(n == 1)
}

/// Releases a row for another attempt at `next_attempt_at`.
pub async fn retry_later(
    store: &Store,
    outbox_id: i64,
    lease: &Lease<'_>,
    next_attempt_at: i64,
    error: &str,
) -> Result<bool> {
    give_back(store, outbox_id, lease, Some(next_attempt_at), error).await
}

/// Gives a row back as it was, counting no attempt (nothing was sent: the gateway was away).
pub async fn release(
    store: &Store,
    outbox_id: i64,
    lease: &Lease<'_>,
    error: &str,
) -> Result<bool> {
    give_back(store, outbox_id, lease, None, error).await
}

/// Frees a leased row with its error; with a time, as a failed attempt due again then.
async fn give_back(
    store: &Store,
    outbox_id: i64,
    lease: &Lease<'_>,
    next_attempt_at: Option<i64>,
    error: &str,
) -> Result<bool> {
    const SQL: &str = "update outbox set attempts = attempts + $6, \
         next_attempt_at = coalesce($4, next_attempt_at), \
         lease_until = null, lease_owner = null, last_error = $5 \
         where outbox_id = $1 and lease_owner = $2 and lease_until = $3";
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, conn => sqlx::query(SQL)
        .bind(outbox_id)
        .bind(lease.owner)
        .bind(lease.until)
        .bind(next_attempt_at)
        .bind(error)
        .bind(i64::from(next_attempt_at.is_some()))
        .execute(conn)
        .await?
        .rows_affected());
    tx.commit().await?;
    Ok(n == 1)
}

/// Rows in the outbox, and the age in milliseconds of the oldest (for metrics and tests).
pub async fn depth(store: &Store, now: i64) -> Result<(i64, i64)> {
    const SQL: &str = "select count(*), coalesce(min(created_at), $1) from outbox";
    let (count, oldest): (i64, i64) =
        super::on_pool!(store, pool => sqlx::query_as(SQL).bind(now).fetch_one(pool).await?);
    Ok((count, now - oldest))
}
