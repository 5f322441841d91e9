//! The answer to the one question we asked: where a new report is ("Where is it? ... or SKIP"),
//! which neighbourhood a place we do not know is in ("Which neighbourhood? ... or SKIP"), or
//! whether a resolved report is fixed ("Reply 1 for yes, 2 for no"; 2 reopens it).

use super::{Context, Outcome, Route};
use crate::gateway::replies::ReplyKey;
use crate::store::citizens::{self, Pending};
use crate::store::{self, issues};

/// Questions we ask, as stored in `citizen.pending_question`.
pub const LOCATION: &str = "location";
pub const AREA: &str = "area";
pub const FIXED: &str = "fixed";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Location { issue_id: i64, place: String },
    SkipLocation { issue_id: i64 },
    Area { issue_id: i64, text: String },
    Fixed { issue_id: i64, fixed: bool },
}

impl Answer {
    /// The message as an answer to `pending`, if it is one. Any text answers "where?"; only 1
    /// or 2 answers "fixed?" (anything else is routed as usual and the question stays open).
    pub fn parse(pending: &Pending, text: &str, skip: bool) -> Option<Answer> {
        let issue_id = pending.issue_id;
        match pending.question.as_str() {
            LOCATION | AREA if skip => Some(Answer::SkipLocation { issue_id }),
            AREA if !text.trim().is_empty() => Some(Answer::Area {
                issue_id,
                text: text.trim().to_owned(),
            }),
            LOCATION if !text.trim().is_empty() => Some(Answer::Location {
                issue_id,
                place: text.trim().to_owned(),
            }),
            FIXED => match text.trim().trim_end_matches('.') {
                "1" => Some(Answer::Fixed {
                    issue_id,
                    fixed: true,
                }),
                "2" => Some(Answer::Fixed {
                    issue_id,
                    fixed: false,
                }),
                _ => None,
            },
            _ => None,
        }
    }

    pub async fn apply(self, ctx: &mut Context<'_>) -> store::Result<Outcome> {
        citizens::set_pending(ctx.tx, ctx.citizen.citizen_id, None).await?;
        let (issue_id, key) = match self {
            Answer::Location { issue_id, place } => {
                let route = route_answer(ctx, issue_id, &place).await?;
                issues::set_location(ctx.tx, issue_id, &place, route.routed(), ctx.now).await?;
                issues::assign_if_nobody(ctx.tx, issue_id, route.assignee, ctx.now).await?;
                issues::append_message(ctx.tx, issue_id, ctx.message_id, &place, ctx.now).await?;
                (issue_id, ReplyKey::LocationSaved)
            }
            Answer::SkipLocation { issue_id } => (issue_id, ReplyKey::LocationSkipped),
            Answer::Area { issue_id, text } => {
                // One question only: a name we still do not know leaves the report as it was.
                let route = route_answer(ctx, issue_id, &text).await?;
                if let Some(area) = route.located.area.as_deref() {
                    let department = route.department.as_deref();
                    issues::set_area(ctx.tx, issue_id, area, department, ctx.now).await?;
                    issues::assign_if_nobody(ctx.tx, issue_id, route.assignee, ctx.now).await?;
                }
                issues::append_message(ctx.tx, issue_id, ctx.message_id, &text, ctx.now).await?;
                (issue_id, ReplyKey::LocationSaved)
            }
            Answer::Fixed { issue_id, fixed } => {
                issues::record_fixed_answer(ctx.tx, issue_id, fixed, ctx.now).await?;
                if fixed {
                    issues::add_event(
                        ctx.tx,
                        issue_id,
                        "confirmed_fixed",
                        "citizen",
                        "",
                        Some(ctx.message_id),
                        ctx.now,
                    )
                    .await?;
                    (issue_id, ReplyKey::FixedConfirmed)
                } else {
                    issues::set_status(
                        ctx.tx,
                        issue_id,
                        "open",
                        "citizen",
                        "not fixed, says the citizen",
                        ctx.now,
                    )
                    .await?;
                    (issue_id, ReplyKey::Reopened)
                }
            }
        };
        let number = issue_id.to_string();
        Ok(Outcome {
            reply: ctx.reply(key, &[("number", &number)]),
            issue_id: Some(issue_id),
            consent: false,
        })
    }
}

