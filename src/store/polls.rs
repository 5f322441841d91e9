//! Polls: a question to a topic's subscribers, an area's citizens, or both, and the answers.
//! Recipients are chosen once and queued set-wise in one transaction (as broadcasts are), so a
//! poll to 100,000 subscribers is a handful of statements; each recipient's citizen row keeps
//! the open poll, so the inbound path reads it with the citizen and nothing more.

use super::query::query;
use super::{LaneTx, Result, Store, Tx, on_pool, on_tx};
use crate::sms::{Provider, Segments, replace_lookalikes, status_rank};

/// Who a poll reaches: citizens who may receive texts and still have a number, who joined
/// `$1` (when not null) and reported or supported a report in area `$2` (when not null).
macro_rules! audience {
    ($select:literal) => {
        concat!(
            $select,
            " from citizen c where c.opted_out_at is null \
             and not (c.number_key >= 'anon:' and c.number_key < 'anon;') \
             and (cast($1 as text) is null or c.citizen_id in \
                 (select s.citizen_id from subscription s where s.topic = $1)) \
             and (cast($2 as text) is null or c.citizen_id in \
                 (select i.citizen_id from issue i where i.area = $2 \
                  union select s.citizen_id from supporter s join issue i on i.issue_id = s.issue_id \
                  where i.area = $2))"
        )
    };
}

/// A poll's text in one language: the question, its options' labels in order, and the SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollText {
    pub language: String,
    pub question: String,
    pub labels: Vec<String>,
    pub body: String,
}

/// A poll to be sent.
#[derive(Debug, Clone)]
pub struct NewPoll<'a> {
    pub topic: Option<&'a str>,
    pub area: Option<&'a str>,
    pub official_id: Option<i64>,
    pub public: bool,
    pub closes_at: i64,
    /// The default language's first: it goes to everyone without a text in theirs.
    pub texts: &'a [PollText],
}

/// How many citizens a poll would reach, per language.
pub async fn audience(
    store: &Store,
    topic: Option<&str>,
    area: Option<&str>,
) -> Result<Vec<(String, i64)>> {
    const SQL: &str = concat!(
        audience!("select c.language, count(*)"),
        " group by c.language order by c.language"
    );
    let rows = on_pool!(store, pool => sqlx::query_as::<_, (String, i64)>(SQL).bind(topic).bind(area).fetch_all(pool).await?);
    Ok(rows)
}

