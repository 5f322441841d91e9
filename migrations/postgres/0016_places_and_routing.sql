-- Where a report is and who owes what by when (issue 17): its area, the places found in its
-- words (its point goes in lat and long, WGS 84), the department that took it (NULL: Unrouted)
-- and when it is due (NULL: its category has no promise). Set when the issue is filed or its
-- place is answered; a later import of places changes none of them.
alter table issue add column area text;
alter table issue add column address text;
alter table issue add column department text;
alter table issue add column due_at bigint;
create index issue_department on issue (department, created_at);

-- Each import of the city's places, whole, as the operator gave it; the newest is in force,
-- on every replica (each checks for a newer one).
create table place_set (
    place_set_id bigint generated always as identity primary key,
    source       text    not null,
    features     bigint not null,
    imported_at  bigint not null
);
