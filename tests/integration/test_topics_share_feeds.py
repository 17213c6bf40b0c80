"""Two topics reading the same feed, over real HTTP on loopback into one real DuckDB.

An article is stored once, but each topic that reads it records it and gets
its own claims; re-running either topic stores nothing twice.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.steps import discover, extract, fetch, load, plan, validate
from tests.integration.helpers import write_topic
from tests.integration.loopback_site import Site, article_html, serve
from tests.integration.test_originals_and_pages import LOSSES, T0, TROOPS, _rows

TOPICS = ("kursk_a", "kursk_b")


def _run_all(topics: list[Path], db: Path, data_dir: Path, run_id: str) -> dict[str, dict[str, int]]:
    out = {}
    for job in plan.run(topics, db, data_dir, run_id):
        for step in (discover.run, fetch.run, extract.run, validate.run):
            job = step(job)
        result = load.run(job)
        out[Path(job.topic_file).stem] = result
    return out


def _counts(db: Path) -> tuple[object, ...]:
    return _rows(
        db,
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM claims),"
        " (SELECT count(*) FROM seen_urls), (SELECT count(*) FROM article_fingerprints)",
    )[0]


@pytest.mark.slow
def test_two_topics_over_one_feed_both_get_their_claims_and_a_rerun_stores_nothing(tmp_path: Path) -> None:
    site = Site()
    site.pages = {
        "/world/nk-troops.html": (200, article_html("Seoul: 11,000 troops sent", TROOPS, published=T0)),
        "/asia/losses.html": (200, article_html("Seoul: 4,000 casualties", LOSSES, published=T0 + timedelta(days=44))),
        # A syndicated near copy: each topic keeps its claims, marked as relayed from the original.
        "/partner/losses-4000.html": (
            200,
            article_html(
                "North Korean losses double",
                [*LOSSES[:3], "Partner Post readers can follow the war in our live blog.", *LOSSES[3:]],
                published=T0 + timedelta(days=44, hours=3),
                outlet="Partner Post",
            ),
        ),
    }
    site.feed = [
        ("/world/nk-troops.html", "Seoul: 11,000 troops sent", T0),
        ("/asia/losses.html", "Seoul: 4,000 casualties", T0 + timedelta(days=44)),
        ("/partner/losses-4000.html", "North Korean losses double", T0 + timedelta(days=44, hours=3)),
    ]
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with serve(site):
        topics = [write_topic(tmp_path / f"{name}.yaml", site.url("/feed.xml"), [], name=name) for name in TOPICS]
        first = _run_all(topics, db, data, "run-1")
        after_first = _counts(db)
        second = _run_all(topics, db, data, "run-2")

    for name in TOPICS:
        assert (first[name]["articles"], first[name]["near_duplicates"], first[name]["duplicates"]) == (3, 1, 0)
        assert first[name]["claims"] > 0
        assert (second[name]["articles"], second[name]["claims"]) == (0, 0)
    assert first["kursk_a"]["claims"] == first["kursk_b"]["claims"]

    # Each article once, each topic's claims on its own (same figures, distinct ids).
    assert _rows(db, "SELECT count(*) FROM articles")[0][0] == 3
    per_topic = dict(_rows(db, "SELECT topic, count(*) FROM claims GROUP BY topic"))
    assert per_topic == {name: first[name]["claims"] for name in TOPICS}
    same = _rows(
        db,
        "SELECT count(*) FROM claims a JOIN claims b USING (article_id, char_start, char_end, metric)"
        " WHERE a.topic = 'kursk_a' AND b.topic = 'kursk_b'",
    )[0][0]
    assert same == per_topic["kursk_a"]
    seen = _rows(db, "SELECT topic, url, outcome, duplicate_of IS NOT NULL FROM seen_urls ORDER BY topic, url")
    for name in TOPICS:
        assert sorted(r[1:] for r in seen if r[0] == name) == sorted(
            [
                (site.url("/asia/losses.html"), "stored", False),
                (site.url("/partner/losses-4000.html"), "near_duplicate", True),
                (site.url("/world/nk-troops.html"), "stored", False),
            ]
        )
    relayed = dict(_rows(db, "SELECT topic, count(*) FROM claims WHERE copy_of_article IS NOT NULL GROUP BY 1"))
    assert relayed["kursk_a"] == relayed["kursk_b"] > 0

    # The second run finds every URL already handled by its topic: nothing new anywhere.
    assert _counts(db) == after_first
