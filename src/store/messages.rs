//! Every SMS in and out.

use super::query::query;
use super::{Exec, LaneTx, Result, Tx, on_tx};
use crate::seal::Seal;
use crate::sms::{Provider, Segments};

/// An inbound message about to be stored.
#[derive(Clone, Copy)]
pub struct NewInbound<'a> {
    pub citizen_id: i64,
    pub provider: Provider,
    pub provider_message_id: &'a str,
    pub body: &'a str,
    pub now: i64,
}

/// What an earlier delivery of the same webhook produced.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub message_id: i64,
    /// The reply we gave then, to give again; `None` when we stayed silent.
    pub reply: Option<String>,
    pub reply_message_id: Option<i64>,
}
super::query::row!(Delivered {
    message_id,
    reply,
    reply_message_id
});

/// Looks up an inbound message by the provider's id, with the reply it got.
pub async fn find_inbound(
    tx: &mut LaneTx,
    provider: Provider,
    provider_message_id: &str,
) -> Result<Option<Delivered>> {
    const SQL: &str = "select m.message_id, r.body as reply, r.message_id as reply_message_id from message m \
         left join message r on r.in_reply_to = m.message_id \
         where m.provider = $1 and m.provider_message_id = $2 and m.direction = 'in'";
    let found = query(SQL)
        .bind(provider.as_str())
        .bind(provider_message_id)
        .fetch_optional::<Delivered>(tx)
        .await?;
    Ok(found)
}

/// Stores an inbound message; `None` when one with the same provider id is already stored
/// (a concurrent delivery of the same webhook won the unique key).
pub async fn insert_inbound(tx: &mut LaneTx, m: NewInbound<'_>) -> Result<Option<i64>> {
    const SQL: &str = "insert into message (citizen_id, direction, provider, provider_message_id, \
         body, segments, encoding, status, created_at, updated_at) \
         values ($1, 'in', $2, $3, $4, $5, $6, 'received', $7, $7) \
         on conflict (provider, provider_message_id) do nothing \
         returning message_id";
    let cost = Segments::of(m.body);
    let id = query(SQL)
        .bind(m.citizen_id)
        .bind(m.provider.as_str())
        .bind(m.provider_message_id)
        .bind(m.body)
        .bind(cost.count as i64)
        .bind(cost.encoding.as_str())
        .bind(m.now)
        .fetch_inserted_id(tx)
        .await?;
    Ok(id)
}

/// [`insert_inbound`] for several messages, in their order. In a Postgres round that defers
/// (`LaneTx::start_round`) one statement takes their ids and they are written, filed, when the
/// round ends (`PgBatch::take_inbound_ids`); elsewhere one after the other. A message whose
/// (provider, id) is stored already, or comes twice, is `None` (after its first).
pub async fn insert_inbound_all(
    tx: &mut LaneTx,
    all: &[NewInbound<'_>],
) -> Result<Vec<Option<i64>>> {
    // The same webhook twice in a round (one id from two numbers: forged, or a provider's bug)
    // goes one by one, where the unique key answers the copy.
    let twice = || {
        all.iter().enumerate().any(|(i, m)| {
            all[..i].iter().any(|earlier| {
                earlier.provider == m.provider
                    && earlier.provider_message_id == m.provider_message_id
            })
        })
    };
    if let LaneTx::Round(batch) = &mut *tx
        && batch.defer
        && !twice()
    {
        return batch.take_inbound_ids(all).await;
    }
    let mut ids = Vec::with_capacity(all.len());
    for m in all {
        ids.push(insert_inbound(tx, *m).await?);
    }
    Ok(ids)
}

/// An outbound message about to be stored.
pub struct NewOutbound<'a> {
    pub citizen_id: i64,
    pub issue_id: Option<i64>,
    pub provider: Provider,
    /// The inbound message this answers, if it is an auto-reply.
    pub in_reply_to: Option<i64>,
    pub body: &'a str,
    /// `accepted` when it rides on the webhook's response; `queued` when it waits in the outbox.
    pub status: &'a str,
    pub now: i64,
}

/// An outbound text as it will be sent (typographic look-alikes replaced by GSM-7 characters)
/// and what it costs.
pub(super) fn as_sent(body: &str) -> (std::borrow::Cow<'_, str>, Segments) {
    let body = crate::sms::replace_lookalikes(body);
    let cost = Segments::of(&body);
    (body, cost)
}

