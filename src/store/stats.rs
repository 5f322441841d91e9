//! The figures of the public dashboard. Each is one indexed query (issue_time_category,
//! issue_open_status, the citizen table's size), so they stay fast at a million issues; medians
//! sort only one category's window, read from the issue_category_durations index alone; the
//! reports per day of past days are kept once each day is over (`issue_day`).

use super::{Result, Store, on_pool};

const DAY_MS: i64 = 86_400_000;

/// Issues per day (days since the epoch) and category from `from`'s day on: the days before
/// the first one not kept (`issue_day`, [`keep_days`]) read from their kept counts, the rest
/// counted from the issues (today, and yesterday until the hourly housekeeping keeps it).
pub async fn issues_per_day(
    store: &Store,
    from: i64,
    now: i64,
) -> Result<Vec<(i64, Option<String>, i64)>> {
    const KEPT: &str = "select day, service_code, issues from issue_day \
         where day >= $1 and day < $2 order by day";
    let (first, today) = (from.div_euclid(DAY_MS), now.div_euclid(DAY_MS));
    let kept = on_pool!(store, pool => sqlx::query_as::<_, (i64, String, i64)>(KEPT).bind(first).bind(today).fetch_all(pool).await?);
    let done: std::collections::HashSet<i64> = kept
        .iter()
        .filter(|(_, code, _)| code == "*")
        .map(|(day, _, _)| *day)
        .collect();
    let counted_from = (first..today).find(|d| !done.contains(d)).unwrap_or(today);
    let mut rows: Vec<(i64, Option<String>, i64)> = kept
        .into_iter()
        .filter(|(day, code, _)| *day < counted_from && code != "*")
        .map(|(day, code, n)| (day, (!code.is_empty()).then_some(code), n))
        .collect();
    rows.extend(count_days(store, counted_from * DAY_MS, i64::MAX).await?);
    Ok(rows)
}

/// Issues per day and category created in `[from, to)`, counted from the issue_time_category
/// index.
async fn count_days(store: &Store, from: i64, to: i64) -> Result<Vec<(i64, Option<String>, i64)>> {
    const SQL: &str = "select created_at / 86400000 as day, service_code, count(*) from issue \
         where created_at >= $1 and created_at < $2 \
         group by created_at / 86400000, service_code order by 1";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, (i64, Option<String>, i64)>(SQL).bind(from).bind(to).fetch_all(pool).await?);
    Ok(rows)
}

/// Keeps the counts of every whole day from `from`'s day to yesterday that is not kept yet
/// (the first time, all of them; then, once a day, yesterday), in one transaction; returns how
/// many days it kept. Replicas doing it at once keep the same rows once.
pub async fn keep_days(store: &Store, from: i64, now: i64) -> Result<usize> {
    const DONE: &str =
        "select day from issue_day where service_code = '*' and day >= $1 and day < $2";
    const KEEP: &str = "insert into issue_day (day, service_code, issues) values ($1, $2, $3) \
         on conflict (day, service_code) do nothing";
    let (first, today) = (from.div_euclid(DAY_MS), now.div_euclid(DAY_MS));
    let done: std::collections::HashSet<i64> = on_pool!(store, pool => sqlx::query_scalar::<_, i64>(DONE).bind(first).bind(today).fetch_all(pool).await?)
        .into_iter()
        .collect();
    let Some(start) = (first..today).find(|d| !done.contains(d)) else {
        return Ok(0);
    };
    let counts = count_days(store, start * DAY_MS, today * DAY_MS).await?;
    let missing: Vec<i64> = (start..today).filter(|d| !done.contains(d)).collect();
    let mut tx = store.begin().await?;
    for &day in &missing {
        let of_day = counts.iter().filter(|(d, _, _)| *d == day);
        let mut total = 0;
        for (_, code, n) in of_day {
            total += n;
            let code = code.as_deref().unwrap_or_default();
            super::on_tx!(&mut tx, conn => sqlx::query(KEEP).bind(day).bind(code).bind(n).execute(conn).await?.rows_affected());
        }
        super::on_tx!(&mut tx, conn => sqlx::query(KEEP).bind(day).bind("*").bind(total).execute(conn).await?.rows_affected());
    }
    tx.commit().await?;
    Ok(missing.len())
}

/// Forgets the kept counts of the day of `at` (a report was filed at that time after the day
/// was kept).
pub async fn forget_day(tx: &mut impl super::Exec, at: i64) -> Result<()> {
    const SQL: &str = "delete from issue_day where day = $1";
    super::query::query(SQL)
        .bind(at.div_euclid(DAY_MS))
        .execute(tx)
        .await?;
    Ok(())
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

fn scope_column(scope: Scope<'_>) -> (&'static str, &str) {
    match scope {
        Scope::Category(code) => ("service_code", code),
        Scope::Department(name) => ("department", name),
    }
}

/// How many issues of `scope` since `from` have a first answer, and how many are closed: one
/// range of the scope's covering index for both.
pub async fn ended(store: &Store, scope: Scope<'_>, from: i64) -> Result<(i64, i64)> {
    let (key, value) = scope_column(scope);
    let sql = format!(
        "select count(first_response_at), count(closed_at) from issue where {key} = $1 and created_at >= $2"
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql.clone())).bind(value).bind(from).fetch_one(pool).await?),
    )
}

