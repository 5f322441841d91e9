//! Set-oriented writes for the writer lane on Postgres.
//!
//! On Postgres every statement is a round trip: the lane waits while Postgres parses, plans and
//! answers, and Postgres waits while the lane prepares the next one. Ten statements per message
//! held a lane near 950 messages a second and four lanes near 1,700, with Postgres's backends
//! "idle in transaction" most of the time (BENCHMARKS.md). So the lane works in rounds (each
//! number at most once per round): the citizens of a round are read with one statement and
//! their messages given ids from the sequence with another (`citizens::find_or_create_all`,
//! `messages::insert_inbound_all`), and the rows no message of the round reads back (the
//! messages themselves, written already filed under their issues; new issues, under numbers
//! reserved from the sequence for the round's reports with one more statement; audit events;
//! an issue's `updated_at`; a citizen's new language; replies and their outbox entries) wait
//! here and go in when the round ends, all in one statement of one sub-statement per table:
//! [`PgBatch::flush`].
//!
//! Deferring is safe because nothing on the inbound path reads those rows back within a round:
//! a round holds one message per number, and a command reads only its own citizen's row and
//! issues, which are written at once. A replay of a message stored earlier in the same batch
//! reads its reply, and is always in a later round (the same number), after the flush.
//! `Store::run_lane` flushes before it commits, so nothing deferred can be forgotten.
//!
//! A round of one message (the usual case when the number is quiet) defers nothing and runs
//! the prepared statements for one row: set-oriented statements would cost it more round trips
//! (a reserved issue number, the arrays' planning) for nothing to share. At one webhook at a
//! time: 466 msg/s with every round set-oriented, 663 this way (BENCHMARKS.md).
//!
//! The statements that find rows by an array of keys (the round's citizens, the stored
//! messages among the round's, the updates in the flush) are
//! not kept prepared. A prepared statement's plan is made once for any argument, maybe when
//! the tables were nearly empty (a new deployment, every benchmark), and kept while they grow
//! until the next ANALYZE: a join with an array of keys then goes on scanning the whole table
//! (2.9 ms for a filing of seven messages at 18,000 stored, 0.3 ms with the index). Planned
//! with the arguments in hand, once per round, they always take the index.

use super::Result;
use crate::store::outbox::Kind;
use sqlx::{Postgres, Transaction};

/// A Postgres transaction and the rows it holds back.
pub struct PgBatch {
    pub(super) tx: Transaction<'static, Postgres>,
    /// Whether this round defers (more than one message: `LaneTx::start_round`).
    pub(super) defer: bool,
    pub(super) deferred: Deferred,
}

/// The rows a round defers.
#[derive(Default)]
pub struct Deferred {
    /// The round's new inbound messages, under ids taken for them
    /// ([`PgBatch::take_inbound_ids`]), filed and flagged here before they are written.
    inbound: Vec<Inbound>,
    /// Issue numbers taken from the sequence for this round's reports, not yet used; the
    /// next one last.
    issue_numbers: Vec<i64>,
    /// New issues, with their numbers.
    issues: Vec<Issue>,
    /// `(message_id, issue_id)`: a message filed under its issue.
    filings: Vec<(i64, i64)>,
    /// `(issue_id, updated_at)`: an issue a citizen added to.
    touches: Vec<(i64, i64)>,
    /// `(citizen_id, language)`: the language a citizen's keyword switched to.
    languages: Vec<(i64, String)>,
    events: Vec<Event>,
    replies: Vec<Reply>,
}

/// A new inbound row of `message`.
pub(crate) struct Inbound {
    pub message_id: i64,
    pub citizen_id: i64,
    pub provider: &'static str,
    pub provider_message_id: String,
    pub body: String,
    pub segments: i64,
    pub encoding: &'static str,
    pub created_at: i64,
    pub issue_id: Option<i64>,
    pub flag: Option<String>,
}

/// A new row of `issue`.
pub(crate) struct Issue {
    pub issue_id: i64,
    pub citizen_id: i64,
    pub service_code: Option<String>,
    pub description: String,
    pub language: String,
    pub created_at: i64,
    pub area: Option<String>,
    pub address: Option<String>,
    pub long: Option<f64>,
    pub lat: Option<f64>,
    pub department: Option<String>,
    pub due_at: Option<i64>,
    pub assignee_id: Option<i64>,
    /// The reporter and those who joined in this round ("me too").
    pub supporters: i64,
}

/// A row of `issue_event`.
pub(crate) struct Event {
    pub issue_id: i64,
    pub kind: String,
    pub actor: String,
    pub body: String,
    pub message_id: Option<i64>,
    pub created_at: i64,
}

