-- claimwatch schema, version 1.
-- Keys are content hashes (see pipeline/records.py: stable_id), so re-running
-- a load inserts nothing new.  No foreign keys: DuckDB cannot delete or update
-- a referenced row, and reprocessing replaces claims in place.

CREATE TABLE feed_state (
    topic           VARCHAR NOT NULL,
    feed_url        VARCHAR NOT NULL,
    last_polled_at  TIMESTAMPTZ,
    last_status     VARCHAR,          -- 'ok' or the error text of the last poll
    entries_seen    INTEGER DEFAULT 0,
    PRIMARY KEY (topic, feed_url)
);

-- Every article URL a topic has handled, whatever the outcome, so a feed entry
-- is fetched once.  outcome: stored | duplicate | off_topic | quarantined.
CREATE TABLE seen_urls (
    topic         VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,
    outcome       VARCHAR NOT NULL,
    article_id    VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    PRIMARY KEY (topic, url)
);

CREATE TABLE articles (
    article_id    VARCHAR PRIMARY KEY,   -- hash of canonical_url
    url           VARCHAR NOT NULL,
    canonical_url VARCHAR NOT NULL,
    title         VARCHAR,
    outlet        VARCHAR,
    published_at  TIMESTAMPTZ,           -- from the page or feed, never fetch time
    fetched_at    TIMESTAMPTZ NOT NULL,
    language      VARCHAR,
    text          VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,      -- hash of the normalised text: exact-duplicate key
    run_id        VARCHAR,
    loaded_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX articles_content_hash ON articles (content_hash);

CREATE TABLE claims (
    claim_id          VARCHAR PRIMARY KEY,
    article_id        VARCHAR NOT NULL,
    topic             VARCHAR NOT NULL,
    metric            VARCHAR NOT NULL,  -- a catalogue key of the topic, or 'other'
    stated_low        DOUBLE,            -- the number(s) as written; NULL for a vague amount
    stated_high       DOUBLE,
    value_low         DOUBLE,            -- interpreted interval; NULL high = unbounded
    value_high        DOUBLE,
    hedge             VARCHAR NOT NULL,  -- exact|about|more_than|at_least|nearly|up_to|at_most|between|vague|ratio
    surface           VARCHAR NOT NULL,  -- the figure as written, e.g. 'more than 6,000'
    sentence          VARCHAR NOT NULL,
    char_start        INTEGER NOT NULL,  -- offsets of surface in articles.text
    char_end          INTEGER NOT NULL,
    attributed_to     VARCHAR,
    relayed_by        VARCHAR,
    refers_to         VARCHAR,
    period_start      DATE,
    period_end        DATE,
    unverified        BOOLEAN NOT NULL,
    modality          VARCHAR NOT NULL,  -- actual | planned
    role              VARCHAR NOT NULL,  -- combat | engineering | security | unspecified
    extractor_version VARCHAR NOT NULL,
    run_id            VARCHAR,
    loaded_at         TIMESTAMPTZ NOT NULL,
    checked_at        TIMESTAMPTZ        -- when the contradiction check compared it; NULL = pending
);
CREATE INDEX claims_topic_metric ON claims (topic, metric);
CREATE INDEX claims_article ON claims (article_id);

-- Exactly two claims a row: claim_id is the newer, other_claim_id the stored one.
CREATE TABLE contradictions (
    contradiction_id VARCHAR PRIMARY KEY,   -- hash of the sorted claim pair
    claim_id         VARCHAR NOT NULL,
    other_claim_id   VARCHAR NOT NULL,
    topic            VARCHAR NOT NULL,
    metric           VARCHAR NOT NULL,
    severity         VARCHAR NOT NULL,      -- note | low | medium | high
    rule             VARCHAR NOT NULL,
    reason           VARCHAR NOT NULL,
    detected_at      TIMESTAMPTZ NOT NULL,
    run_id           VARCHAR
);

-- The alert outbox: one row per contradiction and route, written in the same
-- transaction as the contradiction, delivered afterwards and retried until it
-- is, so an alert is neither lost while a channel is down nor sent twice.
CREATE TABLE alerts (
    alert_id         VARCHAR PRIMARY KEY,   -- hash of contradiction_id and route
    contradiction_id VARCHAR NOT NULL,
    topic            VARCHAR NOT NULL,
    metric           VARCHAR NOT NULL,
    severity         VARCHAR NOT NULL,
    route_url        VARCHAR NOT NULL,      -- as configured: ${VAR} secrets unexpanded
    payload          JSON NOT NULL,
    status           VARCHAR NOT NULL,      -- pending | delivered
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       VARCHAR,
    created_at       TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ
);

-- Input that could not be used, kept with the reason instead of dropped.
CREATE TABLE quarantine (
    item_id    VARCHAR PRIMARY KEY,
    topic      VARCHAR NOT NULL,
    stage      VARCHAR NOT NULL,   -- fetch | extract | quality
    url        VARCHAR,
    reason     VARCHAR NOT NULL,
    run_id     VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
);