/// The median of `end - created_at` (ms) for the `n` issues of `scope` since `from` that have
/// an `end` (`first_response_at` or `closed_at`; `n` as [`ended`] or [`promises`] counted
/// them), and `n`.
pub async fn median_ms(
    store: &Store,
    scope: Scope<'_>,
    end: Duration,
    from: i64,
    n: i64,
) -> Result<Option<(i64, i64)>> {
    let column = match end {
        Duration::FirstReply => "first_response_at",
        Duration::Resolution => "closed_at",
    };
    if n == 0 {
        return Ok(None);
    }
    let (key, value) = scope_column(scope);
    let sql = format!(
        "select {column} - created_at from issue where {key} = $1 and created_at >= $2 and {column} is not null \
         order by 1 limit 1 offset $3"
    );
    // An issue answered, closed or reopened between the count and this read moves the middle
    // by one at most; a read past the end gives `None`.
    let median: Option<i64> = on_pool!(store, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
        .bind(value).bind(from).bind(n / 2).fetch_optional(pool).await?);
    Ok(median.map(|m| (m, n)))
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
    /// Issues with a first answer, and closed ones (for the medians).
    pub answered: i64,
    pub closed: i64,
}

pub async fn promises(store: &Store, department: &str, from: i64, now: i64) -> Result<Promises> {
    const SQL: &str = "select \
         coalesce(sum(case when due_at is not null \
             and (closed_at is not null or due_at <= $3) then 1 else 0 end), 0) as came_due, \
         coalesce(sum(case when due_at is not null and closed_at is not null \
             and closed_at <= due_at then 1 else 0 end), 0) as kept, \
         coalesce(sum(case when fixed_answer = 1 then 1 else 0 end), 0) as confirmed, \
         coalesce(sum(case when fixed_answer = 0 then 1 else 0 end), 0) as not_fixed, \
         count(first_response_at) as answered, count(closed_at) as closed \
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Scratch;

    fn sorted(mut rows: Vec<(i64, Option<String>, i64)>) -> Vec<(i64, Option<String>, i64)> {
        rows.sort();
        rows
    }

    /// Inserts a report of `code` (None: uncategorized) at `at`.
    async fn file(store: &Store, code: Option<&str>, at: i64) {
        let mut tx = store.begin().await.unwrap();
        super::super::on_tx!(&mut tx, conn => sqlx::query(
            "insert into issue (service_code, description, created_at, updated_at) values ($1, '', $2, $2)",
        )
        .bind(code)
        .bind(at)
        .execute(conn)
        .await
        .unwrap()
        .rows_affected());
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn kept_days_and_counted_days_give_the_counts_of_every_report() {
        let scratch = Scratch::new().await;
        let store = &scratch.store;
        let now = 20_000 * DAY_MS + 3_600_000; // 01:00 on day 20000
        let from = now - 90 * DAY_MS;
        for (days_ago, code) in [
            (0, Some("pothole")),
            (1, Some("pothole")),
            (1, None),
            (2, Some("water")),
            (2, Some("water")),
            (40, Some("noise")),
            (89, Some("trash")),
            (95, Some("trash")), // before the window
        ] {
            file(store, code, now - days_ago * DAY_MS - 60_000).await;
        }
        let everything = count_days(store, from.div_euclid(DAY_MS) * DAY_MS, i64::MAX)
            .await
            .unwrap();
        assert_eq!(
            sorted(issues_per_day(store, from, now).await.unwrap()),
            sorted(everything.clone())
        );

        // Kept: 90 whole days (today is not over), then nothing more to keep.
        assert_eq!(keep_days(store, from, now).await.unwrap(), 90);
        assert_eq!(keep_days(store, from, now).await.unwrap(), 0);
        let kept_days: i64 = on_pool!(store, pool => sqlx::query_scalar::<_, i64>(
            "select count(*) from issue_day where service_code = '*'").fetch_one(pool).await.unwrap());
        assert_eq!(kept_days, 90, "a day without reports is kept too");
        assert_eq!(
            sorted(issues_per_day(store, from, now).await.unwrap()),
            sorted(everything.clone())
        );

        // A report filed at a past time (a split) makes its day counted again until kept anew.
        file(store, Some("noise"), now - 40 * DAY_MS).await;
        let mut tx = store.begin().await.unwrap();
        forget_day(&mut tx, now - 40 * DAY_MS).await.unwrap();
        tx.commit().await.unwrap();
        let everything = count_days(store, from.div_euclid(DAY_MS) * DAY_MS, i64::MAX)
            .await
            .unwrap();
        assert!(everything.contains(&(20_000 - 40, Some("noise".to_owned()), 2)));
        assert_eq!(
            sorted(issues_per_day(store, from, now).await.unwrap()),
            sorted(everything.clone())
        );
        assert_eq!(keep_days(store, from, now).await.unwrap(), 1);
        assert_eq!(
            sorted(issues_per_day(store, from, now).await.unwrap()),
            sorted(everything.clone())
        );
    }
}
