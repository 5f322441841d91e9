//! Issues and their audit trail.

use super::query::query;
use super::{Exec, LaneTx, Result, Tx, on_tx};

/// An issue as a citizen may see it (STATUS).
#[derive(Debug, Clone)]
pub struct IssueSummary {
    pub issue_id: i64,
    pub service_code: Option<String>,
    pub status: String,
    /// The public promise: when it is due to be fixed.
    pub due_at: Option<i64>,
}
super::query::row!(IssueSummary {
    issue_id,
    service_code,
    status,
    due_at
});

/// Where an issue is and who has it, as routing decided.
#[derive(Debug, Clone, Copy, Default)]
pub struct Routed<'a> {
    pub area: Option<&'a str>,
    /// The places found in the citizen's words, as a person writes them.
    pub address: Option<&'a str>,
    /// (longitude, latitude), WGS 84.
    pub point: Option<(f64, f64)>,
    /// `None`: Unrouted.
    pub department: Option<&'a str>,
    /// The department's default assignee, if it has one.
    pub assignee: Option<i64>,
}

pub struct NewIssue<'a> {
    pub citizen_id: i64,
    pub service_code: Option<&'a str>,
    pub description: &'a str,
    pub language: &'a str,
    /// The inbound message that opened it.
    pub message_id: i64,
    pub now: i64,
    pub routed: Routed<'a>,
    /// When it is due (its category's promise); `None` without one.
    pub due_at: Option<i64>,
}

/// Files a new issue and its `created` event; returns the issue number. On the writer lane's
/// Postgres transaction, under a number [`reserve_numbers`] took, written when the round ends.
pub async fn create(tx: &mut LaneTx, new: NewIssue<'_>) -> Result<i64> {
    const ISSUE: &str = "insert into issue (citizen_id, service_code, description, language, \
         created_at, updated_at, area, address, long, lat, department, due_at, assignee_id) \
         values ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12) returning issue_id";
    let routed = new.routed;
    let (long, lat) = routed.point.unzip();
    let reserved = tx.deferred().and_then(|deferred| {
        deferred.issue(|issue_id| super::batch::Issue {
            issue_id,
            citizen_id: new.citizen_id,
            service_code: new.service_code.map(str::to_owned),
            description: new.description.to_owned(),
            language: new.language.to_owned(),
            created_at: new.now,
            area: routed.area.map(str::to_owned),
            address: routed.address.map(str::to_owned),
            long,
            lat,
            department: routed.department.map(str::to_owned),
            due_at: new.due_at,
            assignee_id: routed.assignee,
            supporters: 1,
        })
    });
    let issue_id = match reserved {
        Some(issue_id) => issue_id,
        None => {
            query(ISSUE)
                .bind(new.citizen_id)
                .bind(new.service_code)
                .bind(new.description)
                .bind(new.language)
                .bind(new.now)
                .bind(routed.area)
                .bind(routed.address)
                .bind(long)
                .bind(lat)
                .bind(routed.department)
                .bind(new.due_at)
                .bind(routed.assignee)
                .fetch_new_id(tx)
                .await?
        }
    };
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
    if let Some(official_id) = routed.assignee {
        let body = format!("official:{official_id}");
        add_event(tx, issue_id, "assigned", "system", &body, None, new.now).await?;
    }
    Ok(issue_id)
}

/// Reserves `count` issue numbers for [`create`] on the writer lane's Postgres transaction, in
/// one statement (its reports then cost no statement each); nothing to do elsewhere.
pub async fn reserve_numbers(tx: &mut LaneTx, count: usize) -> Result<()> {
    match (tx, count) {
        // One report: its insert returns its number, one statement either way.
        (LaneTx::Round(batch), 2..) => batch.reserve_issue_numbers(count).await,
        _ => Ok(()),
    }
}

