//! The writer lane's transaction, [`LaneTx`], and the store's side of running the lane.
//!
//! The inbound path is the one hot write path, and each backend gets its cheapest form of it:
//! - **SQLite, direct.** The lane locks sqlx's one writer connection and drives its handle on
//!   the lane's own thread ([`super::direct`]): no hop to sqlx's worker thread per statement,
//!   statements prepared once while batches come back to back, until another writer waits
//!   for the connection (or [`DIRECT_HOLD`]).
//! - **Postgres, rounds.** A sqlx transaction whose rows nothing in a round reads back wait in
//!   [`Deferred`] and go in with one statement when the round ends ([`super::batch`]).
//!
//! A `LaneTx` runs statements written with [`super::query::query`] (it is [`Exec`]), and the
//! set-oriented statements of a round take a `&mut LaneTx` and nothing else; a statement written
//! with sqlx itself takes a plain [`super::Tx`], which a `LaneTx` is not. Calling one where the
//! other belongs does not compile.
//!
//! Each of these compiles:
//!
//! ```no_run
//! use civicline::store::{Exec, LaneTx, Result, Tx, issues, messages};
//! // A statement of the inbound path, in the lane.
//! async fn in_the_lane(tx: &mut LaneTx) -> Result<()> {
//!     messages::set_flag(tx, 1, "flood").await
//! }
//! // A statement written with sqlx, in an official's transaction.
//! async fn for_an_official(tx: &mut Tx) -> Result<bool> {
//!     issues::assign(tx, 1, None, "official:1", 0).await
//! }
//! // A statement written with `query`, in either.
//! async fn anywhere(tx: &mut impl Exec) -> Result<()> {
//!     issues::add_event(tx, 1, "note", "official:1", "called back", None, 0).await
//! }
//! ```
//!
//! and neither of these does: the lane's statement outside the lane,
//!
//! ```compile_fail
//! use civicline::store::{Result, Tx, messages};
//! async fn outside(tx: &mut Tx) -> Result<()> {
//!     messages::set_flag(tx, 1, "flood").await
//! }
//! ```
//!
//! a sqlx statement inside it.
//!
//! ```compile_fail
//! use civicline::store::{LaneTx, Result, issues};
//! async fn inside(tx: &mut LaneTx) -> Result<bool> {
//!     issues::assign(tx, 1, None, "official:1", 0).await
//! }
//! ```
//!
//! [`Store::run_lane`] runs a [`LaneWork`] on whichever form the store has: one transaction per
//! call of [`LaneWork::apply`], committed when it says so, then [`LaneWork::finished`], then
//! another while [`LaneWork::again`] says so.

use super::batch::{Deferred, PgBatch, ReplyId};
use super::query::{Exec, Target};
use super::{Backend, Result, Store, StoreError, direct};
use futures_util::FutureExt as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The writer lane's transaction: see the module's notes.
pub enum LaneTx {
    /// SQLite's writer connection driven directly.
    Direct(direct::Direct),
    /// A Postgres transaction whose rows wait for the end of the round.
    Round(Box<PgBatch>),
}

/// The lane's side of [`Store::run_lane`]: consecutive transactions of inbound messages.
pub trait LaneWork {
    /// The next transaction's work: `Ok(true)` to commit it, `Ok(false)` to roll it back.
    ///
    /// On SQLite it is polled once and must not wait on anything but the store (it runs on
    /// the writer's handle, on this thread); if it would, it fails with
    /// [`StoreError::Pending`].
    fn apply(&mut self, tx: &mut LaneTx) -> impl Future<Output = Result<bool>> + Send;

    /// After each commit or rollback: the transaction is over (answer whoever waited on it).
    fn finished(&mut self);

    /// Then, while the connection may be kept: true to run another transaction on it (work is
    /// waiting, or came while it waited a moment), false to let it go.
    fn again(&mut self) -> impl Future<Output = bool> + Send;
}

/// The longest the writer lane keeps SQLite's writer connection (and its prepared statements)
/// for consecutive batches. It lets it go sooner when another writer (an official, the
/// delivery worker) waits for it: they wait one batch, a few milliseconds, at most. While it
/// holds it, the lane yields to the runtime between batches.
pub const DIRECT_HOLD: Duration = Duration::from_secs(1);

