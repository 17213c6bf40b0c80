"""The DuckDB store: migrations, atomic idempotent loads, the check bookkeeping and the outbox."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline import store
from pipeline.records import Alert, Contradiction
from tests.unit.factories import make_article, make_claim


def _batch(n_articles: int = 2) -> store.Batch:
    articles = [make_article(i) for i in range(1, n_articles + 1)]
    claims = [make_claim(a, start=5) for a in articles]
    return store.Batch(
        "kursk",
        articles,
        claims,
        skipped=[store.Skipped("https://news.example/bad", "quarantined", "HTTP 404", "fetch")],
        polls=[store.FeedPoll("https://news.example/feed", "ok", 3)],
    )


def test_migrations_apply_once_and_record_versions(db_path: Path) -> None:
    versions = sorted(p.name.split("_", 1)[0] for p in (store.DEFAULT_SQL_DIR / "migrations").glob("*.sql"))
    con = store.connect(db_path)
    assert store.migrate(con) == versions
    assert store.migrate(con) == []
    assert [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()] == versions
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"claims_with_source", "source_claims_over_time", "disagreements", "alert_log"} <= views
    con.close()


def test_failed_migration_rolls_back_and_names_the_file(tmp_path: Path, db_path: Path) -> None:
    sql = tmp_path / "sql"
    (sql / "migrations").mkdir(parents=True)
    (sql / "views").mkdir()
    (sql / "migrations" / "0001_ok.sql").write_text("CREATE TABLE t (x INTEGER);")
    (sql / "migrations" / "0002_bad.sql").write_text("CREATE TABLE u (y INTEGER); SELEC nonsense;")
    con = store.connect(db_path)
    with pytest.raises(store.StoreError, match="0002_bad.sql"):
        store.migrate(con, sql)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "t" in tables and "u" not in tables
    assert [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()] == ["0001"]


def test_load_is_idempotent(db_path: Path) -> None:
    batch = _batch()
    with store.open_store(db_path) as con:
        first = store.load_batch(con, batch, "run-1")
        second = store.load_batch(con, batch, "run-2")
        counts = store.table_counts(con)
    assert (first.articles, first.claims) == (2, 2)
    assert (second.articles, second.claims, second.duplicates) == (0, 0, 2)
    assert counts["articles"] == 2 and counts["claims"] == 2 and counts["quarantine"] == 1


def test_same_text_at_another_url_is_a_duplicate(db_path: Path) -> None:
    a = make_article(1)
    copy = make_article(2, text=a.text, content_hash=a.content_hash)
    with store.open_store(db_path) as con:
        store.load_batch(con, store.Batch("kursk", [a], [make_claim(a)]), "r1")
        result = store.load_batch(con, store.Batch("kursk", [copy], [make_claim(copy)]), "r2")
        outcome = con.execute("SELECT outcome FROM seen_urls WHERE url = ?", [copy.url]).fetchone()
    assert (result.articles, result.claims, result.duplicates) == (0, 0, 1)
    assert outcome == ("duplicate",)


def test_a_crash_mid_load_leaves_the_database_as_it_was(db_path: Path) -> None:
    good = _batch(1)
    with store.open_store(db_path) as con:
        store.load_batch(con, good, "r1")
        before = store.table_counts(con)
        article = make_article(7)
        broken = make_claim(article, start=1, sentence=None)  # NOT NULL violation after the article insert
        with pytest.raises(duckdb.ConstraintException):
            store.load_batch(con, store.Batch("kursk", [article], [broken]), "r2")
        assert store.table_counts(con) == before
        assert article.url not in store.seen_urls(con, "kursk")


def test_check_bookkeeping_and_outbox(db_path: Path) -> None:
    batch = _batch()
    with store.open_store(db_path) as con:
        store.load_batch(con, batch, "r1")
        pending, checked = store.topic_claims(con, "kursk")
        assert len(pending) == 2 and checked == []
        assert pending[0].claim == batch.claims[0] and pending[0].url == batch.articles[0].url
        a, b = pending
        x = Contradiction("x1", b.claim.claim_id, a.claim.claim_id, "kursk", "troops_deployed", "low", "r", "why")
        alert = Alert("al1", "x1", "kursk", "troops_deployed", "low", "file:alerts.jsonl", {"reason": "why"})
        ids = [c.claim.claim_id for c in pending]
        assert store.record_check(con, "kursk", ids, [x], [alert], "r2") == (1, 1)
        assert store.record_check(con, "kursk", ids, [x], [alert], "r3") == (0, 0)
        assert store.topic_claims(con, "kursk")[0] == []
        assert [al.payload for al in store.pending_alerts(con, "kursk")] == [{"reason": "why"}]
        store.mark_failed(con, "al1", "connection refused")
        assert len(store.pending_alerts(con, "kursk")) == 1
        store.mark_delivered(con, "al1")
        assert store.pending_alerts(con, "kursk") == []
        row = con.execute("SELECT status, attempts, last_error FROM alerts").fetchone()
    assert row == ("delivered", 2, None)


def test_connect_waits_for_a_lock_then_fails_clearly(db_path: Path) -> None:
    """Another process's lock is retried with backoff, and reported with the path when it persists."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db_path)!r}); print('ok', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        sleeps: list[float] = []
        with pytest.raises(store.StoreError, match=str(db_path.name)):
            store.connect(db_path, lock_timeout=0.5, sleep=lambda s: (sleeps.append(s), __import__("time").sleep(s)))
        assert sleeps and sleeps == sorted(sleeps)
    finally:
        holder.kill()
        holder.wait()
    store.connect(db_path).close()  # free again once the holder is gone


