-- The per-category medians of the dashboard read (service_code, created_at) ranges and both
-- end times; with those in the index they never touch the table (measured on a million issues,
-- BENCHMARKS.md). It replaces the narrower (service_code, created_at) index.
drop index issue_category_time;
create index issue_category_durations on issue (service_code, created_at, first_response_at, closed_at);
