//! A poll's results as people read them: each option's count and share of the answers, n, the
//! same by language and by area, and the "other" answers' words (for officials). Shown on the
//! admin's poll page and, for a public poll, on the dashboard; the CSV export has every answer
//! without the number that sent it (`GET /polls/{id}/answers.csv` for admins,
//! `GET /dashboard/polls/{id}.csv` for anyone when the poll is public).

use super::error::ApiError;
use super::exports::field;
use super::open311::iso8601;
use super::queue::view_when;
use crate::gateway::catalog::DEFAULT_LANGUAGE;
use crate::store::polls::{self, Poll, Tally};
use crate::web::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

/// How many "other" answers the page shows (the CSV has them all).
const OTHERS_SHOWN: i64 = 100;

pub struct OptionRow {
    pub number: String,
    pub label: String,
    pub count: i64,
    /// "42 %".
    pub share: String,
}

/// Answers of one language or one area, per option (then other).
pub struct Breakdown {
    pub name: String,
    pub n: i64,
    pub counts: Vec<i64>,
}

pub struct OtherRow {
    pub when: String,
    pub language: String,
    pub area: String,
    pub body: String,
}

pub struct PollResults {
    pub poll_id: i64,
    pub question: String,
    /// "Subscribers of roads in Northside".
    pub audience: String,
    pub public: bool,
    pub sent: String,
    /// "open until 2026-12-09 10:00 UTC" or "closed 2026-12-09 10:00 UTC".
    pub window: String,
    pub recipients: i64,
    /// How many answered (an option or other).
    pub n: i64,
    /// "12 % of those asked".
    pub rate: String,
    /// The top of the share bars: n, at least 1.
    pub scale: i64,
    pub options: Vec<OptionRow>,
    /// The columns of the breakdowns: "1", "2"… and "Other".
    pub columns: Vec<String>,
    pub by_language: Vec<Breakdown>,
    pub by_area: Vec<Breakdown>,
    /// Empty on the dashboard.
    pub others: Vec<OtherRow>,
}

/// `part` of `whole` in whole per cent, rounded ("42 %"; "0 %" of nothing). The dashboard's
/// shares use it too.
pub(super) fn share(part: i64, whole: i64) -> String {
    match whole {
        0 => "0 %".to_owned(),
        _ => format!("{} %", (part * 100 + whole / 2) / whole),
    }
}

/// The column of a tally: option `choice` (from 1) at `choice - 1`, other last.
fn column(tally: &Tally, options: usize) -> usize {
    match tally.choice {
        Some(c) if (1..=options as i64).contains(&c) => c as usize - 1,
        _ => options,
    }
}

fn breakdown(tallies: &[Tally], options: usize, key: impl Fn(&Tally) -> String) -> Vec<Breakdown> {
    let mut rows: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for t in tallies {
        rows.entry(key(t)).or_insert_with(|| vec![0; options + 1])[column(t, options)] += t.answers;
    }
    rows.into_iter()
        .map(|(name, counts)| Breakdown {
            name,
            n: counts.iter().sum(),
            counts,
        })
        .collect()
}

/// The options' labels in the default language (else the first there is).
async fn labels(state: &AppState, poll_id: i64) -> Result<Vec<String>, ApiError> {
    let texts = polls::texts(state.gateway.store(), poll_id).await?;
    Ok(texts
        .iter()
        .find(|t| t.language == DEFAULT_LANGUAGE)
        .or(texts.first())
        .map(|t| t.labels.clone())
        .unwrap_or_default())
}

