-- Officials' login attempts, counted where every replica sees them: five a minute per email,
-- and a larger allowance per client address (many officials behind one office router). The
-- server's housekeeping deletes rows older than an hour.
create table login_attempt (
    login_attempt_id integer primary key,
    key              text    not null,            -- 'email:<address>' or 'client:<ip>'
    created_at       integer not null
);
create index login_attempt_key on login_attempt (key, created_at);
