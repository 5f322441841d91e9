//! Anything that is not a command: a follow-up on the citizen's recent open report, or else a
//! new uncategorized report for officials to sort.

use super::{Context, Outcome};
use crate::gateway::replies::ReplyKey;
use crate::store::{self, issues};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeText {
    text: String,
}

impl FreeText {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.trim().to_owned(),
        }
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        if self.text.is_empty() {
            // An MMS with only a picture, or a blank SMS: stored, answered, no issue opened.
            return Ok(Outcome {
                reply: ctx.reply(ReplyKey::EmptyMessage, &[]),
                ..Outcome::default()
            });
        }
        let since = ctx.now - ctx.followup_window_ms;
        let citizen_id = ctx.citizen.citizen_id;
        if let Some(open) = issues::recent_open(ctx.tx, citizen_id, since).await? {
            issues::append_message(ctx.tx, open.issue_id, ctx.message_id, &self.text, ctx.now)
                .await?;
            let number = open.issue_id.to_string();
            return Ok(Outcome {
                reply: ctx.reply(ReplyKey::FollowupAdded, &[("number", &number)]),
                issue_id: Some(open.issue_id),
                ..Outcome::default()
            });
        }
        let route = ctx.route(None, &self.text);
        let issue_id = issues::create(
            ctx.tx,
            issues::NewIssue {
                citizen_id,
                service_code: None,
                description: &self.text,
                language: &ctx.language,
                message_id: ctx.message_id,
                now: ctx.now,
                routed: route.routed(),
                due_at: None,
            },
        )
        .await?;
        Ok(Outcome {
            reply: super::report::logged_reply(ctx, issue_id, None),
            issue_id: Some(issue_id),
            ..Outcome::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::desk::Desk;

    #[tokio::test]
    async fn text_without_a_keyword_files_an_issue_and_follow_ups_join_it() {
        let desk = Desk::new().await;
        let first = desk
            .text("+14155550101", "the lamp on Elm has been out a week")
            .await;
        let id = first.issue_id.unwrap();
        let code = format!("select service_code from issue where issue_id = {id}");
        assert_eq!(desk.text_of(&code).await, None, "officials categorize it");
        let more = desk.text("+14155550101", "it flickers at night too").await;
        assert_eq!(more.issue_id, Some(id));
        assert!(
            more.reply
                .unwrap()
                .contains(&format!("added this to report #{id}"))
        );
        assert_eq!(desk.scalar("select count(*) from issue").await, 1);
        let empty = desk.text("+14155550102", "   ").await;
        assert_eq!(empty.issue_id, None);
        assert!(empty.reply.unwrap().contains("empty message"));
        assert_eq!(desk.scalar("select count(*) from issue").await, 1);
    }
}