/// Adds a citizen's later message to an issue's thread (on the writer lane's Postgres
/// transaction, when its round ends).
pub async fn append_message(
    tx: &mut LaneTx,
    issue_id: i64,
    message_id: i64,
    body: &str,
    now: i64,
) -> Result<()> {
    const TOUCH: &str = "update issue set updated_at = $2 where issue_id = $1";
    match tx.deferred() {
        Some(deferred) => deferred.touch(issue_id, now),
        None => _ = query(TOUCH).bind(issue_id).bind(now).execute(tx).await?,
    }
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

/// Appends to the audit trail (on the writer lane's Postgres transaction, when its round ends).
pub async fn add_event(
    tx: &mut impl Exec,
    issue_id: i64,
    kind: &str,
    actor: &str,
    body: &str,
    message_id: Option<i64>,
    now: i64,
) -> Result<()> {
    if let Some(deferred) = tx.deferred() {
        deferred.event(super::batch::Event {
            issue_id,
            kind: kind.to_owned(),
            actor: actor.to_owned(),
            body: body.to_owned(),
            message_id,
            created_at: now,
        });
        return Ok(());
    }
    const SQL: &str = "insert into issue_event (issue_id, kind, actor, body, message_id, created_at) \
         values ($1, $2, $3, $4, $5, $6)";
    query(SQL)
        .bind(issue_id)
        .bind(kind)
        .bind(actor)
        .bind(body)
        .bind(message_id)
        .bind(now)
        .execute(tx)
        .await?;
    Ok(())
}

/// The citizen's most recent issue that is still open and was filed at or after `since`, or
/// that they joined as a supporter at or after it (their follow-up goes on the report they
/// joined).
///
/// Read newest first through `issue_citizen` (this number's issues), stopping at the first open
/// one: a number that files a lot costs no more per message than one that files little. (Sorting
/// open ones first instead read every issue of the window, each from the table: ten numbers
/// flooding made each of their texts four times dearer.) The open test is written as an
/// expression (`coalesce(closed_at, -1) = -1`; no time is -1) that no index's predicate matches:
/// with `closed_at is null` Postgres would AND in the partial index `issue_open_status` (every
/// open issue, everyone's), which it did on a new database before its first ANALYZE.
pub async fn recent_open(
    tx: &mut LaneTx,
    citizen_id: i64,
    since: i64,
) -> Result<Option<IssueSummary>> {
    // The newest of: its own latest open report filed since then, and the latest open one it
    // joined since then (each read newest first, stopping at the first). The joined report's
    // open test is a scalar subquery, which no planner turns into a join: as a join, Postgres
    // on a new database (no ANALYZE yet, every table "one row") scanned every issue for each
    // text and probed `supporter` for each (webhooks at 50,000 numbers: 5,646 -> 2,062 msg/s,
    // p99 21 -> 111 ms).
    const SQL: &str = "select issue_id, service_code, status, due_at from issue \
         where issue_id = (select issue_id from (\
         select * from (select issue_id, created_at as at from issue \
         where citizen_id = $1 and created_at >= $2 and coalesce(closed_at, -1) = -1 \
         order by created_at desc, issue_id desc limit 1) own \
         union all \
         select * from (select s.issue_id, s.joined_at as at from supporter s \
         where s.citizen_id = $1 and s.joined_at >= $2 \
         and (select coalesce(i.closed_at, -1) from issue i where i.issue_id = s.issue_id) = -1 \
         order by s.joined_at desc, s.issue_id desc limit 1) joined) recent \
         order by at desc, issue_id desc limit 1)";
    let found = query(SQL)
        .bind(citizen_id)
        .bind(since)
        .fetch_optional::<IssueSummary>(tx)
        .await?;
    Ok(found)
}

/// Issue `issue_id` if, and only if, this citizen filed it: STATUS never reveals anyone else's.
pub async fn find_own(
    tx: &mut LaneTx,
    citizen_id: i64,
    issue_id: i64,
) -> Result<Option<IssueSummary>> {
    const SQL: &str = "select issue_id, service_code, status, due_at from issue where issue_id = $1 and citizen_id = $2";
    let found = query(SQL)
        .bind(issue_id)
        .bind(citizen_id)
        .fetch_optional::<IssueSummary>(tx)
        .await?;
    Ok(found)
}

/// The citizen's latest issue, whatever its state (STATUS without a number).
pub async fn latest_own(tx: &mut LaneTx, citizen_id: i64) -> Result<Option<IssueSummary>> {
    const SQL: &str = "select issue_id, service_code, status, due_at from issue where citizen_id = $1 \
         order by created_at desc, issue_id desc limit 1";
    let found = query(SQL)
        .bind(citizen_id)
        .fetch_optional::<IssueSummary>(tx)
        .await?;
    Ok(found)
}

/// The category of an issue (routing its answered place).
pub async fn service_code_of(tx: &mut LaneTx, issue_id: i64) -> Result<Option<String>> {
    const SQL: &str = "select service_code from issue where issue_id = $1";
    let code: Option<Option<String>> = query(SQL).bind(issue_id).fetch_optional(tx).await?;
    Ok(code.flatten())
}

/// Records the area a citizen named (the answer to "Which neighbourhood?") and the department
/// routing gives it now.
pub async fn set_area(
    tx: &mut LaneTx,
    issue_id: i64,
    area: &str,
    department: Option<&str>,
    now: i64,
) -> Result<()> {
    const SQL: &str =
        "update issue set area = $2, department = $3, updated_at = $4 where issue_id = $1";
    query(SQL)
        .bind(issue_id)
        .bind(area)
        .bind(department)
        .bind(now)
        .execute(tx)
        .await?;
    Ok(())
}

/// Keeps the citizen's last answer to "Is it fixed?" on the issue, for the dashboard.
pub async fn record_fixed_answer(
    tx: &mut LaneTx,
    issue_id: i64,
    fixed: bool,
    now: i64,
) -> Result<()> {
    const SQL: &str = "update issue set fixed_answer = $2, updated_at = $3 where issue_id = $1";
    query(SQL)
        .bind(issue_id)
        .bind(i64::from(fixed))
        .bind(now)
        .execute(tx)
        .await?;
    Ok(())
}

/// Gives an issue nobody has yet to the default assignee of the department it was routed to
/// now (after an answer placed it), in its trail.
pub async fn assign_if_nobody(
    tx: &mut LaneTx,
    issue_id: i64,
    assignee: Option<i64>,
    now: i64,
) -> Result<()> {
    const SQL: &str = "update issue set assignee_id = $2, updated_at = $3 \
         where issue_id = $1 and assignee_id is null";
    let Some(official_id) = assignee else {
        return Ok(());
    };
    let n = query(SQL)
        .bind(issue_id)
        .bind(official_id)
        .bind(now)
        .execute(tx)
        .await?;
    if n == 1 {
        let body = format!("official:{official_id}");
        add_event(tx, issue_id, "assigned", "system", &body, None, now).await?;
    }
    Ok(())
}

/// Records where the problem is (the answer to "Where is it?"), and where routing puts it now.
pub async fn set_location(
    tx: &mut LaneTx,
    issue_id: i64,
    location: &str,
    routed: Routed<'_>,
    now: i64,
) -> Result<()> {
    const SQL: &str = "update issue set location = $2, updated_at = $3, area = $4, \
         address = $5, long = $6, lat = $7, department = $8 where issue_id = $1";
    let (long, lat) = routed.point.unzip();
    query(SQL)
        .bind(issue_id)
        .bind(location)
        .bind(now)
        .bind(routed.area)
        .bind(routed.address)
        .bind(long)
        .bind(lat)
        .bind(routed.department)
        .execute(tx)
        .await?;
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
    tx: &mut impl Exec,
    issue_id: i64,
    status: &str,
    actor: &str,
    note: &str,
    now: i64,
) -> Result<Option<IssueSummary>> {
    const SQL: &str = "update issue set status = $2, updated_at = $3, \
         closed_at = case when $4 = 1 then coalesce(closed_at, $3) else null end \
         where issue_id = $1 returning issue_id, service_code, status, due_at";
    let closed = i64::from(CLOSED_STATUSES.contains(&status));
    let updated = query(SQL)
        .bind(issue_id)
        .bind(status)
        .bind(now)
        .bind(closed)
        .fetch_optional::<IssueSummary>(tx)
        .await?;
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

/// The citizen who filed an issue: their id, language and consent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reporter {
    pub citizen_id: i64,
    pub language: String,
    pub opted_out: bool,
}

pub async fn reporter(tx: &mut Tx, issue_id: i64) -> Result<Option<Reporter>> {
    const SQL: &str = "select c.citizen_id, c.language, (c.opted_out_at is not null) as opted_out \
         from issue i join citizen c on c.citizen_id = i.citizen_id where i.issue_id = $1";
    let found = on_tx!(tx, conn => sqlx::query_as::<_, Reporter>(SQL).bind(issue_id).fetch_optional(conn).await?);
    Ok(found)
}

/// Everything the issue page shows about an issue and its citizen.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Detail {
    pub issue_id: i64,
    pub service_code: Option<String>,
    pub description: String,
    pub location: Option<String>,
    pub status: String,
    pub language: String,
    pub assignee_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub citizen_id: Option<i64>,
    number_key: Option<String>,
    number_sealed: Option<String>,
    /// The citizen's number, opened from their row (the issue page masks it for all but admins).
    #[sqlx(skip)]
    pub phone: Option<String>,
    pub citizen_language: Option<String>,
    pub opted_out_at: Option<i64>,
    pub flagged_at: Option<i64>,
    /// Set when officials keep the description out of open data.
    pub hidden_at: Option<i64>,
    pub area: Option<String>,
    pub address: Option<String>,
    pub department: Option<String>,
    pub due_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// The citizens who reported it, the first included ("me too").
    pub supporters: i64,
}