/// Stores an outbound message. Its text is stored as it will be sent: typographic look-alikes
/// replaced by GSM-7 characters, so the segment count recorded is the one paid for. Called by
/// the outbox's two entry points only (`outbox::queue`, `outbox::reply`).
pub(super) async fn insert_outbound(tx: &mut impl Exec, m: NewOutbound<'_>) -> Result<i64> {
    const SQL: &str = "insert into message (citizen_id, issue_id, direction, provider, in_reply_to, \
         body, segments, encoding, status, status_rank, created_at, updated_at) \
         values ($1, $2, 'out', $3, $4, $5, $6, $7, $8, $10, $9, $9) \
         returning message_id";
    let (body, cost) = as_sent(m.body);
    let id = query(SQL)
        .bind(m.citizen_id)
        .bind(m.issue_id)
        .bind(m.provider.as_str())
        .bind(m.in_reply_to)
        .bind(body.as_ref())
        .bind(cost.count as i64)
        .bind(cost.encoding.as_str())
        .bind(m.status)
        .bind(m.now)
        .bind(crate::sms::status_rank(m.status).unwrap_or(0))
        .fetch_new_id(tx)
        .await?;
    Ok(id)
}

/// Marks a message for officials (`possible_opt_out`, `flood`).
pub async fn set_flag(tx: &mut LaneTx, message_id: i64, flag: &str) -> Result<()> {
    const SQL: &str = "update message set flag = $2 where message_id = $1";
    if let Some(deferred) = tx.deferred()
        && deferred.flag(message_id, flag)
    {
        return Ok(());
    }
    query(SQL).bind(message_id).bind(flag).execute(tx).await?;
    Ok(())
}

/// Files a message under an issue, so officials see it in the issue's thread (on the writer
/// lane's Postgres transaction, when its round ends).
pub async fn attach_to_issue(tx: &mut LaneTx, message_id: i64, issue_id: i64) -> Result<()> {
    if let Some(deferred) = tx.deferred() {
        deferred.file(message_id, issue_id);
        return Ok(());
    }
    const SQL: &str = "update message set issue_id = $2 where message_id = $1";
    query(SQL)
        .bind(message_id)
        .bind(issue_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// A status an outbound message may move to.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatusChange<'a> {
    pub status: &'a str,
    pub error_code: Option<&'a str>,
    /// Why it failed, in words.
    pub error_detail: Option<&'a str>,
    /// The provider's id, recorded the first time it is known.
    pub provider_message_id: Option<&'a str>,
}

/// Moves an outbound message to `status` if that is further along its lifecycle than where it
/// is (see `sms::status_rank`); records the provider's id the first time it is known. Unknown
/// status words change nothing. Returns whether the status moved.
pub async fn advance_status(
    tx: &mut Tx,
    message_id: i64,
    change: StatusChange<'_>,
    now: i64,
) -> Result<bool> {
    const SQL: &str = "update message set \
         status = case when status_rank < $3 then $2 else status end, \
         error_code = case when status_rank < $3 then coalesce($4, error_code) else error_code end, \
         error_detail = case when status_rank < $3 then coalesce($7, error_detail) else error_detail end, \
         status_rank = case when status_rank < $3 then $3 else status_rank end, \
         provider_message_id = coalesce(provider_message_id, $5), \
         updated_at = $6 \
         where message_id = $1 and direction = 'out'";
    const RANK: &str = "select status_rank from message where message_id = $1";
    let Some(rank) = crate::sms::status_rank(change.status) else {
        return Ok(false);
    };
    let before: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(RANK).bind(message_id).fetch_optional(&mut *conn).await?);
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(message_id)
        .bind(change.status)
        .bind(rank)
        .bind(change.error_code)
        .bind(change.provider_message_id)
        .bind(now)
        .bind(change.error_detail)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(before.is_some_and(|b| b < rank))
}

/// The outbound message a provider knows by `provider_message_id`.
pub async fn find_outbound(
    tx: &mut Tx,
    provider: Provider,
    provider_message_id: &str,
) -> Result<Option<i64>> {
    const SQL: &str = "select message_id from message \
         where provider = $1 and provider_message_id = $2 and direction = 'out'";
    let id = on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(SQL)
        .bind(provider.as_str())
        .bind(provider_message_id)
        .fetch_optional(conn)
        .await?);
    Ok(id)
}

/// Whether an outbound message with this id exists (a callback URL's `message_id` is untrusted).
pub async fn outbound_exists(tx: &mut Tx, message_id: i64) -> Result<bool> {
    const SQL: &str = "select count(*) from message where message_id = $1 and direction = 'out'";
    let n: i64 =
        on_tx!(tx, conn => sqlx::query_scalar(SQL).bind(message_id).fetch_one(conn).await?);
    Ok(n == 1)
}

/// The issue a message belongs to, if any.
pub async fn issue_of(tx: &mut Tx, message_id: i64) -> Result<Option<i64>> {
    const SQL: &str = "select issue_id from message where message_id = $1";
    let id: Option<Option<i64>> =
        on_tx!(tx, conn => sqlx::query_scalar(SQL).bind(message_id).fetch_optional(conn).await?);
    Ok(id.flatten())
}

