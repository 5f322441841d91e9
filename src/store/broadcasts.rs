//! Broadcasts to a topic's subscribers. Recipients are chosen and queued set-wise, in one
//! transaction, so a city-wide alert to 100,000 subscribers is a handful of statements.

use super::{Result, Store, Tx, on_pool, on_tx};
use crate::sms::{Provider, Segments, replace_lookalikes, status_rank};

/// Subscribers of `topic` who may receive texts, per language.
pub async fn audience(store: &Store, topic: &str) -> Result<Vec<(String, i64)>> {
    const SQL: &str = "select c.language, count(*) from subscription s join citizen c on c.citizen_id = s.citizen_id \
         where s.topic = $1 and c.opted_out_at is null group by c.language order by c.language";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, (String, i64)>(SQL).bind(topic).fetch_all(pool).await?);
    Ok(rows)
}

/// Records a broadcast and queues one message per reachable subscriber: the text in their
/// language, or `texts[0]` (the default language's) when there is none. Returns the id and the
/// number of messages queued.
pub async fn create(
    tx: &mut Tx,
    topic: &str,
    official_id: Option<i64>,
    texts: &[(String, String)],
    provider: Provider,
    now: i64,
) -> Result<(i64, i64)> {
    const BROADCAST: &str = "insert into broadcast (topic, official_id, created_at) values ($1, $2, $3) returning broadcast_id";
    const TEXT: &str =
        "insert into broadcast_text (broadcast_id, language, body) values ($1, $2, $3)";
    // Subscribers whose language is $8, or (for the default text, $9 = 1) whose language has no text.
    const MESSAGES: &str = "insert into message (citizen_id, direction, provider, body, segments, encoding, status, \
         status_rank, broadcast_id, created_at, updated_at) \
         select c.citizen_id, 'out', $1, $2, $3, $4, 'queued', $5, $6, $7, $7 \
         from subscription s join citizen c on c.citizen_id = s.citizen_id \
         where s.topic = $10 and c.opted_out_at is null \
         and (c.language = $8 or ($9 = 1 and c.language not in (select language from broadcast_text where broadcast_id = $6)))";
    const OUTBOX: &str = "insert into outbox (message_id, kind, priority, next_attempt_at, created_at) \
         select message_id, 'broadcast', $2, $3, $3 from message where broadcast_id = $1";
    let broadcast_id = on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(BROADCAST)
        .bind(topic)
        .bind(official_id)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?);
    for (language, body) in texts {
        on_tx!(tx, conn => sqlx::query(TEXT).bind(broadcast_id).bind(language).bind(body).execute(conn).await?.rows_affected());
    }
    let mut queued = 0;
    for (index, (language, body)) in texts.iter().enumerate() {
        let body = replace_lookalikes(body);
        let cost = Segments::of(&body);
        queued += on_tx!(tx, conn => sqlx::query(MESSAGES)
            .bind(provider.as_str())
            .bind(body.as_ref())
            .bind(cost.count as i64)
            .bind(cost.encoding.as_str())
            .bind(status_rank("queued").unwrap_or(0))
            .bind(broadcast_id)
            .bind(now)
            .bind(language)
            .bind(i64::from(index == 0))
            .bind(topic)
            .execute(conn)
            .await?
            .rows_affected()) as i64;
    }
    on_tx!(tx, conn => sqlx::query(OUTBOX)
        .bind(broadcast_id)
        .bind(super::outbox::Kind::Broadcast.priority())
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected());
    Ok((broadcast_id, queued))
}

/// A past broadcast and what became of its messages.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Report {
    pub broadcast_id: i64,
    pub topic: String,
    pub created_at: i64,
    pub recipients: i64,
    pub waiting: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
}

pub async fn reports(store: &Store, limit: i64) -> Result<Vec<Report>> {
    const SQL: &str = "select b.broadcast_id, b.topic, b.created_at, count(m.message_id) as recipients, \
         coalesce(sum(case when m.status = 'queued' and m.provider_message_id is null then 1 else 0 end), 0) as waiting, \
         coalesce(sum(case when m.provider_message_id is not null and m.status not in ('delivered', 'read', 'failed', 'undelivered', 'canceled') then 1 else 0 end), 0) as sent, \
         coalesce(sum(case when m.status in ('delivered', 'read') then 1 else 0 end), 0) as delivered, \
         coalesce(sum(case when m.status in ('failed', 'undelivered', 'canceled') then 1 else 0 end), 0) as failed \
         from broadcast b left join message m on m.broadcast_id = b.broadcast_id \
         group by b.broadcast_id, b.topic, b.created_at order by b.broadcast_id desc limit $1";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, Report>(SQL).bind(limit).fetch_all(pool).await?);
    Ok(rows)
}
