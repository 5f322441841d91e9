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
-- Open reports by category, area and the place they named, and by category, area and latitude,
-- for a new report to find the one it repeats with a seek (not a scan of every open report of
-- the area: 700 of them with no place named made each lookup read 700 rows).
create index issue_crowd on issue (service_code, area, address) where closed_at is null;
create index issue_crowd_point on issue (service_code, area, lat)
    where closed_at is null and lat is not null;
