//! A citizen's data over a lifetime (README: "A citizen's rights, and retention"): everything
//! held about one number, as JSON (`civicline citizen export`); erasure on request (`civicline
//! citizen forget`); and retention, which anonymizes citizens whose reports were all closed
//! long ago (`privacy.anonymize_after_days`, `civicline retention`).
//!
//! An anonymized citizen keeps their row (their issues and messages point to it, and the
//! dashboard counts it by language and consent), their pseudonym and their consent ledger; the
//! row loses the number (its number key becomes `anon:<id>`) and their words are erased
//! (forget) or scrubbed of personal data (retention). A citizen who opted out is the exception
//! that consent law makes: their number key and sealed number stay, used only to refuse sends
//! (a blind index alone could not follow a key rotation, and STOP must survive one).

use super::{Result, Store, Tx, on_pool, on_tx};
use crate::scrub::Scrubber;
use serde_json::{Value, json};

/// The number keys of anonymized citizens begin so (outside every key's range, see
/// `store::seal`).
pub const ANON_RANGE: (&str, &str) = ("anon:", "anon;");

/// The citizen texting from `e164`, if any (under either key while one rotates).
pub async fn find(store: &Store, e164: &str) -> Result<Option<i64>> {
    const SQL: &str = "select citizen_id from citizen where number_key = $1";
    for key in store.seal().lookup_keys(e164) {
        let found: Option<i64> =
            on_pool!(store, pool => sqlx::query_scalar(SQL).bind(&key).fetch_optional(pool).await?);
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Everything held about a citizen: the row (number opened), consent, subscriptions, issues,
/// the issues they joined as a supporter, poll answers, and messages, oldest first. Recorded in the audit log.
pub async fn export(store: &Store, citizen_id: i64, now: i64) -> Result<Value> {
    type CitizenRow = (String, Option<String>, String, String, i64, Option<i64>);
    const CITIZEN: &str = "select number_key, number_sealed, pseudonym, language, created_at, \
         opted_out_at from citizen where citizen_id = $1";
    const CONSENT: &str = "select kind, keyword, source, created_at from consent_event \
         where citizen_id = $1 order by created_at, consent_event_id";
    const TOPICS: &str =
        "select topic, created_at from subscription where citizen_id = $1 order by topic";
    const ISSUES: &str = "select issue_id, service_code, description, location, status, \
         area, department, created_at, closed_at from issue where citizen_id = $1 order by issue_id";
    const MESSAGES: &str = "select message_id, direction, issue_id, body, status, created_at \
         from message where citizen_id = $1 order by message_id";
    const SUPPORTED: &str =
        "select issue_id, joined_at from supporter where citizen_id = $1 order by issue_id";
    const POLL_ANSWERS: &str = "select poll_id, choice, body, created_at from poll_answer \
         where citizen_id = $1 order by poll_id";
    let (key, sealed, pseudonym, language, created_at, opted_out_at): CitizenRow =
        on_pool!(store, pool => sqlx::query_as(CITIZEN).bind(citizen_id).fetch_one(pool).await?);
    let number = match key.starts_with(ANON_RANGE.0) {
        true => None,
        false => Some(store.seal().open(&key, sealed.as_deref())?),
    };
    let consent: Vec<(String, String, String, i64)> =
        on_pool!(store, pool => sqlx::query_as(CONSENT).bind(citizen_id).fetch_all(pool).await?);
    let topics: Vec<(String, i64)> =
        on_pool!(store, pool => sqlx::query_as(TOPICS).bind(citizen_id).fetch_all(pool).await?);
    #[allow(clippy::type_complexity)]
    let issues: Vec<(
        i64,
        Option<String>,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        i64,
        Option<i64>,
    )> = on_pool!(store, pool => sqlx::query_as(ISSUES).bind(citizen_id).fetch_all(pool).await?);
    let messages: Vec<(i64, String, Option<i64>, String, String, i64)> =
        on_pool!(store, pool => sqlx::query_as(MESSAGES).bind(citizen_id).fetch_all(pool).await?);
    let supported: Vec<(i64, i64)> =
        on_pool!(store, pool => sqlx::query_as(SUPPORTED).bind(citizen_id).fetch_all(pool).await?);
    let answers: Vec<(i64, Option<i64>, String, i64)> = on_pool!(store, pool => sqlx::query_as(POLL_ANSWERS).bind(citizen_id).fetch_all(pool).await?);
    let export = json!({
        "number": number,
        "pseudonym": pseudonym,
        "language": language,
        "created_at": created_at,
        "opted_out_at": opted_out_at,
        "consent": consent.iter().map(|(kind, keyword, source, at)| json!({
            "kind": kind, "keyword": keyword, "source": source, "at": at,
        })).collect::<Vec<_>>(),
        "subscriptions": topics.iter().map(|(topic, at)| json!({"topic": topic, "since": at}))
            .collect::<Vec<_>>(),
        "issues": issues.iter().map(|i| json!({
            "id": i.0, "service_code": i.1, "description": i.2, "location": i.3, "status": i.4,
            "area": i.5, "department": i.6, "created_at": i.7, "closed_at": i.8,
        })).collect::<Vec<_>>(),
        // Reports of others this citizen joined ("me too"), whose notices they get.
        "supported": supported.iter().map(|(id, at)| json!({"issue_id": id, "joined_at": at}))
            .collect::<Vec<_>>(),
        // Answers to the city's polls (`choice` null: other words).
        "poll_answers": answers.iter().map(|(poll, choice, body, at)| json!({
            "poll_id": poll, "choice": choice, "body": body, "at": at,
        })).collect::<Vec<_>>(),
        "messages": messages.iter().map(|m| json!({
            "id": m.0, "direction": m.1, "issue_id": m.2, "body": m.3, "status": m.4, "at": m.5,
        })).collect::<Vec<_>>(),
    });
    let mut tx = store.begin().await?;
    audit(&mut tx, "citizen.exported", citizen_id, now).await?;
    tx.commit().await?;
    Ok(export)
}

/// What becomes of an anonymized citizen's words.
#[derive(Clone, Copy)]
pub enum Words<'a> {
    /// Erased on the citizen's request: each message and description reads `[erased]`.
    Erase,
    /// Kept, less the personal data in them (retention).
    Scrub(&'a Scrubber),
}

/// What anonymizing changed, for `--dry-run` and the log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Anonymized {
    pub citizens: u64,
    pub messages: u64,
    pub issues: u64,
    /// Citizens who opted out: their number stays, sealed, only to refuse sends.
    pub opted_out_kept: u64,
}

impl Anonymized {
    fn add(&mut self, other: &Anonymized) {
        self.citizens += other.citizens;
        self.messages += other.messages;
        self.issues += other.issues;
        self.opted_out_kept += other.opted_out_kept;
    }
}

/// Anonymizes one citizen in one transaction, recorded in the audit log as `action`; with
/// `dry_run` nothing is written and the counts say what would change.
pub async fn anonymize(
    store: &Store,
    citizen_id: i64,
    words: Words<'_>,
    action: &str,
    dry_run: bool,
    now: i64,
) -> Result<Anonymized> {
    const OPTED_OUT: &str = "select opted_out_at from citizen where citizen_id = $1";
    const MESSAGES: &str = "select message_id, body from message where citizen_id = $1";
    const ISSUES: &str = "select issue_id, description, location from issue where citizen_id = $1";
    const MESSAGE: &str = "update message set body = $2 where message_id = $1";
    const EVENT: &str =
        "update issue_event set body = $2 where message_id = $1 and kind = 'message'";
    // A poll answer keeps the words of its message.
    const POLL_ANSWER: &str = "update poll_answer set body = $2 where message_id = $1";
    const ISSUE: &str = "update issue set description = $2, location = $3 where issue_id = $1";
    const CITIZEN: &str =
        "update citizen set number_key = $2, number_sealed = null where citizen_id = $1";
    const MARK: &str = "update citizen set anonymized_at = $2, pending_question = null, \
         pending_issue_id = null, pending_until = null, poll_id = null, poll_until = null \
         where citizen_id = $1";
    const TOPICS: &str = "delete from subscription where citizen_id = $1";
    let mut tx = store.begin().await?;
    let opted_out: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(OPTED_OUT)
        .bind(citizen_id)
        .fetch_one(conn)
        .await?);
    let rewrite = |text: &str| -> Option<String> {
        match words {
            Words::Erase => (text != ERASED).then(|| ERASED.to_owned()),
            Words::Scrub(scrubber) => match scrubber.scrub(text) {
                std::borrow::Cow::Owned(clean) => Some(clean),
                std::borrow::Cow::Borrowed(_) => None,
            },
        }
    };
    let mut done = Anonymized {
        citizens: 1,
        opted_out_kept: u64::from(opted_out.is_some()),
        ..Anonymized::default()
    };
    let messages: Vec<(i64, String)> = on_tx!(&mut tx, conn => sqlx::query_as(MESSAGES)
        .bind(citizen_id)
        .fetch_all(conn)
        .await?);
    for (id, body) in &messages {
        let Some(body) = rewrite(body) else { continue };
        done.messages += 1;
        if !dry_run {
            on_tx!(&mut tx, conn => sqlx::query(MESSAGE).bind(id).bind(&body).execute(conn).await?.rows_affected());
            on_tx!(&mut tx, conn => sqlx::query(EVENT).bind(id).bind(&body).execute(conn).await?.rows_affected());
            on_tx!(&mut tx, conn => sqlx::query(POLL_ANSWER).bind(id).bind(&body).execute(conn).await?.rows_affected());
        }
    }
    let issues: Vec<(i64, String, Option<String>)> = on_tx!(&mut tx, conn => sqlx::query_as(ISSUES)
        .bind(citizen_id)
        .fetch_all(conn)
        .await?);
    for (id, description, location) in &issues {
        let new_description = rewrite(description);
        let new_location = location.as_deref().and_then(rewrite);
        if new_description.is_none() && new_location.is_none() {
            continue;
        }
        done.issues += 1;
        if !dry_run {
            on_tx!(&mut tx, conn => sqlx::query(ISSUE)
                .bind(id)
                .bind(new_description.as_deref().unwrap_or(description))
                .bind(new_location.as_deref().or(location.as_deref()))
                .execute(conn)
                .await?
                .rows_affected());
        }
    }
    if dry_run {
        return Ok(done);
    }
    if opted_out.is_none() {
        let anon = format!("{}{citizen_id}", ANON_RANGE.0);
        on_tx!(&mut tx, conn => sqlx::query(CITIZEN).bind(citizen_id).bind(&anon).execute(conn).await?.rows_affected());
    }
    on_tx!(&mut tx, conn => sqlx::query(MARK).bind(citizen_id).bind(now).execute(conn).await?.rows_affected());
    on_tx!(&mut tx, conn => sqlx::query(TOPICS).bind(citizen_id).execute(conn).await?.rows_affected());
    audit(&mut tx, action, citizen_id, now).await?;
    tx.commit().await?;
    Ok(done)
}

