-- The flood guard reads the time of a number's n-th latest inbound message with every message it
-- sends. By (citizen_id, created_at) that read went to the table for each entry to tell inbound
-- from outbound (the replies sit between them); by (citizen_id, direction, created_at) it is at
-- most n entries of the index alone. The citizen's whole thread (both directions, a handful of
-- rows) is still one range of it. (Postgres keeps (citizen_id, created_at): its query hides the
-- direction from the planner, see store::citizens::select_citizens.)
drop index message_citizen;
create index message_citizen on message (citizen_id, direction, created_at);
