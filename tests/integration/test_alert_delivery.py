"""Alert delivery against a slow real webhook on 127.0.0.1, a sender killed mid-send,
and a whole run killed between detection and delivery.

The receiver answers only after 6 s (Apprise's own read timeout is 4 s).  The
deliver task runs for real on a real DuckDB file; the killed sender is a
separate process running the same task body; the killed run is ``claimwatch run``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.alerting.routes import AlertDeliveryError, claim_lease_seconds, send_alert
from pipeline.records import Alert
from pipeline.steps import deliver, detect, plan
from pipeline.steps.job import Job
from pipeline.store.checks import record_check
from pipeline.store.outbox import claim_alert, pending_alerts
from pipeline.store.session import open_store
from tests.integration.helpers import (
    CLAIMWATCH,
    REPO_ROOT,
    Webhook,
    query_rows,
    run_cli,
    webhook_receiver,
    write_topic,
)

pytestmark = pytest.mark.slow

RECEIVER_DELAY = 6.0
KEY = "Idempotency-Key"


def _queue(db: Path, topic: str, route_url: str, n: int) -> list[str]:
    """Queue n alerts the way the detect task does (record_check), each with its own id."""
    alerts = [
        Alert(
            alert_id=f"alert-{i}",
            contradiction_id=f"x-{i}",
            topic=topic,
            metric="troops_deployed",
            severity="medium",
            route_url=route_url,
            payload={"alert_id": f"alert-{i}", "topic": topic, "metric": "troops_deployed", "reason": f"case {i}"},
        )
        for i in range(1, n + 1)
    ]
    with open_store(db) as con:
        record_check(con, topic, [], [], alerts, "r1")
    return [a.alert_id for a in alerts]


def _job(tmp_path: Path, hook_url: str, timeout: float | None) -> Job:
    topic = write_topic(tmp_path / "t.yaml", "http://127.0.0.1:9/feed.xml", [hook_url], alert_timeout=timeout)
    return Job(str(topic), str(tmp_path / "c.duckdb"), str(tmp_path / "data"), "manual__1")


def _keys(hook: Webhook) -> list[str]:
    return [r.headers[KEY] for r in hook.received]


def _rows(db: Path) -> dict[str, tuple[str, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT alert_id, status, attempts FROM alerts").fetchall()}
    finally:
        con.close()


def test_a_receiver_slower_than_apprise_default_gets_each_alert_once(tmp_path: Path) -> None:
    with webhook_receiver() as hook:
        hook.delay = RECEIVER_DELAY
        job = _job(tmp_path, hook.url, timeout=None)  # the route's default timeout
        ids = _queue(Path(job.db), "kursk_test", hook.url, 3)
        assert deliver.run(job) == {"delivered": 3}
        assert deliver.run(job) == {"delivered": 0}
    assert sorted(_keys(hook)) == ids  # one request per alert, keyed by its id
    assert [json.loads(json.loads(b)["message"])["alert_id"] for b in hook.bodies] == _keys(hook)
    assert _rows(Path(job.db)) == {i: ("delivered", 1) for i in ids}


def test_a_timeout_shorter_than_the_receiver_resends_with_the_same_key(tmp_path: Path) -> None:
    """Where the sender cannot know the receiver got it, every attempt carries the same idempotency key."""
    with webhook_receiver() as hook:
        hook.delay = RECEIVER_DELAY
        job = _job(tmp_path, hook.url, timeout=2)
        [alert_id] = _queue(Path(job.db), "kursk_test", hook.url, 1)
        with pytest.raises(AlertDeliveryError, match="not delivered"):
            deliver.run(job)
        assert _rows(Path(job.db)) == {alert_id: ("pending", 1)}
        job = _job(tmp_path, hook.url, timeout=RECEIVER_DELAY + 4)
        assert deliver.run(job) == {"delivered": 1}
    assert _keys(hook) == [alert_id, alert_id]
    assert hook.received[0].body == hook.received[1].body
    assert _rows(Path(job.db)) == {alert_id: ("delivered", 2)}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_webhook_that_redirects_fails_the_attempt_naming_the_location_and_the_target_gets_nothing(
    tmp_path: Path, status: int
) -> None:
    """Followed, a 302/303 turns the POST into a GET the target answers 200 (so "delivered"), a 307/308
    re-posts the alert to a host nobody configured: the attempt fails instead, and is retried."""
    with webhook_receiver() as target, webhook_receiver() as hook:
        hook.status, hook.location = status, target.http_url + "?token=abc"
        job = _job(tmp_path, hook.url, timeout=5)
        [alert_id] = _queue(Path(job.db), "kursk_test", hook.url, 1)
        for attempt in (1, 2):  # the task's retry finds it pending and tries again
            with pytest.raises(AlertDeliveryError) as info:
                deliver.run(job)
            assert f"answered {status} redirecting to {target.http_url};" in str(info.value)
            assert _rows(Path(job.db)) == {alert_id: ("pending", attempt)}
        [(last_error,)] = query_rows(Path(job.db), "SELECT last_error FROM alerts")
        assert target.http_url in last_error and "token=abc" not in last_error
        assert [r.method for r in hook.received] == ["POST", "POST"] and _keys(hook) == [alert_id, alert_id]
        assert target.received == []
        hook.status, hook.location = 200, None  # the receiver fixed: the next retry delivers it, once
        assert deliver.run(job) == {"delivered": 1}
        assert deliver.run(job) == {"delivered": 0}
    assert _rows(Path(job.db)) == {alert_id: ("delivered", 3)} and target.received == []


_SENDER = (
    "import sys; from pipeline.steps import deliver; from pipeline.steps.job import Job; "
    "deliver.run(Job(*sys.argv[1:5]))"
)


def test_a_sender_killed_mid_send_resends_only_the_alert_in_flight_with_its_key(tmp_path: Path) -> None:
    """SIGKILL while the receiver holds the first alert's request open, then run again.

    The killed alert arrived; the sender could not know, so it is sent once
    more with the same key (after its claim's lease); every other alert
    arrives exactly once, and a run meanwhile does not send the claimed one.
    """
    timeout = RECEIVER_DELAY + 1
    with webhook_receiver() as hook:
        hook.delay = RECEIVER_DELAY
        job = _job(tmp_path, hook.url, timeout=timeout)
        ids = _queue(Path(job.db), "kursk_test", hook.url, 3)
        sender = subprocess.Popen(
            [sys.executable, "-c", _SENDER, job.topic_file, job.db, job.data_dir, job.run_id], cwd=REPO_ROOT
        )
        try:
            deadline = time.monotonic() + 60
            while not hook.received and time.monotonic() < deadline and sender.poll() is None:
                time.sleep(0.05)
            assert len(hook.received) == 1, "the sender never reached the receiver"
        finally:
            sender.send_signal(signal.SIGKILL)
            sender.wait()
        assert _rows(Path(job.db)) == {ids[0]: ("sending", 1), ids[1]: ("pending", 0), ids[2]: ("pending", 0)}

        with pytest.raises(AlertDeliveryError, match=f"{ids[0]}: being sent by another run"):
            deliver.run(job)  # the others go out; the claimed one is left to its lease
        assert sorted(_keys(hook)) == ids

        con = duckdb.connect(job.db, read_only=True)
        row = con.execute("SELECT claimed_until FROM alerts WHERE alert_id = ?", [ids[0]]).fetchone()
        con.close()
        assert row is not None
        time.sleep(max(0.0, (row[0] - datetime.now(UTC)).total_seconds()) + 0.5)
        assert deliver.run(job) == {"delivered": 1}
        assert deliver.run(job) == {"delivered": 0}
    assert Counter(_keys(hook)) == {ids[0]: 2, ids[1]: 1, ids[2]: 1}
    first, again = (r for r in hook.received if r.headers[KEY] == ids[0])
    assert first.body == again.body
    assert _rows(Path(job.db)) == {ids[0]: ("delivered", 2), ids[1]: ("delivered", 1), ids[2]: ("delivered", 1)}
    assert claim_lease_seconds(timeout) < 30  # the wait above is bounded by the route's own timeout


def test_a_file_alert_written_before_a_crash_is_not_written_twice(tmp_path: Path) -> None:
    """The run died between appending the line and marking the alert: the next run marks it, no second line."""
    job = _job(tmp_path, "file:alerts.jsonl", timeout=None)
    ids = _queue(Path(job.db), "kursk_test", "file:alerts.jsonl", 2)
    with open_store(job.db) as con:
        [first] = [a for a in pending_alerts(con, "kursk_test") if a.alert_id == ids[0]]
        # the crashed run's claim, its lease long over
        assert claim_alert(con, first.alert_id, lease_seconds=1, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert send_alert(first, Path(job.data_dir)) is True  # ...and its line written; then it died
    assert deliver.run(job) == {"delivered": 2}
    lines = (Path(job.data_dir) / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["alert_id"] for x in lines] == ids
    assert _rows(Path(job.db)) == {ids[0]: ("delivered", 2), ids[1]: ("delivered", 1)}


def _group(pgid: int) -> dict[int, list[str]]:
    """The live processes of a process group, each with its command line (an exited one has none)."""
    out = {}
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.getpgid(int(entry)) == pgid:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[:-1]
                if argv:
                    out[int(entry)] = [a.decode(errors="replace") for a in argv]
        except OSError:  # it exited meanwhile
            pass
    return out


def _step_started(pgid: int, step: str) -> bool:
    """A step process of this run (``python -m pipeline.orchestration.stepprocess <step> <parent>``) has started."""
    return any(argv[1:4] == ["-m", "pipeline.orchestration.stepprocess", step] for argv in _group(pgid).values())


def test_a_run_killed_between_detection_and_delivery_sends_each_alert_once_on_the_next(tmp_path: Path) -> None:
    """SIGKILL the whole run the moment its deliver step process starts; the next run sends each alert once.

    Deliver starts only after detect has committed, so every alert is queued
    and none sent.  The new interpreter takes about half a second to import
    and claim its first alert, far longer than this test takes to notice it;
    the checks at the kill (nothing claimed, nothing received) would catch a
    kill that came too late.
    """
    from pipeline.app.sample_site import serve_site

    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    db, lines = tmp_path / "c.duckdb", tmp_path / "data" / "alerts.jsonl"
    with serve_site() as base, webhook_receiver() as hook:
        topic = write_topic(
            tmp_path / "t.yaml",
            f"{base}/feed.xml",
            ["file:alerts.jsonl", hook.url],
            fetch={"per_host_delay_seconds": 0},
        )
        args = ["run", "--topic", str(topic), "--db", str(db)]
        with (tmp_path / "killed.log").open("w+", encoding="utf-8") as log_file:
            run = subprocess.Popen(
                [str(CLAIMWATCH), *args],
                env={**os.environ, **env},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                process_group=0,  # the run and its step processes, killed together
            )
            deadline = time.monotonic() + 600
            try:
                while not (started := _step_started(run.pid, "deliver")):
                    if run.poll() is not None or time.monotonic() > deadline:
                        break
                    time.sleep(0.005)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(run.pid, signal.SIGKILL)
                run.wait()
            log_file.seek(0)
            assert started, "delivery never started:\n" + log_file.read()[-3000:]
        while _group(run.pid):  # the step process goes with its group
            time.sleep(0.01)

        assert hook.received == [] and not lines.exists()
        queued = query_rows(db, "SELECT alert_id, route_url, status, attempts FROM alerts ORDER BY alert_id")
        assert queued and {(r[2], r[3]) for r in queued} == {("pending", 0)}
        webhook_ids = sorted(r[0] for r in queued if r[1] == hook.url)
        file_ids = sorted(r[0] for r in queued if r[1] == "file:alerts.jsonl")
        assert len(webhook_ids) == len(file_ids) and len(webhook_ids) + len(file_ids) == len(queued)  # both routes

        again = run_cli(args, env)
        assert again.returncode == 0, again.stderr[-3000:]
        delivered = query_rows(db, "SELECT alert_id, status, attempts FROM alerts ORDER BY alert_id")
        assert delivered == [(r[0], "delivered", 1) for r in queued]  # nothing new queued, each sent at the first try
        assert sorted(_keys(hook)) == webhook_ids
        assert [json.loads(json.loads(b)["message"])["alert_id"] for b in hook.bodies] == _keys(hook)
        written = lines.read_text(encoding="utf-8").splitlines()
        assert sorted(json.loads(x)["alert_id"] for x in written) == file_ids

        # Once more, the alerts DAG's task bodies in this process (a whole run would add ~17 s): nothing more.
        [job] = plan.run([topic], db, tmp_path / "data", "manual__3")
        assert detect.run(job)["alerts_queued"] == 0
        assert deliver.run(job) == {"delivered": 0}
        assert len(hook.received) == len(webhook_ids)
    assert lines.read_text(encoding="utf-8").splitlines() == written
    assert query_rows(db, "SELECT alert_id, status, attempts FROM alerts ORDER BY alert_id") == delivered
