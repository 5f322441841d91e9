//! Opening the database: the pools of each backend, SQLite's pragmas and its background
//! checkpointer, and the migrations.

use super::{Backend, Result, Store, StoreError};
use crate::config::DatabaseUrl;
use crate::seal::Seal;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection as _};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

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
                // One connection to a local file, kept for the life of the process: nothing to
                // gain from reaping it (and a new one starts with a cold page cache). Without
                // a lifetime or idle timeout sqlx runs no maintenance task for this pool, whose
                // one connection the writer lane keeps across awaits.
                .max_lifetime(None)
                .idle_timeout(None)
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
                // Kept like the writer's: connections to a local file, their page caches warm,
                // and no maintenance task (sqlx's reaper can spin forever after a race between
                // a release and an acquire, transact-rs/sqlx#3645, not fixed in sqlx 0.9.0).
                .max_lifetime(None)
                .idle_timeout(None)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options.read_only(true))
                .await?;
            // The dashboard's medians need SQLite's percentile functions, compiled in by
            // .cargo/config.toml: a build without them stops here, not on a page later.
            if let Err(error) = sqlx::query("select percentile_disc(1, 0.5)")
                .execute(&reader)
                .await
            {
                return Err(StoreError::Unsupported(format!(
                    "this build's SQLite lacks percentile_disc ({error}): build from the \
                     project's folder, whose .cargo/config.toml sets \
                     LIBSQLITE3_FLAGS=-DSQLITE_ENABLE_PERCENTILE"
                )));
            }
            Backend::Sqlite {
                writer,
                reader,
                _checkpointer: Arc::new(checkpointer),
                waiting: Arc::default(),
            }
        };
        Ok(Store {
            backend,
            seal: Seal::clear(),
        })
    }

    /// Applies the migrations of this backend that the database has not seen yet.
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }
}

/// Aborts a background task when dropped.
pub(super) struct AbortOnDrop(tokio::task::AbortHandle);

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

/// A migrated SQLite database in a new file of the temp directory, for unit tests; the files
/// are removed when it is dropped.
#[cfg(test)]
pub struct Scratch {
    pub store: Store,
    path: std::path::PathBuf,
}

#[cfg(test)]
impl Scratch {
    pub async fn new() -> Scratch {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("civicline-scratch-{}-{n}.db", std::process::id());
        let path = std::env::temp_dir().join(name);
        let url = DatabaseUrl::new(format!("sqlite://{}", path.display()));
        let store = Store::connect(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        Scratch { store, path }
    }
}

#[cfg(test)]
impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}