def test_replace_claims_keeps_surviving_ids_and_drops_vanished(db_path: Path) -> None:
    article = make_article(1)
    old = [make_claim(article, start=5), make_claim(article, start=40)]
    with store.open_store(db_path) as con:
        store.load_batch(con, store.Batch("kursk", [article], old), "r1")
        store.record_check(con, "kursk", [old[0].claim_id], [], [], "r2")
        new = [make_claim(article, start=s, extractor_version="test-2") for s in (5, 80)]
        store.replace_claims(con, "kursk", {article.article_id: new}, "reprocess")
        rows = con.execute(
            "SELECT claim_id, extractor_version, checked_at IS NOT NULL FROM claims ORDER BY char_start"
        ).fetchall()
    assert rows == [(new[0].claim_id, "test-2", True), (new[1].claim_id, "test-2", False)]


def test_snapshot_is_a_full_copy_analysts_can_hold_open(db_path: Path) -> None:
    with store.open_store(db_path) as con:
        store.load_batch(con, _batch(1), "r1")
    snap = store.publish_snapshot(db_path)
    analyst = duckdb.connect(str(snap), read_only=True)
    try:
        assert analyst.execute("SELECT count(*) FROM claims_with_source").fetchone() == (1,)
        with store.open_store(db_path) as con:  # the pipeline writes while the analyst's session is open
            store.load_batch(con, store.Batch("kursk", [make_article(9)], [make_claim(make_article(9))]), "r2")
        store.publish_snapshot(db_path)
        assert analyst.execute("SELECT count(*) FROM claims").fetchone() == (1,)  # still the copy it opened
    finally:
        analyst.close()
    fresh = duckdb.connect(str(snap), read_only=True)
    assert fresh.execute("SELECT count(*) FROM claims").fetchone() == (2,)
    fresh.close()


