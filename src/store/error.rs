//! What can go wrong in the store, and which of it is the database's fault rather than a
//! statement's.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database (direct): {0}")]
    Direct(#[from] rusqlite::Error),
    /// The work of a transaction panicked (a bug); the transaction was rolled back.
    #[error("the work of this transaction panicked and was rolled back")]
    Panicked,
    /// A direct transaction's work waited on something other than SQLite.
    #[error("a direct SQLite transaction's work did not finish synchronously")]
    Pending,
    /// A citizen's number could not be opened (startup refuses a key the rows were not
    /// sealed with, so this is an altered row or a key removed while running).
    #[error("sealed number: {0}")]
    Seal(#[from] crate::seal::SealError),
    /// The database lacks something civicline needs (a SQLite built without a function).
    #[error("unsupported database: {0}")]
    Unsupported(String),
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
