//! Officials' hands on the crowd ("me too"): merge two reports of one problem with all their
//! citizens, or split a supporter who texted about something else off into a report of its
//! own. Each is one transaction, recorded in both issues' trails, and tells the citizens it
//! moved which report is theirs now.

use super::Gateway;
use super::actions::ActionError;
use super::replies::ReplyKey;
use crate::store::outbox::Kind;
use crate::store::{self, crowd, issues};

impl Gateway {
    /// Merges issue `from` into issue `into`, both open: every citizen of `from` becomes a
    /// supporter of `into` and hears "Already reported as #into. We will text you when it is
    /// fixed."; `from` closes as a duplicate. Returns how many citizens joined `into`.
    #[tracing::instrument(name = "gateway.merge", skip(self))]
    pub async fn merge(&self, from: i64, into: i64, actor: &str) -> Result<u64, ActionError> {
        let now = store::now_ms();
        let mut tx = self.inner.store.begin().await?;
        let Some(source) = issues::open_state(&mut tx, from).await? else {
            return Err(ActionError::NoIssue);
        };
        if into == from {
            return Err(ActionError::NotADuplicate);
        }
        let Some(target) = issues::open_state(&mut tx, into).await? else {
            return Err(ActionError::NotADuplicate);
        };
        if !source || !target {
            return Err(ActionError::MergeClosed);
        }
        // Everyone who reported `from`, before they move (a forgotten one is told nothing).
        let citizens = crowd::reporters(&mut tx, from).await?;
        let joined = crowd::merge(&mut tx, from, into, now).await?;
        let of = format!("into #{into}");
        issues::add_event(&mut tx, from, "merged", actor, &of, None, now).await?;
        issues::set_status(&mut tx, from, "closed_duplicate", actor, "", now).await?;
        let people = if joined == 1 { "citizen" } else { "citizens" };
        let trail = format!("#{from} and its {joined} {people}");
        issues::add_event(&mut tx, into, "merged", actor, &trail, None, now).await?;
        let number = into.to_string();
        for citizen in &citizens {
            let body = self.inner.replies.render(
                &citizen.language,
                ReplyKey::ReportJoined,
                &[("number", &number)],
            );
            self.queue_text(&mut tx, citizen.citizen_id, into, &body, Kind::Notice, now)
                .await?;
        }
        tx.commit().await?;
        self.acted(from, !citizens.is_empty());
        self.announce(Some(into));
        Ok(joined)
    }

    /// Takes supporter `citizen_id` off issue `from` into a report of its own, filed when they
    /// texted, with its category's promise from then; they hear its number. Returns it.
    #[tracing::instrument(name = "gateway.split", skip(self))]
    pub async fn split(&self, from: i64, citizen_id: i64, actor: &str) -> Result<i64, ActionError> {
        let now = store::now_ms();
        let mut tx = self.inner.store.begin().await?;
        if issues::open_state(&mut tx, from).await?.is_none() {
            return Err(ActionError::NoIssue);
        }
        let Some(split) = crowd::split(&mut tx, from, citizen_id, now).await? else {
            return Err(ActionError::NotASupporter);
        };
        let id = split.issue_id;
        let due_at = self
            .inner
            .departments
            .due_at(split.service_code.as_deref(), split.reported_at);
        issues::set_due(&mut tx, id, due_at).await?;
        issues::add_event(&mut tx, id, "created", actor, &split.description, None, now).await?;
        issues::add_event(
            &mut tx,
            id,
            "split",
            actor,
            &format!("from #{from}"),
            None,
            now,
        )
        .await?;
        let trail = format!("a supporter's report is now #{id}");
        issues::add_event(&mut tx, from, "split", actor, &trail, None, now).await?;
        let body = self.logged_text(&split.language, split.service_code.as_deref(), id);
        self.queue_text(&mut tx, citizen_id, id, &body, Kind::Notice, now)
            .await?;
        tx.commit().await?;
        self.acted(from, true);
        self.announce(Some(id));
        Ok(id)
    }
}
