-- Figure histories and incidents: the state the contradiction check compares new
-- claims with, so a run reads the state of the metrics it touches, never the
-- whole history of claims.

-- One row per figure a source family has given for a metric: first and latest
-- mention (the claim with its article facts, as JSON), how often it was repeated.
CREATE TABLE figure_history (
    figure_id     VARCHAR PRIMARY KEY,   -- hash of topic, family and figure
    topic         VARCHAR NOT NULL,
    metric        VARCHAR NOT NULL,
    family        VARCHAR NOT NULL,      -- source family, or 'media@outlet' style bucket
    node_id       VARCHAR NOT NULL,      -- the figure whatever family gave it (incidents link these)
    role          VARCHAR NOT NULL,
    modality      VARCHAR NOT NULL,
    scope         VARCHAR NOT NULL,      -- total | current
    stated_low    DOUBLE,
    stated_high   DOUBLE,
    kind          VARCHAR NOT NULL,      -- point | lower | ceiling
    vague_base    DOUBLE,
    first_seen    DATE NOT NULL,         -- the day the figure was first given (what it describes)
    last_seen     DATE NOT NULL,
    mentions      INTEGER NOT NULL,
    seq           BIGINT NOT NULL,       -- arrival order, for figures first given the same day
    first_mention JSON NOT NULL,
    last_mention  JSON NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX figure_history_metric ON figure_history (topic, metric);

-- Conflicting figures of one metric: what an on-call person handles and what
-- alerts are keyed by (incident, severity reached, route).
CREATE TABLE incidents (
    incident_id      VARCHAR PRIMARY KEY,
    topic            VARCHAR NOT NULL,
    metric           VARCHAR NOT NULL,
    severity         VARCHAR NOT NULL,   -- the worst evidence so far
    alerted_severity VARCHAR,            -- the severity last paged; NULL = never
    status           VARCHAR NOT NULL,   -- open | acked | resolved
    opened_on        DATE NOT NULL,      -- dates of the figures, not of detection
    last_evidence_on DATE NOT NULL,
    edges            JSON NOT NULL,      -- pairs of figure node_ids in conflict
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX incidents_metric ON incidents (topic, metric);

-- Every contradiction row is now evidence of an incident (NULL for a note).
ALTER TABLE contradictions ADD COLUMN incident_id VARCHAR;
ALTER TABLE alerts ADD COLUMN incident_id VARCHAR;
CREATE INDEX contradictions_incident ON contradictions (incident_id);
CREATE INDEX alerts_incident ON alerts (incident_id);
