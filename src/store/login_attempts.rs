//! Officials' login attempts, counted in the database so that every replica sees every attempt
//! and the limit holds for the deployment, not per process.

use super::query::query;
use super::{Result, Store};

/// How far back attempts count.
pub const WINDOW_MS: i64 = 60_000;

struct Count {
    n: i64,
}
super::query::row!(Count { n });

/// Records one attempt under each key, then returns how many attempts each key has had in the
/// last [`WINDOW_MS`], this one included. The attempt is committed before it is counted, so of
/// attempts racing on several replicas the k-th to commit sees at least k: no more than the
/// limit can pass, whatever the interleaving.
pub async fn record(store: &Store, keys: &[&str], now: i64) -> Result<Vec<i64>> {
    const INSERT: &str = "insert into login_attempt (key, created_at) values ($1, $2)";
    const COUNT: &str = "select count(*) from login_attempt where key = $1 and created_at > $2";
    let mut tx = store.begin().await?;
    for key in keys {
        query(INSERT).bind(*key).bind(now).execute(&mut tx).await?;
    }
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let mut counts = Vec::with_capacity(keys.len());
    for key in keys {
        let Count { n } = query(COUNT)
            .bind(*key)
            .bind(now - WINDOW_MS)
            .fetch_one(&mut tx)
            .await?;
        counts.push(n);
    }
    tx.commit().await?;
    Ok(counts)
}

/// Deletes attempts older than `before` (the server's housekeeping, hourly).
pub async fn delete_older_than(store: &Store, before: i64) -> Result<u64> {
    const SQL: &str = "delete from login_attempt where created_at < $1";
    let mut tx = store.begin().await?;
    let deleted = query(SQL).bind(before).execute(&mut tx).await?;
    tx.commit().await?;
    Ok(deleted)
}
