//! The store's side of sealed numbers (`crate::seal`): which keys a database holds numbers
//! under, sealing a database kept in clear in place, and re-sealing it under a new key.
//!
//! Which keys a database holds numbers under is read from the unique index on `number_key`
//! itself (a clear number begins with `+`, a sealed one's key with `k<key id>:`): a few index
//! seeks at start find any row outside the keys configured, so a missing or wrong key is
//! refused before anything is served, whatever a rotation or an older replica left. Sealing
//! and rotating go in batches of their own transactions, each leaving every number readable
//! under one of the two keys: interrupted, they go on where they stopped.

use super::{Pools, Result, Store, on_pool, on_tx};
use crate::seal::{self, Seal, SealError};

/// Set while a database is being sealed: the provider payloads of its clear days are rewritten
/// and the free pages dropped once its citizens are done.
const PENDING: &str = "seal_pending_compact";
const BATCH: i64 = 1000;

/// What [`check`] found and did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Citizens' numbers that were in clear and are sealed now.
    pub sealed_now: u64,
}

/// Refuses a seal that cannot read this database (no key for sealed rows, or a key they were
/// not sealed with) and, with a key, seals the rows still in clear. Run at start, before
/// anything is served.
pub async fn check(store: &Store, seal: &Seal) -> Result<Checked> {
    if let Some(found) = outside_keys(store, seal).await? {
        let id = seal::key_id_of(&found).unwrap_or("?").to_owned();
        return Err(match seal.is_sealed() {
            false => SealError::KeyMissing(id),
            true => SealError::WrongKey {
                sealed_under: id,
                given: seal.key_ids().join(", "),
            },
        }
        .into());
    }
    // A key with the right id that does not open its rows (an altered row, a forged id).
    if let Some((key, sealed)) = any_sealed(store).await? {
        seal.open(&key, Some(&sealed))?;
    }
    let sealed_now = match seal.is_sealed() {
        true => reseal_range(store, seal, seal::CLEAR_RANGE, true).await?,
        false => 0,
    };
    finish_pending(store).await?;
    Ok(Checked { sealed_now })
}

