//! The figures of the public dashboard. Each is one indexed query (issue_time_category,
//! issue_open_status, the citizen table's size), so they stay fast at a million issues; medians
//! sort only one category's window, read from the issue_category_durations index alone.

use super::{Result, Store, on_pool};

/// Issues per day (days since the epoch) and category over `[from, now]`.
pub async fn issues_per_day(store: &Store, from: i64) -> Result<Vec<(i64, Option<String>, i64)>> {
    const SQL: &str = "select created_at / 86400000 as day, service_code, count(*) from issue \
         where created_at >= $1 group by created_at / 86400000, service_code order by 1";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, (i64, Option<String>, i64)>(SQL).bind(from).fetch_all(pool).await?);
    Ok(rows)
}

/// Open issues per status.
pub async fn backlog(store: &Store) -> Result<Vec<(String, i64)>> {
    const SQL: &str = "select status, count(*) from issue where closed_at is null group by status order by 2 desc";
    let rows =
        on_pool!(store, pool => sqlx::query_as::<_, (String, i64)>(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// Whose issues a median is of.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// A service code's: read from the (service_code, created_at, first_response_at,
    /// closed_at) index alone.
    Category(&'a str),
    /// A department's, from the (department, created_at, ...) covering index (migration 0018).
    Department(&'a str),
}

/// The median of `end - created_at` (ms) for the issues of `scope` since `from` that have an
/// `end` (`first_response_at` or `closed_at`), and how many there are.
pub async fn median_ms(
    store: &Store,
    scope: Scope<'_>,
    end: Duration,
    from: i64,
) -> Result<Option<(i64, i64)>> {
    let column = match end {
        Duration::FirstReply => "first_response_at",
        Duration::Resolution => "closed_at",
    };
    let (key, value) = match scope {
        Scope::Category(code) => ("service_code", code),
        Scope::Department(name) => ("department", name),
    };
    let count_sql = format!(
        "select count(*) from issue where {key} = $1 and created_at >= $2 and {column} is not null"
    );
    let median_sql = format!(
        "select {column} - created_at from issue where {key} = $1 and created_at >= $2 and {column} is not null \
         order by 1 limit 1 offset $3"
    );
    let n: i64 = on_pool!(store, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone())).bind(value).bind(from).fetch_one(pool).await?);
    if n == 0 {
        return Ok(None);
    }
    let median: i64 = on_pool!(store, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(median_sql.clone()))
        .bind(value).bind(from).bind(n / 2).fetch_one(pool).await?);
    Ok(Some((median, n)))
}

/// A department's promises since `from`: how many came due (closed, or open past their due
/// time), how many of those were kept (closed by their due time), and the citizens' last
/// answers to "Is it fixed?" (confirmed, and not fixed). One range of the department's
/// covering index (migration 0018), never the table.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Promises {
    pub came_due: i64,
    pub kept: i64,
    pub confirmed: i64,
    pub not_fixed: i64,
}

pub async fn promises(store: &Store, department: &str, from: i64, now: i64) -> Result<Promises> {
    const SQL: &str = "select \
         coalesce(sum(case when due_at is not null \
             and (closed_at is not null or due_at <= $3) then 1 else 0 end), 0) as came_due, \
         coalesce(sum(case when due_at is not null and closed_at is not null \
             and closed_at <= due_at then 1 else 0 end), 0) as kept, \
         coalesce(sum(case when fixed_answer = 1 then 1 else 0 end), 0) as confirmed, \
         coalesce(sum(case when fixed_answer = 0 then 1 else 0 end), 0) as not_fixed \
         from issue where department = $1 and created_at >= $2";
    let row = on_pool!(store, pool => sqlx::query_as::<_, Promises>(SQL).bind(department).bind(from).bind(now).fetch_one(pool).await?);
    Ok(row)
}

/// Open issues per area.
pub async fn open_by_area(store: &Store) -> Result<Vec<(String, i64)>> {
    const SQL: &str = "select area, count(*) from issue where closed_at is null \
         and area is not null group by area";
    let rows =
        on_pool!(store, pool => sqlx::query_as::<_, (String, i64)>(SQL).fetch_all(pool).await?);
    Ok(rows)
}

#[derive(Debug, Clone, Copy)]
pub enum Duration {
    FirstReply,
    Resolution,
}

/// Citizens per language.
pub async fn languages(store: &Store) -> Result<Vec<(String, i64)>> {
    const SQL: &str = "select language, count(*) from citizen group by language order by 2 desc";
    let rows =
        on_pool!(store, pool => sqlx::query_as::<_, (String, i64)>(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// Citizens opted out now, and opt-outs recorded since `since`.
pub async fn opt_outs(store: &Store, since: i64) -> Result<(i64, i64)> {
    const NOW: &str = "select count(*) from citizen where opted_out_at is not null";
    const RECENT: &str =
        "select count(*) from consent_event where kind = 'opt_out' and created_at >= $1";
    let now: i64 = on_pool!(store, pool => sqlx::query_scalar(NOW).fetch_one(pool).await?);
    let recent: i64 =
        on_pool!(store, pool => sqlx::query_scalar(RECENT).bind(since).fetch_one(pool).await?);
    Ok((now, recent))
}

/// The first words of inbound messages since `since`, with how many messages start with each,
/// most frequent first (at most `limit` distinct words). Counted in the database, so a busy week
/// costs one indexed scan and no transfer of message bodies.
pub async fn first_words(store: &Store, since: i64, limit: i64) -> Result<Vec<(String, i64)>> {
    const SQLITE: &str = "select substr(w, 1, instr(w || ' ', ' ') - 1) as word, count(*) from \
         (select ltrim(replace(replace(body, char(10), ' '), char(9), ' ')) as w from message \
          where direction = 'in' and created_at >= $1) \
         group by word order by 2 desc, 1 limit $2";
    const POSTGRES: &str = "select split_part(w, ' ', 1) as word, count(*) from \
         (select ltrim(translate(body, E'\\n\\t', '  ')) as w from message \
          where direction = 'in' and created_at >= $1) as m \
         group by word order by 2 desc, 1 limit $2";
    let sql = match store.pools() {
        super::Pools::Sqlite(_) => SQLITE,
        super::Pools::Postgres(_) => POSTGRES,
    };
    let words: Vec<(String, i64)> =
        on_pool!(store, pool => sqlx::query_as(sql).bind(since).bind(limit).fetch_all(pool).await?);
    Ok(words.into_iter().filter(|(w, _)| !w.is_empty()).collect())
}
