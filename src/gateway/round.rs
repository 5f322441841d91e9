//! A round of the writer lane: at most one message per number, applied together inside the
//! lane's transaction. Its citizens are found or created and its messages stored with one
//! statement each on Postgres, then each message goes through its steps ([`Inner::apply`]),
//! and the round's deferred rows are written at its end (`store::batch`).

use super::commands::{Command, OpenPoll, Parsed};
use super::{Inner, Received, Stored};
use crate::sms::InboundSms;
use crate::store::{self, citizens, issues, messages};
use tracing::Instrument as _;

impl Inner {
    /// Applies a round of messages inside `tx` (the caller commits), at most one per number:
    /// finds or creates their citizens and stores the messages (one statement each on
    /// Postgres), then runs each message's command and stores its reply; the round's deferred
    /// rows are written at its end (`store::batch`). One result per message, in order. A
    /// replay stores nothing new and answers as the first delivery did.
    pub(super) async fn apply_round(
        &self,
        tx: &mut store::LaneTx,
        round: &[(&InboundSms, &tracing::Span)],
    ) -> store::Result<Vec<(Received, Option<Stored>)>> {
        let now = store::now_ms();
        tx.start_round(round.len());
        let seal = self.store.seal();
        // Sealed, a pseudonym is random: one keyed by this database's own key could be tested
        // against every number of a country by whoever holds a copy.
        let pseudonyms: Vec<String> = round
            .iter()
            .map(|(sms, _)| match seal.is_sealed() {
                true => store::seal::random_pseudonym(),
                false => sms.from().pseudonym(&self.pseudonym_key),
            })
            .collect();
        let numbers: Vec<_> = round
            .iter()
            .zip(&pseudonyms)
            .map(|((sms, _), pseudonym)| (sms.from(), pseudonym.as_str()))
            .collect();
        let flood_limit = self.settings.flood_per_minute;
        let citizens = citizens::find_or_create_all(tx, seal, &numbers, now, flood_limit).await?;
        // A replay writes nothing (its number is known), and a batch of nothing but replays is
        // rolled back. On their own, messages are inserted with no lookup first (a replayed
        // webhook is rare, so the insert is the check: the unique key refuses it); on Postgres
        // a round looks its messages up and writes them when it ends (`store::batch`).
        let inbound: Vec<_> = round
            .iter()
            .zip(&citizens)
            .map(|((sms, _), citizen)| messages::NewInbound {
                citizen_id: citizen.citizen_id,
                provider: sms.provider(),
                provider_message_id: sms.provider_message_id(),
                body: sms.body(),
                now,
            })
            .collect();
        let ids = messages::insert_inbound_all(tx, &inbound).await?;
        // The options of the polls waiting for an answer (read once per poll and process).
        let mut choices = Vec::with_capacity(round.len());
        for citizen in &citizens {
            choices.push(match citizen.open_poll(now) {
                Some(poll_id) => Some((poll_id, self.poll_choices(tx, poll_id).await?)),
                None => None,
            });
        }
        let parsed: Vec<Parsed> = round
            .iter()
            .zip(&citizens)
            .zip(&choices)
            .map(|(((sms, _), citizen), choices)| {
                let pending = citizen.pending(now);
                let poll = choices.as_ref().map(|(poll_id, choices)| OpenPoll {
                    poll_id: *poll_id,
                    choices,
                });
                Command::parse(
                    sms.body(),
                    &self.catalog,
                    pending.as_ref(),
                    poll,
                    &citizen.language,
                )
            })
            .collect();
        // Their new issues' numbers in one statement on Postgres.
        let reports = parsed
            .iter()
            .zip(&ids)
            .filter(|(parsed, id)| id.is_some() && parsed.command.files_an_issue())
            .count();
        issues::reserve_numbers(tx, reports).await?;

        let places = self.places();
        let mut done = Vec::with_capacity(round.len());
        let messages = round.iter().zip(citizens).zip(parsed).zip(ids);
        for (((&(sms, span), citizen), parsed), id) in messages {
            let applied = match id {
                Some(message_id) => {
                    self.apply(tx, &places, sms, citizen, parsed, message_id, now)
                        .instrument(span.clone())
                        .await?
                }
                // A replay, or a concurrent delivery of the same webhook that committed first
                // (Postgres waits on the unique key, then sees its row): answer as the first did.
                None => {
                    let earlier =
                        messages::find_inbound(tx, sms.provider(), sms.provider_message_id())
                            .await?
                            .ok_or_else(|| sqlx::Error::RowNotFound)?;
                    (span.in_scope(|| self.replay(sms, earlier)), None)
                }
            };
            done.push(applied);
        }
        for reply in tx.flush().await? {
            let answered = done.iter_mut().find(|(_, stored)| {
                stored
                    .as_ref()
                    .is_some_and(|s| s.message_id == reply.in_reply_to)
            });
            if let Some((received, _)) = answered {
                received.reply_message_id = Some(reply.message_id);
            }
        }
        Ok(done)
    }
}
