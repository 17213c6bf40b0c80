-- Batches the quality gate held back, one row per topic and run: the validation result
-- (failed expectations, counts, sample rows) and the held articles and claims as JSON, so an
-- engineer can inspect them and release them (re-validated, loaded once) or drop them with a note.
CREATE TABLE quarantine_batches (
    batch_id       VARCHAR PRIMARY KEY,
    topic          VARCHAR NOT NULL,
    topic_file     VARCHAR,
    run_id         VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,   -- quarantined | released | dropped
    whole          BOOLEAN NOT NULL,   -- the whole batch was held (most rows failed)
    articles       INTEGER NOT NULL,
    claims         INTEGER NOT NULL,
    result         JSON NOT NULL,      -- {"whole": ..., "problems": [{suite, expectation, severity, count, samples, ...}]}
    records        JSON NOT NULL,      -- {"articles": [...], "claims": [...]}
    created_at     TIMESTAMPTZ NOT NULL,
    resolved_at    TIMESTAMPTZ,
    note           VARCHAR,
    release_run_id VARCHAR
);
