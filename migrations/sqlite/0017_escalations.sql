-- A promise not kept: each overdue issue escalates once, by an email to its department, kept
-- here until the mail server took it (retried like an SMS, never dropped). The primary key is
-- the "once": replicas that find the same overdue issue insert one row.
create table escalation (
    issue_id        integer primary key references issue (issue_id),
    department      text    not null,
    recipient       text    not null,        -- '' when the department has no email
    subject         text    not null,
    body            text    not null,
    created_at      integer not null,
    attempts        integer not null default 0,
    next_attempt_at integer not null,
    lease_owner     text,
    lease_until     integer,
    sent_at         integer,
    last_error      text
);
create index escalation_due on escalation (next_attempt_at) where sent_at is null;
-- Open issues with a promise, by due time: the overdue check reads the front of it.
create index issue_due on issue (due_at) where closed_at is null and due_at is not null;

-- The department an official works in: their queue opens on its work (admins see all).
alter table official add column department text;
