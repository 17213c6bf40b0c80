-- Source families and date precision.
-- claims.source_family: the topic's family of the figure's originating source
-- (topic file, `sources:`), so contradictions can tell a revision by one voice
-- from a dispute between voices; NULL when no family name matched.
-- articles.published_precision: how much of published_at the page or feed gave
-- (day | month | year | none); a month-only date is stored as the month's 1st.
ALTER TABLE claims ADD COLUMN source_family VARCHAR;
ALTER TABLE articles ADD COLUMN published_precision VARCHAR;
UPDATE articles SET published_precision = CASE WHEN published_at IS NULL THEN 'none' ELSE 'day' END;
