-- The measures of each run's stored batch, for the topic (outlet '') and per outlet, written in the
-- load's transaction: the history that drift (a sharp change against the recent runs) is judged by.
CREATE TABLE batch_stats (
    topic              VARCHAR NOT NULL,
    run_id             VARCHAR NOT NULL,
    outlet             VARCHAR NOT NULL,   -- '' for the whole topic
    articles           INTEGER NOT NULL,
    claims             INTEGER NOT NULL,
    no_claim_share     DOUBLE,             -- articles without claims / articles
    other_share        DOUBLE,             -- claims with metric 'other' / claims (NULL: no claims)
    median_text_length DOUBLE,
    claims_per_article DOUBLE,             -- median over articles with claims (NULL: none)
    drift              JSON NOT NULL,      -- the measures judged a sharp change in this run
    recorded_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (topic, run_id, outlet)
);
