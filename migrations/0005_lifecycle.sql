-- Accounts' lives after their creation (issue 26): one record per account the lifecycle has
-- acted on (re-verification, a moved end, the warning, the ending's progress). `version`
-- copies the record's: a save names the version it read, so of two saves from one copy only
-- the first is written. No foreign key, as with the queue: `forget` removes it with its
-- registration.

CREATE TABLE lifecycle (
    email text PRIMARY KEY,
    version bigint NOT NULL,
    record jsonb NOT NULL
);

-- The right to run the lifecycle, one instance at a time: a lease as on registrations, and
-- the last day whose daily run finished, so each day's run happens once among all instances.
CREATE TABLE lifecycle_runs (
    name text PRIMARY KEY,
    holder text,
    lease_until timestamptz,
    last_day bigint
);
INSERT INTO lifecycle_runs (name) VALUES ('daily');
