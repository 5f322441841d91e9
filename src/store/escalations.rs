//! Promises not kept: overdue issues, and the one escalation email each, kept until sent
//! (`store::mail` sends it).

use super::{Result, Store, Tx, on_pool, on_tx};

/// An open issue past its due time, not escalated yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Overdue {
    pub issue_id: i64,
    pub service_code: Option<String>,
    pub department: String,
    pub area: Option<String>,
    pub address: Option<String>,
    pub due_at: i64,
}

/// Up to `limit` open issues of a department whose due time is past, oldest promise first,
/// that have not escalated.
pub async fn overdue_unescalated(store: &Store, now: i64, limit: i64) -> Result<Vec<Overdue>> {
    const SQL: &str = "select i.issue_id, i.service_code, i.department, i.area, i.address, i.due_at \
         from issue i where i.closed_at is null and i.due_at is not null and i.due_at <= $1 \
         and i.department is not null \
         and not exists (select 1 from escalation e where e.issue_id = i.issue_id) \
         order by i.due_at limit $2";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, Overdue>(SQL).bind(now).bind(limit).fetch_all(pool).await?);
    Ok(rows)
}

/// How many open issues are past their due time (the `civicline_overdue_issues` gauge).
pub async fn overdue_count(store: &Store, now: i64) -> Result<i64> {
    const SQL: &str = "select count(*) from issue \
         where closed_at is null and due_at is not null and due_at <= $1";
    let n =
        on_pool!(store, pool => sqlx::query_scalar::<_, i64>(SQL).bind(now).fetch_one(pool).await?);
    Ok(n)
}

/// An escalation to store.
pub struct NewEscalation<'a> {
    pub issue_id: i64,
    pub department: &'a str,
    /// Empty when the department has no email: recorded, nothing to send.
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub now: i64,
}

/// Records the escalation of an issue, once: `false` when it had escalated already (another
/// replica was first).
pub async fn insert(tx: &mut Tx, e: NewEscalation<'_>) -> Result<bool> {
    const SQL: &str = "insert into escalation (issue_id, department, recipient, subject, body, \
         created_at, next_attempt_at, sent_at, last_error) \
         values ($1, $2, $3, $4, $5, $6, $6, case when $3 = '' then $6 else null end, \
         case when $3 = '' then 'the department has no email' else null end) \
         on conflict (issue_id) do nothing";
    let n = on_tx!(tx, conn => sqlx::query(SQL)
        .bind(e.issue_id)
        .bind(e.department)
        .bind(e.recipient)
        .bind(e.subject)
        .bind(e.body)
        .bind(e.now)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(n == 1)
}
