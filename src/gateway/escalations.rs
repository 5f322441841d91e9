//! Promises not kept: every open issue past its due time escalates once, by an email to its
//! department, recorded in its trail. Run by the server every `sla.check_interval_secs` on
//! every replica: the escalation's primary key makes "once" hold across them.

use super::Gateway;
use crate::store::{self, escalations, issues};

/// At most this many escalations per check: a backlog drains over a few checks.
const PER_CHECK: i64 = 500;

impl Gateway {
    /// Escalates the overdue issues not escalated yet, one transaction each (the email kept
    /// for sending, the trail's `escalated` event); returns how many it escalated. `public_url`
    /// makes the link to each report's public page.
    pub async fn escalate_overdue(&self, public_url: &str, now: i64) -> store::Result<usize> {
        let store = &self.inner.store;
        let mut escalated = 0;
        for overdue in escalations::overdue_unescalated(store, now, PER_CHECK).await? {
            let recipient = self
                .inner
                .departments
                .departments()
                .iter()
                .find(|d| d.name == overdue.department)
                .map_or("", |d| d.email.as_str());
            let (subject, body) = self.escalation_text(&overdue, public_url);
            let mut tx = store.begin().await?;
            let new = escalations::NewEscalation {
                issue_id: overdue.issue_id,
                department: &overdue.department,
                recipient,
                subject: &subject,
                body: &body,
                now,
            };
            if !escalations::insert(&mut tx, new).await? {
                continue; // another replica escalated it first
            }
            let note = match recipient {
                "" => format!("overdue; {} has no email", overdue.department),
                email => format!("overdue; emailed {email}"),
            };
            issues::add_event(
                &mut tx,
                overdue.issue_id,
                "escalated",
                "system",
                &note,
                None,
                now,
            )
            .await?;
            tx.commit().await?;
            tracing::warn!(
                issue_id = overdue.issue_id,
                department = %overdue.department,
                "overdue: escalated"
            );
            self.announce(Some(overdue.issue_id));
            escalated += 1;
        }
        Ok(escalated)
    }

    fn escalation_text(
        &self,
        overdue: &escalations::Overdue,
        public_url: &str,
    ) -> (String, String) {
        let category = overdue
            .service_code
            .as_deref()
            .and_then(|code| self.inner.catalog.category_by_code(code))
            .map_or("Uncategorized", |c| c.name.as_str());
        let id = overdue.issue_id;
        let subject = format!("Overdue: report #{id} ({category}), {}", overdue.department);
        let place = match (&overdue.address, &overdue.area) {
            (Some(address), Some(area)) => format!("{address} ({area})"),
            (Some(place), None) | (None, Some(place)) => place.clone(),
            (None, None) => "not known".to_owned(),
        };
        let due = utc(overdue.due_at);
        let body = format!(
            "Report #{id} ({category}) was due {due} and is still open.\r\n\
             Department: {}\r\n\
             Where: {place}\r\n\
             \r\n\
             The public page: {public_url}/reports/{id}\r\n\
             Officials: {public_url}/issues/{id}\r\n",
            overdue.department
        );
        (subject, body)
    }
}

/// `2026-12-03 10:00 UTC`.
fn utc(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
        Ok(t) => format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()),
        Err(_) => String::new(),
    }
}
