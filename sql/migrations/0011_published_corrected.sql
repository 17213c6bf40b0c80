-- Dates you can trust: a page or feed item dated after it was fetched (beyond a day of clock
-- skew) cannot have been published then.  Its published_at is the fetch time instead,
-- published_corrected is true and published_note says what date was given and why it was
-- replaced.  Articles stored before this rule are corrected the same way here; earlier dates
-- are never touched (an old report is real).  Incidents and figure histories dated after the
-- check that recorded them are brought back to that check's day.
ALTER TABLE articles ADD COLUMN published_corrected BOOLEAN DEFAULT false;
ALTER TABLE articles ADD COLUMN published_note VARCHAR;
UPDATE articles SET published_corrected = false WHERE published_corrected IS NULL;
UPDATE articles
SET published_note = 'the page or feed dated it ' || strftime(published_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00')
        || ', after it was fetched (' || strftime(fetched_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S+00:00')
        || '): dated by the fetch time',
    published_corrected = true,
    published_at = fetched_at,
    published_precision = 'day'
WHERE published_at > fetched_at + INTERVAL 1 DAY;
UPDATE incidents
SET opened_on = least(opened_on, CAST(created_at AS DATE)),
    last_evidence_on = least(last_evidence_on, CAST(updated_at AS DATE))
WHERE opened_on > CAST(created_at AS DATE) OR last_evidence_on > CAST(updated_at AS DATE);
UPDATE figure_history
SET first_seen = least(first_seen, CAST(updated_at AS DATE)),
    last_seen = least(last_seen, CAST(updated_at AS DATE))
WHERE first_seen > CAST(updated_at AS DATE) OR last_seen > CAST(updated_at AS DATE);
