"""The DuckDB store: migrations, atomic idempotent loads, the check bookkeeping and the outbox."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Iterator
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
    assert versions[0] == "0001"
    con = store.connect(db_path)
    assert store.migrate(con) == versions
    assert store.migrate(con) == []
    assert [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()] == versions
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
        assert store.claim_alert(con, "al1", lease_seconds=60)
        store.mark_failed(con, "al1", "connection refused")
        assert len(store.pending_alerts(con, "kursk")) == 1
        assert store.claim_alert(con, "al1", lease_seconds=60)
        store.mark_delivered(con, "al1")
        assert store.pending_alerts(con, "kursk") == []
        assert not store.claim_alert(con, "al1", lease_seconds=60)  # delivered is final
        row = con.execute("SELECT status, attempts, last_error FROM alerts").fetchone()
    assert row == ("delivered", 2, None)


def test_a_claimed_alert_stays_pending_and_is_reclaimed_only_after_its_lease(db_path: Path) -> None:
    """Claim, crash, run again: the alert is still owed, a second sender waits for the lease, then may send."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    alert = Alert("al1", "x1", "kursk", "troops_deployed", "low", "json://127.0.0.1/hook", {"alert_id": "al1"})
    with store.open_store(db_path) as con:
        store.record_check(con, "kursk", [], [], [alert], "r1")
        assert store.claim_alert(con, "al1", lease_seconds=30, now=t0)
    # the sender died here: nothing marked it
    with store.open_store(db_path) as con:
        assert [a.alert_id for a in store.pending_alerts(con, "kursk")] == ["al1"]
        assert not store.claim_alert(con, "al1", lease_seconds=30, now=t0 + timedelta(seconds=29))
        assert store.claim_alert(con, "al1", lease_seconds=30, now=t0 + timedelta(seconds=31))
        row = con.execute("SELECT status, attempts, last_attempt_at FROM alerts").fetchone()
    assert row == ("sending", 2, t0 + timedelta(seconds=31))


