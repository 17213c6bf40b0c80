-- Analyst views, recreated on every start (CREATE OR REPLACE): they hold no data.

-- Every figure with its provenance: the sentence, the article, the URL.
CREATE OR REPLACE VIEW claims_with_source AS
SELECT
    c.claim_id, c.topic, c.metric, c.hedge, c.surface,
    c.stated_low, c.stated_high, c.value_low, c.value_high,
    c.attributed_to, c.relayed_by, c.refers_to, c.period_start, c.period_end,
    c.unverified, c.modality, c.role,
    a.outlet, a.published_at, a.title, a.url, c.sentence,
    c.char_start, c.char_end, c.article_id, c.extractor_version,
    c.population, c.event, c.scope, c.metric_rule,
    c.source_family, a.published_precision,
    c.copy_of_article,  -- set when the article is a near copy: the figure is relayed, not a second source
    a.published_note    -- set when the page's date lay after its fetch and the fetch time replaced it
FROM claims c
JOIN articles a USING (article_id);

-- What each source claims for each metric, over time.
CREATE OR REPLACE VIEW source_claims_over_time AS
SELECT
    topic, metric,
    coalesce(attributed_to, 'unattributed') AS source,
    source_family, relayed_by, outlet,
    CAST(published_at AS DATE) AS published_on,
    hedge, surface, value_low, value_high, unverified, modality, url
FROM claims_with_source
WHERE metric <> 'other'
ORDER BY topic, metric, published_at NULLS LAST, source;

-- Where sources disagree: each contradiction with both figures side by side.
CREATE OR REPLACE VIEW disagreements AS
SELECT
    x.contradiction_id, x.topic, x.metric, x.severity, x.rule, x.reason, x.detected_at, x.incident_id,
    n.surface AS new_surface, n.hedge AS new_hedge,
    coalesce(n.attributed_to, 'unattributed') AS new_source, n.outlet AS new_outlet,
    n.published_at AS new_published_at, n.url AS new_url, n.sentence AS new_sentence,
    o.surface AS other_surface, o.hedge AS other_hedge,
    coalesce(o.attributed_to, 'unattributed') AS other_source, o.outlet AS other_outlet,
    o.published_at AS other_published_at, o.url AS other_url, o.sentence AS other_sentence
FROM contradictions x
JOIN claims_with_source n ON n.claim_id = x.claim_id
JOIN claims_with_source o ON o.claim_id = x.other_claim_id;

-- The range of figures for each metric per month: a quick look at the spread.
CREATE OR REPLACE VIEW metric_ranges_by_month AS
SELECT
    topic, metric,
    date_trunc('month', published_at) AS month,
    count(*) AS claims,
    count(DISTINCT coalesce(attributed_to, outlet)) AS sources,
    min(stated_low) AS lowest_stated,
    max(stated_high) AS highest_stated
FROM claims_with_source
WHERE metric <> 'other'
GROUP BY ALL
ORDER BY topic, metric, month;

-- Alert delivery state: pending rows are waiting for a channel to come back.
CREATE OR REPLACE VIEW alert_log AS
SELECT alert_id, topic, metric, severity, route_url, status, attempts,
       last_error, created_at, delivered_at, contradiction_id
FROM alerts
ORDER BY created_at DESC;

-- Incidents: conflicting figures of one metric, what they paged and how much evidence each holds.
CREATE OR REPLACE VIEW incident_log AS
SELECT i.incident_id, i.topic, i.metric, i.severity, i.status, i.alerted_severity,
       i.opened_on, i.last_evidence_on, count(x.contradiction_id) AS evidence,
       count(DISTINCT x.claim_id) AS claims, i.updated_at
FROM incidents i
LEFT JOIN contradictions x USING (incident_id)
GROUP BY ALL
ORDER BY i.last_evidence_on DESC, i.incident_id;
