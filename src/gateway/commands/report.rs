//! A category keyword (POTHOLE, LIGHT, ...) or REPORT: always a new issue.

use super::{Context, Outcome};
use crate::gateway::replies::ReplyKey;
use crate::store::{self, citizens, issues};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The Open311 service code; `None` for REPORT (officials categorize it).
    service_code: Option<String>,
    /// What followed the keyword, as written.
    description: String,
}

impl Report {
    pub fn new(service_code: Option<String>, description: &str) -> Self {
        Self {
            service_code,
            description: description.trim().to_owned(),
        }
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        let issue_id = issues::create(
            ctx.tx,
            issues::NewIssue {
                citizen_id: ctx.citizen.citizen_id,
                service_code: self.service_code.as_deref(),
                description: &self.description,
                language: &ctx.language,
                message_id: ctx.message_id,
                now: ctx.now,
            },
        )
        .await?;
        // One question when the report does not say where: the next message answers it.
        let reply = if ctx.catalog.mentions_a_place(&self.description) {
            logged_reply(ctx, issue_id, self.service_code.as_deref())
        } else {
            let until = ctx.now + ctx.question_timeout_ms;
            citizens::set_pending(
                ctx.tx,
                ctx.citizen.citizen_id,
                Some((super::answer::LOCATION, issue_id, until)),
            )
            .await?;
            let (number, category) = (
                issue_id.to_string(),
                ctx.category_name(self.service_code.as_deref()),
            );
            ctx.reply(
                ReplyKey::ReportAskLocation,
                &[("number", &number), ("category", &category)],
            )
        };
        Ok(Outcome {
            reply,
            issue_id: Some(issue_id),
            ..Outcome::default()
        })
    }
}

/// "Thanks! Report #12 (Pothole) is logged. ...", shared with free text that opens an issue.
pub(super) fn logged_reply(
    ctx: &Context<'_>,
    issue_id: i64,
    service_code: Option<&str>,
) -> Option<String> {
    let number = issue_id.to_string();
    match service_code {
        Some(code) => {
            let category = ctx.category_name(Some(code));
            ctx.reply(
                ReplyKey::ReportLogged,
                &[("number", &number), ("category", &category)],
            )
        }
        None => ctx.reply(ReplyKey::ReportLoggedUncategorized, &[("number", &number)]),
    }
}
