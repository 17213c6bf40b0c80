-- The on-call workflow: who acknowledged or resolved an incident, when, and why.
-- incidents.status holds the current state; this log keeps every change.
CREATE TABLE incident_actions (
    incident_id VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,   -- ack | resolve
    note        VARCHAR,
    acted_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX incident_actions_incident ON incident_actions (incident_id);
