//! A provider storm: every webhook of a burst delivered five times at once (retries, a flaky
//! proxy) must still store each message once and answer each once, the same way every time.

use crate::both_backends;
use crate::helpers::{new_sid, twilio_form};
use futures_util::StreamExt;

both_backends! {
    async fn a_thousand_messages_each_delivered_five_times_are_stored_and_answered_once(app) {
        let app = std::sync::Arc::new(app);
        let forms: Vec<_> = (0..1000)
            .map(|i| twilio_form(&new_sid(), &format!("+1415{:07}", 2_000_000 + i), &format!("POTHOLE number {i} on Main St")))
            .collect();
        let deliveries = forms.iter().flat_map(|form| std::iter::repeat_n(form.clone(), 5));
        let answers: Vec<(String, String)> = futures_util::stream::iter(deliveries)
            .map(|form| {
                let app = app.clone();
                async move {
                    let sid = form.get("MessageSid").unwrap().to_owned();
                    let answer = app.post_signed(&form).await;
                    assert_eq!(answer.status, 200, "{}", answer.body);
                    (sid, answer.reply())
                }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        assert_eq!(answers.len(), 5000);
        let mut by_sid: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for (sid, reply) in answers {
            by_sid.entry(sid).or_default().push(reply);
        }
        assert_eq!(by_sid.len(), 1000);
        for replies in by_sid.values() {
            assert!(replies.iter().all(|r| r == &replies[0]), "one message, one answer: {replies:?}");
        }
        assert_eq!(app.scalar("select count(*) from message where direction = 'in'").await, 1000);
        assert_eq!(app.scalar("select count(*) from message where direction = 'out'").await, 1000);
        assert_eq!(app.scalar("select count(*) from issue").await, 1000);
    }
}