pub async fn detail(store: &super::Store, issue_id: i64) -> Result<Option<Detail>> {
    const SQL: &str = "select i.issue_id, i.service_code, i.description, i.location, i.status, i.language, \
         i.assignee_id, i.created_at, i.updated_at, c.citizen_id, c.number_key, c.number_sealed, c.language as citizen_language, \
         c.opted_out_at, c.flagged_at, i.hidden_at, i.area, i.address, i.department, i.due_at, \
         i.closed_at, cast(i.supporters as bigint) as supporters \
         from issue i left join citizen c on c.citizen_id = i.citizen_id where i.issue_id = $1";
    let mut found = super::on_pool!(store, pool => sqlx::query_as::<_, Detail>(SQL).bind(issue_id).fetch_optional(pool).await?);
    if let Some(d) = &mut found
        && let Some(key) = &d.number_key
    {
        d.phone = Some(store.seal().open(key, d.number_sealed.as_deref())?);
    }
    Ok(found)
}

/// One line of an issue's audit trail.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub kind: String,
    pub actor: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn events(store: &super::Store, issue_id: i64) -> Result<Vec<Event>> {
    const SQL: &str = "select kind, actor, body, created_at from issue_event where issue_id = $1 \
         order by created_at, issue_event_id";
    let rows = super::on_pool!(store, pool => sqlx::query_as::<_, Event>(SQL).bind(issue_id).fetch_all(pool).await?);
    Ok(rows)
}

