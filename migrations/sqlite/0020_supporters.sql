-- "Me too" (issue 18): a new report of the same problem (the same category, in the same area,
-- naming the same street or landmark or close to its point, while the first is open and
-- recent) joins the first as a supporter instead of opening an issue of its own. The reporter
-- is not a row here; issue.supporters counts them too (1 for a report nobody joined), so
-- fifty texts give fifty.
create table supporter (
    issue_id   integer not null references issue (issue_id),
    citizen_id integer not null references citizen (citizen_id),
    message_id integer references message (message_id),
    joined_at  integer not null,
    primary key (issue_id, citizen_id)
);
create index supporter_citizen on supporter (citizen_id);
alter table issue add column supporters integer not null default 1;
-- Open reports by category and area, for a new report to find the one it repeats.
create index issue_crowd on issue (service_code, area, created_at) where closed_at is null;
