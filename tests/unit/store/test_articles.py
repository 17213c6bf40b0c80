"""Article rows: identities a page cannot take from another, and dates after the fetch corrected
(also those stored before the rule, and the incidents dated by them)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from pipeline.ingest.dedup import own_identity
from pipeline.records import Batch, stable_id
from pipeline.settings import SQL_DIR
from pipeline.store.batches import load_batch
from pipeline.store.session import open_store
from tests.unit.factories import make_article, make_claim


def test_a_page_holding_a_stored_article_s_id_with_another_text_is_stored_as_itself(db_path: Path) -> None:
    """Across runs: the stored article keeps its id, the new page is stored under its own, with its
    claims renamed for it, and neither is linked to the other."""
    stored = make_article(1, url="https://example.org/a", canonical_url="https://example.org/a",
                          article_id=stable_id("https://example.org/a"))  # fmt: skip
    claimer = replace(make_article(2, url="https://example.org/b"), article_id=stored.article_id,
                      canonical_url=stored.canonical_url)  # fmt: skip
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [stored], [make_claim(stored)]), "r1")
        result = load_batch(con, Batch("kursk", [claimer], [make_claim(claimer, start=7)]), "r2")
        rows = con.execute("SELECT url, article_id, duplicate_of FROM articles ORDER BY url").fetchall()
        seen = con.execute("SELECT url, outcome, duplicate_of FROM seen_urls ORDER BY url").fetchall()
        claims = con.execute("SELECT c.claim_id, a.url FROM claims c JOIN articles a USING (article_id)").fetchall()
    moved = own_identity(claimer)
    assert result.articles == 1 and result.duplicates == 0
    assert rows == [(stored.url, stored.article_id, None), (claimer.url, moved.article_id, None)]
    assert seen == [(stored.url, "stored", None), (claimer.url, "stored", None)]
    assert sorted(claims) == sorted(
        [(make_claim(stored).claim_id, stored.url), (make_claim(moved, start=7).claim_id, claimer.url)]
    )


def test_migration_0011_dates_articles_stored_in_the_future_by_their_fetch(db_path: Path, tmp_path: Path) -> None:
    old_sql = tmp_path / "sql-0010"
    (old_sql / "migrations").mkdir(parents=True)
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        if path.name < "0011":
            shutil.copy(path, old_sql / "migrations")
    (old_sql / "views").mkdir()
    future = make_article(1, published_at=datetime(2099, 1, 1, tzinfo=UTC))
    old = make_article(2, published_at=datetime(1999, 1, 1, tzinfo=UTC))
    with open_store(db_path, sql_dir=old_sql) as con:
        for a in (future, old):
            con.execute(
                "INSERT INTO articles (article_id, url, canonical_url, published_at, fetched_at, text, content_hash,"
                " loaded_at, published_precision) VALUES (?,?,?,?,?,?,?,?,?)",
                [a.article_id, a.url, a.canonical_url, a.published_at, a.fetched_at, a.text, a.content_hash,
                 a.fetched_at, "day"],
            )  # fmt: skip
        con.execute(
            "INSERT INTO incidents (incident_id, topic, metric, severity, status, opened_on, last_evidence_on, edges,"
            " created_at, updated_at) VALUES ('i1', 'kursk', 'troops_deployed', 'high', 'open', '2099-01-01',"
            " '2099-01-01', '[]', '2025-12-01 10:00:00+00', '2025-12-02 10:00:00+00')"
        )
    with open_store(db_path) as con:
        incident = con.execute("SELECT opened_on, last_evidence_on FROM incidents").fetchone()
        rows = dict(
            (r[0], r[1:])
            for r in con.execute(
                "SELECT article_id, published_at, published_corrected, published_note FROM articles"
            ).fetchall()
        )
    published, corrected, note = rows[future.article_id]
    assert published == future.fetched_at and corrected
    assert "2099-01-01T00:00:00+00:00" in note and "fetched (2025-12-01T00:00:00+00:00)" in note
    assert rows[old.article_id] == (old.published_at, False, None)
    assert incident is not None and [d.isoformat() for d in incident] == ["2025-12-01", "2025-12-02"]
