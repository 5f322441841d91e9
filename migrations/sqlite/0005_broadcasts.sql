-- Broadcasts: one alert from officials to every subscriber of a topic, in each subscriber's
-- language. Each recipient's SMS is an ordinary outbound message (with broadcast_id set) that
-- goes through the outbox at bulk priority and is never sent to an opted-out number.

create table broadcast (
    broadcast_id integer primary key,
    topic        text    not null,
    official_id  integer references official (official_id),
    created_at   integer not null
);

-- The text per language; subscribers in a language without one get the default language's.
create table broadcast_text (
    broadcast_id integer not null references broadcast (broadcast_id),
    language     text    not null,
    body         text    not null,
    primary key (broadcast_id, language)
);

alter table message add column broadcast_id integer references broadcast (broadcast_id);
create index message_broadcast on message (broadcast_id, status);
