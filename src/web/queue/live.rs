//! `/queue/events`: server-sent events telling open queue and issue pages that something
//! changed, so new messages appear without a reload. Pages work without it (and replicas that
//! did not see the change are caught by the next reload).
//!
//! An event's data is the changed issues' ids, comma-separated, or `*` for "refresh
//! everything". A stream tells the first change at once and then at most one event every
//! [`LIVE_GAP`]: fifty texts about one burst main reload an official's queue twice, not fifty
//! times in a few seconds (each reload reads the queue and its counts again).

use super::auth::Signed;
use crate::web::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

/// The least time between two events of one stream.
const LIVE_GAP: Duration = Duration::from_secs(2);
/// More changed issues than this in one event are told as `*`.
const MOST_IDS: usize = 64;

pub async fn events(
    State(state): State<AppState>,
    Signed(_): Signed,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let live = Live {
        changes: state.gateway.changes(),
        last: None,
    };
    let stream = futures_util::stream::unfold(live, |mut live| async move {
        let data = live.next().await?;
        Some((Ok(Event::default().event("issue").data(data)), live))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}

/// One page's stream of changes, and when it last told one.
struct Live {
    changes: Receiver<i64>,
    last: Option<Instant>,
}

impl Live {
    /// The next event's data: waits for a change, then for the rest of [`LIVE_GAP`] since the
    /// last event, and tells every change waiting by then. `None` once the gateway is gone.
    async fn next(&mut self) -> Option<String> {
        let mut ids = BTreeSet::new();
        // Fell behind: the page refreshes everything.
        let mut everything = false;
        match self.changes.recv().await {
            Ok(id) => {
                ids.insert(id);
            }
            Err(RecvError::Lagged(_)) => everything = true,
            Err(RecvError::Closed) => return None,
        }
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + LIVE_GAP).await;
        }
        loop {
            match self.changes.try_recv() {
                Ok(id) => {
                    ids.insert(id);
                }
                Err(TryRecvError::Lagged(_)) => everything = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        self.last = Some(Instant::now());
        Some(if everything || ids.len() > MOST_IDS {
            "*".to_owned()
        } else {
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::broadcast;

    fn stream(capacity: usize) -> (broadcast::Sender<i64>, Live) {
        let (sender, changes) = broadcast::channel(capacity);
        (
            sender,
            Live {
                changes,
                last: None,
            },
        )
    }

    #[tokio::test]
    async fn changes_waiting_together_are_one_event_naming_each_once() {
        let (sender, mut live) = stream(256);
        for id in [7, 3, 7, 12] {
            sender.send(id).unwrap();
        }
        assert_eq!(live.next().await.as_deref(), Some("3,7,12"));
    }

    #[tokio::test]
    async fn too_many_changes_or_a_stream_that_fell_behind_refresh_everything() {
        let (sender, mut live) = stream(256);
        for id in 0..=MOST_IDS as i64 {
            sender.send(id).unwrap();
        }
        assert_eq!(live.next().await.as_deref(), Some("*"));

        let (sender, mut live) = stream(4);
        for id in 0..10 {
            sender.send(id).unwrap();
        }
        assert_eq!(live.next().await.as_deref(), Some("*"));
    }

    #[tokio::test]
    async fn the_stream_ends_with_the_gateway() {
        let (sender, mut live) = stream(4);
        drop(sender);
        assert_eq!(live.next().await, None);
    }
}
