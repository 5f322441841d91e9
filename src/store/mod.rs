//! One `Store` over SQLite or Postgres, chosen by the database URL's scheme.
//!
//! Every query is written once, as a `const` beside the function that runs it, with `$N`
//! placeholders that both drivers accept; the [`on_tx!`] and [`on_pool!`] macros expand the one
//! call for each backend. The rejected alternative, sqlx's `Any` driver, erases types at run time
//! and cannot be given SQLite's single-writer pool.
//!
//! The caller owns the transaction: gateway code calls [`Store::begin`], passes `&mut Tx` to the
//! functions of each aggregate file, and commits once.

pub mod batch;
pub mod broadcasts;
pub mod citizens;
#[allow(unsafe_code)] // the SQLite handle borrowed from sqlx: see the module's safety notes
pub mod direct;
pub mod issues;
pub mod login_attempts;
pub mod messages;
pub mod officials;
pub mod open_data;
pub mod outbox;
pub mod query;
pub mod queue;
pub mod sessions;
pub mod settings;
pub mod stats;

use crate::config::DatabaseUrl;
use futures_util::FutureExt as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection as _, Postgres, Sqlite, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database (direct): {0}")]
    Direct(#[from] rusqlite::Error),
    /// A statement not written with [`query::query`] was run in a direct transaction.
    #[error("this statement cannot run in a direct SQLite transaction")]
    NotDirect,
    /// The work of a transaction panicked (a bug); the transaction was rolled back.
    #[error("the work of this transaction panicked and was rolled back")]
    Panicked,
    /// A direct transaction's work waited on something other than SQLite.
    #[error("a direct SQLite transaction's work did not finish synchronously")]
    Pending,
}

impl StoreError {
    /// Another writer stored or holds the same key: a unique key refused the row, or Postgres
    /// broke a deadlock between two writers each waiting on a key the other inserted. Both come
    /// from deliveries of one webhook applied at once by different writers (replicas, or lanes
    /// for an id forged from another number).
    pub fn is_write_conflict(&self) -> bool {
        const DEADLOCK: &str = "40P01";
        matches!(self, StoreError::Database(sqlx::Error::Database(e))
            if e.is_unique_violation() || e.code().as_deref() == Some(DEADLOCK))
    }

    /// The database cannot be reached or written right now, an operational fault rather than
    /// a statement's: the connection went away (Postgres restarted or failed over, an operator
    /// ended the session, the network dropped), or SQLite could not write its files (a full
    /// disk, an I/O error, a lock another process held past the busy timeout). A transaction
    /// caught in it was not committed, or, a connection lost during its commit, may have been:
    /// either way a message applied again meets its own row if it is stored, and is answered as
    /// a replay.
    pub fn is_unavailable(&self) -> bool {
        use rusqlite::ffi::{
            SQLITE_BUSY, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_IOERR, SQLITE_LOCKED, SQLITE_READONLY,
        };
        const SQLITE: [i32; 6] = [
            SQLITE_BUSY,
            SQLITE_LOCKED,
            SQLITE_READONLY,
            SQLITE_IOERR,
            SQLITE_FULL,
            SQLITE_CANTOPEN,
        ];
        match self {
            StoreError::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::WorkerCrashed,
            ) => true,
            StoreError::Database(sqlx::Error::Database(e)) => {
                let Some(code) = e.code() else { return false };
                if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // The extended code, whose low byte is the primary one.
                    code.parse::<i32>()
                        .is_ok_and(|code| SQLITE.contains(&(code & 0xff)))
                } else {
                    // Class 08: connection exception; 57P0x: the server shut the session down.
                    code.starts_with("08") || code.starts_with("57P")
                }
            }
            StoreError::Direct(rusqlite::Error::SqliteFailure(e, _)) => {
                SQLITE.contains(&(e.extended_code & 0xff))
            }
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    backend: Backend,
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
        _checkpointer: Arc<AbortOnDrop>,
    },
    Postgres(PgPool),
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Copies committed WAL frames into the database file as they come, on a connection of its own
/// (on sqlx's thread for it): a PASSIVE checkpoint never waits for or blocks the writer or the
/// readers, so the copying and its fsync leave the webhooks' path.
///
/// Under sustained writes the WAL cannot start over (that needs every frame copied at the moment
/// a write begins), so it still reaches the writer's own mark (`wal_autocheckpoint`) and the
/// writer then checkpoints, with an fsync, before its commit returns: a stall for every webhook
/// waiting on it, as long as the frames written since the last pass here take to copy. So while
/// anything is being written this runs every [`CHECKPOINT_BUSY`] (p99 at 64 concurrent webhooks:
/// 29-39 ms with a pass every 250 ms, 15-17 ms every 20 ms; BENCHMARKS.md), and every
/// [`CHECKPOINT_IDLE`] when nothing changed since its last pass.
fn spawn_checkpointer(options: SqliteConnectOptions) -> AbortOnDrop {
    let task = tokio::spawn(async move {
        let mut conn = match options.connect().await {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "no background checkpointer: the writer checkpoints alone");
                return;
            }
        };
        // (frames in the WAL, frames copied) after the last pass.
        let mut last = (0, 0);
        let mut pause = CHECKPOINT_IDLE;
        loop {
            tokio::time::sleep(pause).await;
            match sqlx::query_as::<_, (i64, i64, i64)>("pragma wal_checkpoint(PASSIVE)")
                .fetch_one(&mut conn)
                .await
            {
                Ok((_busy, log, copied)) => {
                    pause = if (log, copied) == last {
                        CHECKPOINT_IDLE
                    } else {
                        CHECKPOINT_BUSY
                    };
                    last = (log, copied);
                }
                Err(error) => {
                    tracing::debug!(%error, "background checkpoint");
                    pause = CHECKPOINT_IDLE;
                }
            }
        }
    });
    AbortOnDrop(task.abort_handle())
}

