-- The shared store (DATABASE_URL). Records are the same JSON the sled store keeps; the
-- columns beside them are what the guarantees need: one registration per mailbox (primary
-- key), one registration per sign-up, one owner per username, and a lease so that only one
-- instance provisions a registration at a time.

CREATE TABLE pending (
    id text PRIMARY KEY,
    email text NOT NULL,
    nonce text NOT NULL,
    expires_at bigint NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX pending_by_email ON pending (email);
CREATE INDEX pending_by_expiry ON pending (expires_at);

CREATE TABLE registrations (
    email text PRIMARY KEY,
    signup_id text NOT NULL,
    record jsonb NOT NULL,
    -- The instance provisioning it, until when: another waits (or takes over once it lapsed).
    lease_holder text,
    lease_until timestamptz
);
CREATE UNIQUE INDEX registrations_by_signup ON registrations (signup_id) WHERE signup_id <> '';

CREATE TABLE usernames (
    upn text PRIMARY KEY,
    email text NOT NULL REFERENCES registrations (email) ON DELETE CASCADE
);
CREATE INDEX usernames_by_email ON usernames (email);

-- Mails counted per key and hour, so the mail limits hold across instances.
CREATE TABLE mail_counts (
    key text NOT NULL,
    window_start bigint NOT NULL,
    count integer NOT NULL,
    PRIMARY KEY (key, window_start)
);
