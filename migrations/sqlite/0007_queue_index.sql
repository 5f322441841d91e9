-- The queue's default view: open issues, oldest first, paged by (created_at, issue_id). A partial
-- index holds only open issues, so it stays small however many are closed.
create index issue_open_queue on issue (created_at, issue_id) where closed_at is null;
create index issue_assignee on issue (assignee_id) where closed_at is null;
