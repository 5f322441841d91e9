-- A language the citizen chose with LANG is kept until they choose again; until they choose,
-- the language of the keywords they use is theirs. Set by LANG, never by a keyword.
alter table citizen add column language_chosen_at bigint;
