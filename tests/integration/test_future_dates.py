"""Dates you can trust, through ``claimwatch run`` over real loopback HTTP into a real DuckDB.

A feed item and its page dated 2099 must not be stored as published in 2099,
and no incident, figure or alert may carry a date that has not come yet: the
report is dated when it was fetched.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.integration.helpers import query_rows as _rows
from tests.integration.helpers import run_cli, write_topic
from tests.integration.loopback_site import Site, article_html, serve

SEOUL = [
    "SEOUL - North Korea has sent roughly 11,000 soldiers to Russia, most of them to the Kursk region, "
    "South Korea's spy agency told lawmakers on Tuesday.",
    "The National Intelligence Service said the troops travelled in several groups by sea and by air "
    "between October and December.",
    "Ukrainian commanders in Kursk reported that the North Korean units were first used in infantry assaults "
    "across open fields.",
    "Moscow and Pyongyang have not confirmed the numbers, and a Kremlin spokesman declined to comment.",
]
FUTURE = [
    "KYIV - About 50,000 North Korean troops have been deployed to Russia's Kursk region, Ukraine's "
    "military intelligence agency said on Monday.",
    "The agency said the soldiers had arrived in several waves and were being trained by Russian officers "
    "before being sent to the front line in Kursk.",
    "Officials in Seoul said they could not confirm the figure, which is far above their own estimates.",
    "The Kremlin has declined to discuss the deployment of North Korean forces.",
]
IN_2099 = datetime(2099, 1, 1, 9, 0, tzinfo=UTC)


def test_an_item_dated_2099_is_dated_by_its_fetch_and_no_incident_lies_in_the_future(tmp_path: Path) -> None:
    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    db = tmp_path / "c.duckdb"
    recent = datetime.now(UTC) - timedelta(days=1)
    site = Site()
    site.pages = {
        "/world/seoul.html": (200, article_html("Seoul: 11,000 troops sent", SEOUL, published=recent)),
        "/world/future.html": (200, article_html("Kyiv: 50,000 troops", FUTURE, published=IN_2099)),
    }
    site.feed = [
        ("/world/seoul.html", "Seoul: 11,000 troops sent", recent),
        ("/world/future.html", "Kyiv: 50,000 troops", IN_2099),
    ]
    with serve(site):
        topic = write_topic(tmp_path / "topic.yaml", site.url("/feed.xml"), ["file:alerts.jsonl"])
        started = datetime.now(UTC)
        result = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert result.returncode == 0, result.stderr[-3000:]
    ended = datetime.now(UTC)

    [(published, fetched, corrected, note, precision)] = _rows(
        db,
        "SELECT published_at, fetched_at, published_corrected, published_note, published_precision"
        " FROM articles WHERE url = ?",
        [site.url("/world/future.html")],
    )
    assert published == fetched and started <= published <= ended  # dated by its fetch
    assert corrected and precision == "day"
    assert "2099-01-01T09:00:00+00:00" in note and "fetch" in note
    [(kept, kept_corrected)] = _rows(
        db, "SELECT published_at, published_corrected FROM articles WHERE url = ?", [site.url("/world/seoul.html")]
    )
    assert abs(kept - recent) < timedelta(seconds=1) and not kept_corrected  # a real date stands

    today = date.today() + timedelta(days=1)  # the check's own day, whatever the time zone
    incidents = _rows(db, "SELECT opened_on, last_evidence_on FROM incidents")
    assert incidents, "the two figures conflict: an incident is expected"
    assert all(opened <= today and last <= today for opened, last in incidents)
    figures = _rows(db, "SELECT first_seen, last_seen FROM figure_history")
    assert figures and all(first <= today and last <= today for first, last in figures)
    views = _rows(db, "SELECT max(published_at), max(new_published_at) FROM claims_with_source, disagreements")
    assert all(v is None or v <= ended for v in views[0])
    # Nothing an analyst or on-call person reads says 2099.
    assert not [p for (p,) in _rows(db, "SELECT payload FROM alerts") if "2099" in json.dumps(p)]
    alerts_file = tmp_path / "data" / "alerts.jsonl"
    assert alerts_file.exists() and "2099" not in alerts_file.read_text(encoding="utf-8")
    snapshot = db.with_name("c.snapshot.duckdb")
    assert _rows(snapshot, "SELECT count(*) FROM articles WHERE published_at > fetched_at") == [(0,)]