/// Poll `poll`'s results; with `officials`, the "other" answers' words too.
pub async fn results(
    state: &AppState,
    poll: Poll,
    officials: bool,
) -> Result<PollResults, ApiError> {
    let store = state.gateway.store();
    let labels = labels(state, poll.poll_id).await?;
    let options = labels.len();
    let tallies = polls::tallies(store, poll.poll_id).await?;
    let mut counts = vec![0; options + 1];
    for t in &tallies {
        counts[column(t, options)] += t.answers;
    }
    let n: i64 = counts.iter().sum();
    let mut rows: Vec<OptionRow> = labels
        .iter()
        .enumerate()
        .map(|(i, label)| OptionRow {
            number: (i + 1).to_string(),
            label: label.clone(),
            count: counts[i],
            share: share(counts[i], n),
        })
        .collect();
    rows.push(OptionRow {
        number: String::new(),
        label: "Other words".to_owned(),
        count: counts[options],
        share: share(counts[options], n),
    });
    let mut columns: Vec<String> = (1..=options).map(|i| i.to_string()).collect();
    columns.push("Other".to_owned());
    let others = match officials {
        false => Vec::new(),
        true => polls::others(store, poll.poll_id, OTHERS_SHOWN)
            .await?
            .into_iter()
            .map(|a| OtherRow {
                when: view_when(a.created_at),
                language: a.language,
                area: a.area.unwrap_or_default(),
                body: a.body,
            })
            .collect(),
    };
    let audience = match (&poll.topic, &poll.area) {
        (Some(topic), Some(area)) => format!("Subscribers of {topic} in {area}"),
        (Some(topic), None) => format!("Subscribers of {topic}"),
        (None, Some(area)) => format!("Citizens who reported in {area}"),
        (None, None) => "Nobody".to_owned(),
    };
    let now = crate::store::now_ms();
    let window = match poll.closes_at > now {
        true => format!("open until {}", view_when(poll.closes_at)),
        false => format!("closed {}", view_when(poll.closes_at)),
    };
    Ok(PollResults {
        poll_id: poll.poll_id,
        question: poll.question,
        audience,
        public: poll.public != 0,
        sent: view_when(poll.created_at),
        window,
        recipients: poll.recipients,
        n,
        rate: format!("{} of those asked", share(n, poll.recipients)),
        scale: n.max(1),
        options: rows,
        columns,
        by_language: breakdown(&tallies, options, |t| t.language.clone()),
        by_area: breakdown(&tallies, options, |t| {
            t.area.clone().unwrap_or_else(|| "(no area)".to_owned())
        }),
        others,
    })
}

/// Every answer of poll `poll_id` as CSV: when, the option (number and default-language
/// label, or "other"), language, area, and the words with phone numbers, emails and listed
/// names scrubbed (a CSV travels). Never the number that sent it.
pub async fn csv(state: &AppState, poll_id: i64) -> Result<Response, ApiError> {
    let labels = labels(state, poll_id).await?;
    let mut out = String::from("poll_id,answered_datetime,choice,option,language,area,words\r\n");
    for answer in polls::answers(state.gateway.store(), poll_id).await? {
        let option = answer
            .choice
            .and_then(|c| usize::try_from(c).ok()?.checked_sub(1))
            .and_then(|i| labels.get(i))
            .map_or("other", String::as_str);
        out.push_str(&format!(
            "{poll_id},{},{},{},{},{},{}\r\n",
            iso8601(answer.created_at),
            answer.choice.map(|c| c.to_string()).unwrap_or_default(),
            field(option),
            field(&answer.language),
            field(answer.area.as_deref().unwrap_or_default()),
            field(&state.scrubber.scrub(&answer.body)),
        ));
    }
    let disposition = format!("attachment; filename=\"poll-{poll_id}.csv\"");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response())
}

/// `GET /dashboard/polls/{id}.csv`: a public poll's answers for anyone; 404 for any other.
pub async fn public_csv(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let poll_id = file
        .strip_suffix(".csv")
        .and_then(|id| id.parse::<i64>().ok());
    let Some(poll_id) = poll_id else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    match polls::find(state.gateway.store(), poll_id, DEFAULT_LANGUAGE).await? {
        Some(poll) if poll.public != 0 => csv(&state, poll_id).await,
        _ => Ok(StatusCode::NOT_FOUND.into_response()),
    }
}
