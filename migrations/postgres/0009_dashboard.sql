-- The dashboard's keyword tally reads this week's inbound messages, newest first.
create index message_inbound_time on message (created_at) where direction = 'in';
