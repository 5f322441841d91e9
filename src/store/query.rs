//! One query, three ways to run it: on a sqlx SQLite transaction, on a sqlx Postgres
//! transaction, or on the writer lane's direct SQLite transaction ([`super::direct`]).
//!
//! The statements of the inbound path are written with [`query`] so that the writer lane can run
//! a whole batch of webhooks on SQLite without a thread hop per statement, while Postgres and
//! every other caller keep using sqlx. Arguments are the two kinds those statements bind
//! (integers, reals and text, each nullable); rows are read by column position through [`Row`].
//!
//! A [`Query`] runs on anything that is [`Exec`]: the plain [`super::Tx`] and the lane's
//! [`super::LaneTx`]. A statement written with sqlx itself (`on_tx!`) takes a `Tx` only, so it
//! cannot be called inside the lane: the compiler refuses it.

use super::batch::Deferred;
use super::direct::Direct;
use super::{Result, StoreError};
use sqlx::{PgConnection, Row as _, SqliteConnection};

/// A transaction a [`Query`] can run on.
pub trait Exec: Send {
    /// The connection to run the next statement on.
    fn target(&mut self) -> Target<'_>;

    /// The rows a writer lane's Postgres round holds back until it ends (`store::batch`);
    /// `None` everywhere else, where every statement writes at once.
    fn deferred(&mut self) -> Option<&mut Deferred> {
        None
    }
}

/// Where a statement runs.
pub enum Target<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
    Direct(&'a mut Direct),
}

/// A bound value.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<&'a str>),
}

impl From<Option<f64>> for Arg<'_> {
    fn from(v: Option<f64>) -> Self {
        Arg::Real(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

/// A statement and its arguments, for `$N` placeholders (`$1` is the first argument).
#[must_use = "a query does nothing until it is executed or fetched"]
pub struct Query<'a> {
    sql: &'static str,
    args: Vec<Arg<'a>>,
}

/// Starts a query; see [`Query::bind`].
pub fn query<'a>(sql: &'static str) -> Query<'a> {
    Query {
        sql,
        args: Vec::new(),
    }
}

