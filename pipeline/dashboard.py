"""A read-only web page of recent disagreements, mounted in Airflow by ``plugins/``.

It reads the analyst snapshot, never the live database, so it cannot hold the
lock the pipeline needs; every value from an article is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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


def render_disagreements(rows: Sequence[Sequence[Any]], note: str = "") -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>claimwatch: disagreements</title></head><body>"
        f"<h1>Disagreements</h1><p>{html.escape(note)}</p><table><tr>{head}</tr>{body}</table></body></html>"
    )


def load_disagreements(snapshot: Path, limit: int = 200) -> list[tuple[Any, ...]]:
    import duckdb

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM disagreements ORDER BY detected_at DESC LIMIT ?", [limit]
        ).fetchall()
    finally:
        con.close()


def create_app(snapshot: Callable[[], Path], dependencies: Sequence[Any] = ()) -> Any:
    """The FastAPI app; ``snapshot`` is resolved per request so settings can change without a restart.

    ``dependencies`` guard every route: the plugin passes Airflow's login check,
    because an app mounted by a plugin is otherwise outside Airflow's auth.
    """
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI(title="claimwatch", dependencies=list(dependencies))

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        path = snapshot()
        if not path.exists():
            return render_disagreements([], f"No snapshot yet at {path}: the pipeline has not run.")
        try:
            rows = load_disagreements(path)
        except Exception as exc:  # a page, not a crash, when the snapshot is mid-replace or unreadable
            return render_disagreements([], f"Snapshot unreadable right now ({type(exc).__name__}); retry shortly.")
        return render_disagreements(rows, f"{len(rows)} most recent, from {path.name}")

    return app
