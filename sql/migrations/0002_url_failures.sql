-- Per-URL failure bookkeeping: a URL that failed for now (timeout, 5xx, refused
-- connection) is retried with exponential backoff, one attempt per run at most,
-- and quarantined once it has failed max_url_attempts times.  A URL is in this
-- table only while it is waiting for a retry; success or quarantine removes it.
CREATE TABLE url_failures (
    topic           VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    stage           VARCHAR NOT NULL,      -- discover | fetch
    attempts        INTEGER NOT NULL,      -- failed attempts so far
    last_reason     VARCHAR NOT NULL,
    first_failed_at TIMESTAMPTZ NOT NULL,
    last_failed_at  TIMESTAMPTZ NOT NULL,
    next_retry_at   TIMESTAMPTZ NOT NULL,  -- not picked before this
    run_id          VARCHAR,
    PRIMARY KEY (topic, url)
);
