-- The dashboard's reports-per-day chart at a million issues: a whole day's counts by category,
-- kept by the hourly housekeeping once the day is over (reports are filed when they arrive, so
-- a past day's counts do not change; a split, which files a report at the time its citizen
-- texted, forgets that day's rows). The dashboard reads the kept days and counts the rest.
-- service_code '' is uncategorized; '*' holds the day's total and marks the day as kept, even a
-- day without reports.
create table issue_day (
    day          integer not null,           -- unix days, UTC
    service_code text    not null,
    issues       integer not null,
    primary key (day, service_code)
);
