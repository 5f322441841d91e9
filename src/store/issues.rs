//! Issues and their audit trail.

use super::{Result, Tx, on_tx};

/// An issue as a citizen may see it (STATUS).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssueSummary {
    pub issue_id: i64,
    pub service_code: Option<String>,
    pub status: String,
}

pub struct NewIssue<'a> {
    pub citizen_id: i64,
    pub service_code: Option<&'a str>,
    pub description: &'a str,
    pub language: &'a str,
    /// The inbound message that opened it.
    pub message_id: i64,
    pub now: i64,
}

/// Files a new issue and its `created` event; returns the issue number.
pub async fn create(tx: &mut Tx, new: NewIssue<'_>) -> Result<i64> {
    const ISSUE: &str = "insert into issue (citizen_id, service_code, description, language, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $5) returning issue_id";
    let issue_id = on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(ISSUE)
        .bind(new.citizen_id)
        .bind(new.service_code)
        .bind(new.description)
        .bind(new.language)
        .bind(new.now)
        .fetch_one(conn)
        .await?);
    add_event(
        tx,
        issue_id,
        "created",
        "citizen",
        new.description,
        Some(new.message_id),
        new.now,
    )
    .await?;
    Ok(issue_id)
}

/// Adds a citizen's later message to an issue's thread.
pub async fn append_message(
    tx: &mut Tx,
    issue_id: i64,
    message_id: i64,
    body: &str,
    now: i64,
) -> Result<()> {
    const TOUCH: &str = "update issue set updated_at = $2 where issue_id = $1";
    on_tx!(tx, conn => sqlx::query(TOUCH).bind(issue_id).bind(now).execute(conn).await?.rows_affected());
    add_event(
        tx,
        issue_id,
        "message",
        "citizen",
        body,
        Some(message_id),
        now,
    )
    .await
}

/// Appends to the audit trail.
pub async fn add_event(
    tx: &mut Tx,
    issue_id: i64,
    kind: &str,
    actor: &str,
    body: &str,
    message_id: Option<i64>,
    now: i64,
) -> Result<()> {
    const SQL: &str = "insert into issue_event (issue_id, kind, actor, body, message_id, created_at) \
         values ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(issue_id)
        .bind(kind)
        .bind(actor)
        .bind(body)
        .bind(message_id)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// The citizen's most recent issue that is still open and was filed at or after `since`.
pub async fn recent_open(tx: &mut Tx, citizen_id: i64, since: i64) -> Result<Option<IssueSummary>> {
    const SQL: &str = "select issue_id, service_code, status from issue \
         where citizen_id = $1 and created_at >= $2 and closed_at is null \
         order by created_at desc, issue_id desc limit 1";
    let found = on_tx!(tx, conn => sqlx::query_as::<_, IssueSummary>(SQL)
        .bind(citizen_id)
        .bind(since)
        .fetch_optional(conn)
        .await?);
    Ok(found)
}

/// Issue `issue_id` if, and only if, this citizen filed it: STATUS never reveals anyone else's.
pub async fn find_own(tx: &mut Tx, citizen_id: i64, issue_id: i64) -> Result<Option<IssueSummary>> {
    const SQL: &str =
        "select issue_id, service_code, status from issue where issue_id = $1 and citizen_id = $2";
    let found = on_tx!(tx, conn => sqlx::query_as::<_, IssueSummary>(SQL)
        .bind(issue_id)
        .bind(citizen_id)
        .fetch_optional(conn)
        .await?);
    Ok(found)
}

/// The citizen's latest issue, whatever its state (STATUS without a number).
pub async fn latest_own(tx: &mut Tx, citizen_id: i64) -> Result<Option<IssueSummary>> {
    const SQL: &str = "select issue_id, service_code, status from issue where citizen_id = $1 \
         order by created_at desc, issue_id desc limit 1";
    let found = on_tx!(tx, conn => sqlx::query_as::<_, IssueSummary>(SQL)
        .bind(citizen_id)
        .fetch_optional(conn)
        .await?);
    Ok(found)
}

/// Records where the problem is (the answer to "Where is it?").
pub async fn set_location(tx: &mut Tx, issue_id: i64, location: &str, now: i64) -> Result<()> {
    const SQL: &str = "update issue set location = $2, updated_at = $3 where issue_id = $1";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(issue_id)
        .bind(location)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}

/// Statuses after which an issue counts as closed (`closed_at` set).
pub const CLOSED_STATUSES: &[&str] = &[
    "resolved",
    "closed_duplicate",
    "closed_not_ours",
    "closed_wont_fix",
];

/// Moves an issue to `status` and records who did it; `None` when there is no such issue.
pub async fn set_status(
    tx: &mut Tx,
    issue_id: i64,
    status: &str,
    actor: &str,
    note: &str,
    now: i64,
) -> Result<Option<IssueSummary>> {
    const SQL: &str = "update issue set status = $2, updated_at = $3, \
         closed_at = case when $4 = 1 then coalesce(closed_at, $3) else null end \
         where issue_id = $1 returning issue_id, service_code, status";
    let closed = i64::from(CLOSED_STATUSES.contains(&status));
    let updated = on_tx!(tx, conn => sqlx::query_as::<_, IssueSummary>(SQL)
        .bind(issue_id)
        .bind(status)
        .bind(now)
        .bind(closed)
        .fetch_optional(conn)
        .await?);
    if updated.is_some() {
        let body = if note.is_empty() {
            status.to_owned()
        } else {
            format!("{status}: {note}")
        };
        add_event(tx, issue_id, "status", actor, &body, None, now).await?;
    }
    Ok(updated)
}

/// The citizen who filed an issue: their id and language.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reporter {
    pub citizen_id: i64,
    pub language: String,
}

pub async fn reporter(tx: &mut Tx, issue_id: i64) -> Result<Option<Reporter>> {
    const SQL: &str = "select c.citizen_id, c.language from issue i join citizen c on c.citizen_id = i.citizen_id \
         where i.issue_id = $1";
    let found = on_tx!(tx, conn => sqlx::query_as::<_, Reporter>(SQL).bind(issue_id).fetch_optional(conn).await?);
    Ok(found)
}
