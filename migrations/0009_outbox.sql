-- The outbox (issue 22 point 4): mails owed to people, written in the same transaction as
-- what they are about (a pending sign-up) and sent by a worker off the request path, so an
-- answer takes the same time whether or not the address has an account. A row names the
-- mail only (`record`: its kind, the sign-up id or the address, the language); the text and
-- any link are made when it is sent, and no password is ever here. A worker takes the row
-- that has been due longest with `FOR UPDATE SKIP LOCKED` and moves `next_attempt_at` to
-- the end of its lease, so several instances' workers never send one mail at once; a sent
-- mail's row is deleted. `email` is the address of a reset request's mail (NULL for a
-- verification mail, whose sign-up holds it).

CREATE TABLE outbox (
    id text PRIMARY KEY,
    email text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX outbox_by_due ON outbox (next_attempt_at);
