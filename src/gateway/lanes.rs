//! Group commit: writer lanes that apply inbound messages in batches.
//!
//! A webhook hands its message to a lane and waits. The lane takes every message already waiting
//! (up to [`MAX_BATCH`]), applies them one after the other in one transaction and commits once,
//! then answers each webhook; so under load one commit (and, on Postgres, one WAL flush) serves
//! many messages, and with nothing waiting a message is committed on its own at once.
//!
//! A number always goes to the same lane, so its messages are applied in the order they came and
//! each sees the ones before it (its pending question, its flood count), within a batch too.
//! SQLite has one lane, its one writer; Postgres has one per spare connection, and since lanes
//! never share a number, their transactions do not wait on each other's citizen rows.
//!
//! A batch is applied in rounds, each number at most once per round: on Postgres a round's
//! citizens are read and its messages stored with one statement each, and the rest of its
//! rows (issues, events, replies...) go in with one more when it ends, instead of statements
//! per message (`store::batch`), and on both backends a number's later messages see what its
//! earlier ones changed.
//!
//! On SQLite the batch runs directly on the writer connection's handle (`Store::run_lane`):
//! every statement on this thread, no hop to sqlx's worker thread per statement, which was most
//! of the cost of a webhook (BENCHMARKS.md). While batches come back to back the lane keeps the
//! connection and its prepared statements from one batch to the next (and `LINGER` after the
//! last, for the next message), until another writer waits for it (or `store::DIRECT_HOLD`).
//! On Postgres it runs through sqlx as everything else.
//!
//! When a batch fails (a constraint no message expected, a lost connection, a full disk) nobody
//! was answered yet and nothing of it was committed (or, a connection lost during the commit
//! itself, all of it): each of its messages is applied again in a lane transaction of its own,
//! so one bad message costs only itself, a message already stored meets its own row and is
//! answered as a replay, and one that still cannot be stored is answered 503.
//!
//! An acknowledged message is a committed one: the webhook hears back only after the commit.

use super::{Inner, Received, Stored};
use crate::sms::InboundSms;
use crate::store::{self, StoreError};
use futures_util::FutureExt as _;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The most messages in one transaction: long enough to share a commit among a burst, short
/// enough that the first in a batch does not wait long for the last.
pub const MAX_BATCH: usize = 64;

/// How long a busy Postgres lane waits for more messages before it begins a batch. Its
/// batches were small (mean 7.4 messages at 64 concurrent webhooks over four lanes), and each
/// carries a transaction's fixed cost: with this wait, 8 % more messages a second at 64 and 16,
/// p99 no worse (BENCHMARKS.md). SQLite's lane does not wait: its batches are as large as
/// whatever queued while the last one ran.
const GATHER: Duration = Duration::from_millis(1);

/// How long SQLite's lane, its batch answered and nothing waiting, keeps the writer connection
/// (and the statements prepared on it) for the next message before it lets it go. Under load
/// the next one comes within it, where letting go and taking the connection back meant a
/// round trip to sqlx's worker thread and the inbound path's statements prepared again
/// (preparing alone: 1.5 % of the server's CPU at 64 concurrent webhooks, 0.4 % with it; +5 %
/// messages a second, BENCHMARKS.md). Another writer waits this long more at most; an idle
/// lane lets go after one linger.
const LINGER: Duration = Duration::from_millis(1);

/// Messages a lane holds before webhooks wait to hand theirs over.
const QUEUE: usize = 1024;

struct Job {
    sms: InboundSms,
    answer: oneshot::Sender<store::Result<Received>>,
    /// The webhook's span, so a message's log lines keep its request's fields.
    span: tracing::Span,
}

/// The senders of the lanes; the lane tasks end when the last clone is dropped.
#[derive(Clone)]
pub struct Lanes {
    senders: Arc<[mpsc::Sender<Job>]>,
}

impl Lanes {
    /// Starts `count` (at least one) lane tasks on the current Tokio runtime.
    pub(super) fn start(inner: &Arc<Inner>, count: usize) -> Lanes {
        let senders = (0..count.max(1))
            .map(|_| {
                let (sender, receiver) = mpsc::channel(QUEUE);
                tokio::spawn(run(Arc::clone(inner), receiver));
                sender
            })
            .collect();
        Lanes { senders }
    }