/// A writer waiting for SQLite's writer connection, counted while it waits.
pub(super) struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    pub(super) fn new(waiting: &'a AtomicUsize) -> Waiting<'a> {
        waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Store {
    /// Runs `work` in lane transactions, one after the other while [`LaneWork::again`] says
    /// so; an error ends it all, that transaction rolled back.
    ///
    /// On SQLite they run directly on the writer connection, with the statements prepared once
    /// for all of them, on the calling task's thread without yielding between transactions:
    /// the writer lane calls it with at most 64 messages per transaction, a few milliseconds
    /// of SQLite work each. Between transactions it yields to the runtime (the webhooks just
    /// answered run), and it lets the connection go as soon as another writer waits for it, or
    /// after [`DIRECT_HOLD`]. On Postgres each is a round transaction, flushed and committed.
    pub async fn run_lane(&self, work: &mut impl LaneWork) -> Result<()> {
        match &self.backend {
            Backend::Sqlite {
                writer, waiting, ..
            } => {
                let since = Instant::now();
                let mut conn = writer.acquire().await?;
                let mut handle = conn.lock_handle().await?;
                // SAFETY: the locked handle is this connection's, held until the end of this
                // block, and sqlx's worker does not touch it while it is locked. The `Direct`
                // (and every statement it prepared) is dropped before the lock is.
                let mut direct = unsafe { direct::Direct::connect(handle.as_raw_handle())? };
                loop {
                    direct.begin()?;
                    let mut tx = LaneTx::Direct(direct);
                    let applied = at_once(work.apply(&mut tx));
                    let LaneTx::Direct(taken) = tx else {
                        unreachable!("a direct transaction stays direct")
                    };
                    direct = taken;
                    if applied? {
                        direct.commit()?;
                    } else {
                        direct.rollback()?;
                    }
                    work.finished();
                    if waiting.load(Ordering::Relaxed) > 0 || since.elapsed() >= DIRECT_HOLD {
                        return Ok(());
                    }
                    tokio::task::yield_now().await;
                    if !work.again().await {
                        return Ok(());
                    }
                }
            }
            Backend::Postgres(pool) => loop {
                let mut tx = LaneTx::Round(Box::new(PgBatch {
                    tx: pool.begin().await?,
                    defer: false,
                    deferred: Deferred::default(),
                }));
                if work.apply(&mut tx).await? {
                    let LaneTx::Round(mut round) = tx else {
                        unreachable!("a round stays a round")
                    };
                    round.flush().await?;
                    round.tx.commit().await?;
                }
                work.finished();
                if !work.again().await {
                    return Ok(());
                }
            },
        }
    }

    /// True when the writer lane runs directly on SQLite's handle (and gains nothing by waiting
    /// for more messages: its batches are whatever queued while the last one ran).
    pub fn lane_is_direct(&self) -> bool {
        matches!(self.backend, Backend::Sqlite { .. })
    }
}

impl LaneTx {
    /// Writes the rows a round deferred; returns the ids of the replies it stored, by the
    /// inbound message each answers. Nothing to do on SQLite, which writes at once.
    pub async fn flush(&mut self) -> Result<Vec<ReplyId>> {
        match self {
            LaneTx::Round(round) => round.flush().await,
            LaneTx::Direct(_) => Ok(Vec::new()),
        }
    }

    /// A Postgres round (other lanes run theirs at the same time), not SQLite's one writer.
    pub fn is_round(&self) -> bool {
        matches!(self, LaneTx::Round(_))
    }

    /// Starts a round of `messages`: on Postgres with more than one, rows are deferred and
    /// written together; a message alone is written a statement at a time, with the prepared
    /// statements for one row.
    pub fn start_round(&mut self, messages: usize) {
        if let LaneTx::Round(round) = self {
            round.defer = messages > 1;
        }
    }
}

impl Exec for LaneTx {
    fn target(&mut self) -> Target<'_> {
        match self {
            LaneTx::Direct(direct) => Target::Direct(direct),
            LaneTx::Round(round) => Target::Postgres(&mut round.tx),
        }
    }

    fn deferred(&mut self) -> Option<&mut Deferred> {
        match self {
            LaneTx::Round(round) if round.defer => Some(&mut round.deferred),
            _ => None,
        }
    }
}

/// The output of a future that must not wait (the work of a direct transaction, polled once
/// on the writer's thread); [`StoreError::Pending`] if it would have.
pub fn at_once<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    work.now_or_never().unwrap_or(Err(StoreError::Pending))
}
