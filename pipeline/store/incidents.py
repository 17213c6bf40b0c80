"""The on-call workflow: list incidents, ack or resolve them (their waiting alerts
are set aside in the same transaction), and the evidence behind each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pipeline.store.db import StoreError, transaction, utcnow

if TYPE_CHECKING:
    import duckdb


INCIDENT_STATUSES = ("open", "acked", "resolved")


class UnknownIncidentError(StoreError):
    """An incident id that is not in the database."""


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One incident as on-call sees it: state, figures in conflict, how much evidence, last action."""

    incident_id: str
    topic: str
    metric: str
    severity: str
    status: str
    opened_on: date
    last_evidence_on: date
    evidence: int
    note: str | None


def list_incidents(con: duckdb.DuckDBPyConnection, status: str | None = None, limit: int = 500) -> list[IncidentRow]:
    """Incidents, most recent evidence first; ``status`` filters to one state."""
    if status is not None and status not in INCIDENT_STATUSES:
        raise ValueError(f"unknown incident status {status!r} (one of {', '.join(INCIDENT_STATUSES)})")
    rows = con.execute(
        "SELECT i.incident_id, i.topic, i.metric, i.severity, i.status, i.opened_on, i.last_evidence_on,"
        " (SELECT count(*) FROM contradictions x WHERE x.incident_id = i.incident_id),"
        " (SELECT a.note FROM incident_actions a WHERE a.incident_id = i.incident_id"
        "  ORDER BY a.acted_at DESC LIMIT 1)"
        " FROM incidents i WHERE (? IS NULL OR i.status = ?)"
        " ORDER BY i.last_evidence_on DESC, i.incident_id LIMIT ?",
        [status, status, limit],
    ).fetchall()
    return [IncidentRow(*r) for r in rows]


def set_incident_status(con: duckdb.DuckDBPyConnection, incident_id: str, action: str, note: str | None = None) -> str:
    """Ack or resolve an incident and log the action; returns the status it had before.

    Its alerts still waiting are set aside ('suppressed') in the same
    transaction, so nobody is paged about an incident someone already handles.
    """
    status = {"ack": "acked", "resolve": "resolved"}[action]
    now = utcnow()
    with transaction(con):
        row = con.execute("SELECT status FROM incidents WHERE incident_id = ?", [incident_id]).fetchone()
        if row is None:
            raise UnknownIncidentError(f"no incident {incident_id!r} (see 'claimwatch alerts list')")
        if row[0] == "resolved" and status == "acked":
            raise StoreError(f"incident {incident_id!r} is already resolved")
        con.execute("UPDATE incidents SET status = ?, updated_at = ? WHERE incident_id = ?", [status, now, incident_id])
        con.execute(
            "UPDATE alerts SET status = 'suppressed', last_error = ? WHERE incident_id = ? AND status = 'pending'",
            [f"incident {status}", incident_id],
        )
        con.execute("INSERT INTO incident_actions VALUES (?, ?, ?, ?)", [incident_id, action, note, now])
    return str(row[0])


def incident_evidence(con: duckdb.DuckDBPyConnection, incident_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Per incident, its conflicting figures as the analyst view shows them (newest first)."""
    if not incident_ids:
        return {}
    rows = con.execute(
        "SELECT incident_id, severity, new_surface, new_source, new_outlet, new_published_at,"
        " other_surface, other_source, other_outlet, other_published_at, reason"
        " FROM disagreements WHERE list_contains(?, incident_id) ORDER BY detected_at DESC, contradiction_id",
        [list(incident_ids)],
    ).fetchall()
    out: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(tuple(r[1:]))
    return out
