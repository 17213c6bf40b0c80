"""A read-only web page of open incidents and recent disagreements, mounted in Airflow by ``plugins/``.

It reads the analyst snapshot, never the live database, so it cannot hold the
lock the pipeline needs; every value from an article is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store.incidents import IncidentRow

COLUMNS = [
    "severity",
    "metric",
    "new_surface",
    "new_source",
    "new_outlet",
    "other_surface",
    "other_source",
    "other_outlet",
    "reason",
]


INCIDENT_COLUMNS = ["incident", "state", "severity", "topic", "metric", "opened", "last evidence", "evidence"]


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _side(surface: Any, source: Any, outlet: Any, published: Any) -> str:
    day = published.date().isoformat() if hasattr(published, "date") else published
    return f"'{_text(surface)}' ({_text(source)}, {_text(outlet)}, {_text(day or 'date unknown')})"


def render_incidents(incidents: Sequence[IncidentRow], evidence: Mapping[str, Sequence[Sequence[Any]]]) -> str:
    """Incidents not resolved, each with its state and the conflicting figures it holds."""
    if not incidents:
        return "<h2>Open incidents</h2><p>No open incidents.</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in INCIDENT_COLUMNS)
    rows = []
    for i in incidents:
        cells = (i.incident_id, i.status, i.severity, i.topic, i.metric, i.opened_on, i.last_evidence_on, i.evidence)
        rows.append("<tr>" + "".join(f"<td>{_text(v)}</td>" for v in cells) + "</tr>")
        items = "".join(
            f"<li>{_text(e[0])}: {_side(*e[1:5])} vs {_side(*e[5:9])}: {_text(e[9])}</li>"
            for e in evidence.get(i.incident_id, ())
        )
        rows.append(f"<tr><td colspan='{len(INCIDENT_COLUMNS)}'><ul>{items}</ul></td></tr>")
    return f"<h2>Open incidents</h2><table><tr>{head}</tr>{''.join(rows)}</table>"


def render_disagreements(rows: Sequence[Sequence[Any]], note: str = "", incidents: str = "") -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{_text(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>claimwatch: disagreements</title></head><body>"
        f"<h1>Disagreements</h1><p>{html.escape(note)}</p>{incidents}"
        f"<h2>Recent disagreements</h2><table><tr>{head}</tr>{body}</table></body></html>"
    )


def load_incidents(snapshot: Path) -> tuple[list[IncidentRow], dict[str, list[tuple[Any, ...]]]]:
    """Open and acked incidents from the snapshot, and their evidence."""
    import duckdb

    from pipeline.store.incidents import incident_evidence, list_incidents

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        rows = [r for r in list_incidents(con) if r.status != "resolved"]
        return rows, incident_evidence(con, [r.incident_id for r in rows])
    finally:
        con.close()


def load_disagreements(snapshot: Path, limit: int = 200) -> list[tuple[Any, ...]]:
    import duckdb

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM disagreements ORDER BY detected_at DESC LIMIT ?", [limit]
        ).fetchall()
    finally:
        con.close()


def served_snapshot(settings: Settings) -> Path:
    """The snapshot of the database the DAGs write: found by the tasks' own rule (``resolve_db``)."""
    from pipeline.orchestration.edge import resolve_db
    from pipeline.store.db import snapshot_path

    return snapshot_path(resolve_db(None, settings))


def create_app(snapshot: Callable[[], Path], dependencies: Sequence[Any] = ()) -> Any:
    """The FastAPI app; ``snapshot`` is resolved per request so settings can change without a restart.

    ``dependencies`` guard every route: the plugin passes Airflow's login check,
    because an app mounted by a plugin is otherwise outside Airflow's auth.  FastAPI's
    own documentation routes (``/docs``, ``/redoc``, ``/openapi.json``) would not carry
    those dependencies, so they are not served at all: the page is the only route.
    """
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI(title="claimwatch", dependencies=list(dependencies), docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        path = snapshot()
        if not path.exists():
            return render_disagreements([], f"No snapshot yet at {path}: the pipeline has not run.")
        try:
            rows = load_disagreements(path)
            incidents = render_incidents(*load_incidents(path))
        except Exception as exc:  # a page, not a crash, when the snapshot is mid-replace or unreadable
            return render_disagreements([], f"Snapshot unreadable right now ({type(exc).__name__}); retry shortly.")
        return render_disagreements(rows, f"{len(rows)} most recent, from {path.name}", incidents)

    return app
