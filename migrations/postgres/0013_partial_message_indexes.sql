-- Three indexes of message held an entry for every message though only some messages have the
-- column set: in_reply_to (outbound replies), issue_id (filed messages; inbound rows get it by
-- an update after the insert) and broadcast_id (broadcast sends). Every query that reads them
-- asks for one value of the column, so partial indexes serve the same reads, and each message
-- written costs up to three index writes fewer.
drop index message_reply;
create unique index message_reply on message (in_reply_to) where in_reply_to is not null;
drop index message_issue;
create index message_issue on message (issue_id, created_at) where issue_id is not null;
drop index message_broadcast;
create index message_broadcast on message (broadcast_id, status) where broadcast_id is not null;
