-- Duplicates linked to their original, pages that are not articles, and the
-- near-duplicate index (see pipeline/ingest/dedup.py).

-- An article stored as a near copy of another: duplicate_of is the original's id,
-- similarity the estimated Jaccard similarity of their word 3-shingles, duplicate_kind
-- 'near' (or 'exact' when an earlier-published original arrived after its copy).
ALTER TABLE articles ADD COLUMN duplicate_of VARCHAR;
ALTER TABLE articles ADD COLUMN duplicate_kind VARCHAR;
ALTER TABLE articles ADD COLUMN similarity DOUBLE;

-- Every URL that is a copy names its original; outcome gains near_duplicate and the
-- not-an-article kinds (error_page, cookie_wall, skipped_language, paywall, gallery, stub),
-- with the reason in words.
ALTER TABLE seen_urls ADD COLUMN duplicate_of VARCHAR;
ALTER TABLE seen_urls ADD COLUMN duplicate_kind VARCHAR;
ALTER TABLE seen_urls ADD COLUMN similarity DOUBLE;
ALTER TABLE seen_urls ADD COLUMN reason VARCHAR;

-- Claims of a copy are relayed, not independent: the original article they repeat.
ALTER TABLE claims ADD COLUMN copy_of_article VARCHAR;

-- MinHash signature (128 little-endian 32-bit values) of every stored article's text.
CREATE TABLE article_fingerprints (
    article_id VARCHAR PRIMARY KEY,
    signature  BLOB NOT NULL
);

-- LSH buckets: one row per article and band; a lookup reads only the articles
-- that share a bucket with the new text.
CREATE TABLE fingerprint_bands (
    band_key   BIGINT NOT NULL,
    article_id VARCHAR NOT NULL
);
CREATE INDEX fingerprint_bands_key ON fingerprint_bands (band_key);
