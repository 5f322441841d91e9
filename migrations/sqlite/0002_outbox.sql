-- Outbound delivery: the outbox that the delivery worker drains, and every status callback the
-- providers send back.

-- An outbound message waiting to be handed to the provider. The row is written in the same
-- transaction as the change that caused the message, and deleted once the provider has it (or
-- it has failed for good); the message row keeps the outcome.
create table outbox (
    outbox_id       integer primary key,
    message_id      integer not null unique references message (message_id),
    kind            text    not null,   -- reply, consent, official, notice, broadcast
    priority        integer not null,   -- lower goes first: replies before bulk
    attempts        integer not null default 0,
    next_attempt_at integer not null,
    lease_until     integer,            -- a worker holds the row until then; null or past = free
    lease_owner     text,               -- which worker holds it (fences a worker whose lease ran out)
    last_error      text,
    created_at      integer not null
);
create index outbox_due on outbox (priority, next_attempt_at);

-- Every delivery status callback as received; the message's status only moves forward.
create table delivery_event (
    delivery_event_id   integer primary key,
    message_id          integer references message (message_id), -- null when nothing matched
    provider            text    not null,
    provider_message_id text,
    status              text    not null,
    error_code          text,
    payload             text    not null, -- the callback's form, as received
    created_at          integer not null
);
create index delivery_event_message on delivery_event (message_id, created_at);

-- How far along its lifecycle a message's status is (see delivery::status), so that a late
-- callback ("sent" after "delivered") cannot move it back.
alter table message add column status_rank integer not null default 0;
-- Why an outbound message failed, in words (error_code holds the provider's code).
alter table message add column error_detail text;
