//! Spikes: many reports of one category in one area at once, well above its usual rate. The
//! counts the check reads, the alert it raises once per window across replicas, and the recent
//! alerts the queue and the dashboard show. An alert's email is kept in its row (`store::mail`
//! sends it).

use super::query::query;
use super::{Result, Store, Tx, on_pool};

/// A category and area with many reports since some time.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Busy {
    pub service_code: String,
    pub area: String,
    pub reports: i64,
}

/// Reports (new issues, and supporters who joined one) of each category and area since
/// `since`, where there are at least `at_least`.
pub async fn busy(store: &Store, since: i64, at_least: i64) -> Result<Vec<Busy>> {
    const SQL: &str = "select service_code, area, count(*) as reports from (\
         select i.service_code, i.area from issue i where i.created_at >= $1 \
         and i.service_code is not null and i.area is not null \
         union all \
         select i.service_code, i.area from supporter s join issue i on i.issue_id = s.issue_id \
         where s.joined_at >= $1 and i.service_code is not null and i.area is not null) r \
         group by service_code, area having count(*) >= $2 order by service_code, area";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, Busy>(SQL).bind(since).bind(at_least).fetch_all(pool).await?);
    Ok(rows)
}

/// Reports of `service_code` in `area` from `from` until (not including) `until`.
pub async fn reports_between(
    store: &Store,
    service_code: &str,
    area: &str,
    from: i64,
    until: i64,
) -> Result<i64> {
    const SQL: &str = "select (select count(*) from issue i where i.service_code = $1 \
         and i.area = $2 and i.created_at >= $3 and i.created_at < $4) \
         + (select count(*) from supporter s join issue i on i.issue_id = s.issue_id \
         where i.service_code = $1 and i.area = $2 and s.joined_at >= $3 and s.joined_at < $4)";
    let n = on_pool!(store, pool => sqlx::query_scalar::<_, i64>(SQL)
        .bind(service_code)
        .bind(area)
        .bind(from)
        .bind(until)
        .fetch_one(pool)
        .await?);
    Ok(n)
}

/// A spike to raise.
pub struct NewSpike<'a> {
    pub service_code: &'a str,
    pub area: &'a str,
    pub department: Option<&'a str>,
    pub reports: i64,
    pub usual: f64,
    pub window_start: i64,
    /// Empty when no department with an email takes it: recorded, nothing to send.
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub now: i64,
    /// No other alert for this category and area until then.
    pub quiet_until: i64,
}

/// Raises a spike unless one of its category and area was raised within its window (by this
/// replica or another: the `spike_quiet` upsert is the "once"). Returns its id, or `None`.
pub async fn raise(tx: &mut Tx, s: NewSpike<'_>) -> Result<Option<i64>> {
    const QUIET: &str = "insert into spike_quiet (service_code, area, quiet_until) \
         values ($1, $2, $3) on conflict (service_code, area) do update \
         set quiet_until = excluded.quiet_until where spike_quiet.quiet_until <= $4 \
         returning quiet_until";
    const SPIKE: &str = "insert into spike (service_code, area, department, reports, usual, \
         window_start, raised_at, recipient, subject, body, next_attempt_at, sent_at, last_error) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $7, \
         case when $8 = '' then $7 else null end, \
         case when $8 = '' then 'no department email' else null end) returning spike_id";
    let quiet: Option<i64> = query(QUIET)
        .bind(s.service_code)
        .bind(s.area)
        .bind(s.quiet_until)
        .bind(s.now)
        .fetch_optional(tx)
        .await?;
    if quiet.is_none() {
        return Ok(None);
    }
    let id = query(SPIKE)
        .bind(s.service_code)
        .bind(s.area)
        .bind(s.department)
        .bind(s.reports)
        .bind(Some(s.usual))
        .bind(s.window_start)
        .bind(s.now)
        .bind(s.recipient)
        .bind(s.subject)
        .bind(s.body)
        .fetch_new_id(tx)
        .await?;
    Ok(Some(id))
}

/// A spike as the queue and the dashboard show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Spike {
    pub spike_id: i64,
    pub service_code: String,
    pub area: String,
    pub department: Option<String>,
    pub reports: i64,
    pub usual: f64,
    pub window_start: i64,
    pub raised_at: i64,
}

/// The spikes raised since `since`, newest first (at most `limit`).
pub async fn recent(store: &Store, since: i64, limit: i64) -> Result<Vec<Spike>> {
    const SQL: &str = "select spike_id, service_code, area, department, \
         cast(reports as bigint) as reports, cast(usual as double precision) as usual, \
         window_start, raised_at from spike where raised_at >= $1 \
         order by raised_at desc, spike_id desc limit $2";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, Spike>(SQL).bind(since).bind(limit).fetch_all(pool).await?);
    Ok(rows)
}
