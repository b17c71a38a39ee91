-- Password reset links in use (issue 18): per address, the issue time of the newest reset
-- link used, so each link works once and a newer one kills the older. `used_before` is the
-- value it replaced, for the statement that marks a link used to return: a link given back
-- (the password could not be changed) restores it.

CREATE TABLE password_resets (
    address text PRIMARY KEY,
    used_through bigint NOT NULL,
    used_before bigint
);
