//! Query-string and form parameters: the open-data endpoints (Open311 and the CSV export) and
//! the officials' broadcast form.

/// Decoded `name=value` pairs of a query string or a form.
#[derive(Default)]
pub struct Params(Vec<(String, String)>);

impl From<Vec<(String, String)>> for Params {
    fn from(pairs: Vec<(String, String)>) -> Params {
        Params(pairs)
    }
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The trimmed value of `name`; `None` when missing or empty.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// An ISO 8601 date-time with an offset (`2026-11-25T08:15:30-05:00`) as unix ms; `Err` with
    /// the parameter's name when it is there but unreadable.
    pub fn date(&self, name: &str) -> Result<Option<i64>, String> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        time::OffsetDateTime::parse(&raw, &time::format_description::well_known::Rfc3339)
            .map(|t| Some((t.unix_timestamp_nanos() / 1_000_000) as i64))
            .map_err(|_| name.to_owned())
    }

    /// `status=open` or `closed` as `Some(true)` or `Some(false)`; `Err` for any other word.
    pub fn open(&self) -> Result<Option<bool>, ()> {
        match self.get("status").as_deref() {
            None => Ok(None),
            Some("open") => Ok(Some(true)),
            Some("closed") => Ok(Some(false)),
            Some(_) => Err(()),
        }
    }
}
