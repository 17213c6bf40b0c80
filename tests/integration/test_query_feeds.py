"""Query feeds (GDELT DOC 2.0, Google News search) read from recorded responses served on loopback.

The services' base URLs point at loopback servers that answer with feeds in
the shape the real services return (tests/data/feeds/); article links point
at the sample site.  Real HTTP, real DuckDB, the task bodies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.records import FeedEntry, from_json
from pipeline.steps import discover, extract, fetch, load, plan, validate
from pipeline.steps.job import Job
from tests.integration.feed_servers import Reply, Request, fixture_feed, recording_server
from tests.integration.helpers import REPO_ROOT, hostile_site
from tests.integration.helpers import query_rows as _rows

FAST = {"timeout_seconds": 2, "retries": 0, "backoff_seconds": 0, "per_host_delay_seconds": 0}
GOOD = "north-korean-troops-reach-kursk"
INTERSTITIAL = b"<html><head><script>window.location.replace(decode(token))</script></head><body></body></html>"


def _topic(path: Path, feeds: list[dict[str, Any]]) -> Path:
    raw = yaml.safe_load((REPO_ROOT / "topics" / "kursk.yaml").read_text(encoding="utf-8"))
    raw.update(name="kursk_query", feeds=feeds, allow_private_hosts=True, alerts=[], fetch=FAST)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _finish(job: Job) -> dict[str, int]:
    for step in (fetch.run, extract.run, validate.run):
        step(job)
    return load.run(job)


def test_gdelt_artlist_rss_is_requested_with_the_topic_query_and_its_articles_stored(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site, recording_server() as gdelt:

        def route(request: Request) -> Reply:
            if request.path == "/api/v2/doc/doc":
                return Reply(
                    200, fixture_feed("gdelt_artlist.rss", gdelt=gdelt.base, site=site.base), "application/rss+xml"
                )
            return Reply(404, b"", "text/plain")

        gdelt.route = route
        feed = {
            "kind": "gdelt",
            "url": f"{gdelt.base}/api/v2/doc/doc",
            "query": '"north korean" kursk',
            "timespan": "7d",
        }
        topic = _topic(tmp_path / "t.yaml", [feed])
        [job] = plan.run([topic], db, data, "run-1")
        discover.run(job)
        result = _finish(job)
    [request] = gdelt.hits("/api/v2/doc/doc")
    assert request.query == {
        "query": ['"north korean" kursk'],
        "mode": ["ArtList"],
        "format": ["rss"],
        "maxrecords": ["250"],
        "sort": ["DateDesc"],
        "timespan": ["7d"],
    }
    stored = {r[0] for r in _rows(db, "SELECT url FROM seen_urls WHERE outcome = 'stored'")}
    assert stored == {site.good(s) for s in (GOOD, "seoul-raises-troop-estimate", "spy-agency-revises-losses")}
    assert result["articles"] == 3
    [(feed_url, status, entries)] = _rows(db, "SELECT feed_url, last_status, entries_seen FROM feed_state")
    assert feed_url.startswith(f"{gdelt.base}/api/v2/doc/doc?query=") and status == "ok" and entries == 3


def test_gdelt_requests_are_spaced_five_seconds_apart(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    waits: list[float] = []
    with recording_server() as gdelt:
        gdelt.route = lambda request: Reply(
            200, fixture_feed("gdelt_artlist.rss", gdelt=gdelt.base, site="http://127.0.0.1:9"), "application/rss+xml"
        )
        base = f"{gdelt.base}/api/v2/doc/doc"
        topic = _topic(
            tmp_path / "t.yaml",
            [{"kind": "gdelt", "url": base, "query": "kursk"}, {"kind": "gdelt", "url": base, "query": "pyongyang"}],
        )
        [job] = plan.run([topic], db, data, "run-1")
        discover.run(job, sleep=waits.append)
    assert [r.query["query"] for r in gdelt.hits("/api/v2/doc/doc")] == [["kursk"], ["pyongyang"]]
    assert len(waits) == 1 and 4.0 < waits[0] <= 5.0  # the second request waited for its turn


def test_google_news_links_resolve_to_the_publisher_or_fall_back_to_title_and_outlet(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site, recording_server() as gnews:

        def route(request: Request) -> Reply:
            if request.path == "/rss/search":
                return Reply(
                    200, fixture_feed("google_news_search.rss", gnews=gnews.base, site=site.base), "application/rss+xml"
                )
            if request.path == "/rss/articles/CBMiAAA":
                return Reply(302, b"", headers=(("Location", site.good(GOOD)),))
            if request.path.startswith("/rss/articles/"):
                return Reply(200, INTERSTITIAL)  # no redirect: the publisher URL stays unknown
            return Reply(404, b"", "text/plain")

        gnews.route = route
        feed = {"kind": "google_news", "url": f"{gnews.base}/rss/search", "query": "north korean troops kursk"}
        topic = _topic(tmp_path / "t.yaml", [feed])
        [job] = plan.run([topic], db, data, "run-1")
        discover.run(job)
        staged = yaml.safe_load((job.stage_dir / "entries.json").read_text(encoding="utf-8"))
        entries = [from_json(FeedEntry, e) for e in staged["entries"]]
        _finish(job)
        site_hits = dict(site.hits)
    [search] = gnews.hits("/rss/search")
    assert search.query == {"q": ["north korean troops kursk"], "hl": ["en-US"], "gl": ["US"], "ceid": ["US:en"]}
    link = f"{gnews.base}/rss/articles/CBMi%s?oc=5"
    assert [(e.url, e.via, e.outlet) for e in entries] == [
        (site.good(GOOD), link % "AAA", "Harbor Wire"),  # resolved: the publisher's URL, the link kept
        (link % "BBB", None, "Eastern Dispatch"),  # unresolved: kept, fetched through the link
    ]
    outcomes = dict(_rows(db, "SELECT url, outcome FROM seen_urls"))
    assert outcomes[site.good(GOOD)] == "stored"
    assert outcomes[link % "AAA"] == "redirect"
    assert outcomes[link % "CCC"] == "duplicate"  # same title (curly apostrophe) and outlet as BBB
    assert outcomes[link % "DDD"] == "duplicate"  # same title and outlet as the resolved AAA
    # Each link was asked once to resolve; the duplicates were never fetched, the publisher page once.
    assert [len(gnews.hits(f"/rss/articles/CBMi{t}")) for t in ("AAA", "CCC", "DDD")] == [1, 1, 1]
    assert site_hits.get(f"/articles/{GOOD}.html") == 1
