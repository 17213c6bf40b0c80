-- Conditional polling: the validators a feed last sent (kept even when its body did not change),
-- sent back as If-None-Match / If-Modified-Since, and the hash of the last body parsed, so an
-- unchanged feed costs neither a download nor a parse.
ALTER TABLE feed_state ADD COLUMN etag VARCHAR;
ALTER TABLE feed_state ADD COLUMN last_modified VARCHAR;
ALTER TABLE feed_state ADD COLUMN body_sha256 VARCHAR;

-- The raw archive: every fetched page, as the server sent it, is kept gzip-compressed under
-- <data dir>/archive/ by the SHA-256 of its bytes.  One row per (topic, url), the key of
-- seen_urls, so `claimwatch reprocess --since` can re-extract history without fetching.
CREATE TABLE raw_pages (
    topic        VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,     -- the feed entry's URL, as in seen_urls
    final_url    VARCHAR NOT NULL,     -- after redirects
    sha256       VARCHAR NOT NULL,     -- archive key: archive/<sha[:2]>/<sha>.gz
    content_type VARCHAR,
    status       INTEGER NOT NULL,
    fetched_at   TIMESTAMPTZ NOT NULL,
    entry        JSON NOT NULL,        -- the feed entry (title, feed, published date) the page came from
    run_id       VARCHAR,
    PRIMARY KEY (topic, url)
);
CREATE INDEX raw_pages_fetched ON raw_pages (topic, fetched_at);