/// A number key of a row held under none of the keys configured (nor in clear), if any: the
/// first key at or after the start of each gap between their ranges.
async fn outside_keys(store: &Store, seal: &Seal) -> Result<Option<String>> {
    const FIRST_FROM: &str =
        "select number_key from citizen where number_key >= $1 order by number_key limit 1";
    let (clear_low, clear_high) = seal::CLEAR_RANGE;
    let (anon_low, anon_high) = super::privacy::ANON_RANGE;
    let mut ranges = vec![
        (clear_low.to_owned(), clear_high.to_owned()),
        (anon_low.to_owned(), anon_high.to_owned()),
    ];
    ranges.extend(seal.key_ids().into_iter().map(seal::key_range));
    ranges.sort();
    // Gaps: before the first range, between ranges, after the last.
    let mut gaps = vec![(String::new(), Some(ranges[0].0.clone()))];
    for pair in ranges.windows(2) {
        gaps.push((pair[0].1.clone(), Some(pair[1].0.clone())));
    }
    gaps.push((ranges[ranges.len() - 1].1.clone(), None));
    for (low, high) in gaps {
        let first: Option<String> = on_pool!(store, pool => sqlx::query_scalar(FIRST_FROM)
            .bind(&low)
            .fetch_optional(pool)
            .await?);
        if let Some(key) = first
            && high.as_ref().is_none_or(|high| key < *high)
        {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// Moves every number sealed under the current key to the new one (`seal` has both); when it
/// returns, a server needs only the new key. Returns how many rows moved. Servers keep running
/// meanwhile: with both keys configured they look a number up under either.
pub async fn rotate(store: &Store, seal: &Seal) -> Result<u64> {
    let ids = seal.key_ids();
    let [old, _new] = ids.as_slice() else {
        return Err(SealError::RotateNeedsTwoKeys.into());
    };
    let old = old.to_string();
    check(store, seal).await?;
    let (low, high) = seal::key_range(&old);
    let moved = reseal_range(store, seal, (&low, &high), false).await?;
    set(store, PENDING, "1").await?;
    finish_pending(store).await?;
    Ok(moved)
}

/// Re-seals, under the writing key, the citizens whose number key lies in `range` (an index
/// range scan), a batch per transaction, until none is left; `from_clear` marks the database
/// for compaction before the first row changes.
async fn reseal_range(
    store: &Store,
    seal: &Seal,
    range: (&str, &str),
    from_clear: bool,
) -> Result<u64> {
    let mut moved = 0;
    loop {
        let n = reseal_batch(store, seal, range, from_clear, BATCH).await?;
        if n == 0 {
            return Ok(moved);
        }
        moved += n;
        tracing::info!(moved, "sealing citizens' numbers");
    }
}

/// One batch of [`reseal_range`], in one transaction: at most `batch` rows leave `range` for
/// the writing key. Every row is under one key or the other before and after it commits. From
/// clear, pseudonyms are made random too (a pseudonym kept as the number's HMAC under a key in
/// this database could be tested against every number of a country); a rotation keeps them.
async fn reseal_batch(
    store: &Store,
    seal: &Seal,
    (low, high): (&str, &str),
    from_clear: bool,
    batch: i64,
) -> Result<u64> {
    const PAGE: &str = "select citizen_id, number_key, number_sealed from citizen \
         where number_key >= $1 and number_key < $2 order by number_key limit $3";
    const UPDATE: &str = "update citizen set number_key = $2, number_sealed = $3, \
         pseudonym = coalesce($4, pseudonym) where citizen_id = $1 and number_key = $5";
    let mut tx = store.begin().await?;
    let rows: Vec<(i64, String, Option<String>)> = on_tx!(&mut tx, conn => sqlx::query_as(PAGE)
        .bind(low)
        .bind(high)
        .bind(batch)
        .fetch_all(conn)
        .await?);
    if rows.is_empty() {
        return Ok(0);
    }
    if from_clear {
        on_tx!(&mut tx, conn => sqlx::query(SET).bind(PENDING).bind("1").execute(conn).await?.rows_affected());
    }
    for (id, key, sealed) in &rows {
        let number = seal.open(key, sealed.as_deref())?;
        let (new_key, new_sealed) = seal.store(&number);
        let pseudonym = from_clear.then(random_pseudonym);
        on_tx!(&mut tx, conn => sqlx::query(UPDATE)
            .bind(id)
            .bind(&new_key)
            .bind(new_sealed.as_deref())
            .bind(pseudonym.as_deref())
            .bind(key)
            .execute(conn)
            .await?
            .rows_affected());
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// A citizen pseudonym that says nothing about the number (16 hex digits).
pub fn random_pseudonym() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// After numbers left the clear: the provider payloads of those days lose theirs, and the
/// database drops the free pages and WAL frames that still hold the old rows.
async fn finish_pending(store: &Store) -> Result<()> {
    if get(store, PENDING).await?.is_none() {
        return Ok(());
    }
    scrub_payloads(store).await?;
    match store.pools() {
        Pools::Sqlite(_) => {
            let mut writer = store.sqlite_writer().await?.expect("a SQLite store");
            sqlx::query("vacuum").execute(&mut *writer).await?;
            sqlx::query("pragma wal_checkpoint(truncate)")
                .execute(&mut *writer)
                .await?;
        }
        Pools::Postgres(pool) => {
            sqlx::query("vacuum citizen, delivery_event")
                .execute(pool)
                .await?;
        }
    }
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query("delete from setting where name = $1").bind(PENDING).execute(conn).await?.rows_affected());
    tx.commit().await
}

/// Rewrites the delivery callbacks kept as received without the numbers in them.
async fn scrub_payloads(store: &Store) -> Result<()> {
    const PAGE: &str = "select delivery_event_id, payload from delivery_event \
         where delivery_event_id > $1 order by delivery_event_id limit $2";
    const UPDATE: &str = "update delivery_event set payload = $2 where delivery_event_id = $1";
    let mut after = 0i64;
    loop {
        let mut tx = store.begin().await?;
        let rows: Vec<(i64, String)> = on_tx!(&mut tx, conn => sqlx::query_as(PAGE)
            .bind(after)
            .bind(BATCH)
            .fetch_all(conn)
            .await?);
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        after = *last;
        for (id, payload) in &rows {
            if let std::borrow::Cow::Owned(clean) = seal::without_numbers(payload) {
                on_tx!(&mut tx, conn => sqlx::query(UPDATE).bind(id).bind(&clean).execute(conn).await?.rows_affected());
            }
        }
        tx.commit().await?;
    }
}

/// One sealed row, to try the key on.
async fn any_sealed(store: &Store) -> Result<Option<(String, String)>> {
    const SQL: &str = "select number_key, number_sealed from citizen \
         where number_sealed is not null limit 1";
    Ok(on_pool!(store, pool => sqlx::query_as(SQL).fetch_optional(pool).await?))
}

const SET: &str = "insert into setting (name, value) values ($1, $2) \
     on conflict (name) do update set value = excluded.value";

async fn get(store: &Store, name: &str) -> Result<Option<String>> {
    const SQL: &str = "select value from setting where name = $1";
    Ok(on_pool!(store, pool => sqlx::query_scalar(SQL).bind(name).fetch_optional(pool).await?))
}

async fn set(store: &Store, name: &str, value: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, conn => sqlx::query(SET).bind(name).bind(value).execute(conn).await?.rows_affected());
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::SealKey;
    use crate::sms::PhoneNumber;
    use crate::store::{Scratch, citizens};

    async fn count(store: &Store, sql: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        on_pool!(store, pool => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap())
    }

    /// A rotation stopped after any batch leaves every number readable under one of the two
    /// keys: a server with both starts and finds each citizen; one with either key alone is
    /// refused; running the rotation again finishes it.
    #[tokio::test]
    async fn a_rotation_interrupted_between_batches_leaves_every_number_readable() {
        let scratch = Scratch::new().await;
        let (old, new) = (SealKey::generate(), SealKey::generate());
        let only = |k: &str| Seal::from_keys(Some(k), None).unwrap();
        let both = Seal::from_keys(Some(&old), Some(&new)).unwrap();
        let store = scratch.store.clone().with_seal(only(&old));
        let numbers: Vec<PhoneNumber> = (0..7)
            .map(|i| PhoneNumber::parse(&format!("+1415555{:04}", 3000 + i), None).unwrap())
            .collect();
        let mut ids = Vec::new();
        let mut tx = store.begin().await.unwrap();
        for phone in &numbers {
            let c = citizens::find_or_create(&mut tx, store.seal(), phone, "p", 1)
                .await
                .unwrap();
            ids.push(c.citizen_id);
        }
        tx.commit().await.unwrap();
        check(&store, store.seal()).await.unwrap();

        // Interrupted after one batch of three.
        let old_id = only(&old).key_ids()[0].to_owned();
        let (low, high) = seal::key_range(&old_id);
        assert_eq!(
            reseal_batch(&store, &both, (&low, &high), false, 3)
                .await
                .unwrap(),
            3
        );
        let moved = count(
            &store,
            "select count(*) from citizen where number_key like 'k%'",
        )
        .await;
        assert_eq!(moved, 7);
        for (phone, id) in numbers.iter().zip(&ids) {
            let mut tx = store.begin().await.unwrap();
            let found = citizens::find_or_create(&mut tx, &both, phone, "p", 2)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(
                found.citizen_id, *id,
                "{phone:?} found under one of the two keys"
            );
        }
        assert!(check(&store, &both).await.is_ok());
        for alone in [only(&old), only(&new)] {
            let refused = check(&store, &alone).await.unwrap_err();
            assert!(
                refused.to_string().contains("is not this database's key"),
                "{refused}"
            );
        }

        // Run again: it finishes, and the new key alone opens everything.
        let rest = rotate(&store, &both).await.unwrap();
        assert_eq!(rest, 4);
        check(&store, &only(&new)).await.unwrap();
        assert_eq!(count(&store, "select count(*) from citizen").await, 7);
        let (low, high) = seal::key_range(only(&new).key_ids()[0]);
        let sql = format!(
            "select count(*) from citizen where number_key >= '{low}' and number_key < '{high}'"
        );
        assert_eq!(count(&store, &sql).await, 7);
    }
}
