//! The officials' queue: issues waiting for an official, overdue first, then oldest first,
//! filtered, paged by keyset (`(overdue, created_at, issue_id)` after the last row seen), so
//! page 500 costs what page 1 does.

use super::{Result, Store, on_pool};

/// What the queue shows. Every field narrows; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A status, or `None` for every status that is still open.
    pub status: Option<String>,
    pub service_code: Option<String>,
    pub language: Option<String>,
    /// `Some(Some(id))`: assigned to this official; `Some(None)`: unassigned.
    pub assignee: Option<Option<i64>>,
    /// `Some(Some(name))`: this department's; `Some(None)`: Unrouted.
    pub department: Option<Option<String>>,
    /// Words in the description or in any message of the issue.
    pub search: Option<String>,
    /// The last row of the previous page: (0 if it was overdue else 1, created_at, issue_id).
    pub after: Option<(i64, i64, i64)>,
    /// What "overdue" is measured against.
    pub now: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub issue_id: i64,
    pub service_code: Option<String>,
    pub description: String,
    pub location: Option<String>,
    pub status: String,
    pub language: String,
    pub assignee_email: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The newest message of the thread (either way).
    pub last_message: Option<String>,
    /// No official has answered yet.
    pub first_response_at: Option<i64>,
    pub department: Option<String>,
    pub due_at: Option<i64>,
    /// The citizens who reported it, the first included ("me too").
    pub supporters: i64,
    /// 0 when overdue, 1 otherwise: the first key of the order.
    pub rank: i64,
}

/// Escapes LIKE wildcards in what officials type, so "100%" finds "100%".
fn like_pattern(search: &str) -> String {
    let escaped = search
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn page(store: &Store, filter: &Filter) -> Result<Vec<Row>> {
    // The page's ids first (filtered, ranked, keyset, limit), then each row's columns, its
    // assignee and its newest message for those rows alone: Postgres had computed the newest
    // message of all 300,000 open issues of a million before keeping 51 (0.43 s).
    const SQL: &str = "select i.issue_id, i.service_code, i.description, \
         i.location, i.status, i.language, o.email as assignee_email, i.created_at, i.updated_at, \
         i.first_response_at, \
         (select m.body from message m where m.issue_id = i.issue_id order by m.message_id desc limit 1) as last_message, \
         i.department, i.due_at, cast(i.supporters as bigint) as supporters, p.rank \
         from (select q.issue_id, q.created_at, q.rank from (select i.issue_id, i.created_at, \
             cast(case when i.closed_at is null and i.due_at <= $12 then 0 else 1 end as bigint) as rank \
             from issue i \
             where (($1 is null and i.closed_at is null) or i.status = $1) \
             and ($2 is null or i.service_code = $2) \
             and ($3 is null or i.language = $3) \
             and ($4 = 0 or ($4 = 1 and i.assignee_id = $5) or ($4 = 2 and i.assignee_id is null)) \
             and ($6 is null or lower(i.description) like $6 escape '\\' or exists (select 1 from message s \
                  where s.issue_id = i.issue_id and lower(s.body) like $6 escape '\\')) \
             and ($10 = 0 or ($10 = 1 and i.department = $11) or ($10 = 2 and i.department is null)) \
             ) q where (q.rank > $13 or (q.rank = $13 and (q.created_at > $7 \
                  or (q.created_at = $7 and q.issue_id > $8)))) \
             order by q.rank, q.created_at, q.issue_id limit $9) p \
         join issue i on i.issue_id = p.issue_id \
         left join official o on o.official_id = i.assignee_id \
         order by p.rank, p.created_at, p.issue_id";
    let (assignee_mode, assignee_id) = match filter.assignee {
        None => (0i64, 0i64),
        Some(Some(id)) => (1, id),
        Some(None) => (2, 0),
    };
    let (department_mode, department) = match &filter.department {
        None => (0i64, None),
        Some(Some(name)) => (1, Some(name.as_str())),
        Some(None) => (2, None),
    };
    let (after_rank, after_time, after_id) = filter.after.unwrap_or((i64::MIN, i64::MIN, i64::MIN));
    let search = filter
        .search
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(like_pattern);
    let rows = on_pool!(store, pool => sqlx::query_as::<_, Row>(SQL)
        .bind(filter.status.as_deref())
        .bind(filter.service_code.as_deref())
        .bind(filter.language.as_deref())
        .bind(assignee_mode)
        .bind(assignee_id)
        .bind(search.as_deref())
        .bind(after_time)
        .bind(after_id)
        .bind(filter.limit)
        .bind(department_mode)
        .bind(department)
        .bind(filter.now)
        .bind(after_rank)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Open issues by department (`None`: Unrouted), and how many of them are overdue.
pub async fn open_by_department(
    store: &Store,
    now: i64,
) -> Result<Vec<(Option<String>, i64, i64)>> {
    const SQL: &str = "select department, count(*), \
         coalesce(sum(case when due_at <= $1 then 1 else 0 end), 0) \
         from issue where closed_at is null group by department order by department";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, (Option<String>, i64, i64)>(SQL).bind(now).fetch_all(pool).await?);
    Ok(rows)
}

/// Issues per status (all of them), for the filter bar.
pub async fn counts_by_status(store: &Store) -> Result<Vec<(String, i64)>> {
    const SQL: &str = "select status, count(*) from issue group by status order by status";
    let rows =
        on_pool!(store, pool => sqlx::query_as::<_, (String, i64)>(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// Open issues nobody is assigned to, and open issues assigned to `official_id`.
pub async fn counts_by_assignee(store: &Store, official_id: i64) -> Result<(i64, i64)> {
    const SQL: &str = "select \
         coalesce(sum(case when assignee_id is null then 1 else 0 end), 0), \
         coalesce(sum(case when assignee_id = $1 then 1 else 0 end), 0) \
         from issue where closed_at is null";
    let counts = on_pool!(store, pool => sqlx::query_as::<_, (i64, i64)>(SQL).bind(official_id).fetch_one(pool).await?);
    Ok(counts)
}

/// Open issues per category (`None`: uncategorized), for the filter choices.
pub async fn open_by_category(store: &Store) -> Result<Vec<(Option<String>, i64)>> {
    const SQL: &str =
        "select service_code, count(*) from issue where closed_at is null group by service_code";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, (Option<String>, i64)>(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// Open issues per language, for the filter choices.
pub async fn open_by_language(store: &Store) -> Result<Vec<(String, i64)>> {
    const SQL: &str =
        "select language, count(*) from issue where closed_at is null group by language";
    let rows =
        on_pool!(store, pool => sqlx::query_as::<_, (String, i64)>(SQL).fetch_all(pool).await?);
    Ok(rows)
}
