"""``claimwatch demo``: the whole pipeline on the bundled sample news site.

Serves the sample site on loopback, writes a demo topic that points at it
(the Kursk catalogue, alerts to a JSON-lines file in the data directory),
runs both DAGs through ``dag.test()`` and prints what landed where.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from pipeline.settings import REPO_ROOT, Settings

DEMO_PORT = 8737
DEMO_TOPIC_NAME = "kursk_demo"
ALERTS_FILE = "demo-alerts.jsonl"


def demo_topic(base_topic: Path, feed_url: str) -> dict[str, Any]:
    """The Kursk topic, re-pointed at the sample site's feed."""
    raw = yaml.safe_load(base_topic.read_text(encoding="utf-8"))
    raw.update(
        name=DEMO_TOPIC_NAME,
        title=raw["title"] + " (sample site)",
        feeds=[{"url": feed_url, "name": "Sample news site"}],
        allow_private_hosts=True,  # the sample site runs on loopback
        alerts=[{"url": f"file:{ALERTS_FILE}", "min_severity": "low"}],
    )
    return raw


def run_demo(settings: Settings, db: Path, port: int = 0) -> int:
    from pipeline.app.sample_site import serve_site
    from pipeline.orchestration.runner import report_outcomes, run_pipeline

    with serve_site(port=port or _free_or_any(DEMO_PORT)) as base_url:
        print(f"sample news site: {base_url}/feed.xml", flush=True)
        topic_file = settings.data_dir / "demo" / "topic.yaml"
        topic_file.parent.mkdir(parents=True, exist_ok=True)
        topic_file.write_text(
            yaml.safe_dump(demo_topic(REPO_ROOT / "topics" / "kursk.yaml", f"{base_url}/feed.xml"), sort_keys=False),
            encoding="utf-8",
        )
        outcomes = run_pipeline(topic_file, db, settings)
    status = report_outcomes(outcomes)
    print_summary(db, settings.data_dir / ALERTS_FILE)
    return status


def _free_or_any(port: int) -> int:
    """The fixed demo port keeps article URLs stable across demo runs; any free port otherwise."""
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def print_summary(db: Path, alerts_file: Path, out: Any = None) -> None:
    from pipeline.store.session import open_store, table_counts

    out = out or sys.stdout
    with open_store(db) as con:
        counts = table_counts(con)
        per_metric = con.execute(
            "SELECT metric, count(*) FROM claims WHERE topic = ? GROUP BY metric ORDER BY count(*) DESC, metric",
            [DEMO_TOPIC_NAME],
        ).fetchall()
        disagreements = con.execute(
            "SELECT severity, metric, reason FROM contradictions WHERE topic = ?"
            " ORDER BY detected_at, contradiction_id",
            [DEMO_TOPIC_NAME],
        ).fetchall()
        delivered = con.execute(
            "SELECT route_url, count(*) FROM alerts WHERE topic = ? AND status = 'delivered' GROUP BY route_url",
            [DEMO_TOPIC_NAME],
        ).fetchall()
        pending = con.execute(
            "SELECT count(*) FROM alerts WHERE topic = ? AND status = 'pending'", [DEMO_TOPIC_NAME]
        ).fetchone()
    print(f"\nclaimwatch demo: results in {db}", file=out)
    print(f"  articles stored:       {counts['articles']}", file=out)
    print(f"  claims:                {counts['claims']}", file=out)
    for metric, n in per_metric:
        print(f"    {metric:<26} {n}", file=out)
    print(f"  contradictions found:  {len(disagreements)}", file=out)
    for severity, metric, reason in disagreements:
        print(f"    [{severity}] {metric}: {reason}", file=out)
    print(
        f"  alerts delivered:      {sum(n for _, n in delivered)} (pending: {pending[0] if pending else 0})", file=out
    )
    for route, n in delivered:
        where = alerts_file if route == f"file:{ALERTS_FILE}" else route
        print(f"    {n} to {where}", file=out)
    print(f"\nQuery it: .venv/bin/claimwatch query --db {db} 'FROM disagreements'", file=out)