/// Where the answer about `issue_id` puts it, and the department that takes it now.
async fn route_answer(ctx: &mut Context<'_>, issue_id: i64, text: &str) -> store::Result<Route> {
    let code = issues::service_code_of(ctx.tx, issue_id).await?;
    Ok(ctx.route(code.as_deref(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(question: &str) -> Pending {
        Pending {
            question: question.into(),
            issue_id: 3,
        }
    }

    #[test]
    fn where_takes_any_text_or_skip() {
        assert_eq!(
            Answer::parse(&pending(LOCATION), " Main St & 5th ", false),
            Some(Answer::Location {
                issue_id: 3,
                place: "Main St & 5th".into()
            })
        );
        assert_eq!(
            Answer::parse(&pending(LOCATION), "SKIP", true),
            Some(Answer::SkipLocation { issue_id: 3 })
        );
        assert_eq!(Answer::parse(&pending(LOCATION), "  ", false), None);
        assert_eq!(
            Answer::parse(&pending(AREA), "Old Town", false),
            Some(Answer::Area {
                issue_id: 3,
                text: "Old Town".into()
            })
        );
        assert_eq!(
            Answer::parse(&pending(AREA), "SKIP", true),
            Some(Answer::SkipLocation { issue_id: 3 })
        );
    }

    #[test]
    fn fixed_takes_only_one_or_two() {
        assert_eq!(
            Answer::parse(&pending(FIXED), "1", false),
            Some(Answer::Fixed {
                issue_id: 3,
                fixed: true
            })
        );
        assert_eq!(
            Answer::parse(&pending(FIXED), "2.", false),
            Some(Answer::Fixed {
                issue_id: 3,
                fixed: false
            })
        );
        assert_eq!(
            Answer::parse(&pending(FIXED), "the hole is back", false),
            None
        );
    }

    use super::super::desk::Desk;
    use crate::store::{citizens, issues};

    #[tokio::test]
    async fn the_place_answers_where_and_joins_the_thread_skip_leaves_it_empty() {
        let desk = Desk::new().await;
        let id = desk.text("+14155550101", "POTHOLE").await.issue_id.unwrap();
        let saved = desk.text("+14155550101", "Main St & 5th").await;
        assert_eq!(saved.issue_id, Some(id));
        assert!(saved.reply.unwrap().contains("saved the place"));
        let place = format!("select location from issue where issue_id = {id}");
        assert_eq!(desk.text_of(&place).await.as_deref(), Some("Main St & 5th"));
        assert_eq!(
            desk.text_of("select pending_question from citizen").await,
            None
        );

        let other = desk.text("+14155550102", "TRASH").await.issue_id.unwrap();
        let skipped = desk.text("+14155550102", "SKIP").await;
        assert_eq!(skipped.issue_id, Some(other));
        let place = format!("select location from issue where issue_id = {other}");
        assert_eq!(desk.text_of(&place).await, None);
        let asked = "select count(*) from citizen where pending_question is not null";
        assert_eq!(desk.scalar(asked).await, 0, "each question asked once");
    }

    #[tokio::test]
    async fn one_confirms_the_fix_two_reopens_the_report() {
        let desk = Desk::new().await;
        for (phone, answer, status, event) in [
            ("+14155550101", "1", "resolved", "confirmed_fixed"),
            ("+14155550102", "2", "open", "status"),
        ] {
            let id = desk.text(phone, "POTHOLE Main St").await.issue_id.unwrap();
            let mut tx = desk.store.begin().await.unwrap();
            let now = crate::store::now_ms();
            issues::set_status(&mut tx, id, "resolved", "official:1", "", now)
                .await
                .unwrap();
            citizens::ask_about_issue(&mut tx, id, FIXED, now + 60_000)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let outcome = desk.text(phone, answer).await;
            assert_eq!(outcome.issue_id, Some(id), "{answer}");
            let now_status = format!("select status from issue where issue_id = {id}");
            assert_eq!(desk.text_of(&now_status).await.as_deref(), Some(status));
            let by_citizen = format!(
                "select count(*) from issue_event where issue_id = {id} \
                 and kind = '{event}' and actor = 'citizen'"
            );
            assert_eq!(desk.scalar(&by_citizen).await, 1, "{answer}");
        }
    }
}
