-- Conversation state that outlives one message, kept in the database so that any replica can
-- answer the next message: the one pending question, the flood guard's flag, topic subscriptions.

-- The question we asked the citizen and are waiting on ('location' of a new report, 'fixed' after
-- a report was resolved), the issue it is about, and when it expires.
alter table citizen add column pending_question text;
alter table citizen add column pending_issue_id bigint;
alter table citizen add column pending_until bigint;
-- Set when the number sent more messages a minute than gateway.flood_per_minute: auto-replies
-- stop (two auto-responders can loop and burn money); every message is still stored.
alter table citizen add column flagged_at bigint;

-- Something officials should see about one message: 'possible_opt_out' ("STOP the noise"),
-- 'flood' (sent while the number was flooding us).
alter table message add column flag text;

-- Topics a citizen joined (JOIN ROADS) for broadcasts.
create table subscription (
    subscription_id bigint generated always as identity primary key,
    citizen_id      bigint not null references citizen (citizen_id),
    topic           text    not null,
    created_at      bigint not null,
    unique (citizen_id, topic)
);
create index subscription_topic on subscription (topic);
