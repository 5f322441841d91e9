//! A category keyword (POTHOLE, LIGHT, ...) or REPORT: a new issue, unless it repeats an open
//! one ("me too": the same category, in the same area, naming the same street or landmark or
//! close to its point, filed within `crowd.merge_window_days`), which the citizen then joins as
//! a supporter: told "Already reported as #N", their message in its thread, their number among
//! those its notices go to.

use super::{Context, Outcome};
use crate::gateway::replies::ReplyKey;
use crate::store::{self, citizens, crowd, issues};

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
        let code = self.service_code.as_deref();
        let route = ctx.route(code, &self.description);
        if let Some(joined) = self.join_the_crowd(ctx, code, &route).await? {
            return Ok(joined);
        }
        let issue_id = issues::create(
            ctx.tx,
            issues::NewIssue {
                citizen_id: ctx.citizen.citizen_id,
                service_code: code,
                description: &self.description,
                language: &ctx.language,
                message_id: ctx.message_id,
                now: ctx.now,
                routed: route.routed(),
                due_at: ctx.routing.due_at(code, ctx.now),
            },
        )
        .await?;
        // One question when the report does not say where: the next message answers it.
        let says_where = route.found_a_place() || ctx.catalog.mentions_a_place(&self.description);
        let knows_areas = ctx.places.areas().next().is_some();
        let reply = if says_where && (route.located.area.is_some() || !knows_areas) {
            logged_reply(ctx, issue_id, code)
        } else if says_where {
            // A place we cannot put in an area: one question, then routing.
            ask(
                ctx,
                issue_id,
                code,
                super::answer::AREA,
                ReplyKey::ReportAskArea,
            )
            .await?
        } else {
            ask(
                ctx,
                issue_id,
                code,
                super::answer::LOCATION,
                ReplyKey::ReportAskLocation,
            )
            .await?
        };
        Ok(Outcome {
            reply,
            issue_id: Some(issue_id),
            ..Outcome::default()
        })
    }
}

impl Report {
    /// Joins the open issue this report repeats, if one does; `None` to file a new one. Only a
    /// report with a category and an area that names a place or has a point can repeat one: a
    /// report that merely looks alike (another category, another street) never merges.
    async fn join_the_crowd(
        &self,
        ctx: &mut Context<'_>,
        code: Option<&str>,
        route: &super::Route,
    ) -> store::Result<Option<Outcome>> {
        let located = &route.located;
        let (Some(code), Some(area)) = (code, located.area.as_deref()) else {
            return Ok(None);
        };
        if ctx.merge_window_ms <= 0 || (located.address.is_none() && located.point.is_none()) {
            return Ok(None);
        }
        let crowd = crowd::Crowd {
            service_code: code,
            area,
            address: located.address.as_deref(),
            point: located.point,
            since: ctx.now - ctx.merge_window_ms,
            distance_m: ctx.merge_distance_m,
        };
        let Some((issue_id, reporter)) = crowd::crowd_match(ctx.tx, &crowd).await? else {
            return Ok(None);
        };
        let citizen_id = ctx.citizen.citizen_id;
        let joined = reporter != Some(citizen_id)
            && crowd::add_supporter(ctx.tx, issue_id, citizen_id, ctx.message_id, ctx.now).await?;
        if joined {
            let (tx, message) = (&mut *ctx.tx, Some(ctx.message_id));
            issues::add_event(
                tx,
                issue_id,
                "supporter",
                "citizen",
                &self.description,
                message,
                ctx.now,
            )
            .await?;
        } else {
            // The reporter, or a supporter already, saying it again: added to its thread.
            issues::append_message(ctx.tx, issue_id, ctx.message_id, &self.description, ctx.now)
                .await?;
        }
        let number = issue_id.to_string();
        Ok(Some(Outcome {
            reply: ctx.reply(ReplyKey::ReportJoined, &[("number", &number)]),
            issue_id: Some(issue_id),
            ..Outcome::default()
        }))
    }
}

