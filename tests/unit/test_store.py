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
    con = store.connect(db_path)
    versions = sorted(f.name.split("_", 1)[0] for f in (store.DEFAULT_SQL_DIR / "migrations").glob("*.sql"))
    assert versions[:1] == ["0001"] and "0003" in versions
    assert store.migrate(con) == versions
    assert store.migrate(con) == []
    assert con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall() == [(v,) for v in versions]
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


def test_source_family_and_date_precision_are_stored_and_read_back(db_path: Path) -> None:
    dated = make_article(1, published_precision="month")
    undated = make_article(2, published_at=None)
    claims = [make_claim(dated, source_family="kr_nis"), make_claim(undated)]
    with store.open_store(db_path) as con:
        store.load_batch(con, store.Batch("kursk", [dated, undated], claims), "r1")
        rows = con.execute("SELECT article_id, published_precision FROM articles ORDER BY article_id").fetchall()
        assert dict(rows) == {dated.article_id: "month", undated.article_id: "none"}
        pending, _ = store.topic_claims(con, "kursk")
        assert {s.claim.article_id: s.claim.source_family for s in pending} == {
            dated.article_id: "kr_nis",
            undated.article_id: None,
        }
        assert [a.published_precision for a in store.stored_articles(con, "kursk")].count("month") == 1
        view = con.execute("SELECT source_family, published_precision FROM claims_with_source ORDER BY 1").fetchall()
        assert ("kr_nis", "month") in view
        store.replace_claims(con, "kursk", {dated.article_id: [make_claim(dated, source_family="media")]}, "r2")
        (family,) = con.execute("SELECT source_family FROM claims WHERE article_id = ?", [dated.article_id]).fetchone()
        assert family == "media"
