"""Operations alerts through the real route sender: a loopback webhook, a file route, a real DuckDB file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb

from pipeline.alerting import operations
from pipeline.orchestration.ledger import errors_file
from pipeline.orchestration.notifiers import RunFailureNotifier
from pipeline.records import FeedPoll
from pipeline.steps import watch
from pipeline.steps.job import Job
from pipeline.store.polls import record_poll_history
from pipeline.store.session import open_store
from pipeline.topics import AlertRoute
from tests.integration.helpers import webhook_receiver, write_topic

NOW = datetime(2025, 12, 1, 12, tzinfo=UTC)
FEEDS = ["http://127.0.0.1:9/broken.xml", "http://127.0.0.1:9/quiet.xml"]


def _ledger(data_dir: Path, run_id: str, *lines: dict[str, object]) -> None:
    path = errors_file(data_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_failure_callback_sends_one_alert_per_failed_task_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    monkeypatch.setenv("CLAIMWATCH_DATA_DIR", str(data))
    run_id = "scheduled__2025-12-01T12:00:00+00:00"
    with webhook_receiver() as hook:
        topic = write_topic(
            tmp_path / "t.yaml", FEEDS[0], ["file:contradictions.jsonl"], "ops_t", ops_alert_urls=[hook.url]
        )
        retried = {"task_id": "fetch", "map_index": 0, "topic_file": str(topic), "error": "Timeout", "final": False}
        final = {"task_id": "load", "map_index": 0, "topic_file": str(topic), "error": "IOException: disk full"}
        _ledger(data, run_id, retried, {**final, "final": True, "at": NOW.isoformat()})
        context = {"dag": SimpleNamespace(dag_id="claimwatch_ingest"), "run_id": run_id, "reason": "task_failure"}

        RunFailureNotifier()(context)
        RunFailureNotifier()(context)  # a repeated callback for the same failed run pages no one again

    assert len(hook.received) == 1
    alert = json.loads(json.loads(hook.received[0].body)["message"])
    assert (alert["topic"], alert["task_id"], alert["error"]) == ("ops_t", "load", "IOException: disk full")
    assert alert["run_id"] == run_id and alert["severity"] == "high"
    assert hook.received[0].headers["Idempotency-Key"] == alert["alert_id"]
    assert not (data / "contradictions.jsonl").exists()


def test_failure_before_any_topic_is_known_reports_the_task_in_the_context(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    monkeypatch.setenv("CLAIMWATCH_DATA_DIR", str(data))
    topic = write_topic(tmp_path / "t.yaml", FEEDS[0], [], "ops_t", ops_alert_urls=["file:ops.jsonl"])
    context = {
        "dag": SimpleNamespace(dag_id="claimwatch_alerts"),
        "run_id": "manual__1",
        "ti": SimpleNamespace(task_id="plan", map_index=-1),
        "params": {"topic_file": str(topic)},
    }
    RunFailureNotifier()(context)
    (line,) = (data / "ops.jsonl").read_text(encoding="utf-8").splitlines()
    alert = json.loads(line)
    assert alert["task_id"] == "plan" and alert["dag_id"] == "claimwatch_alerts" and "task log" in alert["error"]


def test_ops_alerts_respect_route_severity_and_are_sent_once(tmp_path: Path) -> None:
    alert = operations.run_failed(
        topic="t", dag_id="d", run_id="r", task_id="discover", map_index=0, error="boom", at=NOW
    )
    routes = [AlertRoute(url="file:ops.jsonl"), AlertRoute(url="file:pager.jsonl", min_severity="high")]
    quiet = [AlertRoute(url="file:critical-only.jsonl", min_severity="high")]
    feed = operations.feed_condition("t", _verdict("silent"), NOW)
    assert len(operations.send([alert, feed], routes + quiet, tmp_path)) == 4  # feed (low) skips the high-only routes
    assert operations.send([alert, feed], routes + quiet, tmp_path) == []
    assert len((tmp_path / "ops.jsonl").read_text().splitlines()) == 2
    assert len((tmp_path / "pager.jsonl").read_text().splitlines()) == 1
    assert len((tmp_path / "critical-only.jsonl").read_text().splitlines()) == 1


def _verdict(state: str):  # type: ignore[no-untyped-def]
    from pipeline.ingest.health import FeedHealth

    return FeedHealth("http://f.example/feed", state, 0, NOW, NOW - timedelta(days=9), timedelta(days=1), "quiet")


def test_watch_pages_about_broken_and_silent_feeds_once_a_day(tmp_path: Path, db_path: Path) -> None:
    topic = write_topic(
        tmp_path / "t.yaml",
        FEEDS[0],
        ["file:contradictions.jsonl"],
        "ops_t",
        ops_alert_urls=["file:ops.jsonl"],
        extra_feed_urls=FEEDS[1:],
    )
    with open_store(db_path) as con:
        for day in range(6):  # the quiet feed brought news daily for six days, then nothing
            record_poll_history(
                con,
                "ops_t",
                [FeedPoll(FEEDS[1], "ok", 5, new_entries=2), FeedPoll(FEEDS[0], "ok", 5, new_entries=1)],
                NOW - timedelta(days=20 - day),
                "r",
            )
        for hour in range(3):
            record_poll_history(
                con,
                "ops_t",
                [FeedPoll(FEEDS[0], "error: HTTP 503", 0), FeedPoll(FEEDS[1], "ok", 5, new_entries=0)],
                NOW - timedelta(hours=3 - hour),
                "r",
            )
    job = Job(str(topic), str(db_path), str(tmp_path), "r")

    counts = watch.run(job, now=lambda: NOW)
    assert counts == {"broken": 1, "silent": 1, "ops_alerts_sent": 2}
    assert watch.run(job, now=lambda: NOW + timedelta(hours=1))["ops_alerts_sent"] == 0
    assert watch.run(job, now=lambda: NOW + timedelta(days=1))["ops_alerts_sent"] == 2

    lines = [json.loads(x) for x in (tmp_path / "ops.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(a["condition"] for a in lines[:2]) == ["feed_broken", "feed_silent"]
    assert not (tmp_path / "contradictions.jsonl").exists()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        state = dict(con.execute("SELECT feed_url, health FROM feed_state").fetchall())
        failures = dict(con.execute("SELECT feed_url, consecutive_failures FROM feed_state").fetchall())
    finally:
        con.close()
    assert state == {FEEDS[0]: "broken", FEEDS[1]: "silent"}
    assert failures == {FEEDS[0]: 3, FEEDS[1]: 0}


def test_chat_message_is_plain_text_without_control_characters() -> None:
    alert = operations.run_failed(
        topic="t", dag_id="d", run_id="r", task_id="fetch", map_index=2, error="bad\x1b[31m \u202eevil\nline", at=NOW
    )
    title, body = alert.message("mailto://ops@example.org")
    assert title == "[claimwatch ops high] t: run failed"
    assert "\x1b" not in body and "\u202e" not in body and "Error: bad[31m evil line" in body
    assert body.splitlines()[0].startswith("d failed for topic t: task fetch[2] failed")
    assert body.endswith(f"Alert {alert.alert_id('mailto://ops@example.org')}")
