-- Spikes (issue 18): N reports of one category in one area within a window, well above that
-- area's usual rate, raise one alert: a banner on the queue, the dashboard's "what is
-- happening", and an email to the department, kept here until the mail server took it
-- (retried like an escalation, never dropped).
create table spike (
    spike_id        bigint generated always as identity primary key,
    service_code    text    not null,
    area            text    not null,
    department      text,
    -- Reports (new issues and supporters) in the window, and the usual number in one.
    reports         bigint not null,
    usual           real    not null,
    window_start    bigint not null,
    raised_at       bigint not null,
    recipient       text    not null,        -- '' when no department with an email takes it
    subject         text    not null,
    body            text    not null,
    attempts        bigint not null default 0,
    next_attempt_at bigint not null,
    lease_owner     text,
    lease_until     bigint,
    sent_at         bigint,
    last_error      text
);
create index spike_raised on spike (raised_at);
create index spike_mail_due on spike (next_attempt_at) where sent_at is null;
-- "Not repeated inside the window", across replicas: a problem's alert takes its row here
-- until quiet_until, one atomic upsert.
create table spike_quiet (
    service_code text    not null,
    area         text    not null,
    quiet_until  bigint not null,
    primary key (service_code, area)
);
-- Supporters who joined lately count as reports of the window.
create index supporter_joined on supporter (joined_at);
