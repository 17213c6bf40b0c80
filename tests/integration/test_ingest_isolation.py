"""One bad item never stops a topic: real loopback HTTP, real DuckDB, the task bodies and `claimwatch run`.

The feed mixes good articles with each kind of item that used to fail a whole
run (a malformed IPv6 link, a control character, a lone surrogate, a gzip
lie, a hanging page, a non-http link).  The good articles must be stored,
every bad item recorded with its reason, and permanent failures never retried.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from pipeline.steps import discover, extract, fetch, load, plan, validate
from tests.integration.helpers import HostileSite, hostile_site, run_cli, write_topic
from tests.integration.helpers import ingest_once as _ingest
from tests.integration.helpers import query_rows as _rows

GOOD = "north-korean-troops-reach-kursk"
SECOND = "president-says-up-to-12000-sent"
THIRD = "seoul-raises-troop-estimate"
FAST_FETCH = {"timeout_seconds": 0.5, "retries": 0, "backoff_seconds": 0}


def _hostile_items(site: HostileSite) -> None:
    site.feed_items = [
        ("Good", site.good(GOOD)),
        ("Broken IPv6 host", "http://[::1"),
        ("Control character", f"{site.base}/articles/ctl&#x7f;x.html"),
        ("Lone surrogate &#xD800; in a title", site.good(SECOND)),
        ("Gzip lie", f"{site.base}/gzip-lie/story.html"),
        ("Hangs", f"{site.base}/hang/story.html"),
        ("Not http", "ftp://files.example/story.txt"),
    ]


def _assert_bad_items_recorded(db: Path, site: HostileSite) -> None:
    stored = {r[0] for r in _rows(db, "SELECT url FROM articles")}
    assert stored == {site.good(GOOD), site.good(SECOND)}
    quarantined = {r[0]: (r[1], r[2]) for r in _rows(db, "SELECT url, stage, reason FROM quarantine")}
    assert quarantined["http://[::1"][0] == "discover" and "malformed URL" in quarantined["http://[::1"][1]
    ctl = f"{site.base}/articles/ctl\x7fx.html"
    assert quarantined[ctl][0] == "discover" and "non-printable" in quarantined[ctl][1]
    assert "not an http(s) link" in quarantined["ftp://files.example/story.txt"][1]
    gzip = f"{site.base}/gzip-lie/story.html"
    assert quarantined[gzip][0] == "fetch" and "Content-Encoding" in quarantined[gzip][1]
    assert {r[0] for r in _rows(db, "SELECT url FROM seen_urls WHERE outcome = 'quarantined'")} == set(quarantined)
    [(url, attempts, reason, due)] = _rows(db, "SELECT url, attempts, last_reason, next_retry_at FROM url_failures")
    assert (url, attempts) == (f"{site.base}/hang/story.html", 1) and "timed out" in reason and due is not None
    [(status, items)] = _rows(db, "SELECT last_status, entries_seen FROM feed_state")
    assert status.startswith("ok") and "invalid character reference" in status and items == 7


def test_bad_items_are_recorded_and_the_good_articles_stored(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site:
        _hostile_items(site)
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch=FAST_FETCH)
        first = _ingest(topic, db, data, "run-1")
        assert (first["articles"], first["retrying"]) == (2, 1)
        _assert_bad_items_recorded(db, site)
        assert not (data / "staging" / "t" / "run-1").exists()

        hits = dict(site.hits)
        second = _ingest(topic, db, data, "run-2")
    assert (second["articles"], second["retrying"]) == (0, 0)
    assert site.hits["/gzip-lie/story.html"] == hits["/gzip-lie/story.html"] == 1  # permanent: never again
    assert site.hits["/hang/story.html"] == 1  # transient, but its retry is not due yet
    assert not any("ctl" in path for path in site.hits)  # a malformed link is never requested
    assert _rows(db, "SELECT attempts FROM url_failures") == [(1,)]


def test_failing_urls_are_retried_when_due_then_quarantined(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site:
        site.feed_items = [("Hangs", f"{site.base}/hang/a.html"), ("Good", site.good(GOOD))]
        retry_now = {**FAST_FETCH, "url_retry_minutes": 0, "max_url_attempts": 2}
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch=retry_now)
        _ingest(topic, db, data, "run-1")
        assert _rows(db, "SELECT attempts FROM url_failures") == [(1,)]
        second = _ingest(topic, db, data, "run-2")
        _ingest(topic, db, data, "run-3")
    assert second["given_up"] == 1 and site.hits["/hang/a.html"] == 2
    assert _rows(db, "SELECT count(*) FROM url_failures") == [(0,)]
    [(stage, reason)] = _rows(db, "SELECT stage, reason FROM quarantine")
    assert stage == "fetch" and reason.startswith("gave up after 2 attempts: timed out")


def test_hanging_urls_do_not_starve_good_ones(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site:
        site.feed_items = [(f"Hangs {i}", f"{site.base}/hang/{i}.html") for i in range(3)]
        site.feed_items += [("Good", site.good(GOOD)), ("Also good", site.good(THIRD))]
        topic = write_topic(
            tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch={**FAST_FETCH, "max_articles_per_run": 2}
        )
        first = _ingest(topic, db, data, "run-1")
        second = _ingest(topic, db, data, "run-2")
        third = _ingest(topic, db, data, "run-3")
    assert (first["articles"], first["retrying"]) == (0, 2)
    assert (second["articles"], second["retrying"]) == (1, 1)
    assert third["articles"] == 1
    assert {r[0] for r in _rows(db, "SELECT url FROM articles")} == {site.good(GOOD), site.good(THIRD)}
    assert all(site.hits[f"/hang/{i}.html"] == 1 for i in range(3))


def test_feed_url_secrets_are_expanded_and_never_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FEED_TOKEN", "s3cret-t0ken")
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    caplog.set_level(logging.INFO)
    with hostile_site() as site:
        site.feed_items = [("Good", site.good(GOOD))]
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml?token=${{FEED_TOKEN}}", [], fetch=FAST_FETCH)
        missing = write_topic(tmp_path / "m.yaml", f"{site.base}/missing.xml?token=${{FEED_TOKEN}}", [], name="other")
        assert _ingest(topic, db, data, "run-1")["articles"] == 1
        with pytest.raises(Exception, match="every feed") as failed:
            _ingest(missing, db, data, "run-1")
    assert site.hits["/feed.xml"] == 1
    [(feed_url, status), (failed_url, failed_status)] = _rows(
        db, "SELECT feed_url, last_status FROM feed_state ORDER BY topic"
    )
    assert feed_url.endswith("?token=${FEED_TOKEN}") and status == "ok"
    # the failed topic's poll is recorded too (failures in a row count), with the secret still unexpanded
    assert (
        failed_url.endswith("?token=${FEED_TOKEN}")
        and failed_status.startswith("error")
        and "s3cret" not in failed_status
    )
    assert not [r for r in _rows(db, "SELECT * FROM feed_polls") if "s3cret" in str(r)]
    assert "s3cret" not in str(failed.value) and "${FEED_TOKEN}" in str(failed.value)
    assert "HTTP 404" in str(failed.value)
    assert "s3cret" not in caplog.text and "token=${FEED_TOKEN}" in caplog.text


def test_a_missing_feed_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_FEED_TOKEN", raising=False)
    topic = write_topic(tmp_path / "t.yaml", "https://news.example/feed?key=${NO_SUCH_FEED_TOKEN}", [])
    with pytest.raises(Exception, match="NO_SUCH_FEED_TOKEN is not set"):
        _ingest(topic, tmp_path / "c.duckdb", tmp_path / "data", "run-1")


def test_stale_staging_of_a_crashed_run_is_removed(tmp_path: Path) -> None:
    from pipeline.steps.staging import STALE_AFTER_SECONDS

    data = tmp_path / "data"
    with hostile_site() as site:
        site.feed_items = [("Good", site.good(GOOD))]
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch=FAST_FETCH)
        crashed = data / "staging" / "t" / "crashed-run" / "pages"
        crashed.mkdir(parents=True)
        (crashed / "000001.json").write_text("{}", encoding="utf-8")
        silent_since = time.time() - STALE_AFTER_SECONDS - 60  # no sign of life since it crashed
        os.utime(crashed.parent, (silent_since, silent_since))
        _ingest(topic, tmp_path / "c.duckdb", data, "run-2")
    assert not crashed.parent.exists()
    assert list((data / "staging" / "t").iterdir()) == []


def test_discover_stops_while_another_run_of_the_topic_is_live_and_removes_nothing(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site:
        site.feed_items = [("Good", site.good(GOOD))]
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch=FAST_FETCH)
        [other] = plan.run([topic], db, data, "manual__other")
        discover.run(other)  # the other run has claimed the topic and staged its entries
        fetch.run(other)
        staged = sorted(p.relative_to(data) for p in other.stage_dir.rglob("*"))
        [job] = plan.run([topic], db, data, "manual__this")
        with pytest.raises(Exception, match=r"run manual__other is in progress") as refused:
            discover.run(job)
        assert type(refused.value).__name__ == "RunInProgressError" and str(other.stage_dir) in str(refused.value)
        assert sorted(p.relative_to(data) for p in other.stage_dir.rglob("*")) == staged
        assert not job.stage_dir.exists()
        assert site.hits["/feed.xml"] == 1  # it stopped before reading the feed
        for step in (extract.run, validate.run, load.run):  # the other run finishes as if alone
            step(other)
    assert _rows(db, "SELECT url FROM articles") == [(site.good(GOOD),)]


@pytest.mark.slow
def test_claimwatch_run_survives_a_hostile_feed_and_does_not_retry_permanent_failures(tmp_path: Path) -> None:
    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    db = tmp_path / "c.duckdb"
    with hostile_site() as site:
        _hostile_items(site)
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", ["file:alerts.jsonl"], fetch=FAST_FETCH)
        first = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert first.returncode == 0, first.stderr[-3000:]
        _assert_bad_items_recorded(db, site)
        second = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert site.hits["/gzip-lie/story.html"] == 1 and site.hits["/hang/story.html"] == 1
    assert _rows(db, "SELECT count(*) FROM articles") == [(2,)]


@pytest.mark.slow
def test_claimwatch_run_stores_good_articles_behind_hanging_ones_within_two_runs(tmp_path: Path) -> None:
    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    db = tmp_path / "c.duckdb"
    with hostile_site() as site:
        site.feed_items = [(f"Hangs {i}", f"{site.base}/hang/{i}.html") for i in range(3)]
        site.feed_items += [("Good", site.good(GOOD)), ("Also good", site.good(THIRD))]
        fetch = {**FAST_FETCH, "max_articles_per_run": 2}
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", ["file:alerts.jsonl"], fetch=fetch)
        for _ in range(2):
            result = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
            assert result.returncode == 0, result.stderr[-3000:]
    assert _rows(db, "SELECT url FROM articles") == [(site.good(GOOD),)]
    assert _rows(db, "SELECT count(*) FROM url_failures") == [(3,)]


def test_past_the_fetch_budget_the_remaining_pages_wait_for_the_next_run(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site:
        site.feed_items = [("Hangs", f"{site.base}/hang/a.html"), ("Good", site.good(GOOD))]
        # No robots.txt round trip before the first page, and the second page's turn on the host
        # (1 s after the first) comes after the budget.
        polite = {**FAST_FETCH, "respect_robots": False, "per_host_delay_seconds": 1.0}
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch=polite)
        [job] = plan.run([topic], db, data, "run-1")
        discover.run(job)
        fetch.run(job, budget_seconds=0.2)  # the hanging page alone spends it
        for step in (extract.run, validate.run):
            step(job)
        first = load.run(job)
        assert "/articles/" + GOOD + ".html" not in site.hits
        second = _ingest(topic, db, data, "run-2")
    assert (first["articles"], first["retrying"]) == (0, 1)
    assert second["articles"] == 1
    assert _rows(db, "SELECT url FROM articles") == [(site.good(GOOD),)]


def test_past_the_discover_budget_the_remaining_feeds_are_polled_first_next_run(tmp_path: Path) -> None:
    from tests.integration.feed_servers import Reply, Request, recording_server, rss

    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site, recording_server() as feeds:
        lists = {"/slow.xml": GOOD, "/a.xml": SECOND, "/b.xml": THIRD}

        def route(request: Request) -> Reply:
            body = rss([(request.path, site.good(lists[request.path]))])
            return Reply(200, body, "application/rss+xml", delay=1.0 if request.path == "/slow.xml" else 0.0)

        feeds.route = route
        urls = [f"{feeds.base}{path}" for path in lists]
        fetch_spec = {**FAST_FETCH, "timeout_seconds": 5}
        topic = write_topic(tmp_path / "t.yaml", urls[0], [], fetch=fetch_spec, extra_feed_urls=urls[1:])
        [job] = plan.run([topic], db, data, "run-1")
        discover.run(job, budget_seconds=0.5)  # the slow feed alone spends it
        for step in (fetch.run, extract.run, validate.run):
            step(job)
        first = load.run(job)
        state = dict(_rows(db, "SELECT feed_url, last_status FROM feed_state"))
        polls_1 = _rows(db, "SELECT feed_url FROM feed_polls")
        [job] = plan.run([topic], db, data, "run-2")
        discover.run(job, budget_seconds=0.5)
        for step in (fetch.run, extract.run, validate.run):
            step(job)
        second = load.run(job)
    assert [r.path for r in feeds.requests] == ["/slow.xml", "/a.xml", "/b.xml", "/slow.xml"]
    assert first["articles"] == 1 and polls_1 == [(urls[0],)]  # a feed not polled is no failed poll
    assert state[urls[0]] == "ok"
    for url in urls[1:]:
        assert state[url].startswith("not polled: discover budget of 0.5 s spent"), state[url]
    assert second["articles"] == 2
    assert {r[0] for r in _rows(db, "SELECT url FROM articles")} == {site.good(s) for s in lists.values()}
    health = dict(_rows(db, "SELECT feed_url, consecutive_failures FROM feed_state"))
    assert all(not failures for failures in health.values()), health