/// The background checkpointer's pause while the WAL grows.
const CHECKPOINT_BUSY: Duration = Duration::from_millis(20);
/// Its pause when nothing was written since its last pass.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(250);

/// A write transaction on either backend. Dropping it without [`Tx::commit`] rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
    /// SQLite's writer connection driven directly (see [`direct`]): only for statements written
    /// with [`query::query`], inside [`Store::with_direct`].
    Direct(direct::Direct),
    /// A Postgres transaction of the writer lane: rows nothing in the batch reads back wait in
    /// [`batch::Deferred`] and go in together when the round ends (see [`batch`]).
    Batch(Box<batch::PgBatch>),
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
            $crate::store::Tx::Batch(batch) => {
                let $conn = &mut *batch.tx;
                $body
            }
            $crate::store::Tx::Direct(_) => return Err($crate::store::StoreError::NotDirect.into()),
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
    /// Connects without migrating. `sqlite://` files are created when missing.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Store> {
        let backend = if url.is_postgres() {
            let mut options = PgConnectOptions::from_str(url.expose())?;
            // Named in `pg_stat_activity` and the server's logs, unless the URL names it.
            if options.get_application_name().is_none() {
                options = options.application_name("civicline");
            }
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            Backend::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url.expose())?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // In WAL mode NORMAL makes a commit durable against a crash of this process
                // (the WAL is in the OS page cache); a power loss may lose the last commits.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // The writer copies the WAL back into the database when it reaches N pages, with
            // an fsync, before the commit that crossed the mark returns. SQLite's default (1,000
            // pages, 4 MB) means that many times a second under load. Here a background
            // checkpointer does the copying as it goes and the writer's own checkpoint, at
            // 16,384 pages (64 MB of WAL at most), finds little left and restarts the WAL.
            let writer_options = options.clone().pragma("wal_autocheckpoint", "16384");
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                // A file does not hang up like a server: no `select 1` (a hop to sqlx's
                // worker thread and back) before every batch of the writer lane.
                .test_before_acquire(false)
                // sqlx counts a transaction whose COMMIT failed as still open; when SQLite had
                // rolled it back itself (a full disk, an I/O error), the ROLLBACK on drop fails
                // too, and the connection would refuse every later transaction ("non-zero
                // transaction depth"). Such a connection is closed and replaced instead.
                .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(writer_options)
                .await?;
            let checkpointer = spawn_checkpointer(options.clone());
            let reader = SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options.read_only(true))
                .await?;
            Backend::Sqlite {
                writer,
                reader,
                _checkpointer: Arc::new(checkpointer),
            }
        };
        Ok(Store { backend })
    }

    /// Applies the migrations of this backend that the database has not seen yet.
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
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
            Backend::Sqlite { writer, .. } => {
                Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)
            }
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Starts a write transaction of the writer lane: on Postgres a [`Tx::Batch`], whose
    /// deferred rows are written at [`Tx::flush`] and before the commit; on SQLite as
    /// [`Store::begin`] (each statement is a call into SQLite, there is nothing to save).
    pub async fn begin_batch(&self) -> Result<Tx> {
        Ok(match &self.backend {
            Backend::Postgres(pool) => Tx::Batch(Box::new(batch::PgBatch {
                tx: pool.begin().await?,
                defer: false,
                deferred: batch::Deferred::default(),
            })),
            Backend::Sqlite { .. } => self.begin().await?,
        })
    }

    /// On SQLite, runs `work` in direct write transactions on the writer connection (see
    /// [`direct`]), one after the other while [`DirectWork::again`] says so, with the
    /// statements prepared once for all of them; `None` on Postgres. Each transaction is
    /// committed when [`DirectWork::apply`] returns `Ok(true)`, rolled back otherwise; an error
    /// ends it all, that transaction rolled back. It runs on the calling task's thread without
    /// yielding between transactions: the writer lane calls it with at most 64 messages per
    /// transaction, a few milliseconds of SQLite work each, and ends it within
    /// [`DIRECT_HOLD`] so that other writers get the connection in turn.
    #[allow(unsafe_code)]
    pub async fn with_direct(&self, work: &mut impl DirectWork) -> Option<Result<()>> {
        let Backend::Sqlite { writer, .. } = &self.backend else {
            return None;
        };
        Some(
            async {
                let mut conn = writer.acquire().await?;
                let mut handle = conn.lock_handle().await?;
                // SAFETY: the locked handle is this connection's, held until the end of this
                // block, and sqlx's worker does not touch it while it is locked. The `Direct`
                // (and every statement it prepared) is dropped before the lock is.
                let mut direct = unsafe { direct::Direct::connect(handle.as_raw_handle())? };
                loop {
                    direct.begin()?;
                    let mut tx = Tx::Direct(direct);
                    let applied = work.apply(&mut tx);
                    let Tx::Direct(taken) = tx else {
                        unreachable!("a direct transaction stays direct")
                    };
                    direct = taken;
                    if applied? {
                        direct.commit()?;
                    } else {
                        direct.rollback()?;
                    }
                    if !work.again() {
                        return Ok(());
                    }
                }
            }
            .await,
        )
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
            Tx::Direct(mut tx) => tx.commit()?,
            Tx::Batch(mut batch) => {
                batch.flush().await?;
                batch.tx.commit().await?
            }
        }
        Ok(())
    }

    /// Writes the rows a [`Tx::Batch`] deferred; returns the ids of the replies it stored, by
    /// the inbound message each answers. Nothing to do on the other kinds, which write at once.
    pub async fn flush(&mut self) -> Result<Vec<batch::ReplyId>> {
        match self {
            Tx::Batch(batch) => batch.flush().await,
            _ => Ok(Vec::new()),
        }
    }

    /// The rows waiting for [`Tx::flush`], on a [`Tx::Batch`] whose round has more than one
    /// message (see [`Tx::start_round`]).
    pub(crate) fn deferred(&mut self) -> Option<&mut batch::Deferred> {
        match self {
            Tx::Batch(batch) if batch.defer => Some(&mut batch.deferred),
            _ => None,
        }
    }

    /// Starts a round of `messages` on a [`Tx::Batch`]: with more than one, rows are deferred
    /// and written together; a message alone is written a statement at a time, with the
    /// prepared statements for one row.
    pub fn start_round(&mut self, messages: usize) {
        if let Tx::Batch(batch) = self {
            batch.defer = messages > 1;
        }
    }
}