/// Asks the one question about a new report (`question`, answered by the next message) and
/// says so (`key`: "... is logged. Where is it? ..."), within the question's timeout.
async fn ask(
    ctx: &mut Context<'_>,
    issue_id: i64,
    service_code: Option<&str>,
    question: &str,
    key: ReplyKey,
) -> store::Result<Option<String>> {
    let until = ctx.now + ctx.question_timeout_ms;
    let pending = Some((question, issue_id, until));
    citizens::set_pending(ctx.tx, ctx.citizen.citizen_id, pending).await?;
    let (number, category) = (issue_id.to_string(), ctx.category_name(service_code));
    Ok(ctx.reply(key, &[("number", &number), ("category", &category)]))
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

#[cfg(test)]
mod tests {
    use super::super::desk::Desk;

    #[tokio::test]
    async fn a_keyword_and_a_place_file_an_issue_under_its_category_and_ask_nothing() {
        let desk = Desk::new().await;
        let outcome = desk.text("+14155550101", "POTHOLE Main St & 5th").await;
        let id = outcome.issue_id.expect("an issue");
        let reply = outcome.reply.unwrap();
        assert!(
            reply.contains(&format!("#{id}")) && reply.contains("Pothole"),
            "{reply}"
        );
        let filed = format!(
            "select count(*) from issue where issue_id = {id} \
             and service_code = 'pothole' and description = 'Main St & 5th'"
        );
        assert_eq!(desk.scalar(&filed).await, 1);
        let created =
            format!("select count(*) from issue_event where issue_id = {id} and kind = 'created'");
        assert_eq!(desk.scalar(&created).await, 1, "the trail starts");
        let asked = desk.text_of("select pending_question from citizen").await;
        assert_eq!(asked, None, "a report that says where gets no question");
    }

    #[tokio::test]
    async fn a_place_no_area_holds_gets_one_question_then_routing() {
        let desk = Desk::new().await;
        let outcome = desk
            .text("+14155550101", "POTHOLE deep one at 125 Birch Ave")
            .await;
        let id = outcome.issue_id.unwrap();
        assert!(outcome.reply.unwrap().contains("Which neighbourhood"));
        let asked = desk.text_of("select pending_question from citizen").await;
        assert_eq!(asked.as_deref(), Some("area"));
        let answer = desk.text("+14155550101", "casco viejo").await;
        assert_eq!(answer.issue_id, Some(id));
        let area = format!("select area from issue where issue_id = {id}");
        assert_eq!(desk.text_of(&area).await.as_deref(), Some("Old Town"));
        assert_eq!(
            desk.text_of("select pending_question from citizen").await,
            None
        );
        // A name we do not know either: asked once, left as it was.
        let other = desk
            .text("+14155550102", "TRASH at 9 Birch Ave")
            .await
            .issue_id
            .unwrap();
        desk.text("+14155550102", "the blue house").await;
        let area = format!("select area from issue where issue_id = {other}");
        assert_eq!(desk.text_of(&area).await, None);
        assert_eq!(
            desk.text_of("select pending_question from citizen").await,
            None
        );
    }

    #[tokio::test]
    async fn a_second_report_of_the_same_problem_joins_the_first_as_a_supporter() {
        let desk = Desk::new().await;
        let first = desk.text("+14155550101", "POTHOLE Main St & 5th Ave").await;
        let id = first.issue_id.unwrap();
        let second = desk
            .text("+14155550102", "POTHOLE huge one, main st and 5th avenue")
            .await;
        assert_eq!(second.issue_id, Some(id));
        let told = format!("Already reported as #{id}. We will text you when it is fixed.");
        assert_eq!(second.reply.as_deref(), Some(told.as_str()));
        assert_eq!(desk.scalar("select count(*) from issue").await, 1);
        let supporters = format!("select supporters from issue where issue_id = {id}");
        assert_eq!(desk.scalar(&supporters).await, 2);
        let trail = format!(
            "select count(*) from issue_event where issue_id = {id} and kind = 'supporter' \
             and body = 'huge one, main st and 5th avenue'"
        );
        assert_eq!(
            desk.scalar(&trail).await,
            1,
            "the supporter's words in the trail"
        );
        // The reporter saying it again, and the supporter too: counted once each.
        for from in ["+14155550101", "+14155550102"] {
            let again = desk.text(from, "POTHOLE Main St & 5th Ave").await;
            assert_eq!(again.issue_id, Some(id));
        }
        assert_eq!(desk.scalar(&supporters).await, 2);
        // The supporter's follow-up goes on the report they joined.
        let more = desk.text("+14155550102", "it is getting bigger").await;
        assert_eq!(more.issue_id, Some(id));
        assert_eq!(desk.scalar("select count(*) from issue").await, 1);
        // Once it is closed, the same words open a new report.
        desk.execute(&format!(
            "update issue set closed_at = 1, status = 'resolved' where issue_id = {id}"
        ))
        .await;
        let later = desk.text("+14155550103", "POTHOLE Main St & 5th Ave").await;
        assert_ne!(later.issue_id, Some(id));
    }

    #[tokio::test]
    async fn a_keyword_alone_files_the_issue_and_asks_where() {
        let desk = Desk::new().await;
        let outcome = desk.text("+14155550101", "POTHOLE").await;
        let id = outcome.issue_id.unwrap();
        assert!(outcome.reply.unwrap().contains("Where is it?"));
        let asked = desk.text_of("select pending_question from citizen").await;
        assert_eq!(asked.as_deref(), Some("location"));
        let about = desk.scalar("select pending_issue_id from citizen").await;
        assert_eq!(about, id);
    }
}
