//! The figures of the public dashboard. Each is one indexed query (issue_time_category,
//! issue_open_status, the citizen table's size), so they stay fast at a million issues; a
//! category's or a department's counts and medians are one range of its covering index, each
//! median one aggregate; the reports per day of past days are kept once each day is over
//! (`issue_day`).

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

/// How long citizens waited since some day: how many issues have a first answer and
/// how many are closed, and the median time (ms) from the report to each (`None` without any).
/// A median is the lower middle value for an even count, as SQL's `percentile_disc(0.5)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Waits {
    pub answered: i64,
    pub closed: i64,
    pub first_reply_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
}

/// The columns of [`Waits`], for a select over the scope's issues: one aggregate per median,
/// so a scope is one range of its covering index. SQLite's `percentile_disc` (built with
/// SQLITE_ENABLE_PERCENTILE, .cargo/config.toml) sorts the values in C; Postgres spells the
/// same function in the standard's ordered-set form.
fn waits_columns(store: &Store) -> String {
    let median = |column: &str| match store.pools() {
        super::Pools::Sqlite(_) => {
            format!("cast(percentile_disc({column} - created_at, 0.5) as bigint)")
        }
        super::Pools::Postgres(_) => format!(
            "cast(percentile_disc(0.5) within group (order by {column} - created_at) as bigint)"
        ),
    };
    format!(
        "count(first_response_at) as answered, count(closed_at) as closed, \
         {} as first_reply_ms, {} as resolution_ms",
        median("first_response_at"),
        median("closed_at")
    )
}

/// The [`Waits`] of a category's issues reported since `from`: one range of the
/// (service_code, created_at, first_response_at, closed_at) index alone.
pub async fn category_waits(store: &Store, service_code: &str, from: i64) -> Result<Waits> {
    let sql = format!(
        "select {} from issue where service_code = $1 and created_at >= $2",
        waits_columns(store)
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, Waits>(sqlx::AssertSqlSafe(sql.clone())).bind(service_code).bind(from).fetch_one(pool).await?),
    )
}

/// A department's promises since `from`: how many came due (closed, or open past their due
/// time), how many of those were kept (closed by their due time), the citizens' last answers
/// to "Is it fixed?" (confirmed, and not fixed), and its [`Waits`]. One range of the
/// department's covering index (migration 0018), never the table.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Promises {
    pub came_due: i64,
    pub kept: i64,
    pub confirmed: i64,
    pub not_fixed: i64,
    #[sqlx(flatten)]
    pub waits: Waits,
}

pub async fn promises(store: &Store, department: &str, from: i64, now: i64) -> Result<Promises> {
    let sql = format!(
        "select \
         coalesce(sum(case when due_at is not null \
             and (closed_at is not null or due_at <= $3) then 1 else 0 end), 0) as came_due, \
         coalesce(sum(case when due_at is not null and closed_at is not null \
             and closed_at <= due_at then 1 else 0 end), 0) as kept, \
         coalesce(sum(case when fixed_answer = 1 then 1 else 0 end), 0) as confirmed, \
         coalesce(sum(case when fixed_answer = 0 then 1 else 0 end), 0) as not_fixed, {} \
         from issue where department = $1 and created_at >= $2",
        waits_columns(store)
    );
    let row = on_pool!(store, pool => sqlx::query_as::<_, Promises>(sqlx::AssertSqlSafe(sql.clone())).bind(department).bind(from).bind(now).fetch_one(pool).await?);
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
