-- Numbers sealed at rest (src/seal.rs). A citizen row is found by its number key: the E.164
-- number itself when no seal key is configured, else a keyed blind index named by its key
-- (`k<key id>:<HMAC>`); with a key the number itself is kept only sealed (AES-256-GCM), in
-- number_sealed. The unique lookup index stays where it was.
alter table citizen rename column phone to number_key;
alter table citizen add column number_sealed text;
-- When the citizen was anonymized (forgotten on request, or by retention): the number is gone
-- (number_key reads anon:<id>) unless they opted out, and their words erased or scrubbed.
alter table citizen add column anonymized_at integer;