    /// Applies the message in its number's lane; returns once it is committed.
    pub async fn submit(&self, sms: InboundSms) -> store::Result<Received> {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(sms.from().e164());
        let lane = &self.senders[(hash % self.senders.len() as u64) as usize];
        let (answer, answered) = oneshot::channel();
        let job = Job {
            sms,
            answer,
            span: tracing::Span::current(),
        };
        lane.send(job).await.map_err(|_| closed())?;
        answered.await.map_err(|_| closed())?
    }
}

/// The lane stopped: the runtime is shutting down.
fn closed() -> store::StoreError {
    store::StoreError::Database(sqlx::Error::PoolClosed)
}

async fn run(inner: Arc<Inner>, mut receiver: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let Err(error) = caught(batches(&inner, &mut receiver, &mut jobs)).await else {
            continue;
        };
        // Release builds fall back, one message at a time. In debug builds (the tests) a failed
        // batch is a bug the fallback would hide: work that waited on something other than the
        // store (SQLite's direct transaction polls it once), or a set-oriented statement of a
        // round that fails where its one-row form would not. (A statement that cannot run in
        // the lane does not compile: see `store::lane`.) The legitimate failures are a race over a
        // webhook's id with another writer (a unique key or a deadlock: two lanes each inserting
        // an id the other holds), where one by one the copy is answered as a replay, and a
        // database that went away or cannot write (a lost connection, a full disk), where each
        // message is tried again on its own and answered 503 if it still cannot be stored.
        debug_assert!(
            error.is_write_conflict() || error.is_unavailable(),
            "a batch failed: {error}"
        );
        metrics::counter!("civicline_write_batch_failures_total").increment(1);
        tracing::warn!(
            %error,
            messages = jobs.len(),
            "a batch failed and was rolled back: each message again on its own"
        );
        for job in jobs.drain(..) {
            let applied = alone(&inner, &job).await;
            answer(&inner, job, applied);
        }
    }
}

/// Applies `jobs` in one transaction and answers them once it is committed; on SQLite, then
/// every batch already waiting, the same way, on the same connection (see [`Batches`]). On an
/// error `jobs` holds the batch that failed: rolled back, nobody answered yet.
async fn batches(
    inner: &Inner,
    receiver: &mut mpsc::Receiver<Job>,
    jobs: &mut Vec<Job>,
) -> store::Result<()> {
    let direct = inner.store.lane_is_direct();
    // A Postgres lane that found more than one message waiting is busy: give the webhooks in
    // flight a moment to join the batch. A message alone goes at once.
    if !direct && jobs.len() > 1 && jobs.len() < MAX_BATCH {
        tokio::time::sleep(GATHER).await;
        while jobs.len() < MAX_BATCH {
            let Ok(job) = receiver.try_recv() else { break };
            jobs.push(job);
        }
    }
    let mut work = Batches {
        inner,
        receiver: direct.then_some(receiver),
        jobs,
        done: Vec::with_capacity(MAX_BATCH),
    };
    inner.store.run_lane(&mut work).await
}

/// A lane's batches, one transaction each, each answered once committed. With a receiver (the
/// direct SQLite lane) the batches that come back to back follow on the same connection, its
/// statements prepared once, as long as the store keeps it (`Store::run_lane`); without, one
/// batch.
struct Batches<'a> {
    inner: &'a Inner,
    receiver: Option<&'a mut mpsc::Receiver<Job>>,
    jobs: &'a mut Vec<Job>,
    done: Vec<Applied>,
}

