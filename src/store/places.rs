//! The city's places as imported, whole: the newest import is in force on every replica.

use super::{Result, Store, on_pool, on_tx};

/// The newest import: its id and the GeoJSON as given.
pub async fn newest(store: &Store) -> Result<Option<(i64, String)>> {
    const SQL: &str = "select place_set_id, source from place_set \
         order by place_set_id desc limit 1";
    let row = on_pool!(store, pool => sqlx::query_as::<_, (i64, String)>(SQL).fetch_optional(pool).await?);
    Ok(row)
}

/// The id of the newest import, to see whether another replica imported since.
pub async fn newest_id(store: &Store) -> Result<Option<i64>> {
    const SQL: &str = "select max(place_set_id) from place_set";
    let id =
        on_pool!(store, pool => sqlx::query_scalar::<_, Option<i64>>(SQL).fetch_one(pool).await?);
    Ok(id)
}

/// Stores an import (already read and checked) as the newest; the three before it are kept,
/// older ones deleted. Returns its id.
pub async fn import(store: &Store, source: &str, features: i64, now: i64) -> Result<i64> {
    const INSERT: &str = "insert into place_set (source, features, imported_at) \
         values ($1, $2, $3) returning place_set_id";
    const PRUNE: &str = "delete from place_set where place_set_id <= $1 - 4";
    let mut tx = store.begin().await?;
    let id = on_tx!(&mut tx, conn => sqlx::query_scalar::<_, i64>(INSERT)
        .bind(source)
        .bind(features)
        .bind(now)
        .fetch_one(conn)
        .await?);
    on_tx!(&mut tx, conn => sqlx::query(PRUNE).bind(id).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(id)
}
