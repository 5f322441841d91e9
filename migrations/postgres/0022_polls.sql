-- Polls (issue 18): the city asks a topic's subscribers, an area's citizens, or both, one
-- question with 2 to 5 options, written per language. Each recipient's SMS is an ordinary
-- outbound message (with poll_id set) on the outbox at bulk priority; the recipient's citizen
-- row remembers the open poll, so the first reply within its window is read as the answer with
-- no extra read on the inbound path.
create table poll (
    poll_id     bigint generated always as identity primary key,
    topic       text,                     -- the topic's subscribers; null: any topic
    area        text,                     -- citizens who reported in this area; null: any area
    official_id bigint references official (official_id),
    public      bigint not null default 0,
    created_at  bigint not null,
    closes_at   bigint not null,
    recipients  bigint not null default 0,
    -- Every language's labels for the reader of answers: a line per option, tab between labels.
    choices     text    not null
);
-- The question and its options in one language, and the SMS as sent in it.
create table poll_text (
    poll_id  bigint not null references poll (poll_id),
    language text    not null,
    question text    not null,
    labels   text    not null,           -- the options' labels, one per line, in order
    body     text    not null,
    primary key (poll_id, language)
);
-- Who was asked, in which language (the audience is chosen once, set-wise). No references:
-- the rows are made from citizen rows, in the poll's own transaction, and checking 100,000 of
-- them one by one took Postgres 2 of the 9 seconds a poll took to queue.
create table poll_recipient (
    poll_id    bigint not null,
    citizen_id bigint not null,
    language   text    not null,
    primary key (poll_id, citizen_id)
);
-- One answer per citizen and poll: the option (1..5) or null for "other", with the words.
create table poll_answer (
    poll_id    bigint not null references poll (poll_id),
    citizen_id bigint not null references citizen (citizen_id),
    message_id bigint not null,            -- no reference: a Postgres round writes its messages at its end
    choice     bigint,
    body       text    not null,
    language   text    not null,
    area       text,                      -- where the citizen last reported, if anywhere
    created_at bigint not null,
    primary key (poll_id, citizen_id)
);
alter table citizen add column poll_id bigint;
alter table citizen add column poll_until bigint;
-- Not a reference either: set only by the poll's own insert (checking it cost Postgres 0.9 s
-- of a poll to 100,000).
alter table message add column poll_id bigint;
create index message_poll on message (poll_id, status) where poll_id is not null;
