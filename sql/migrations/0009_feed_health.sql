-- Feed health: "no news" (the feed answers, nothing new) is told apart from "source broken"
-- (the feed errors), and a feed silent far beyond its usual rhythm is noticed.
-- feed_state keeps the current verdict; feed_polls the history it is computed from.
ALTER TABLE feed_state ADD COLUMN health VARCHAR;                       -- ok | no_news | failing | broken | silent
ALTER TABLE feed_state ADD COLUMN consecutive_failures INTEGER DEFAULT 0;
ALTER TABLE feed_state ADD COLUMN last_ok_at TIMESTAMPTZ;               -- last poll that answered
ALTER TABLE feed_state ADD COLUMN last_new_at TIMESTAMPTZ;              -- last poll that listed an unseen item
ALTER TABLE feed_state ADD COLUMN health_detail VARCHAR;                -- the verdict in words, as alerted

CREATE TABLE feed_polls (
    topic        VARCHAR NOT NULL,
    feed_url     VARCHAR NOT NULL,                   -- as configured (${VAR} secrets unexpanded)
    polled_at    TIMESTAMPTZ NOT NULL,
    ok           BOOLEAN NOT NULL,
    entries      INTEGER,                            -- items listed (NULL: not parsed, e.g. unchanged)
    new_entries  INTEGER NOT NULL DEFAULT 0,         -- items this topic had never seen
    status       VARCHAR NOT NULL,
    run_id       VARCHAR,
    PRIMARY KEY (topic, feed_url, polled_at)
);