/// An outbound message that answers an inbound one, as `outbox::reply` stores it one at a time,
/// and its outbox entry when it waits for the delivery worker.
pub(crate) struct Reply {
    pub citizen_id: i64,
    pub issue_id: Option<i64>,
    pub provider: &'static str,
    pub in_reply_to: i64,
    pub body: String,
    pub segments: i64,
    pub encoding: &'static str,
    pub status: String,
    pub status_rank: i64,
    pub created_at: i64,
    pub outbox: Option<Kind>,
}

/// The id a deferred reply got when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyId {
    /// The inbound message it answers.
    pub in_reply_to: i64,
    pub message_id: i64,
}

impl Deferred {
    /// Files a message under its issue: a message of the round is written filed, one stored
    /// already is updated when the round ends.
    pub(crate) fn file(&mut self, message_id: i64, issue_id: i64) {
        match self.inbound_mut(message_id) {
            Some(inbound) => inbound.issue_id = Some(issue_id),
            None => self.filings.push((message_id, issue_id)),
        }
    }

    /// Flags a message of the round, written with its flag; false when it is not one of them.
    pub(crate) fn flag(&mut self, message_id: i64, flag: &str) -> bool {
        self.inbound_mut(message_id)
            .map(|inbound| inbound.flag = Some(flag.to_owned()))
            .is_some()
    }

    fn inbound_mut(&mut self, message_id: i64) -> Option<&mut Inbound> {
        self.inbound.iter_mut().find(|m| m.message_id == message_id)
    }

    /// Files a new issue under the next number reserved for the round, if one is left.
    pub(crate) fn issue(&mut self, new: impl FnOnce(i64) -> Issue) -> Option<i64> {
        let issue_id = self.issue_numbers.pop()?;
        self.issues.push(new(issue_id));
        Some(issue_id)
    }

    /// A new issue of this round that a report of `crowd`'s problem joins: `(issue, reporter)`.
    pub(crate) fn crowd_match(
        &self,
        crowd: &crate::store::crowd::Crowd<'_>,
    ) -> Option<(i64, Option<i64>)> {
        self.issues
            .iter()
            .find(|i| {
                i.service_code.as_deref() == Some(crowd.service_code)
                    && i.area.as_deref() == Some(crowd.area)
                    && crowd.same_place(i.address.as_deref(), i.long.zip(i.lat))
            })
            .map(|i| (i.issue_id, Some(i.citizen_id)))
    }

    /// Counts one more supporter of a new issue of this round; false when it is not one.
    pub(crate) fn support(&mut self, issue_id: i64) -> bool {
        let Some(issue) = self.issues.iter_mut().find(|i| i.issue_id == issue_id) else {
            return false;
        };
        issue.supporters += 1;
        true
    }

    pub(crate) fn touch(&mut self, issue_id: i64, updated_at: i64) {
        self.touches.push((issue_id, updated_at));
    }