/// Records a poll, chooses its recipients, queues one message each (the text in their
/// language, or the first text when there is none) at bulk priority, and marks the poll open
/// on each recipient's row until `closes_at` (a newer poll replaces an older one). Returns the
/// poll's id and the number of recipients.
pub async fn create(
    tx: &mut Tx,
    poll: &NewPoll<'_>,
    provider: Provider,
    now: i64,
) -> Result<(i64, i64)> {
    const POLL: &str = "insert into poll (topic, area, official_id, public, created_at, closes_at, choices) \
         values ($1, $2, $3, $4, $5, $6, $7) returning poll_id";
    const TEXT: &str = "insert into poll_text (poll_id, language, question, labels, body) \
         values ($1, $2, $3, $4, $5)";
    const RECIPIENTS: &str = concat!(
        "insert into poll_recipient (poll_id, citizen_id, language) ",
        audience!("select $3, c.citizen_id, c.language")
    );
    const COUNT: &str = "update poll set recipients = $2 where poll_id = $1";
    // Recipients whose language is $8, or (for the first text, $9 = 1) whose language has none.
    const MESSAGES: &str = "insert into message (citizen_id, direction, provider, body, segments, encoding, status, \
         status_rank, poll_id, created_at, updated_at) \
         select r.citizen_id, 'out', $1, $2, $3, $4, 'queued', $5, $6, $7, $7 \
         from poll_recipient r where r.poll_id = $6 \
         and (r.language = $8 or ($9 = 1 and r.language not in (select language from poll_text where poll_id = $6)))";
    const OUTBOX: &str = "insert into outbox (message_id, kind, priority, next_attempt_at, created_at) \
         select message_id, 'poll', $2, $3, $3 from message where poll_id = $1";
    const OPEN: &str = "update citizen set poll_id = $1, poll_until = $2 \
         where citizen_id in (select citizen_id from poll_recipient where poll_id = $1)";
    let poll_id = on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(POLL)
        .bind(poll.topic)
        .bind(poll.area)
        .bind(poll.official_id)
        .bind(i64::from(poll.public))
        .bind(now)
        .bind(poll.closes_at)
        .bind(choices_column(poll.texts))
        .fetch_one(&mut *conn)
        .await?);
    for text in poll.texts {
        let labels = text.labels.join("\n");
        on_tx!(tx, conn => sqlx::query(TEXT)
            .bind(poll_id)
            .bind(&text.language)
            .bind(&text.question)
            .bind(&labels)
            .bind(&text.body)
            .execute(conn)
            .await?
            .rows_affected());
    }
    let recipients = on_tx!(tx, conn => sqlx::query(RECIPIENTS)
        .bind(poll.topic)
        .bind(poll.area)
        .bind(poll_id)
        .execute(conn)
        .await?
        .rows_affected()) as i64;
    on_tx!(tx, conn => sqlx::query(COUNT).bind(poll_id).bind(recipients).execute(conn).await?.rows_affected());
    for (index, text) in poll.texts.iter().enumerate() {
        let body = replace_lookalikes(&text.body);
        let cost = Segments::of(&body);
        on_tx!(tx, conn => sqlx::query(MESSAGES)
            .bind(provider.as_str())
            .bind(body.as_ref())
            .bind(cost.count as i64)
            .bind(cost.encoding.as_str())
            .bind(status_rank("queued").unwrap_or(0))
            .bind(poll_id)
            .bind(now)
            .bind(&text.language)
            .bind(i64::from(index == 0))
            .execute(conn)
            .await?
            .rows_affected());
    }
    on_tx!(tx, conn => sqlx::query(OUTBOX)
        .bind(poll_id)
        .bind(super::outbox::Kind::Poll.priority())
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected());
    on_tx!(tx, conn => sqlx::query(OPEN).bind(poll_id).bind(poll.closes_at).execute(conn).await?.rows_affected());
    Ok((poll_id, recipients))
}

