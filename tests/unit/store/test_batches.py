"""Atomic idempotent batch loads: copies, retries, topics sharing articles, and reprocessing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from pipeline.records import Batch, Failure, RetryPolicy
from pipeline.store.articles import stored_articles
from pipeline.store.batches import load_batch, replace_claims
from pipeline.store.checks import record_check
from pipeline.store.claims import topic_claims
from pipeline.store.db import (
    connect,
)
from pipeline.store.seen import retry_schedule, seen_urls
from pipeline.store.session import migrate, open_store, table_counts
from tests.unit.factories import make_article, make_batch, make_claim


def test_load_is_idempotent(db_path: Path) -> None:
    batch = make_batch()
    with open_store(db_path) as con:
        first = load_batch(con, batch, "run-1")
        second = load_batch(con, batch, "run-2")
        counts = table_counts(con)
    assert (first.articles, first.claims) == (2, 2)
    assert (second.articles, second.claims, second.duplicates) == (0, 0, 2)
    assert counts["articles"] == 2 and counts["claims"] == 2 and counts["quarantine"] == 1


def test_same_text_at_another_url_is_a_duplicate(db_path: Path) -> None:
    a = make_article(1)
    copy = make_article(2, text=a.text, content_hash=a.content_hash)
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [a], [make_claim(a)]), "r1")
        result = load_batch(con, Batch("kursk", [copy], [make_claim(copy)]), "r2")
        outcome = con.execute("SELECT outcome FROM seen_urls WHERE url = ?", [copy.url]).fetchone()
    assert (result.articles, result.claims, result.duplicates) == (0, 0, 1)
    assert outcome == ("duplicate",)


def test_a_crash_mid_load_leaves_the_database_as_it_was(db_path: Path) -> None:
    good = make_batch(1)
    with open_store(db_path) as con:
        load_batch(con, good, "r1")
        before = table_counts(con)
        article = make_article(7)
        broken = make_claim(article, start=1, sentence=None)  # NOT NULL violation after the article insert
        with pytest.raises(duckdb.ConstraintException):
            load_batch(con, Batch("kursk", [article], [broken]), "r2")
        assert table_counts(con) == before
        assert article.url not in seen_urls(con, "kursk")


def test_replace_claims_keeps_surviving_ids_and_drops_vanished(db_path: Path) -> None:
    article = make_article(1)
    old = [make_claim(article, start=5), make_claim(article, start=40)]
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [article], old), "r1")
        record_check(con, "kursk", [old[0].claim_id], [], [], "r2")
        new = [make_claim(article, start=s, extractor_version="test-2") for s in (5, 80)]
        replace_claims(con, "kursk", {article.article_id: new}, "reprocess")
        rows = con.execute(
            "SELECT claim_id, extractor_version, checked_at IS NOT NULL FROM claims ORDER BY char_start"
        ).fetchall()
    assert rows == [(new[0].claim_id, "test-2", True), (new[1].claim_id, "test-2", False)]


def test_transient_failures_count_attempts_then_quarantine(db_path: Path) -> None:
    from datetime import timedelta

    url = "https://news.example/slow"
    failing = Batch("kursk", failures=[Failure(url, "fetch", "timed out after 20 s")])
    policy = RetryPolicy(first_delay=timedelta(minutes=30), max_attempts=3)
    with open_store(db_path) as con:
        results = [load_batch(con, failing, f"run-{i}", policy=policy) for i in range(2)]
        schedule = retry_schedule(con, "kursk")
        row = con.execute("SELECT attempts, last_reason, last_failed_at FROM url_failures").fetchone()
        assert row is not None and row[0] == 2 and row[1] == "timed out after 20 s"
        assert schedule[url] - row[2] == timedelta(hours=1)
        assert seen_urls(con, "kursk") == set()
        last = load_batch(con, failing, "run-3", policy=policy)
        assert retry_schedule(con, "kursk") == {}
        assert seen_urls(con, "kursk") == {url}
        reason = con.execute("SELECT reason FROM quarantine WHERE url = ?", [url]).fetchone()
    assert [(r.retrying, r.given_up) for r in [*results, last]] == [(1, 0), (1, 0), (0, 1)]
    assert reason == ("gave up after 3 attempts: timed out after 20 s",)


def test_a_url_that_works_again_leaves_the_retry_list(db_path: Path) -> None:
    article = make_article(1)
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", failures=[Failure(article.url, "fetch", "HTTP 503")]), "r1")
        load_batch(con, Batch("kursk", [article], [make_claim(article)]), "r2")
        assert retry_schedule(con, "kursk") == {}
        assert seen_urls(con, "kursk") == {article.url}


def test_a_claims_frame_survives_the_round_trip(db_path: Path) -> None:
    article = make_article(1)
    claim = dataclasses.replace(
        make_claim(article, start=5),
        population="north_korean_troops",
        event="killed",
        scope="window",
        metric_rule="scope.window",
    )
    with connect(db_path) as con:
        migrate(con)
        load_batch(con, Batch("kursk", [article], [claim]), "run-1")
        [pending], _ = topic_claims(con, "kursk")
    assert pending.claim == claim


def test_in_one_batch_the_earliest_copy_is_stored_and_the_later_one_linked(db_path: Path) -> None:
    from dataclasses import replace
    from datetime import timedelta

    original = make_article(1)
    partner = replace(make_article(2, text=original.text), published_at=original.published_at + timedelta(hours=1))
    with open_store(db_path) as con:
        result = load_batch(con, Batch("kursk", [partner, original], [make_claim(partner)]), "r1")
        seen = dict(con.execute("SELECT url, duplicate_of FROM seen_urls").fetchall())
        stored = con.execute("SELECT article_id FROM articles").fetchall()
    assert (result.articles, result.duplicates, result.claims) == (1, 1, 0)
    assert stored == [(original.article_id,)]
    assert seen == {original.url: None, partner.url: original.article_id}


def test_reprocessing_a_near_copy_keeps_its_claims_marked_as_relayed(db_path: Path) -> None:
    original = make_article(1)
    copy = make_article(2, text=original.text + " A sentence the partner added.")
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [original], [make_claim(original)]), "r1")
        result = load_batch(con, Batch("kursk", [copy], [make_claim(copy)]), "r2")
        reprocessed = {a.article_id for a in stored_articles(con, "kursk")}
        replace_claims(con, "kursk", {copy.article_id: [make_claim(copy, start=5)]}, "r3")
        marks = con.execute("SELECT article_id, copy_of_article FROM claims ORDER BY article_id").fetchall()
    assert result.near_duplicates == 1 and reprocessed == {original.article_id, copy.article_id}
    assert sorted(marks) == sorted([(original.article_id, None), (copy.article_id, original.article_id)])


def test_a_tie_keeps_the_stored_original_so_re_runs_never_swap_originals(db_path: Path) -> None:
    """The same text at an equally clean address, published at the same moment (a site moved to another
    port or host), is a copy of what is stored, whichever address is shorter."""
    from dataclasses import replace

    stored = make_article(1, url="https://news.example:18443/world/story-long-name")
    moved = replace(stored, url="https://n.example/s", article_id="other-id", canonical_url="https://n.example/s")
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [stored], [make_claim(stored)]), "r1")
        result = load_batch(con, Batch("kursk", [moved], [make_claim(moved)]), "r2")
        originals = con.execute("SELECT article_id FROM articles WHERE duplicate_of IS NULL").fetchall()
    assert (result.articles, result.duplicates) == (0, 1)
    assert originals == [(stored.article_id,)]


def test_source_family_and_date_precision_are_stored_and_read_back(db_path: Path) -> None:
    dated = make_article(1, published_precision="month")
    undated = make_article(2, published_at=None)
    claims = [make_claim(dated, source_family="kr_nis"), make_claim(undated)]
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [dated, undated], claims), "r1")
        rows = con.execute("SELECT article_id, published_precision FROM articles ORDER BY article_id").fetchall()
        assert dict(rows) == {dated.article_id: "month", undated.article_id: "none"}
        pending, _ = topic_claims(con, "kursk")
        assert {s.claim.article_id: s.claim.source_family for s in pending} == {
            dated.article_id: "kr_nis",
            undated.article_id: None,
        }
        assert [a.published_precision for a in stored_articles(con, "kursk")].count("month") == 1
        view = con.execute("SELECT source_family, published_precision FROM claims_with_source ORDER BY 1").fetchall()
        assert ("kr_nis", "month") in view
        replace_claims(con, "kursk", {dated.article_id: [make_claim(dated, source_family="media")]}, "r2")
        (family,) = con.execute("SELECT source_family FROM claims WHERE article_id = ?", [dated.article_id]).fetchone()
        assert family == "media"


def test_an_article_another_topic_stored_is_stored_once_and_gets_this_topics_claims(db_path: Path) -> None:
    article = make_article(1)
    with open_store(db_path) as con:
        for topic in ("kursk", "korea"):
            result = load_batch(con, Batch(topic, [article], [make_claim(article, topic=topic)]), "r1")
            assert (result.articles, result.claims, result.duplicates) == (1, 1, 0)
        again = load_batch(con, Batch("korea", [article], [make_claim(article, topic="korea")]), "r2")
        counts = table_counts(con)
        seen = con.execute("SELECT topic, outcome FROM seen_urls ORDER BY topic").fetchall()
        per_topic = {t: [a.article_id for a in stored_articles(con, t)] for t in ("kursk", "korea")}
        replace_claims(con, "korea", {article.article_id: []}, "reprocess")
        left = con.execute("SELECT topic FROM claims").fetchall()
    assert (again.articles, again.claims, again.duplicates) == (0, 0, 1)
    assert counts["articles"] == 1 and counts["claims"] == 2
    assert seen == [("korea", "stored"), ("kursk", "stored")]
    assert per_topic == {"kursk": [article.article_id], "korea": [article.article_id]}
    assert left == [("kursk",)]  # one topic's reprocessing leaves the other's claims alone


def test_another_topic_reading_a_near_copy_keeps_its_standing(db_path: Path) -> None:
    original = make_article(1)
    copy = make_article(2, text=original.text + " Partner Post readers can follow the war in our live blog.")
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [original, copy], [make_claim(copy)]), "r1")
        result = load_batch(con, Batch("korea", [copy], [make_claim(copy, topic="korea")]), "r1")
        seen = con.execute("SELECT outcome, duplicate_of FROM seen_urls WHERE topic = 'korea'").fetchall()
        relayed = con.execute("SELECT topic, copy_of_article FROM claims ORDER BY topic").fetchall()
    assert (result.articles, result.near_duplicates, result.claims) == (1, 1, 1)
    assert seen == [("near_duplicate", original.article_id)]
    assert relayed == [("korea", original.article_id), ("kursk", original.article_id)]