    pub(crate) fn language(&mut self, citizen_id: i64, language: &str) {
        self.languages.push((citizen_id, language.to_owned()));
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    pub(crate) fn reply(&mut self, reply: Reply) {
        self.replies.push(reply);
    }
}

impl PgBatch {
    /// Takes an id from the sequence for each of a round's inbound messages not stored yet, in
    /// one statement, and keeps them to be written, filed, when the round ends; `None` for a
    /// message stored already (a replay). Writing them with their issue instead of filing them
    /// afterwards spares Postgres an update of each message row, which touches every index of
    /// `message` (`issue_id` is indexed, so the update is not HOT).
    ///
    /// A delivery of the same webhook that another writer stores meanwhile (another replica, or
    /// another lane for an id forged from another number) makes the round's insert fail on the
    /// unique key, or deadlock with that writer: the batch is then applied one message at a
    /// time, where the insert comes first and the copy is answered as a replay.
    pub(super) async fn take_inbound_ids(
        &mut self,
        all: &[crate::store::messages::NewInbound<'_>],
    ) -> Result<Vec<Option<i64>>> {
        const IDS: &str = "select k.n, nextval(pg_get_serial_sequence('message', 'message_id')) \
             from unnest($1::text[], $2::text[]) with ordinality as k(provider, provider_message_id, n) \
             where not exists (select 1 from message m where m.provider = k.provider \
             and m.provider_message_id = k.provider_message_id)";
        // Planned for its arguments (see the module's notes on array lookups).
        let ids: Vec<(i64, i64)> = sqlx::query_as(IDS)
            .persistent(false)
            .bind(column(all, |m| m.provider.as_str()))
            .bind(column(all, |m| m.provider_message_id))
            .fetch_all(&mut *self.tx)
            .await?;
        let mut taken = vec![None; all.len()];
        for (n, message_id) in ids {
            let m = &all[(n - 1) as usize];
            let cost = crate::sms::Segments::of(m.body);
            self.deferred.inbound.push(Inbound {
                message_id,
                citizen_id: m.citizen_id,
                provider: m.provider.as_str(),
                provider_message_id: m.provider_message_id.to_owned(),
                body: m.body.to_owned(),
                segments: cost.count as i64,
                encoding: cost.encoding.as_str(),
                created_at: m.now,
                issue_id: None,
                flag: None,
            });
            taken[(n - 1) as usize] = Some(message_id);
        }
        Ok(taken)
    }

    /// Takes `count` issue numbers from the sequence, in one statement, for the round's
    /// reports to use (see [`Deferred::issue`]).
    pub(super) async fn reserve_issue_numbers(&mut self, count: usize) -> Result<()> {
        const NUMBERS: &str = "select nextval(pg_get_serial_sequence('issue', 'issue_id')) \
             from generate_series(1, $1)";
        if count == 0 {
            return Ok(());
        }
        let numbers: Vec<i64> = sqlx::query_scalar(NUMBERS)
            .bind(count as i64)
            .fetch_all(&mut *self.tx)
            .await?;
        // Handed out smallest first, so a round's reports are numbered in the order they came.
        let reserved = &mut self.deferred.issue_numbers;
        reserved.extend(numbers);
        reserved.sort_unstable_by(|a, b| b.cmp(a));
        Ok(())
    }

    /// Writes what the round deferred (its inbound messages, new issues, updates, filings,
    /// events, replies and their outbox entries) in one statement; returns the replies' ids.
    pub(super) async fn flush(&mut self) -> Result<Vec<ReplyId>> {
        let Deferred {
            inbound,
            issue_numbers,
            issues,
            filings,
            touches,
            languages,
            events,
            replies,
        } = std::mem::take(&mut self.deferred);
        // Numbers reserved and not used stay for the next round of this transaction (a report
        // that joined an open issue used none); what is left at commit is a gap in the public
        // numbering, as a rolled-back insert leaves.
        self.deferred.issue_numbers = issue_numbers;
        if inbound.is_empty()
            && issues.is_empty()
            && filings.is_empty()
            && touches.is_empty()
            && languages.is_empty()
            && events.is_empty()
            && replies.is_empty()
        {
            return Ok(Vec::new());
        }
        // One statement, one round trip: every table's rows from arrays, each sub-statement
        // doing nothing when its arrays are empty. They share one snapshot and touch different
        // rows (nothing in a round changes a row another of them writes); the foreign keys are
        // checked when the whole statement ends, so a filing, an event or a reply may name an
        // issue filed in the same statement, and an outbox entry the reply it queues.
        const FLUSH: &str = "with \
             inbound as (insert into message (message_id, citizen_id, issue_id, direction, \
                 provider, provider_message_id, body, segments, encoding, status, flag, \
                 created_at, updated_at) overriding system value \
                 select message_id, citizen_id, issue_id, 'in', provider, provider_message_id, \
                 body, segments, encoding, 'received', flag, created_at, created_at \
                 from unnest($33::bigint[], $34::bigint[], $35::bigint[], $36::text[], $37::text[], \
                 $38::text[], $39::bigint[], $40::text[], $41::text[], $42::bigint[]) \
                 as m(message_id, citizen_id, issue_id, provider, provider_message_id, body, \
                 segments, encoding, flag, created_at)), \
             new_issue as (insert into issue (issue_id, citizen_id, service_code, description, \
                 language, created_at, updated_at, area, address, long, lat, department, due_at, \
                 assignee_id, supporters) \
                 overriding system value \
                 select issue_id, citizen_id, service_code, description, language, created_at, \
                 created_at, area, address, long, lat, department, due_at, assignee_id, supporters \
                 from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], \
                 $5::text[], $6::bigint[], $43::text[], $44::text[], $45::float8[], $46::float8[], \
                 $47::text[], $48::bigint[], $49::bigint[], $50::bigint[]) \
                 as i(issue_id, citizen_id, service_code, description, language, created_at, \
                 area, address, long, lat, department, due_at, assignee_id, supporters)), \
             touch as (update issue i set updated_at = v.updated_at \
                 from unnest($7::bigint[], $8::bigint[]) as v(issue_id, updated_at) \
                 where i.issue_id = v.issue_id), \
             language as (update citizen c set language = v.language \
                 from unnest($9::bigint[], $10::text[]) as v(citizen_id, language) \
                 where c.citizen_id = v.citizen_id), \
             filing as (update message m set issue_id = v.issue_id \
                 from unnest($11::bigint[], $12::bigint[]) as v(message_id, issue_id) \
                 where m.message_id = v.message_id), \
             event as (insert into issue_event (issue_id, kind, actor, body, message_id, created_at) \
                 select * from unnest($13::bigint[], $14::text[], $15::text[], $16::text[], \
                 $17::bigint[], $18::bigint[])), \
             reply as (insert into message (citizen_id, issue_id, direction, provider, \
                 in_reply_to, body, segments, encoding, status, status_rank, created_at, updated_at) \
                 select citizen_id, issue_id, 'out', provider, in_reply_to, body, segments, \
                 encoding, status, status_rank, created_at, created_at \
                 from unnest($19::bigint[], $20::bigint[], $21::text[], $22::bigint[], $23::text[], \
                 $24::bigint[], $25::text[], $26::text[], $27::bigint[], $28::bigint[]) \
                 as r(citizen_id, issue_id, provider, in_reply_to, body, segments, encoding, \
                 status, status_rank, created_at) \
                 returning in_reply_to, message_id), \
             queued as (insert into outbox (message_id, kind, priority, next_attempt_at, created_at) \
                 select reply.message_id, q.kind, q.priority, q.due, q.due from reply \
                 join unnest($29::bigint[], $30::text[], $31::bigint[], $32::bigint[]) \
                 as q(in_reply_to, kind, priority, due) using (in_reply_to)) \
             select in_reply_to, message_id from reply";
        let (touched, touched_at): (Vec<i64>, Vec<i64>) = touches.into_iter().unzip();
        let (speakers, spoken): (Vec<i64>, Vec<String>) = languages.into_iter().unzip();
        let (filed, filed_under): (Vec<i64>, Vec<i64>) = filings.into_iter().unzip();
        let queued: Vec<(&Reply, Kind)> = replies
            .iter()
            .filter_map(|r| r.outbox.map(|kind| (r, kind)))
            .collect();
        // Planned for its arguments each round (see the module's notes on array lookups).
        let ids: Vec<(i64, i64)> = sqlx::query_as(FLUSH)
            .persistent(false)
            .bind(column(&issues, |i| i.issue_id))
            .bind(column(&issues, |i| i.citizen_id))
            .bind(column(&issues, |i| i.service_code.as_deref()))
            .bind(column(&issues, |i| i.description.as_str()))
            .bind(column(&issues, |i| i.language.as_str()))
            .bind(column(&issues, |i| i.created_at))
            .bind(touched)
            .bind(touched_at)
            .bind(speakers)
            .bind(spoken)
            .bind(filed)
            .bind(filed_under)
            .bind(column(&events, |e| e.issue_id))
            .bind(column(&events, |e| e.kind.as_str()))
            .bind(column(&events, |e| e.actor.as_str()))
            .bind(column(&events, |e| e.body.as_str()))
            .bind(column(&events, |e| e.message_id))
            .bind(column(&events, |e| e.created_at))
            .bind(column(&replies, |r| r.citizen_id))
            .bind(column(&replies, |r| r.issue_id))
            .bind(column(&replies, |r| r.provider))
            .bind(column(&replies, |r| r.in_reply_to))
            .bind(column(&replies, |r| r.body.as_str()))
            .bind(column(&replies, |r| r.segments))
            .bind(column(&replies, |r| r.encoding))
            .bind(column(&replies, |r| r.status.as_str()))
            .bind(column(&replies, |r| r.status_rank))
            .bind(column(&replies, |r| r.created_at))
            .bind(column(&queued, |(r, _)| r.in_reply_to))
            .bind(column(&queued, |(_, k)| k.as_str()))
            .bind(column(&queued, |(_, k)| k.priority()))
            .bind(column(&queued, |(r, _)| r.created_at))
            .bind(column(&inbound, |m| m.message_id))
            .bind(column(&inbound, |m| m.citizen_id))
            .bind(column(&inbound, |m| m.issue_id))
            .bind(column(&inbound, |m| m.provider))
            .bind(column(&inbound, |m| m.provider_message_id.as_str()))
            .bind(column(&inbound, |m| m.body.as_str()))
            .bind(column(&inbound, |m| m.segments))
            .bind(column(&inbound, |m| m.encoding))
            .bind(column(&inbound, |m| m.flag.as_deref()))
            .bind(column(&inbound, |m| m.created_at))
            .bind(column(&issues, |i| i.area.as_deref()))
            .bind(column(&issues, |i| i.address.as_deref()))
            .bind(column(&issues, |i| i.long))
            .bind(column(&issues, |i| i.lat))
            .bind(column(&issues, |i| i.department.as_deref()))
            .bind(column(&issues, |i| i.due_at))
            .bind(column(&issues, |i| i.assignee_id))
            .bind(column(&issues, |i| i.supporters))
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(ids
            .into_iter()
            .map(|(in_reply_to, message_id)| ReplyId {
                in_reply_to,
                message_id,
            })
            .collect())
    }
}

/// One column of a set-oriented statement's arguments: `f` of each row, as the array bound for
/// an `unnest($n::...[])`.
pub(super) fn column<'a, T, U>(rows: &'a [T], f: impl Fn(&'a T) -> U) -> Vec<U> {
    rows.iter().map(f).collect()
}
