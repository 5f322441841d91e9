//! STATUS n: where report n stands, if (and only if) this citizen filed it. STATUS alone
//! answers for their latest report.

use super::{Context, Outcome};
use crate::gateway::replies::ReplyKey;
use crate::store::{self, issues};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Latest,
    Number(i64),
    /// STATUS followed by something that is not a report number.
    Unreadable,
}

impl Status {
    /// Reads `12`, `#12`, `12.` or nothing after the keyword.
    pub fn parse(rest: &str) -> Status {
        let Some(word) = rest.split_whitespace().next() else {
            return Status::Latest;
        };
        let digits = word.trim_matches(|c: char| !c.is_ascii_digit());
        match digits.parse::<i64>() {
            Ok(n) if n > 0 && digits.len() + 2 >= word.len() => Status::Number(n),
            _ => Status::Unreadable,
        }
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        let citizen_id = ctx.citizen.citizen_id;
        let (found, asked) = match self {
            Status::Number(n) => (issues::find_own(ctx.tx, citizen_id, n).await?, Some(n)),
            Status::Latest | Status::Unreadable => {
                (issues::latest_own(ctx.tx, citizen_id).await?, None)
            }
        };
        let reply = match (found, asked) {
            (Some(issue), _) => {
                let number = issue.issue_id.to_string();
                let category = ctx.category_name(issue.service_code.as_deref());
                let closed = store::issues::CLOSED_STATUSES.contains(&issue.status.as_str());
                let due = issue.due_at.filter(|_| !closed).map(date);
                let key = match due {
                    Some(_) => ReplyKey::StatusReportDue,
                    None => ReplyKey::StatusReport,
                };
                let due = due.unwrap_or_default();
                ctx.reply(
                    key,
                    &[
                        ("number", &number),
                        ("category", &category),
                        ("status", &issue.status),
                        ("due", &due),
                    ],
                )
            }
            (None, Some(n)) => ctx.reply(ReplyKey::StatusNotFound, &[("number", &n.to_string())]),
            (None, None) => ctx.reply(ReplyKey::StatusNone, &[]),
        };
        Ok(Outcome {
            reply,
            ..Outcome::default()
        })
    }
}

/// A due date as every language reads it: `2026-12-31` (UTC).
fn date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_number_in_the_forms_people_type() {
        assert_eq!(Status::parse("1042"), Status::Number(1042));
        assert_eq!(Status::parse("#1042"), Status::Number(1042));
        assert_eq!(Status::parse("1042. thanks"), Status::Number(1042));
        assert_eq!(Status::parse(""), Status::Latest);
        assert_eq!(Status::parse("please"), Status::Unreadable);
        assert_eq!(Status::parse("0"), Status::Unreadable);
        assert_eq!(Status::parse("99999999999999999999999"), Status::Unreadable);
    }

    use super::super::desk::Desk;

    #[tokio::test]
    async fn a_citizen_reads_their_own_reports_and_nobody_elses() {
        let desk = Desk::new().await;
        assert!(
            desk.reply("+14155550101", "STATUS")
                .await
                .contains("no report")
        );
        let id = desk
            .text("+14155550101", "POTHOLE Main St")
            .await
            .issue_id
            .unwrap();
        let own = desk.reply("+14155550101", &format!("STATUS {id}")).await;
        assert!(
            own.contains(&format!("#{id}")) && own.contains("Pothole"),
            "{own}"
        );
        let latest = desk.reply("+14155550101", "STATUS").await;
        assert_eq!(latest, own, "STATUS alone is the latest report");
        let stranger = desk.reply("+14155550102", &format!("STATUS {id}")).await;
        assert!(stranger.contains("found no report"), "{stranger}");
        assert!(
            !stranger.contains("Pothole"),
            "nothing of another number's report"
        );
        let issues = desk.scalar("select count(*) from issue").await;
        assert_eq!(issues, 1, "STATUS files nothing");
    }

    #[tokio::test]
    async fn status_says_when_an_open_report_is_due() {
        let desk = Desk::new().await;
        let id = desk
            .text("+14155550101", "POTHOLE Main St")
            .await
            .issue_id
            .unwrap();
        let due: i64 = 1_798_718_400_000; // 2026-12-31T12:00:00Z
        let sql = format!("update issue set due_at = {due} where issue_id = {id}");
        desk.execute(&sql).await;
        let en = desk.reply("+14155550101", "STATUS").await;
        assert!(en.contains("fix it by 2026-12-31"), "{en}");
        let es = desk.reply("+14155550101", "ESTADO").await;
        assert!(es.contains("Plazo para arreglarlo: 2026-12-31"), "{es}");
        let closed = format!("update issue set status = 'resolved' where issue_id = {id}");
        desk.execute(&closed).await;
        let done = desk.reply("+14155550101", "STATUS").await;
        assert!(
            !done.contains("2026-12-31"),
            "a closed report has no due date: {done}"
        );
    }
}