def test_migration_0006_indexes_the_articles_stored_before_it(db_path: Path, tmp_path: Path) -> None:
    """A database created before near-duplicate detection gets fingerprints for its articles on upgrade."""
    import shutil

    old_sql = tmp_path / "sql-0001"
    (old_sql / "migrations").mkdir(parents=True)
    shutil.copy(store.DEFAULT_SQL_DIR / "migrations" / "0001_initial.sql", old_sql / "migrations")
    (old_sql / "views").mkdir()  # today's views name columns that 0001 does not have
    a = make_article(1)
    with store.open_store(db_path, sql_dir=old_sql) as con:
        con.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [a.article_id, a.url, a.canonical_url, a.title, a.outlet, a.published_at, a.fetched_at, a.language,
             a.text, a.content_hash, "r0", a.fetched_at],
        )  # fmt: skip
    with store.open_store(db_path) as con:
        prints = con.execute("SELECT count(*) FROM article_fingerprints").fetchone()
        bands = con.execute("SELECT count(DISTINCT band_key) FROM fingerprint_bands").fetchone()
        copy = make_article(2, text=a.text + " One sentence more.")
        result = store.load_batch(con, store.Batch("kursk", [copy]), "r1")
        linked = con.execute("SELECT duplicate_of FROM articles WHERE article_id = ?", [copy.article_id]).fetchone()
    assert prints == (1,) and bands is not None and bands[0] > 1
    assert result.near_duplicates == 1 and linked == (a.article_id,)


def test_in_one_batch_the_earliest_copy_is_stored_and_the_later_one_linked(db_path: Path) -> None:
    from dataclasses import replace
    from datetime import timedelta

    original = make_article(1)
    partner = replace(make_article(2, text=original.text), published_at=original.published_at + timedelta(hours=1))
    with store.open_store(db_path) as con:
        result = store.load_batch(con, store.Batch("kursk", [partner, original], [make_claim(partner)]), "r1")
        seen = dict(con.execute("SELECT url, duplicate_of FROM seen_urls").fetchall())
        stored = con.execute("SELECT article_id FROM articles").fetchall()
    assert (result.articles, result.duplicates, result.claims) == (1, 1, 0)
    assert stored == [(original.article_id,)]
    assert seen == {original.url: None, partner.url: original.article_id}


def test_reprocessing_a_near_copy_keeps_its_claims_marked_as_relayed(db_path: Path) -> None:
    original = make_article(1)
    copy = make_article(2, text=original.text + " A sentence the partner added.")
    with store.open_store(db_path) as con:
        store.load_batch(con, store.Batch("kursk", [original], [make_claim(original)]), "r1")
        result = store.load_batch(con, store.Batch("kursk", [copy], [make_claim(copy)]), "r2")
        reprocessed = {a.article_id for a in store.stored_articles(con, "kursk")}
        store.replace_claims(con, "kursk", {copy.article_id: [make_claim(copy, start=5)]}, "r3")
        marks = con.execute("SELECT article_id, copy_of_article FROM claims ORDER BY article_id").fetchall()
    assert result.near_duplicates == 1 and reprocessed == {original.article_id, copy.article_id}
    assert sorted(marks) == sorted([(original.article_id, None), (copy.article_id, original.article_id)])


def test_a_tie_keeps_the_stored_original_so_re_runs_never_swap_originals(db_path: Path) -> None:
    """The same text at an equally clean address, published at the same moment (a site moved to another
    port or host), is a copy of what is stored, whichever address is shorter."""
    from dataclasses import replace

    stored = make_article(1, url="https://news.example:18443/world/story-long-name")
    moved = replace(stored, url="https://n.example/s", article_id="other-id", canonical_url="https://n.example/s")
    with store.open_store(db_path) as con:
        store.load_batch(con, store.Batch("kursk", [stored], [make_claim(stored)]), "r1")
        result = store.load_batch(con, store.Batch("kursk", [moved], [make_claim(moved)]), "r2")
        originals = con.execute("SELECT article_id FROM articles WHERE duplicate_of IS NULL").fetchall()
    assert (result.articles, result.duplicates) == (0, 1)
    assert originals == [(stored.article_id,)]
