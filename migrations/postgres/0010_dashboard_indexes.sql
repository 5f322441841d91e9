-- Indexes behind the dashboard, measured on a million issues (BENCHMARKS.md): per-day counts
-- read (created_at, service_code) from the index alone; per-category medians read one
-- category's window; the backlog counts open issues per status.
create index issue_time_category on issue (created_at, service_code);
create index issue_category_time on issue (service_code, created_at);
create index issue_open_status on issue (status) where closed_at is null;