@pytest.fixture
def lock_holder(db_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process (an analyst's session) holding the live database open for writing."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db_path)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_connect_fails_within_seconds_naming_the_lock_holder_and_the_snapshot(
    db_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(store.DatabaseLockedError) as info, store.open_store(db_path):
        pass
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert store.LOCK_WAIT_SECONDS <= elapsed < store.LOCK_WAIT_SECONDS + 3
    assert f"process {lock_holder.pid} " in message
    assert str(db_path) in message and str(store.snapshot_path(db_path)) in message


def test_publish_snapshot_fails_as_fast_when_the_live_file_is_held(
    db_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(store.DatabaseLockedError, match=f"process {lock_holder.pid} "):
        store.publish_snapshot(db_path, lock_timeout=1.0)
    assert time.monotonic() - started < 5
    assert not store.snapshot_path(db_path).exists()


def test_connect_waits_with_backoff_and_gets_the_lock_once_it_is_free(db_path: Path) -> None:
    """A short-lived holder (another pipeline task closing) is waited for, not reported."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db_path)!r}); print('ok', flush=True);"
            " time.sleep(1); c.close()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        sleeps: list[float] = []
        con = store.connect(db_path, lock_timeout=10, sleep=lambda s: (sleeps.append(s), time.sleep(s)))
        con.close()
    finally:
        holder.kill()
        holder.wait()
    assert sleeps[:3] == [0.1, 0.2, 0.4] and max(sleeps) <= 2.0


def test_lock_message_without_a_pid_still_points_at_the_snapshot(db_path: Path) -> None:
    message = store.lock_message(db_path, "IO Error: Could not set lock on file", 5.0)
    assert "another process" in message and str(store.snapshot_path(db_path)) in message


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


HOSTILE_NAMES = [  # DuckDB names the catalog after the file name up to its first dot
    "memory\" TO claimwatch_snapshot; COPY (SELECT 42) TO 'injected'; --.duckdb",
    "system\" TO claimwatch_snapshot; COPY (SELECT 'x') TO 'injected2' (FORMAT csv); --.duckdb",
    "it's \"quoted\"'); COPY (SELECT 1) TO 'injected3'; --.duckdb",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_database_name_writes_nothing_but_the_database_and_its_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The file name reaches SQL only as a bound parameter: no statement hidden in it runs."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # where a relative COPY ... TO would land
    db = work / name
    with store.open_store(db) as con:
        store.load_batch(con, _batch(1), "r1")
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["work", name])
    snap = store.publish_snapshot(db)
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["work", name, snap.name])
    con = duckdb.connect(str(snap), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM claims_with_source").fetchone() == (1,)
    finally:
        con.close()


# --- per-URL failure bookkeeping --------------------------------------------------------


def test_retry_policy_doubles_the_delay_up_to_a_cap_then_gives_up() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2025, 12, 1, tzinfo=UTC)
    policy = store.RetryPolicy(first_delay=timedelta(hours=1), max_attempts=5, max_delay=timedelta(hours=6))
    assert [policy.next_retry(n, now) for n in range(1, 6)] == [
        now + timedelta(hours=1),
        now + timedelta(hours=2),
        now + timedelta(hours=4),
        now + timedelta(hours=6),
        None,
    ]


def test_transient_failures_count_attempts_then_quarantine(db_path: Path) -> None:
    from datetime import timedelta

    url = "https://news.example/slow"
    failing = store.Batch("kursk", failures=[store.Failure(url, "fetch", "timed out after 20 s")])
    policy = store.RetryPolicy(first_delay=timedelta(minutes=30), max_attempts=3)
    with store.open_store(db_path) as con:
        results = [store.load_batch(con, failing, f"run-{i}", policy=policy) for i in range(2)]
        schedule = store.retry_schedule(con, "kursk")
        row = con.execute("SELECT attempts, last_reason, last_failed_at FROM url_failures").fetchone()
        assert row is not None and row[0] == 2 and row[1] == "timed out after 20 s"
        assert schedule[url] - row[2] == timedelta(hours=1)
        assert store.seen_urls(con, "kursk") == set()
        last = store.load_batch(con, failing, "run-3", policy=policy)
        assert store.retry_schedule(con, "kursk") == {}
        assert store.seen_urls(con, "kursk") == {url}
        reason = con.execute("SELECT reason FROM quarantine WHERE url = ?", [url]).fetchone()
    assert [(r.retrying, r.given_up) for r in [*results, last]] == [(1, 0), (1, 0), (0, 1)]
    assert reason == ("gave up after 3 attempts: timed out after 20 s",)


def test_a_url_that_works_again_leaves_the_retry_list(db_path: Path) -> None:
    article = make_article(1)
    with store.open_store(db_path) as con:
        store.load_batch(con, store.Batch("kursk", failures=[store.Failure(article.url, "fetch", "HTTP 503")]), "r1")
        store.load_batch(con, store.Batch("kursk", [article], [make_claim(article)]), "r2")
        assert store.retry_schedule(con, "kursk") == {}
        assert store.seen_urls(con, "kursk") == {article.url}


def test_a_claims_frame_survives_the_round_trip(db_path: Path) -> None:
    article = make_article(1)
    claim = dataclasses.replace(
        make_claim(article, start=5),
        population="north_korean_troops",
        event="killed",
        scope="window",
        metric_rule="scope.window",
    )
    with store.connect(db_path) as con:
        store.migrate(con)
        store.load_batch(con, store.Batch("kursk", [article], [claim]), "run-1")
        [pending], _ = store.topic_claims(con, "kursk")
    assert pending.claim == claim


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


def test_an_article_another_topic_stored_is_stored_once_and_gets_this_topics_claims(db_path: Path) -> None:
    article = make_article(1)
    with store.open_store(db_path) as con:
        for topic in ("kursk", "korea"):
            result = store.load_batch(con, store.Batch(topic, [article], [make_claim(article, topic=topic)]), "r1")
            assert (result.articles, result.claims, result.duplicates) == (1, 1, 0)
        again = store.load_batch(con, store.Batch("korea", [article], [make_claim(article, topic="korea")]), "r2")
        counts = store.table_counts(con)
        seen = con.execute("SELECT topic, outcome FROM seen_urls ORDER BY topic").fetchall()
        per_topic = {t: [a.article_id for a in store.stored_articles(con, t)] for t in ("kursk", "korea")}
        store.replace_claims(con, "korea", {article.article_id: []}, "reprocess")
        left = con.execute("SELECT topic FROM claims").fetchall()
    assert (again.articles, again.claims, again.duplicates) == (0, 0, 1)
    assert counts["articles"] == 1 and counts["claims"] == 2
    assert seen == [("korea", "stored"), ("kursk", "stored")]
    assert per_topic == {"kursk": [article.article_id], "korea": [article.article_id]}
    assert left == [("kursk",)]  # one topic's reprocessing leaves the other's claims alone


def test_another_topic_reading_a_near_copy_keeps_its_standing(db_path: Path) -> None:
    original = make_article(1)
    copy = make_article(2, text=original.text + " Partner Post readers can follow the war in our live blog.")
    with store.open_store(db_path) as con:
        store.load_batch(con, store.Batch("kursk", [original, copy], [make_claim(copy)]), "r1")
        result = store.load_batch(con, store.Batch("korea", [copy], [make_claim(copy, topic="korea")]), "r1")
        seen = con.execute("SELECT outcome, duplicate_of FROM seen_urls WHERE topic = 'korea'").fetchall()
        relayed = con.execute("SELECT topic, copy_of_article FROM claims ORDER BY topic").fetchall()
    assert (result.articles, result.near_duplicates, result.claims) == (1, 1, 1)
    assert seen == [("near_duplicate", original.article_id)]
    assert relayed == [("korea", original.article_id), ("kursk", original.article_id)]
