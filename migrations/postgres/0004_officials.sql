-- Officials who work the queue, their sessions, and the audit log of what they saw and did.

create table official (
    official_id   bigint generated always as identity primary key,
    email         text    not null unique,
    password_hash text    not null,          -- argon2 (PHC string)
    role          text    not null check (role in ('admin', 'agent', 'viewer')),
    created_at    bigint not null,
    disabled_at   bigint                    -- a disabled official cannot log in
);

-- Login sessions (tower-sessions records). The key is a SHA-256 of the cookie's session id, so a
-- copy of this table does not let anyone log in.
create table session (
    session_key text    primary key,
    data        text    not null,            -- the session record, JSON
    expires_at  bigint not null
);
create index session_expiry on session (expires_at);

-- Things officials did or saw that someone may need to account for later (a whole phone
-- number shown, an account created).
create table audit_event (
    audit_event_id bigint generated always as identity primary key,
    official_id    bigint references official (official_id),
    action         text    not null,
    subject        text    not null default '',
    created_at     bigint not null
);
create index audit_event_time on audit_event (created_at);

-- Ready-made replies per language, for the issue page's composer.
create table canned_reply (
    canned_reply_id bigint generated always as identity primary key,
    language        text    not null,
    title           text    not null,
    body            text    not null
);
