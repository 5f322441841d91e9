//! Small helpers the templates share: times, phone masking, status names.

use crate::sms::PhoneNumber;

/// `2026-11-25 08:15 UTC`.
pub fn when(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms / 1000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "?".to_owned(),
    }
}

/// `3 h`, `2 d`: how long something has waited.
pub fn age(since_ms: i64, now_ms: i64) -> String {
    let minutes = (now_ms - since_ms).max(0) / 60_000;
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

/// A due time from now: "due in 5 h", "2 d late".
pub fn due(due_ms: i64, now_ms: i64) -> String {
    if due_ms > now_ms {
        format!("due in {}", age(now_ms, due_ms))
    } else {
        format!("{} late", age(due_ms, now_ms))
    }
}

/// The number as this official may see it: whole for admins, masked for everyone else.
pub fn phone_for(e164: &str, admin: bool) -> String {
    match PhoneNumber::parse(e164, None) {
        Ok(phone) if admin => phone.e164().to_owned(),
        Ok(phone) => phone.masked(),
        Err(_) => "(unknown)".to_owned(),
    }
}

/// Statuses officials choose from, with their labels.
pub const STATUSES: &[(&str, &str)] = &[
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("in_progress", "In progress"),
    ("resolved", "Resolved"),
    ("closed_duplicate", "Closed: duplicate"),
    ("closed_not_ours", "Closed: not ours"),
    ("closed_wont_fix", "Closed: won't fix"),
];

pub fn status_label(status: &str) -> &str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(status, |(_, label)| label)
}

/// One `<option>` of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Options with the one matching `current` selected, after a first "any" option when given.
pub fn choices<'a>(
    any: Option<&str>,
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
    current: &str,
) -> Vec<Choice> {
    let mut out: Vec<Choice> = any
        .map(|label| Choice {
            value: String::new(),
            label: label.to_owned(),
            selected: current.is_empty(),
        })
        .into_iter()
        .collect();
    out.extend(options.into_iter().map(|(value, label)| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: value == current,
    }));
    out
}

/// What a text to many costs in one language: who gets it and how many segments each.
pub struct CostLine {
    pub language: String,
    pub recipients: i64,
    pub segments: usize,
    pub encoding: &'static str,
    /// No text in this language: its citizens get the default one.
    pub fallback: bool,
}

/// The cost of a broadcast or a poll before it is sent (`cost_preview.html`).
#[derive(Default)]
pub struct CostPreview {
    pub lines: Vec<CostLine>,
    pub total_recipients: i64,
    pub total_segments: i64,
}

impl CostPreview {
    /// `recipients` citizens of `language` get `text` (their own, or the default one).
    pub fn add(&mut self, language: String, recipients: i64, text: &str, fallback: bool) {
        let cost = crate::sms::Segments::of(&crate::sms::replace_lookalikes(text));
        self.total_recipients += recipients;
        self.total_segments += recipients * cost.count as i64;
        self.lines.push(CostLine {
            language,
            recipients,
            segments: cost.count,
            encoding: cost.encoding.as_str(),
            fallback,
        });
    }
}