/// Work for [`Store::with_direct`]: consecutive transactions on SQLite's writer connection.
pub trait DirectWork {
    /// The next transaction's work: `Ok(true)` to commit it, `Ok(false)` to roll it back.
    fn apply(&mut self, tx: &mut Tx) -> Result<bool>;
    /// After each commit or rollback: true to run another transaction on the same connection.
    fn again(&mut self) -> bool;
}

/// The longest the writer lane keeps SQLite's writer connection for consecutive batches before
/// it lets other writers (officials, the delivery worker) have it.
pub const DIRECT_HOLD: Duration = Duration::from_millis(20);

/// The output of a future that must not wait (the work of a direct transaction, polled once
/// on the writer's thread); [`StoreError::Pending`] if it would have.
pub fn at_once<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    work.now_or_never().unwrap_or(Err(StoreError::Pending))
}

/// Milliseconds since the Unix epoch, UTC: the one time format in the database.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use sqlx::{Connection, Executor};

    /// A full database and a refused row, as each SQLite path reports them: only the first is
    /// the database being unavailable (a writer lane falls back and answers 503), the second a
    /// statement's own failure.
    #[tokio::test]
    async fn a_full_sqlite_database_is_unavailable_a_constraint_is_not() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        conn.execute("create table t (a integer primary key, b text)")
            .await
            .unwrap();
        conn.execute("insert into t values (1, 'x')").await.unwrap();
        let constraint = conn
            .execute("insert into t values (1, 'y')")
            .await
            .unwrap_err();
        conn.execute("pragma max_page_count = 3").await.unwrap();
        let full = conn
            .execute("insert into t (b) select zeroblob(100000)")
            .await
            .unwrap_err();
        assert!(StoreError::from(full).is_unavailable());
        let constraint = StoreError::from(constraint);
        assert!(!constraint.is_unavailable());
        assert!(
            constraint.is_write_conflict(),
            "a unique key: another writer has the row"
        );

        let direct = rusqlite::Connection::open_in_memory().unwrap();
        direct
            .execute_batch("create table t (a integer primary key); pragma max_page_count = 2")
            .unwrap();
        let full = direct
            .execute_batch("create table u (b text); insert into u select zeroblob(100000)")
            .unwrap_err();
        assert!(StoreError::from(full).is_unavailable());
        let refused = direct.execute_batch("insert into t values (1); insert into t values (1)");
        assert!(!StoreError::from(refused.unwrap_err()).is_unavailable());
    }
}
