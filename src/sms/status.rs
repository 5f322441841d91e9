//! The lifecycle of an outbound message. Status words are Twilio's (the most complete set;
//! other providers' words are mapped onto them) plus our own `queued` (waiting in our outbox),
//! `failed` and `canceled`. Callbacks arrive out of order and more than once, so a status only
//! replaces one of lower rank: a late `sent` after `delivered` changes nothing.
//! <https://www.twilio.com/docs/messaging/api/message-resource#message-status-values>

/// Status word and rank. Terminal outcomes share the top ranks, so the first one sticks
/// (`read` is the one step past `delivered`).
const RANKS: &[(&str, i64)] = &[
    ("queued", 1),
    ("accepted", 1),
    ("scheduled", 1),
    ("sending", 2),
    ("sent", 3),
    ("receiving", 3),
    ("received", 3),
    ("partially_delivered", 4),
    ("delivered", 5),
    ("undelivered", 5),
    ("failed", 5),
    ("canceled", 5),
    ("read", 6),
];

/// The rank of a known status word; `None` for a word we do not know (stored, never applied).
pub fn status_rank(status: &str) -> Option<i64> {
    RANKS
        .iter()
        .find(|(word, _)| *word == status)
        .map(|(_, rank)| *rank)
}

/// Statuses after which nothing more will happen to a message.
pub fn is_final(status: &str) -> bool {
    status_rank(status).is_some_and(|rank| rank >= 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_twilio_status_is_known_and_ordered() {
        let order = ["queued", "sending", "sent", "delivered", "read"];
        for pair in order.windows(2) {
            assert!(status_rank(pair[0]) < status_rank(pair[1]), "{pair:?}");
        }
        for status in [
            "accepted",
            "scheduled",
            "canceled",
            "queued",
            "sending",
            "sent",
            "failed",
            "delivered",
            "undelivered",
            "receiving",
            "received",
            "read",
            "partially_delivered",
        ] {
            assert!(status_rank(status).is_some(), "{status}");
        }
        assert_eq!(status_rank("teleported"), None);
        assert!(is_final("undelivered") && !is_final("sent"));
    }
}
