"""The alert outbox: claim an alert before sending it, mark it after, so a crash
resends at most the one alert in flight, under the same idempotency key.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.records import (
    Alert,
)
from pipeline.store.db import utcnow

if TYPE_CHECKING:
    import duckdb


# An alert whose incident someone has acked or resolved is not sent: on-call already knows.
INCIDENT_OPEN = "NOT EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = alerts.incident_id AND i.status <> 'open')"


def pending_alerts(con: duckdb.DuckDBPyConnection, topic: str) -> list[Alert]:
    """Alerts not yet delivered: queued ones, and ones a crashed or running sender claimed."""
    rows = con.execute(
        "SELECT alert_id, contradiction_id, topic, metric, severity, route_url, payload"
        f" FROM alerts WHERE status IN ('pending', 'sending') AND topic = ? AND {INCIDENT_OPEN}"
        " ORDER BY created_at, alert_id",
        [topic],
    ).fetchall()
    return [Alert(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]


def claim_alert(
    con: duckdb.DuckDBPyConnection, alert_id: str, lease_seconds: float, now: datetime | None = None
) -> bool:
    """Record an attempt before sending: True if this sender may send the alert now.

    The claim is committed before the send, so a crash leaves the alert in
    'sending' and the next run resends it (with the same id as idempotency
    key) once the lease has run out; while the lease runs, a second sender
    leaves it alone instead of sending it in parallel.
    """
    now = now or utcnow()
    row = con.execute(
        "UPDATE alerts SET status = 'sending', attempts = attempts + 1, last_attempt_at = ?, claimed_until = ?"
        " WHERE alert_id = ? AND (status = 'pending'"
        " OR (status = 'sending' AND (claimed_until IS NULL OR claimed_until <= ?)))"
        f" AND {INCIDENT_OPEN} RETURNING alert_id",
        [now, now + timedelta(seconds=lease_seconds), alert_id, now],
    ).fetchone()
    return row is not None


def mark_delivered(con: duckdb.DuckDBPyConnection, alert_id: str) -> None:
    con.execute(
        "UPDATE alerts SET status = 'delivered', delivered_at = ?, claimed_until = NULL, last_error = NULL"
        " WHERE alert_id = ?",
        [utcnow(), alert_id],
    )


def mark_failed(con: duckdb.DuckDBPyConnection, alert_id: str, error: str) -> None:
    """Back to 'pending' with the reason: the channel said no, so nothing is in flight."""
    con.execute(
        "UPDATE alerts SET status = 'pending', claimed_until = NULL, last_error = ?"
        " WHERE alert_id = ? AND status <> 'delivered'",
        [error[:2000], alert_id],
    )
