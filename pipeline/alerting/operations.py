"""Operations alerts: the pipeline itself is in trouble (a run failed, a feed is broken or silent).

They go to a topic's ``ops_alerts`` routes, never to its contradiction routes,
through the same route sender as contradiction alerts (``routes.send_to_route``):
a ``file:`` route gets one JSON line per alert exactly once, a webhook the
payload with the alert id as ``Idempotency-Key``.

Each alert has a key that names the event, not the moment it was noticed: a
failed task of a run (dag, run, task, map index, topic) or a feed condition on
one day (topic, feed, condition, date).  Sends are recorded in a ledger under
the data directory, so a repeated callback or a re-run never pages twice for
the same event.
"""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.alerting.messages import QUOTE_MAX_CHARS, capped, plain_line, routes_for
from pipeline.alerting.routes import AlertDeliveryError, route_label, send_to_route
from pipeline.ingest.health import FeedHealth, IngestFreshness
from pipeline.quality.drift import Drift
from pipeline.records import Severity, stable_id
from pipeline.topics import AlertRoute

log = logging.getLogger(__name__)

KIND = "operations"
RUN_FAILED_SEVERITY: Severity = "high"
FEED_SEVERITY: dict[str, Severity] = {"broken": "medium", "silent": "low"}
STALE_SEVERITY: Severity = "high"
DRIFT_SEVERITY: Severity = "medium"
LEDGER = Path("ops") / "sent.jsonl"


@dataclass(frozen=True, slots=True)
class OpsAlert:
    """One operations event of one topic; ``key`` names the event, so it is sent once per route."""

    key: str
    topic: str
    condition: str  # run_failed | feed_broken | feed_silent | ingest_stale | scheduler_stale | drift
    severity: Severity
    headline: str
    details: dict[str, Any]

    def alert_id(self, route_url: str) -> str:
        return stable_id(KIND, self.key, route_url)

    def payload(self, route_url: str) -> dict[str, Any]:
        return {
            "kind": KIND,
            "alert_id": self.alert_id(route_url),
            "topic": self.topic,
            "condition": self.condition,
            "severity": self.severity,
            "summary": self.headline,
            **self.details,
        }

    def message(self, route_url: str) -> tuple[str, str]:
        """Plain text for chat and mail: the headline, each detail on its own line, the alert id last.

        Errors can quote what a server sent, so every value is cleaned of control
        and bidi characters and capped, as in contradiction alerts."""
        title = f"[claimwatch ops {self.severity}] {self.topic}: {self.condition.replace('_', ' ')}"
        lines = [capped(plain_line(self.headline), QUOTE_MAX_CHARS), ""]
        lines += [
            f"{k.replace('_', ' ').capitalize()}: {capped(plain_line(v), QUOTE_MAX_CHARS)}"
            for k, v in self.details.items()
            if v not in (None, "")
        ]
        lines += ["", f"Alert {self.alert_id(route_url)}"]
        return title, "\n".join(lines)


def run_failed(
    *, topic: str, dag_id: str, run_id: str, task_id: str, map_index: int, error: str, at: datetime
) -> OpsAlert:
    """A task of a run failed after its retries: the run failed."""
    task = task_id if map_index < 0 else f"{task_id}[{map_index}]"
    return OpsAlert(
        key=stable_id("run_failed", dag_id, run_id, task_id, str(map_index), topic),
        topic=topic,
        condition="run_failed",
        severity=RUN_FAILED_SEVERITY,
        headline=f"{dag_id} failed for topic {topic}: task {task} failed: {error}",
        details={
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": task_id,
            "map_index": map_index,
            "error": error,
            "failed_at": at.astimezone(UTC).isoformat(),
        },
    )


def feed_condition(topic: str, health: FeedHealth, at: datetime) -> OpsAlert:
    """A feed judged broken or silent; one alert per feed, condition and day while it lasts."""
    condition = f"feed_{health.state}"
    return OpsAlert(
        key=stable_id(condition, topic, health.feed_url, at.astimezone(UTC).date().isoformat()),
        topic=topic,
        condition=condition,
        severity=FEED_SEVERITY[health.state],
        headline=f"topic {topic}: feed {health.feed_url} {health.detail}",
        details={
            "feed_url": health.feed_url,
            "health": health.state,
            "detail": health.detail,
            "consecutive_failures": health.consecutive_failures,
            "last_ok_at": health.last_ok_at.isoformat() if health.last_ok_at else None,
            "last_new_at": health.last_new_at.isoformat() if health.last_new_at else None,
            "judged_at": at.astimezone(UTC).isoformat(),
        },
    )


