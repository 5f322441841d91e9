//! Prometheus metrics: one recorder per process, rendered at `GET /metrics`.
//!
//! - `civicline_inbound_messages_total{provider, command}`: messages received (replays excluded);
//! - `civicline_replies_total{path}`: auto-replies, `inline` (TwiML) or `outbox`;
//! - `civicline_sends_total{outcome}`: what the provider answered the delivery worker;
//! - `civicline_outbox_depth`, `civicline_outbox_oldest_seconds`: read from the database at scrape;
//! - `civicline_webhook_seconds{provider}`: webhook latency histogram.
//! - `civicline_write_batch_messages`: messages per write transaction of the inbound lanes
//!   (group commit; 1 when traffic is light);
//! - `civicline_write_batch_failures_total`: batches rolled back and applied again one message
//!   at a time (should stay 0).
//! - `civicline_inbound_unstored_total{provider}`: messages that could not be stored (a full
//!   disk, a database that went away), answered 503 so the provider can deliver them again;
//!   alert on any.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// How often the samples histograms recorded are folded into them. The recorder keeps each
/// sample until then, or until `/metrics` is rendered: a server nobody scraped grew by about
/// 12 bytes a message (two histograms), for as long as it ran (BENCHMARKS.md).
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once and returns its handle.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("civicline_webhook_seconds".to_owned()),
                    &[
                        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .expect("buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// Folds recorded histogram samples into their histograms every [`UPKEEP`], until dropped
/// (the server runs it beside the listener: `startup::housekeeping`).
pub async fn upkeep() {
    let handle = handle();
    let mut every = tokio::time::interval(UPKEEP);
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}