/// `poll.choices`: a line per option, its labels in every language separated by tabs.
fn choices_column(texts: &[PollText]) -> String {
    let options = texts.first().map_or(0, |t| t.labels.len());
    (0..options)
        .map(|i| {
            let labels: Vec<&str> = texts
                .iter()
                .filter_map(|t| t.labels.get(i))
                .map(|l| l.as_str())
                .collect();
            labels.join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Poll `poll_id`'s options, each with its labels in every language, read on the writer lane
/// the first time a reply to it comes in; empty when there is no such poll.
pub async fn choices(tx: &mut LaneTx, poll_id: i64) -> Result<Vec<Vec<String>>> {
    const SQL: &str = "select choices from poll where poll_id = $1";
    let column: Option<Option<String>> = query(SQL).bind(poll_id).fetch_optional(tx).await?;
    Ok(column
        .flatten()
        .unwrap_or_default()
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect())
}

/// A citizen's answer to a poll.
#[derive(Debug, Clone)]
pub struct NewAnswer<'a> {
    pub poll_id: i64,
    pub citizen_id: i64,
    pub message_id: i64,
    /// The option chosen, from 1; `None` for "other".
    pub choice: Option<i64>,
    pub body: &'a str,
    pub language: &'a str,
    pub now: i64,
}

/// Counts a citizen's answer (the first one only: a poll hears each citizen once) and closes
/// the poll for them, so their next text is read as usual. The answer's area is the poll's,
/// or else where the citizen last reported. Returns false when they had answered already.
pub async fn answer(tx: &mut LaneTx, answer: NewAnswer<'_>) -> Result<bool> {
    const ANSWER: &str = "insert into poll_answer (poll_id, citizen_id, message_id, choice, body, language, area, created_at) \
         values ($1, $2, $3, $4, $5, $6, coalesce((select area from poll where poll_id = $1), \
         (select i.area from issue i where i.citizen_id = $2 and i.area is not null order by i.created_at desc limit 1)), $7) \
         on conflict (poll_id, citizen_id) do nothing";
    const CLOSE: &str =
        "update citizen set poll_id = null, poll_until = null where citizen_id = $1";
    let counted = query(ANSWER)
        .bind(answer.poll_id)
        .bind(answer.citizen_id)
        .bind(answer.message_id)
        .bind(answer.choice)
        .bind(answer.body)
        .bind(answer.language)
        .bind(answer.now)
        .execute(tx)
        .await?;
    query(CLOSE).bind(answer.citizen_id).execute(tx).await?;
    Ok(counted == 1)
}

/// A poll as the admin page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Poll {
    pub poll_id: i64,
    pub topic: Option<String>,
    pub area: Option<String>,
    pub public: i64,
    pub created_at: i64,
    pub closes_at: i64,
    pub recipients: i64,
    /// Answers so far (an option or other).
    pub answers: i64,
    /// The question in the default language.
    pub question: String,
}

/// Polls as [`Poll`] reads them, with the question in language `$2` (else any), then
/// `$condition`.
macro_rules! select_polls {
    ($condition:literal) => {
        concat!(
            "select p.poll_id, p.topic, p.area, p.public, p.created_at, p.closes_at, \
             p.recipients, (select count(*) from poll_answer a where a.poll_id = p.poll_id) as answers, \
             coalesce((select t.question from poll_text t where t.poll_id = p.poll_id and t.language = $2), \
                      (select min(t.question) from poll_text t where t.poll_id = p.poll_id)) as question \
             from poll p ",
            $condition
        )
    };
}

/// The latest polls, newest first; only public ones with `public_only`.
pub async fn list(
    store: &Store,
    public_only: bool,
    language: &str,
    limit: i64,
) -> Result<Vec<Poll>> {
    const SQL: &str = select_polls!("where p.public >= $3 order by p.poll_id desc limit $1");
    let rows = on_pool!(store, pool => sqlx::query_as::<_, Poll>(SQL)
        .bind(limit)
        .bind(language)
        .bind(i64::from(public_only))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// One poll, if it exists.
pub async fn find(store: &Store, poll_id: i64, language: &str) -> Result<Option<Poll>> {
    const SQL: &str = select_polls!("where p.poll_id = $1");
    let row = on_pool!(store, pool => sqlx::query_as::<_, Poll>(SQL)
        .bind(poll_id)
        .bind(language)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// A poll's texts, one per language.
pub async fn texts(store: &Store, poll_id: i64) -> Result<Vec<PollText>> {
    const SQL: &str = "select language, question, labels, body from poll_text where poll_id = $1 order by language";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, (String, String, String, String)>(SQL)
        .bind(poll_id)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .map(|(language, question, labels, body)| PollText {
            language,
            question,
            labels: labels.lines().map(str::to_owned).collect(),
            body,
        })
        .collect())
}

/// Answers counted by choice (`None`: other), language and area.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Tally {
    pub choice: Option<i64>,
    pub language: String,
    pub area: Option<String>,
    pub answers: i64,
}

pub async fn tallies(store: &Store, poll_id: i64) -> Result<Vec<Tally>> {
    const SQL: &str = "select choice, language, area, count(*) as answers from poll_answer \
         where poll_id = $1 group by choice, language, area";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, Tally>(SQL).bind(poll_id).fetch_all(pool).await?);
    Ok(rows)
}

/// One answer, without the number that sent it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnswerRow {
    pub created_at: i64,
    pub choice: Option<i64>,
    pub language: String,
    pub area: Option<String>,
    pub body: String,
}

/// The latest answers that chose no option ("other"), newest first.
pub async fn others(store: &Store, poll_id: i64, limit: i64) -> Result<Vec<AnswerRow>> {
    const SQL: &str = "select created_at, choice, language, area, body from poll_answer \
         where poll_id = $1 and choice is null order by created_at desc limit $2";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, AnswerRow>(SQL).bind(poll_id).bind(limit).fetch_all(pool).await?);
    Ok(rows)
}

/// Every answer, oldest first (the CSV export).
pub async fn answers(store: &Store, poll_id: i64) -> Result<Vec<AnswerRow>> {
    const SQL: &str = "select created_at, choice, language, area, body from poll_answer \
         where poll_id = $1 order by created_at, citizen_id";
    let rows = on_pool!(store, pool => sqlx::query_as::<_, AnswerRow>(SQL).bind(poll_id).fetch_all(pool).await?);
    Ok(rows)
}