/// Binds every argument of a [`Query`] onto a sqlx query.
macro_rules! bound {
    ($query:expr) => {{
        let mut q = sqlx::query($query.sql);
        for arg in &$query.args {
            q = match *arg {
                Arg::Int(v) => q.bind(v),
                Arg::Real(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
            };
        }
        q
    }};
}

impl<'a> Query<'a> {
    pub fn bind(mut self, arg: impl Into<Arg<'a>>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs the statement; returns the rows it changed.
    pub async fn execute(self, tx: &mut impl Exec) -> Result<u64> {
        Ok(match tx.target() {
            Target::Sqlite(c) => bound!(self).execute(c).await?.rows_affected(),
            Target::Postgres(c) => bound!(self).execute(c).await?.rows_affected(),
            Target::Direct(d) => d.execute(self.sql, &self.args)?,
        })
    }

    /// The first row, if any.
    pub async fn fetch_optional<T: Row>(self, tx: &mut impl Exec) -> Result<Option<T>> {
        self.fetch_optional_on(tx.target()).await
    }

    async fn fetch_optional_on<T: Row>(self, target: Target<'_>) -> Result<Option<T>> {
        match target {
            Target::Sqlite(c) => bound!(self)
                .fetch_optional(c)
                .await?
                .map(|row| T::read(&row))
                .transpose(),
            Target::Postgres(c) => bound!(self)
                .fetch_optional(c)
                .await?
                .map(|row| T::read(&row))
                .transpose(),
            Target::Direct(d) => d.fetch_optional(self.sql, &self.args),
        }
    }

    /// Runs an `insert ... returning <id>` of one row; returns the id, or `None` when nothing
    /// was inserted (`on conflict do nothing`). The id must be the table's integer primary key.
    ///
    /// SQLite runs a RETURNING clause as a trigger, and a statement with a trigger keeps a
    /// statement journal (a copy of every page it touches) inside a transaction: 6 % of the
    /// server's CPU under load. The direct transaction runs the insert without the clause and
    /// reads SQLite's last inserted rowid instead.
    pub async fn fetch_inserted_id(self, tx: &mut impl Exec) -> Result<Option<i64>> {
        match tx.target() {
            Target::Direct(d) => d.insert(self.sql, &self.args),
            target => self.fetch_optional_on::<i64>(target).await,
        }
    }

    /// [`Query::fetch_inserted_id`] for an insert that always inserts.
    pub async fn fetch_new_id(self, tx: &mut impl Exec) -> Result<i64> {
        self.fetch_inserted_id(tx).await?.ok_or(not_found())
    }

    /// The first row; an error when there is none.
    pub async fn fetch_one<T: Row>(self, tx: &mut impl Exec) -> Result<T> {
        self.fetch_optional(tx).await?.ok_or(not_found())
    }
}

fn not_found() -> StoreError {
    StoreError::Database(sqlx::Error::RowNotFound)
}

/// A row of any of the three, read by column position.
pub trait Columns {
    fn int(&self, i: usize) -> Result<Option<i64>>;
    fn real(&self, i: usize) -> Result<Option<f64>>;
    fn text(&self, i: usize) -> Result<Option<String>>;
}

macro_rules! sqlx_columns {
    ($row:ty) => {
        impl Columns for $row {
            fn int(&self, i: usize) -> Result<Option<i64>> {
                Ok(self.try_get(i)?)
            }
            fn real(&self, i: usize) -> Result<Option<f64>> {
                Ok(self.try_get(i)?)
            }
            fn text(&self, i: usize) -> Result<Option<String>> {
                Ok(self.try_get(i)?)
            }
        }
    };
}
sqlx_columns!(sqlx::sqlite::SqliteRow);
sqlx_columns!(sqlx::postgres::PgRow);

impl Columns for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.get(i)?)
    }
    fn real(&self, i: usize) -> Result<Option<f64>> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.get(i)?)
    }
}

/// One column's value.
pub trait Column: Sized {
    fn read(row: &impl Columns, i: usize) -> Result<Self>;
}

fn not_null<T>(value: Option<T>, i: usize) -> Result<T> {
    value.ok_or_else(|| {
        StoreError::Database(sqlx::Error::ColumnDecode {
            index: i.to_string(),
            source: "unexpected null".into(),
        })
    })
}

impl Column for Option<i64> {
    fn read(row: &impl Columns, i: usize) -> Result<Self> {
        row.int(i)
    }
}

impl Column for i64 {
    fn read(row: &impl Columns, i: usize) -> Result<Self> {
        not_null(row.int(i)?, i)
    }
}

impl Column for Option<f64> {
    fn read(row: &impl Columns, i: usize) -> Result<Self> {
        row.real(i)
    }
}

impl Column for Option<String> {
    fn read(row: &impl Columns, i: usize) -> Result<Self> {
        row.text(i)
    }
}

impl Column for String {
    fn read(row: &impl Columns, i: usize) -> Result<Self> {
        not_null(row.text(i)?, i)
    }
}

/// What a query's row becomes.
pub trait Row: Sized {
    fn read(row: &impl Columns) -> Result<Self>;
}

/// A single-column result.
impl Row for i64 {
    fn read(row: &impl Columns) -> Result<Self> {
        Column::read(row, 0)
    }
}

/// A single nullable text column.
impl Row for Option<String> {
    fn read(row: &impl Columns) -> Result<Self> {
        Column::read(row, 0)
    }
}

/// Implements [`Row`] for a struct whose fields are the query's columns, in this order.
macro_rules! row {
    ($ty:ident { $($field:ident),+ $(,)? }) => {
        impl $crate::store::query::Row for $ty {
            fn read(row: &impl $crate::store::query::Columns) -> $crate::store::Result<Self> {
                let mut _i = 0;
                $(
                    let $field = $crate::store::query::Column::read(row, _i)?;
                    _i += 1;
                )+
                Ok($ty { $($field),+ })
            }
        }
    };
}
pub(crate) use row;
