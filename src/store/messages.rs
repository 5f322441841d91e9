//! Every SMS in and out.

use super::{Result, Tx, on_tx};
use crate::sms::{Provider, Segments};

/// An inbound message about to be stored.
pub struct NewInbound<'a> {
    pub citizen_id: i64,
    pub provider: Provider,
    pub provider_message_id: &'a str,
    pub body: &'a str,
    pub now: i64,
}

/// What an earlier delivery of the same webhook produced.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivered {
    pub message_id: i64,
    /// The reply we gave then, to give again; `None` when we stayed silent.
    pub reply: Option<String>,
}

/// Looks up an inbound message by the provider's id, with the reply it got.
pub async fn find_inbound(
    tx: &mut Tx,
    provider: Provider,
    provider_message_id: &str,
) -> Result<Option<Delivered>> {
    const SQL: &str = "select m.message_id, r.body as reply from message m \
         left join message r on r.in_reply_to = m.message_id \
         where m.provider = $1 and m.provider_message_id = $2 and m.direction = 'in'";
    let found = on_tx!(tx, conn => sqlx::query_as::<_, Delivered>(SQL)
        .bind(provider.as_str())
        .bind(provider_message_id)
        .fetch_optional(conn)
        .await?);
    Ok(found)
}

/// Stores an inbound message; `None` when one with the same provider id is already stored
/// (a concurrent delivery of the same webhook won the unique key).
pub async fn insert_inbound(tx: &mut Tx, m: NewInbound<'_>) -> Result<Option<i64>> {
    const SQL: &str = "insert into message (citizen_id, direction, provider, provider_message_id, \
         body, segments, encoding, status, created_at, updated_at) \
         values ($1, 'in', $2, $3, $4, $5, $6, 'received', $7, $7) \
         on conflict (provider, provider_message_id) do nothing \
         returning message_id";
    let cost = Segments::of(m.body);
    let id = on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(SQL)
        .bind(m.citizen_id)
        .bind(m.provider.as_str())
        .bind(m.provider_message_id)
        .bind(m.body)
        .bind(cost.count as i64)
        .bind(cost.encoding.as_str())
        .bind(m.now)
        .fetch_optional(conn)
        .await?);
    Ok(id)
}

/// An outbound message about to be stored.
pub struct NewOutbound<'a> {
    pub citizen_id: i64,
    pub issue_id: Option<i64>,
    pub provider: Provider,
    /// The inbound message this answers, if it is an auto-reply.
    pub in_reply_to: Option<i64>,
    pub body: &'a str,
    /// `sent` when it rides on the webhook's response; `queued` when it waits in the outbox.
    pub status: &'a str,
    pub now: i64,
}

pub async fn insert_outbound(tx: &mut Tx, m: NewOutbound<'_>) -> Result<i64> {
    const SQL: &str = "insert into message (citizen_id, issue_id, direction, provider, in_reply_to, \
         body, segments, encoding, status, created_at, updated_at) \
         values ($1, $2, 'out', $3, $4, $5, $6, $7, $8, $9, $9) \
         returning message_id";
    let cost = Segments::of(m.body);
    let id = on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(SQL)
        .bind(m.citizen_id)
        .bind(m.issue_id)
        .bind(m.provider.as_str())
        .bind(m.in_reply_to)
        .bind(m.body)
        .bind(cost.count as i64)
        .bind(cost.encoding.as_str())
        .bind(m.status)
        .bind(m.now)
        .fetch_one(conn)
        .await?);
    Ok(id)
}

/// Files a message under an issue, so officials see it in the issue's thread.
pub async fn attach_to_issue(tx: &mut Tx, message_id: i64, issue_id: i64) -> Result<()> {
    const SQL: &str = "update message set issue_id = $2 where message_id = $1";
    on_tx!(tx, conn => sqlx::query(SQL).bind(message_id).bind(issue_id).execute(conn).await?.rows_affected());
    Ok(())
}
