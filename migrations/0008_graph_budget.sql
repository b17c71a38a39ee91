-- The Graph write budget of the whole deployment (issue 28): GRAPH_API_WRITES_PER_MINUTE is
-- shared by every instance, and so is the pause a 429's Retry-After asks for. One row, a
-- token bucket kept as the moment every write admitted so far is paid for (`free_at`; the
-- bucket is full once that lies a second or more in the past) and the end of the latest
-- pause, both in microseconds on the database's clock, so that instances whose clocks
-- differ agree. `before_free_at` is the value the last statement replaced, for it to
-- return. An instance takes its writes' tokens with one UPDATE per Graph request and
-- announces a pause with NOTIFY (`store/postgres/write_budget.rs`). Not a record a backup
-- keeps: it is stale within seconds.

CREATE TABLE graph_budget (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    free_at bigint NOT NULL DEFAULT 0,
    before_free_at bigint NOT NULL DEFAULT 0,
    paused_until bigint NOT NULL DEFAULT 0
);
INSERT INTO graph_budget DEFAULT VALUES;