impl store::LaneWork for Batches<'_> {
    async fn apply(&mut self, tx: &mut store::LaneTx) -> store::Result<bool> {
        metrics::histogram!("civicline_write_batch_messages").record(self.jobs.len() as f64);
        self.done = apply_all(self.inner, tx, self.jobs).await?;
        Ok(stores_anything(&self.done))
    }

    fn finished(&mut self) {
        for (job, applied) in self.jobs.drain(..).zip(self.done.drain(..)) {
            answer(self.inner, job, Ok(applied));
        }
    }

    async fn again(&mut self) -> bool {
        let Some(receiver) = self.receiver.as_deref_mut() else {
            return false;
        };
        while self.jobs.len() < MAX_BATCH {
            let Ok(job) = receiver.try_recv() else {
                break;
            };
            self.jobs.push(job);
        }
        if self.jobs.is_empty() {
            // Nothing waiting yet: the webhooks just answered are sending their next ones.
            let more = receiver.recv_many(self.jobs, MAX_BATCH);
            let _ = tokio::time::timeout(LINGER, more).await;
        }
        !self.jobs.is_empty()
    }
}

/// Answers a webhook whose message is committed (or failed), after counting and announcing it.
fn answer(inner: &Inner, job: Job, applied: store::Result<Applied>) {
    let received = applied.map(|(received, stored)| {
        if let Some(stored) = stored {
            job.span.in_scope(|| inner.after_commit(stored));
        }
        received
    });
    let _ = job.answer.send(received);
}

/// A panic while applying messages (a bug) fails those messages, not the lane: the lane goes
/// on serving every later webhook. The transaction is dropped, so rolled back.
async fn caught<T>(work: impl Future<Output = store::Result<T>>) -> store::Result<T> {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!("a panic while applying inbound messages; they were rolled back");
            Err(StoreError::Panicked)
        }
    }
}

type Applied = (Received, Option<Stored>);

/// One job in a lane transaction of its own, after the batch it was in failed.
async fn alone(inner: &Inner, job: &Job) -> store::Result<Applied> {
    let mut work = Alone {
        inner,
        jobs: std::slice::from_ref(job),
        done: None,
    };
    caught(inner.store.run_lane(&mut work)).await?;
    work.done.ok_or(StoreError::Panicked)
}

/// [`alone`]'s transaction.
struct Alone<'a> {
    inner: &'a Inner,
    jobs: &'a [Job],
    done: Option<Applied>,
}

impl store::LaneWork for Alone<'_> {
    async fn apply(&mut self, tx: &mut store::LaneTx) -> store::Result<bool> {
        let done = apply_all(self.inner, tx, self.jobs).await?.swap_remove(0);
        let stores = done.1.is_some();
        self.done = Some(done);
        Ok(stores)
    }

    fn finished(&mut self) {}

    async fn again(&mut self) -> bool {
        false
    }
}

/// False for nothing but replays: their transaction is rolled back.
fn stores_anything(done: &[Applied]) -> bool {
    done.iter().any(|(_, stored)| stored.is_some())
}

/// Applies `jobs` in rounds, each number at most once per round and a number's messages in the
/// order they came (see `store::batch`); one result per job, in order.
async fn apply_all(
    inner: &Inner,
    tx: &mut store::LaneTx,
    jobs: &[Job],
) -> store::Result<Vec<Applied>> {
    let mut done: Vec<Option<Applied>> = jobs.iter().map(|_| None).collect();
    for round in rounds(jobs) {
        let messages: Vec<_> = round
            .iter()
            .map(|&i| (&jobs[i].sms, &jobs[i].span))
            .collect();
        let applied = inner.apply_round(tx, &messages).await?;
        for (i, applied) in round.into_iter().zip(applied) {
            done[i] = Some(applied);
        }
    }
    Ok(done.into_iter().flatten().collect())
}

/// The indexes of `jobs` by round: the first message of each number in the first round, the
/// second in the second, and so on, each round in the order the messages came.
fn rounds(jobs: &[Job]) -> Vec<Vec<usize>> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(jobs.len());
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let round = seen.entry(job.sms.from().e164()).or_insert(0);
        if rounds.len() == *round {
            rounds.push(Vec::with_capacity(jobs.len()));
        }
        rounds[*round].push(i);
        *round += 1;
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_fails_the_work_that_panicked_not_the_lane() {
        let failed: store::Result<()> = caught(async { panic!("a bug in a command") }).await;
        assert!(matches!(failed, Err(StoreError::Panicked)));
        let next = caught(async { Ok(7) }).await;
        assert_eq!(next.unwrap(), 7, "the next batch runs as usual");
    }
}