/// What an erased text reads.
pub const ERASED: &str = "[erased]";

/// Citizens due for retention at `before` (every report of theirs, and every one they joined as
/// a supporter, closed, and their last message, before it; no subscription; not anonymized
/// yet), at most `limit`.
pub async fn due_for_retention(store: &Store, before: i64, limit: i64) -> Result<Vec<i64>> {
    const SQL: &str = "select c.citizen_id from citizen c \
         where c.anonymized_at is null \
         and (exists (select 1 from issue i where i.citizen_id = c.citizen_id) \
              or exists (select 1 from supporter s where s.citizen_id = c.citizen_id)) \
         and not exists (select 1 from issue i where i.citizen_id = c.citizen_id \
                         and (i.closed_at is null or i.closed_at >= $1)) \
         and not exists (select 1 from message m where m.citizen_id = c.citizen_id \
                         and m.created_at >= $1) \
         and not exists (select 1 from subscription s where s.citizen_id = c.citizen_id) \
         and not exists (select 1 from supporter s join issue i on i.issue_id = s.issue_id \
                         where s.citizen_id = c.citizen_id \
                         and (i.closed_at is null or i.closed_at >= $1)) \
         order by c.citizen_id limit $2";
    Ok(on_pool!(store, pool => sqlx::query_scalar(SQL)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}

/// Anonymizes every citizen due at `before` (see [`due_for_retention`]), one transaction each.
pub async fn retain(
    store: &Store,
    scrubber: &Scrubber,
    before: i64,
    dry_run: bool,
    now: i64,
) -> Result<Anonymized> {
    let mut total = Anonymized::default();
    // A dry run changes nothing, so it reads them all at once.
    let page = if dry_run { i64::MAX } else { 500 };
    loop {
        let due = due_for_retention(store, before, page).await?;
        for id in &due {
            let one = anonymize(
                store,
                *id,
                Words::Scrub(scrubber),
                "citizen.retained",
                dry_run,
                now,
            )
            .await?;
            total.add(&one);
        }
        if dry_run || (due.len() as i64) < page {
            return Ok(total);
        }
    }
}

async fn audit(tx: &mut Tx, action: &str, citizen_id: i64, now: i64) -> Result<()> {
    super::officials::audit_in(tx, None, action, &format!("citizen {citizen_id}"), now).await
}
