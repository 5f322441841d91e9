//! Something new is happening: at least `spikes.reports` reports of one category in one area
//! within `spikes.window_minutes`, and at least `spikes.factor` times the usual number in such
//! a window there (its rate over the `spikes.baseline_days` before), raise one alert: kept for
//! the queue's banner and the dashboard, and emailed to the department that takes that
//! category in that area. Not raised again for them inside the window, across replicas. Run by
//! the server every `spikes.check_interval_secs` on every replica.

use super::Gateway;
use crate::store::{self, spikes};

/// A spike as officials and the public read it.
#[derive(Debug, Clone)]
pub struct Alert {
    pub spike_id: i64,
    pub category: String,
    pub service_code: String,
    pub area: String,
    pub department: Option<String>,
    pub reports: i64,
    /// The usual number in a window, one decimal.
    pub usual: String,
    pub window_minutes: u32,
    pub raised_at: i64,
}

impl Gateway {
    /// Raises the spikes happening at `now`; returns how many it raised. `public_url` makes the
    /// email's link to the queue.
    pub async fn check_spikes(&self, public_url: &str, now: i64) -> store::Result<usize> {
        let settings = &self.inner.spikes;
        if settings.reports == 0 {
            return Ok(0);
        }
        let store = &self.inner.store;
        let window = settings.window_ms();
        let since = now - window;
        let baseline_from = since - i64::from(settings.baseline_days) * 86_400_000;
        let windows_in_baseline = (since - baseline_from) as f64 / window as f64;
        let mut raised = 0;
        for busy in spikes::busy(store, since, i64::from(settings.reports)).await? {
            let before = spikes::reports_between(
                store,
                &busy.service_code,
                &busy.area,
                baseline_from,
                since,
            )
            .await?;
            let usual = if windows_in_baseline > 0.0 {
                before as f64 / windows_in_baseline
            } else {
                0.0
            };
            if (busy.reports as f64) < settings.factor * usual {
                continue; // busy, but this area is always this busy
            }
            let department = self
                .inner
                .departments
                .department_for(Some(&busy.service_code), Some(&busy.area));
            let recipient = department.map_or("", |d| d.email.as_str());
            let category = self.category_name(&busy.service_code);
            let subject = format!(
                "Spike: {} {category} reports in {} in {} min",
                busy.reports, busy.area, settings.window_minutes
            );
            let body = format!(
                "{} {category} reports in {} in the last {} minutes.\r\n\
                 Usually about {usual:.1} in that time.\r\n\
                 Department: {}\r\n\
                 \r\n\
                 The queue: {public_url}/queue?category={}&department=all\r\n",
                busy.reports,
                busy.area,
                settings.window_minutes,
                department.map_or("none (Unrouted)", |d| d.name.as_str()),
                busy.service_code,
            );
            let mut tx = store.begin().await?;
            let new = spikes::NewSpike {
                service_code: &busy.service_code,
                area: &busy.area,
                department: department.map(|d| d.name.as_str()),
                reports: busy.reports,
                usual,
                window_start: since,
                recipient,
                subject: &subject,
                body: &body,
                now,
                quiet_until: now + window,
            };
            if spikes::raise(&mut tx, new).await?.is_none() {
                continue; // raised inside the window already, here or by another replica
            }
            tx.commit().await?;
            tracing::warn!(
                category = %busy.service_code,
                area = %busy.area,
                reports = busy.reports,
                usual,
                "spike"
            );
            metrics::counter!("civicline_spikes_total").increment(1);
            self.announce(None);
            raised += 1;
        }
        Ok(raised)
    }

    /// The spikes raised within the last window (what is happening now), newest first.
    pub async fn current_spikes(&self, now: i64) -> store::Result<Vec<Alert>> {
        self.spikes_since(now - self.inner.spikes.window_ms()).await
    }

    /// The spikes raised since `since` (at most 20), newest first.
    pub async fn spikes_since(&self, since: i64) -> store::Result<Vec<Alert>> {
        let settings = &self.inner.spikes;
        let alerts = spikes::recent(&self.inner.store, since, 20)
            .await?
            .into_iter()
            .map(|s| Alert {
                spike_id: s.spike_id,
                category: self.category_name(&s.service_code),
                service_code: s.service_code,
                area: s.area,
                department: s.department,
                reports: s.reports,
                usual: format!("{:.1}", s.usual),
                window_minutes: settings.window_minutes,
                raised_at: s.raised_at,
            })
            .collect();
        Ok(alerts)
    }

    fn category_name(&self, service_code: &str) -> String {
        self.inner
            .catalog
            .category_by_code(service_code)
            .map_or_else(|| service_code.to_owned(), |c| c.name.clone())
    }
}
