//! One `Store` over SQLite or Postgres, chosen by the database URL's scheme.
//!
//! Every query is written once, as a `const` beside the function that runs it, with `$N`
//! placeholders that both drivers accept. The rejected alternative, sqlx's `Any` driver, erases
//! types at run time and cannot be given SQLite's single-writer pool.
//!
//! Two kinds of write transaction, and the compiler keeps them apart:
//! - [`Tx`], a plain sqlx transaction on either backend, for everything but the inbound path
//!   (officials' actions, the delivery worker, Open311 filings, sessions). Its statements are
//!   sqlx calls expanded for each backend by [`on_tx!`], or [`query::query`]s.
//! - [`LaneTx`], the writer lane's (see [`lane`]): SQLite's writer handle driven directly, or a
//!   Postgres round that holds rows back until it ends. It runs only [`query::query`]s; the
//!   set-oriented statements of a round take a `LaneTx` and nothing else, and an `on_tx!`
//!   statement does not accept one.
//!
//! Both are [`query::Exec`]: a function written with `query` takes `&mut impl Exec` and serves
//! both (an issue's status changed by an official or by the citizen's "fixed"). Reads that need
//! no transaction go to a pool through [`on_pool!`]. The caller owns the transaction: it calls
//! [`Store::begin`], passes `&mut Tx` to the functions of each aggregate file, and commits once.

pub mod batch;
pub mod broadcasts;
pub mod citizens;
mod connect;
pub mod crowd;
pub mod escalations;
#[cfg(test)]
pub use connect::Scratch;
#[allow(unsafe_code)] // the SQLite handle borrowed from sqlx: see the module's safety notes
pub mod direct;
mod error;
pub mod issues;
#[allow(unsafe_code)] // borrows SQLite's writer handle from sqlx for `direct`
pub mod lane;
pub mod login_attempts;
pub mod mail;
pub mod messages;
pub mod officials;
pub mod open_data;
pub mod outbox;
pub mod places;
pub mod polls;
pub mod privacy;
pub mod query;
pub mod queue;
pub mod seal;
pub mod sessions;
pub mod settings;
pub mod spikes;
pub mod stats;

pub use error::{Result, StoreError};
pub use lane::{DIRECT_HOLD, LaneTx, LaneWork, at_once};
pub use query::Exec;

use crate::seal::Seal;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{Postgres, Sqlite, Transaction};
use std::sync::Arc;

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// How citizens' numbers are kept: in clear, or sealed (`crate::seal`). Set once at start
    /// ([`Store::with_seal`]), after [`seal::check`] has found the rows open under it.
    seal: Seal,
}

#[derive(Clone)]
enum Backend {
    /// SQLite allows one writer at a time. Writes go through a pool of exactly one connection,
    /// so transactions queue in our process instead of failing with SQLITE_BUSY when two
    /// deferred transactions both try to upgrade to a write lock; reads use their own pool
    /// and, in WAL mode, never wait for the writer.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        /// Stops the background checkpointer when the last clone of the store is dropped.
        _checkpointer: Arc<connect::AbortOnDrop>,
        /// Writers waiting for the writer connection: the lane lets it go at once when any
        /// does (`lane::Store::run_lane`).
        waiting: Arc<std::sync::atomic::AtomicUsize>,
    },
    Postgres(PgPool),
}

/// A write transaction on either backend, through sqlx. Dropping it without [`Tx::commit`]
/// rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs one expression against the connection of a [`Tx`], for each backend.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

/// Runs one read-only expression against a pool of the [`Store`], for each backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store.pools() {
            $crate::store::Pools::Sqlite($pool) => $body,
            $crate::store::Pools::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

#[doc(hidden)]
pub enum Pools<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

impl Store {
    /// This store, keeping numbers as `seal` says.
    pub fn with_seal(mut self, seal: Seal) -> Store {
        self.seal = seal;
        self
    }

    pub fn seal(&self) -> &Seal {
        &self.seal
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// How many write transactions are worth running at once: one on SQLite (one writer),
    /// half the pool on Postgres (the rest serves reads and officials).
    pub fn writers(&self) -> usize {
        match &self.backend {
            Backend::Sqlite { .. } => 1,
            Backend::Postgres(pool) => (pool.options().get_max_connections() as usize / 2).max(1),
        }
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match &self.backend {
            // IMMEDIATE takes the write lock at the start, so a transaction that reads and then
            // writes waits (busy_timeout) for another process's writer instead of failing
            // with SQLITE_BUSY when it tries to upgrade a stale read snapshot.
            Backend::Sqlite {
                writer, waiting, ..
            } => {
                let _waiting = lane::Waiting::new(waiting);
                Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)
            }
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// SQLite's writer connection outside any transaction (for statements no transaction may
    /// hold, such as VACUUM), taken as [`Store::begin`] takes it: counted as waiting, so the
    /// writer lane lets it go after its batch. `None` on Postgres.
    async fn sqlite_writer(&self) -> Result<Option<sqlx::pool::PoolConnection<Sqlite>>> {
        match &self.backend {
            Backend::Sqlite {
                writer, waiting, ..
            } => {
                let _waiting = lane::Waiting::new(waiting);
                Ok(Some(writer.acquire().await?))
            }
            Backend::Postgres(_) => Ok(None),
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("select 1").execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { writer, reader, .. } => {
                writer.close().await;
                reader.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    #[doc(hidden)]
    pub fn pools(&self) -> Pools<'_> {
        match &self.backend {
            Backend::Sqlite { reader, .. } => Pools::Sqlite(reader),
            Backend::Postgres(pool) => Pools::Postgres(pool),
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Exec for Tx {
    fn target(&mut self) -> query::Target<'_> {
        match self {
            Tx::Sqlite(tx) => query::Target::Sqlite(tx),
            Tx::Postgres(tx) => query::Target::Postgres(tx),
        }
    }
}

/// Milliseconds since the Unix epoch, UTC: the one time format in the database.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
