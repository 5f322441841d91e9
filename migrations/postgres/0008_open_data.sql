-- Open data: issues officials chose to keep out of public output (still counted), API keys for
-- Open311 POST, and the index behind the public request window (newest first by date).
alter table issue add column hidden_at bigint;
create index issue_created on issue (created_at, issue_id);

create table api_key (
    api_key_id bigint generated always as identity primary key,
    name       text    not null,
    key_hash   text    not null unique,      -- SHA-256 of the key; the key itself is shown once
    created_at bigint not null,
    revoked_at bigint
);
