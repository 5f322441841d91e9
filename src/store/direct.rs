//! The direct SQLite write transaction: statements run on the calling thread against the writer
//! connection's own handle, with prepared statements kept from one transaction to the next.
//!
//! sqlx runs every SQLite statement on a worker thread and hands each result back through a
//! channel: about a hundred microseconds of thread switching per statement on a small machine,
//! ten statements per webhook. The writer lane instead locks sqlx's writer connection
//! (`lock_handle`: sqlx's worker waits, so the handle is ours alone) and runs batches of
//! webhooks, one transaction each, here, in microseconds per statement. Same connection, same
//! queue as every other writer in the process: nothing else contends for SQLite's write lock.
//!
//! The statements are finalized when the `Direct` is dropped, before the handle goes back to
//! sqlx (which refuses to close a connection with statements still open).

use super::Result;
use super::query::{Arg, Row};
use rusqlite::{CachedStatement, Connection};
use std::ptr::NonNull;

/// The statements of the inbound path, and a few more: all of them stay prepared.
const STATEMENT_CACHE: usize = 48;

/// A borrowed handle driven directly, and whether a `BEGIN IMMEDIATE` transaction is open on it;
/// an open transaction is rolled back when dropped without [`Direct::commit`].
pub struct Direct {
    conn: Connection,
    open: bool,
}