def ingest_stale(freshness: IngestFreshness) -> OpsAlert:
    """No ingest of the topic succeeded within its ``freshness_hours``; one alert per stale spell
    (keyed by the last success), however often the watchdog or an outside monitor asks."""
    last = freshness.last_ok_at.astimezone(UTC).isoformat() if freshness.last_ok_at else "never"
    hours = freshness.freshness.total_seconds() / 3600
    return OpsAlert(
        key=stable_id("ingest_stale", freshness.topic, last),
        topic=freshness.topic,
        condition="ingest_stale",
        severity=STALE_SEVERITY,
        headline=f"topic {freshness.topic}: no successful ingest within {hours:g} h ({freshness.detail})",
        details={
            "last_ok_at": None if freshness.last_ok_at is None else last,
            "freshness_hours": hours,
            "judged_at": freshness.judged_at.astimezone(UTC).isoformat(),
        },
    )


def scheduler_stale(topic: str, last_heartbeat: datetime | None, at: datetime) -> OpsAlert:
    """The Airflow scheduler has not sent a heartbeat lately, so no DAG runs; one alert per stale spell."""
    last = last_heartbeat.astimezone(UTC).isoformat() if last_heartbeat else "never"
    return OpsAlert(
        key=stable_id("scheduler_stale", topic, last),
        topic=topic,
        condition="scheduler_stale",
        severity=STALE_SEVERITY,
        headline=f"the Airflow scheduler is not running (last heartbeat: {last}); topic {topic} is not ingested",
        details={"last_heartbeat": last, "judged_at": at.astimezone(UTC).isoformat()},
    )


def drift(drift: Drift, run_id: str) -> OpsAlert:
    """A measure of a run's batch changed sharply against the recent runs (a layout or parser change
    upstream); one alert per topic (or outlet), measure and run."""
    return OpsAlert(
        key=stable_id("drift", drift.topic, drift.outlet, drift.measure, run_id),
        topic=drift.topic,
        condition="drift",
        severity=DRIFT_SEVERITY,
        headline=f"drift: {drift.describe()}",
        details={
            "run_id": run_id,
            "outlet": drift.outlet or None,
            "measure": drift.measure,
            "current": round(drift.current, 4),
            "baseline": round(drift.baseline, 4),
            "runs": drift.runs,
        },
    )


def send(alerts: Sequence[OpsAlert], routes: Sequence[AlertRoute], data_dir: Path) -> list[str]:
    """Send each alert to every ops route that wants its severity, once; return the ids sent now.

    A route that fails is logged and raises after the others were tried, so the
    caller (a task, or a failure callback that must not hide the run's own
    error) decides what a failed page means; the ledger only records sends that
    succeeded, so a later call tries the failed ones again.
    """
    ledger = data_dir / LEDGER
    sent_before = _ledger_ids(ledger)
    sent: list[str] = []
    errors: list[str] = []
    for alert in alerts:
        for route in routes_for(alert.severity, routes):
            alert_id = alert.alert_id(route.url)
            if alert_id in sent_before:
                continue
            try:
                send_to_route(
                    route.url,
                    alert_id,
                    alert.severity,
                    alert.payload(route.url),
                    alert.message(route.url),
                    data_dir,
                    route.timeout_seconds,
                )
            except AlertDeliveryError as exc:
                log.error("operations alert %s to %s not sent: %s", alert_id, route_label(route.url), exc)
                errors.append(str(exc))
                continue
            _ledger_add(ledger, alert_id, alert.key)
            sent_before.add(alert_id)
            sent.append(alert_id)
            log.info("operations alert %s (%s) sent to %s", alert_id, alert.condition, route_label(route.url))
    if errors:
        raise AlertDeliveryError(f"{len(errors)} operations alert(s) not sent: " + "; ".join(errors))
    return sent


def _ledger_ids(path: Path) -> set[str]:
    if not path.exists():
        return set()
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            ids.add(json.loads(line)["alert_id"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line: that send is simply not counted
    return ids


def _ledger_add(path: Path, alert_id: str, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"alert_id": alert_id, "key": key, "at": datetime.now(UTC).isoformat()})
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            fh.write(line + "\n")
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
