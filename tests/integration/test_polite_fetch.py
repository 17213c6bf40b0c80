"""Polite, conditional fetching, asserted on the server's side: real loopback HTTP, real DuckDB, the task bodies.

A second poll of an unchanged feed sends the validators back and gets a 304;
pages go out at most two at a time per host, spaced, and a path robots.txt
disallows is never requested.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.app.sample_site import load_sample_articles, render_page
from pipeline.ingest.http import Validators, read_feed
from pipeline.topics import FetchSpec
from tests.integration.feed_servers import Reply, Request, recording_server, rss
from tests.integration.helpers import hostile_site, write_topic
from tests.integration.helpers import ingest_once as _ingest
from tests.integration.helpers import query_rows as _rows

GOOD = "north-korean-troops-reach-kursk"
FAST = {"timeout_seconds": 2, "retries": 0, "backoff_seconds": 0, "per_host_delay_seconds": 0}
ETAG = '"feed-v1"'
LAST_MODIFIED = "Mon, 04 Nov 2024 09:00:00 GMT"


def test_a_second_poll_of_an_unchanged_feed_sends_the_validators_and_gets_a_304(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site, recording_server() as feed:
        body = rss([("Good", site.good(GOOD))])
        answers: list[int] = []

        def route(request: Request) -> Reply:
            if request.path != "/feed.xml":
                return Reply(404, b"", "text/plain")
            if request.headers.get("if-none-match") == ETAG:
                answers.append(304)
                return Reply(304, b"", headers=(("ETag", ETAG),))
            answers.append(200)
            return Reply(200, body, "application/rss+xml", (("ETag", ETAG), ("Last-Modified", LAST_MODIFIED)))

        feed.route = route
        topic = write_topic(tmp_path / "t.yaml", f"{feed.base}/feed.xml", [], fetch=FAST)
        first = _ingest(topic, db, data, "run-1")
        second = _ingest(topic, db, data, "run-2")
    [poll_1, poll_2] = feed.hits("/feed.xml")
    assert "if-none-match" not in poll_1.headers and "if-modified-since" not in poll_1.headers
    assert poll_2.headers["if-none-match"] == ETAG
    assert poll_2.headers["if-modified-since"] == LAST_MODIFIED
    assert answers == [200, 304]
    assert (first["articles"], second["articles"]) == (1, 0)
    [(status, entries, etag, modified, digest)] = _rows(
        db, "SELECT last_status, entries_seen, etag, last_modified, body_sha256 FROM feed_state"
    )
    assert status == "ok (unchanged: 304 not modified)"
    assert (entries, etag, modified) == (1, ETAG, LAST_MODIFIED)  # kept from the poll that parsed
    assert digest is not None


def test_a_feed_without_validators_is_not_parsed_when_its_body_is_unchanged() -> None:
    spec = FetchSpec(**FAST)
    with recording_server() as feed:
        body = rss([("One", "http://example.org/one")])
        feed.route = lambda request: Reply(200, body, "application/rss+xml")
        first = read_feed(f"{feed.base}/feed.xml", spec, allow_private_hosts=True)
        again = read_feed(f"{feed.base}/feed.xml", spec, allow_private_hosts=True, validators=first.validators)
        body = rss([("One", "http://example.org/one"), ("Two", "http://example.org/two")])
        changed = read_feed(f"{feed.base}/feed.xml", spec, allow_private_hosts=True, validators=again.validators)
    assert (first.items, first.unchanged) == (1, None)
    assert (again.items, again.entries, again.unchanged) == (0, [], "same body as the last poll")
    assert [e.url for e in changed.entries] == ["http://example.org/one", "http://example.org/two"]
    assert changed.validators.body_sha256 != first.validators.body_sha256


def test_validators_survive_a_failed_poll() -> None:
    spec = FetchSpec(**FAST)
    with recording_server() as feed:
        feed.route = lambda request: Reply(304, b"")
        read = read_feed(
            f"{feed.base}/feed.xml",
            spec,
            allow_private_hosts=True,
            validators=Validators(ETAG, LAST_MODIFIED, "abc"),
        )
    assert read.unchanged == "304 not modified"
    assert read.validators == Validators(ETAG, LAST_MODIFIED, "abc")  # the 304 repeated none of them


PAGE_SECONDS = 1.0  # long enough that two requests overlap even on a loaded machine
DELAY = 0.15


def test_pages_go_out_two_at_a_time_per_host_spaced_and_robots_txt_is_obeyed(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    pages = [p for p in load_sample_articles() if p.slug != "kursk-derby-snow"][:6]
    with recording_server() as site:
        by_path = {f"/a/{p.slug}.html": p for p in pages}
        links = [(p.title, f"{site.base}{path}") for path, p in by_path.items()]
        links.append(("Members only", f"{site.base}/private/secret.html"))

        def route(request: Request) -> Reply:
            if request.path == "/feed.xml":
                return Reply(200, rss(links), "application/rss+xml")
            if request.path == "/robots.txt":
                return Reply(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            if request.path in by_path:
                html = render_page(by_path[request.path], site.base).encode("utf-8")
                return Reply(200, html, delay=PAGE_SECONDS)
            return Reply(200, b"<html><body><p>secret</p></body></html>")

        site.route = route
        fetch = {**FAST, "timeout_seconds": 10, "per_host_concurrency": 2, "per_host_delay_seconds": DELAY}
        fetch["concurrency"] = 8
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch=fetch)
        result = _ingest(topic, db, data, "run-1")
    page_requests = sorted((r for r in site.requests if r.path.startswith("/a/")), key=lambda r: r.at)
    assert len(page_requests) == len(pages)
    assert site.max_in_flight("/a/") == 2  # concurrent, and never more than the limit
    gaps = [b.at - a.at for a, b in zip(page_requests, page_requests[1:], strict=False)]
    assert min(gaps) >= DELAY / 2, gaps  # spaced (unspaced requests would start together); loopback jitter aside
    assert site.hits("/private/secret.html") == []
    assert len(site.hits("/robots.txt")) == 1
    assert site.hits("/robots.txt")[0].at < page_requests[0].at
    [(outcome,)] = _rows(db, "SELECT outcome FROM seen_urls WHERE url LIKE '%/private/%'")
    assert outcome == "robots"
    assert result["skipped"] >= 1
