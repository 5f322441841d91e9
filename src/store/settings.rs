//! Facts the deployment keeps about itself.

use super::{Result, Store, on_pool, on_tx};

/// Returns the value stored under `name`, storing `make()` first if there is none. Two
/// instances racing at first start agree on one value: the insert does nothing on conflict
/// and both read back what won.
pub async fn get_or_insert(
    store: &Store,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<String> {
    const INSERT: &str =
        "insert into setting (name, value) values ($1, $2) on conflict (name) do nothing";
    const SELECT: &str = "select value from setting where name = $1";
    let mut tx = store.begin().await?;
    let value = make();
    on_tx!(&mut tx, conn => sqlx::query(INSERT).bind(name).bind(&value).execute(conn).await?.rows_affected());
    tx.commit().await?;
    let (value,): (String,) =
        on_pool!(store, pool => sqlx::query_as(SELECT).bind(name).fetch_one(pool).await?);
    Ok(value)
}
