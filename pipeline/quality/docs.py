"""Data Docs: each validation result as static HTML beside the database file, readable without the code.

``<db dir>/data_docs/<run>/`` holds one page per suite rendered by Great
Expectations' own validation-results renderer (every expectation, its result,
the unexpected values) and an ``index.html`` that names the failed expectations
and links the pages; ``<db dir>/data_docs/index.html`` always points at the
latest run.  The pages load GX's stylesheets from public CDNs; offline they are
plain but complete.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.quality.gate import WARNING, QualityReport

DOCS_DIR = "data_docs"


def docs_dir(db_path: str | Path, run_id: str) -> Path:
    """Where a run's Data Docs go: beside the database, one folder per run (the id made a file name)."""
    return Path(db_path).resolve().parent / DOCS_DIR / re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)


def render_result(result: Any) -> str:
    """One GX validation result as a Data Docs page."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    return str(DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(result)))


def index_html(run_id: str, reports: Sequence[QualityReport]) -> str:
    """The run's page: per suite its status, the failed expectations (critical and warning) and a link."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>claimwatch data docs {e(run_id)}</title>"
             f"</head><body><h1>Validation of run {e(run_id)}</h1>"]  # fmt: skip
    for r in reports:
        state = "passed" if r.success and not r.warnings else ("warnings" if r.success else "FAILED")
        link = f"<a href='{e(r.suite)}.html'>{e(r.suite)}</a>" if r.result is not None else e(r.suite)
        parts.append(f"<h2>{link}: {state} ({r.evaluated} rows)</h2><ul>")
        parts += [f"<li>[{'warning' if p.severity == WARNING else 'critical'}] {e(p.line)}</li>" for p in r.problems]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def write_docs(db_path: str | Path, run_id: str, reports: Sequence[QualityReport]) -> Path:
    """Write the run's pages and point the top index at them; return the run's index page."""
    folder = docs_dir(db_path, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    for r in reports:
        if r.result is not None:
            (folder / f"{r.suite}.html").write_text(render_result(r.result), encoding="utf-8")
    index = folder / "index.html"
    index.write_text(index_html(run_id, reports), encoding="utf-8")
    latest = folder.parent / "index.html"
    latest.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv='refresh' "
        f"content='0; url={html.escape(folder.name)}/index.html'></head><body><a href='{html.escape(folder.name)}"
        f"/index.html'>latest validation: {html.escape(run_id)}</a></body></html>",
        encoding="utf-8",
    )
    return index