/// Assigns an issue to an official (or to nobody).
pub async fn assign(
    tx: &mut Tx,
    issue_id: i64,
    official_id: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<bool> {
    const SQL: &str = "update issue set assignee_id = $2, updated_at = $3 where issue_id = $1";
    let n = on_tx!(tx, conn => sqlx::query(SQL).bind(issue_id).bind(official_id).bind(now).execute(conn).await?.rows_affected());
    if n == 1 {
        let body = official_id.map_or_else(|| "nobody".to_owned(), |id| format!("official:{id}"));
        add_event(tx, issue_id, "assigned", actor, &body, None, now).await?;
    }
    Ok(n == 1)
}

/// Notes when an official first answered (for the time-to-first-reply figure).
pub async fn mark_answered(tx: &mut Tx, issue_id: i64, now: i64) -> Result<()> {
    const SQL: &str = "update issue set first_response_at = coalesce(first_response_at, $2), updated_at = $2 where issue_id = $1";
    on_tx!(tx, conn => sqlx::query(SQL).bind(issue_id).bind(now).execute(conn).await?.rows_affected());
    Ok(())
}

/// Whether issue `issue_id` is open (`Some(false)`: closed); `None` when there is none.
pub async fn open_state(tx: &mut Tx, issue_id: i64) -> Result<Option<bool>> {
    const SQL: &str = "select cast(case when closed_at is null then 1 else 0 end as bigint) \
         from issue where issue_id = $1";
    let open: Option<i64> = query(SQL).bind(issue_id).fetch_optional(tx).await?;
    Ok(open.map(|o| o == 1))
}

/// Sets when issue `issue_id` is due (`None`: no promise).
pub async fn set_due(tx: &mut Tx, issue_id: i64, due_at: Option<i64>) -> Result<()> {
    const SQL: &str = "update issue set due_at = $2 where issue_id = $1";
    query(SQL).bind(issue_id).bind(due_at).execute(tx).await?;
    Ok(())
}

pub async fn exists(tx: &mut Tx, issue_id: i64) -> Result<bool> {
    const SQL: &str = "select count(*) from issue where issue_id = $1";
    let n: i64 = on_tx!(tx, conn => sqlx::query_scalar(SQL).bind(issue_id).fetch_one(conn).await?);
    Ok(n == 1)
}