/// The issue an inbound message filed or joined, found by the provider's id (a USSD session's
/// report, for the screen that confirms it).
pub async fn issue_of_inbound(
    store: &super::Store,
    provider: Provider,
    provider_message_id: &str,
) -> Result<Option<i64>> {
    const SQL: &str = "select issue_id from message \
         where provider = $1 and provider_message_id = $2 and direction = 'in'";
    let id: Option<Option<i64>> = super::on_pool!(store, pool => sqlx::query_scalar(SQL)
        .bind(provider.as_str())
        .bind(provider_message_id)
        .fetch_optional(pool)
        .await?);
    Ok(id.flatten())
}

/// A delivery status callback as received.
pub struct NewDeliveryEvent<'a> {
    pub message_id: Option<i64>,
    pub provider: Provider,
    pub provider_message_id: Option<&'a str>,
    pub status: &'a str,
    pub error_code: Option<&'a str>,
    /// The callback's form, encoded as it can be replayed.
    pub payload: &'a str,
    pub now: i64,
}

pub async fn insert_delivery_event(tx: &mut Tx, e: NewDeliveryEvent<'_>) -> Result<()> {
    const SQL: &str = "insert into delivery_event (message_id, provider, provider_message_id, status, \
         error_code, payload, created_at) values ($1, $2, $3, $4, $5, $6, $7)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(e.message_id)
        .bind(e.provider.as_str())
        .bind(e.provider_message_id)
        .bind(e.status)
        .bind(e.error_code)
        .bind(e.payload)
        .bind(e.now)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// A message the console provider "sent" (local trials only).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ConsoleMessage {
    pub message_id: i64,
    pub body: String,
}

/// The number keys `phone` may be stored under, as the two binds `number_key in ($a, $b)`
/// takes (the same twice unless a seal key rotates).
fn number_keys(seal: &Seal, phone: &str) -> (String, String) {
    let mut keys = seal.lookup_keys(phone);
    let first = keys.swap_remove(0);
    let second = keys.pop().unwrap_or_else(|| first.clone());
    (first, second)
}

/// What the console provider delivered to `phone` after message `after`, oldest first.
pub async fn console_sent(
    store: &super::Store,
    phone: &str,
    after: i64,
) -> Result<Vec<ConsoleMessage>> {
    const SQL: &str = "select m.message_id, m.body from message m join citizen c on c.citizen_id = m.citizen_id \
         where c.number_key in ($1, $3) and m.message_id > $2 and m.direction = 'out' and m.provider = 'console' \
         and m.status = 'delivered' order by m.message_id limit 100";
    let (key, other) = number_keys(store.seal(), phone);
    let rows = super::on_pool!(store, pool => sqlx::query_as::<_, ConsoleMessage>(SQL)
        .bind(&key)
        .bind(after)
        .bind(&other)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// One message of an issue's SMS thread, as officials see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThreadMessage {
    pub message_id: i64,
    pub direction: String,
    pub body: String,
    pub status: String,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub segments: i64,
    pub flag: Option<String>,
    pub created_at: i64,
}

pub async fn thread(store: &super::Store, issue_id: i64) -> Result<Vec<ThreadMessage>> {
    const SQL: &str = "select message_id, direction, body, status, error_code, error_detail, segments, flag, created_at \
         from message where issue_id = $1 order by message_id";
    let rows = super::on_pool!(store, pool => sqlx::query_as::<_, ThreadMessage>(SQL).bind(issue_id).fetch_all(pool).await?);
    Ok(rows)
}

/// The latest messages to and from one number, oldest first (the simulator's phone screen).
pub async fn conversation(
    store: &super::Store,
    phone: &str,
    limit: i64,
) -> Result<Vec<ThreadMessage>> {
    const SQL: &str = "select * from (select m.message_id, m.direction, m.body, m.status, m.error_code, m.error_detail, \
         m.segments, m.flag, m.created_at from message m join citizen c on c.citizen_id = m.citizen_id \
         where c.number_key in ($1, $3) order by m.message_id desc limit $2) latest order by message_id";
    let (key, other) = number_keys(store.seal(), phone);
    let rows = super::on_pool!(store, pool => sqlx::query_as::<_, ThreadMessage>(SQL)
        .bind(&key)
        .bind(limit)
        .bind(&other)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// A ready-made reply for the composer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CannedReply {
    pub title: String,
    pub body: String,
}

/// The canned replies in `language`, or in English when there are none in it.
pub async fn canned_replies(store: &super::Store, language: &str) -> Result<Vec<CannedReply>> {
    const SQL: &str =
        "select title, body from canned_reply where language = $1 order by canned_reply_id";
    let mut rows = super::on_pool!(store, pool => sqlx::query_as::<_, CannedReply>(SQL).bind(language).fetch_all(pool).await?);
    if rows.is_empty() && language != "en" {
        rows = super::on_pool!(store, pool => sqlx::query_as::<_, CannedReply>(SQL).bind("en").fetch_all(pool).await?);
    }
    Ok(rows)
}