impl Direct {
    /// Drives `handle` directly; no transaction is open yet.
    ///
    /// # Safety
    /// `handle` must be an open connection that nothing else uses until this `Direct` is dropped
    /// (sqlx's `LockedSqliteHandle` held for that long guarantees both).
    pub unsafe fn connect(handle: NonNull<rusqlite::ffi::sqlite3>) -> Result<Direct> {
        // SAFETY: the caller keeps the handle open and to us alone; `from_handle` does not
        // close it when the connection is dropped.
        let conn = unsafe { Connection::from_handle(handle.as_ptr())? };
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Direct { conn, open: false })
    }

    /// Begins a write transaction; the statements prepared in earlier ones are kept.
    pub fn begin(&mut self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.open = true;
        Ok(())
    }

    pub fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }

    pub fn rollback(&mut self) -> Result<()> {
        if std::mem::take(&mut self.open) {
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    /// The statement, prepared once per connection, with `$N` bound to `args[N - 1]`.
    /// SQLite numbers named parameters by first appearance, so `$10` before `$9` needs the
    /// name read back, as sqlx does.
    fn prepare(&self, sql: &str, args: &[Arg<'_>]) -> Result<CachedStatement<'_>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        for index in 1..=statement.parameter_count() {
            let n = statement
                .parameter_name(index)
                .and_then(|name| name.strip_prefix('$'))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(index);
            let arg = args
                .get(n.wrapping_sub(1))
                .ok_or(rusqlite::Error::InvalidParameterCount(n, args.len()))?;
            match *arg {
                Arg::Int(v) => statement.raw_bind_parameter(index, v)?,
                Arg::Real(v) => statement.raw_bind_parameter(index, v)?,
                Arg::Text(v) => statement.raw_bind_parameter(index, v)?,
            }
        }
        Ok(statement)
    }

    pub fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        Ok(self.prepare(sql, args)?.raw_execute()? as u64)
    }

    /// An `insert ... returning <rowid column>` run without its RETURNING clause (see
    /// [`super::query::Query::fetch_inserted_id`]); `None` when no row was inserted.
    pub fn insert(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<i64>> {
        let insert = sql
            .rsplit_once(" returning ")
            .map_or(sql, |(insert, _)| insert);
        let inserted = self.prepare(insert, args)?.raw_execute()?;
        Ok((inserted > 0).then(|| self.conn.last_insert_rowid()))
    }

    pub fn fetch_optional<T: Row>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>> {
        let mut statement = self.prepare(sql, args)?;
        let mut rows = statement.raw_query();
        match rows.next()? {
            Some(row) => Ok(Some(T::read(row)?)),
            None => Ok(None),
        }
    }
}

impl Drop for Direct {
    fn drop(&mut self) {
        let _ = self.rollback();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair {
        a: i64,
        b: Option<String>,
    }
    crate::store::query::row!(Pair { a, b });

    fn open() -> (Connection, NonNull<rusqlite::ffi::sqlite3>) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("create table t (a integer primary key, b text)")
            .unwrap();
        // SAFETY: the handle of a connection that outlives each test's `Direct`.
        let handle = NonNull::new(unsafe { conn.handle() }).unwrap();
        (conn, handle)
    }

    #[test]
    fn binds_dollar_numbers_by_name_not_by_position() {
        let (_owner, handle) = open();
        // SAFETY: `_owner` keeps the handle open; nothing else uses it meanwhile.
        let mut tx = unsafe { Direct::connect(handle) }.unwrap();
        tx.begin().unwrap();
        let args = [Arg::Text(Some("second")), Arg::Int(Some(7))];
        tx.execute("insert into t (b, a) values ($1, $2)", &args)
            .unwrap();
        let args = [Arg::Int(Some(7))];
        let row: Pair = tx
            .fetch_optional("select a, b from t where a = $1", &args)
            .unwrap()
            .unwrap();
        assert_eq!((row.a, row.b.as_deref()), (7, Some("second")));
        let none: Option<Pair> = tx
            .fetch_optional("select a, b from t where a = $1", &[Arg::Int(Some(8))])
            .unwrap();
        assert!(none.is_none());
        assert!(
            tx.execute("select $2", &[Arg::Int(Some(1))]).is_err(),
            "a missing argument is an error, not a null"
        );
    }

    #[test]
    fn an_insert_returns_its_rowid_or_none_when_it_did_nothing() {
        let (_owner, handle) = open();
        // SAFETY: as above.
        let mut tx = unsafe { Direct::connect(handle) }.unwrap();
        tx.begin().unwrap();
        let sql = "insert into t (a, b) values ($1, $2) on conflict do nothing returning a";
        let first = tx.insert(sql, &[Arg::Int(Some(41)), Arg::Text(Some("x"))]);
        assert_eq!(first.unwrap(), Some(41));
        let again = tx.insert(sql, &[Arg::Int(Some(41)), Arg::Text(Some("y"))]);
        assert_eq!(again.unwrap(), None, "a conflict inserts nothing");
        let next = tx.insert(
            "insert into t (b) values ($1) returning a",
            &[Arg::Text(Some("z"))],
        );
        assert_eq!(next.unwrap(), Some(42));
        let plain = tx.insert("insert into t (b) values ('w')", &[]);
        assert_eq!(
            plain.unwrap(),
            Some(43),
            "without the clause: the rowid all the same"
        );
    }

    #[test]
    fn statements_stay_prepared_from_one_transaction_to_the_next_until_dropped() {
        let (owner, handle) = open();
        // SAFETY: as above.
        let mut direct = unsafe { Direct::connect(handle) }.unwrap();
        for a in [1, 2] {
            direct.begin().unwrap();
            let args = [Arg::Int(Some(a))];
            direct
                .execute("insert into t (a, b) values ($1, 'x')", &args)
                .unwrap();
            direct.commit().unwrap();
        }
        // SAFETY: as above; the connection is only asked whether a statement is open.
        let open_statements =
            || unsafe { rusqlite::ffi::sqlite3_next_stmt(handle.as_ptr(), std::ptr::null_mut()) };
        assert!(!open_statements().is_null(), "the insert stays prepared");
        drop(direct);
        assert!(
            open_statements().is_null(),
            "dropped, it leaves nothing open on the handle it borrowed (sqlx could not close it)"
        );
        owner.close().unwrap();
    }

    #[test]
    fn dropping_without_commit_rolls_back() {
        let (owner, handle) = open();
        {
            // SAFETY: as above.
            let mut tx = unsafe { Direct::connect(handle) }.unwrap();
            tx.begin().unwrap();
            tx.execute("insert into t (a, b) values (1, 'x')", &[])
                .unwrap();
        }
        let n: i64 = owner
            .query_row("select count(*) from t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // SAFETY: as above.
        let mut tx = unsafe { Direct::connect(handle) }.unwrap();
        tx.begin().unwrap();
        tx.execute("insert into t (a, b) values (1, 'x')", &[])
            .unwrap();
        tx.commit().unwrap();
        let n: i64 = owner
            .query_row("select count(*) from t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}
