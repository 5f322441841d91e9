-- The core of civicline: citizens, what they sent and were sent, and the issues they filed.
-- Ids are 64-bit integers, times are unix milliseconds UTC, text is TEXT: the Postgres
-- migration with the same number has the same columns and meaning.

-- Facts a deployment keeps about itself, e.g. the key behind citizen pseudonyms.
create table setting (
    name  text primary key,
    value text not null
);

-- One row per phone number that has ever texted us.
create table citizen (
    citizen_id      integer primary key,
    phone           text    not null unique,      -- E.164, never published
    pseudonym       text    not null,             -- keyed hash, safe for analytics
    language        text    not null default 'en',
    opted_out_at    integer,                      -- set by STOP, cleared by START
    created_at      integer not null,
    last_message_at integer not null
);

-- The opt-out ledger: every change of consent, with the word and who recorded it.
create table consent_event (
    consent_event_id integer primary key,
    citizen_id       integer not null references citizen (citizen_id),
    kind             text    not null check (kind in ('opt_out', 'opt_in')),
    keyword          text    not null,            -- STOP, START, ... or a provider error code
    source           text    not null check (source in ('sms', 'provider', 'official')),
    created_at       integer not null
);
create index consent_event_citizen on consent_event (citizen_id, created_at);

-- A civic issue: a report filed by SMS (or later by Open311). The id is the public number.
create table issue (
    issue_id          integer primary key,
    citizen_id        integer references citizen (citizen_id),
    service_code      text,                       -- Open311 service_code; null = uncategorized
    description       text    not null default '',
    location          text,
    lat               real,
    long              real,
    status            text    not null default 'open',
    assignee_id       integer,
    language          text    not null default 'en',
    first_response_at integer,
    closed_at         integer,
    created_at        integer not null,
    updated_at        integer not null
);
create index issue_citizen on issue (citizen_id, created_at);
create index issue_status on issue (status, created_at);

-- Every SMS in and out. Inbound rows are unique per (provider, provider_message_id): a replayed
-- webhook finds its first row instead of creating another.
create table message (
    message_id          integer primary key,
    citizen_id          integer not null references citizen (citizen_id),
    issue_id            integer references issue (issue_id),
    direction           text    not null check (direction in ('in', 'out')),
    provider            text    not null,
    provider_message_id text,
    in_reply_to         integer references message (message_id),
    body                text    not null,
    segments            integer not null,
    encoding            text    not null,
    status              text    not null,         -- received for inbound; the provider's word for outbound
    error_code          text,
    created_at          integer not null,
    updated_at          integer not null,
    unique (provider, provider_message_id)
);
create unique index message_reply on message (in_reply_to);
create index message_citizen on message (citizen_id, created_at);
create index message_issue on message (issue_id, created_at);

-- The audit trail of an issue: created, message, status, assigned, note, reply.
create table issue_event (
    issue_event_id integer primary key,
    issue_id       integer not null references issue (issue_id),
    kind           text    not null,
    actor          text    not null,              -- 'citizen', 'system' or 'official:<id>'
    body           text    not null default '',
    message_id     integer references message (message_id),
    created_at     integer not null
);
create index issue_event_issue on issue_event (issue_id, created_at);
