-- citizen.last_message_at was written on every inbound message and read nowhere: a random page
-- write per message on the busiest path. When a number last texted is the newest of its
-- messages (message_citizen index).
alter table citizen drop column last_message_at;
