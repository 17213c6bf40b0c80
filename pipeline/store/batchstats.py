"""The measures of each run's batch (``batch_stats``) and the drift they show against earlier runs.

``record_drift`` runs inside the load's transaction: it reads the window of
earlier runs of the topic and of each outlet, judges this run's measures
(``pipeline.quality.drift``) and writes them with the verdict, so the history
and the batch it measures commit or roll back together.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.quality.drift import DEFAULT_RULE, MEASURES, BatchStats, Drift, DriftRule, judge_batch

if TYPE_CHECKING:
    import duckdb

_COLUMNS = "topic, outlet, articles, claims, " + ", ".join(MEASURES)


def history(con: duckdb.DuckDBPyConnection, topic: str, outlet: str, run_id: str, window: int) -> list[BatchStats]:
    """The last ``window`` runs of the topic (or outlet) before ``run_id``, newest first."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM batch_stats WHERE topic = ? AND outlet = ? AND run_id <> ? "
        "ORDER BY recorded_at DESC LIMIT ?",
        [topic, outlet, run_id, window],
    ).fetchall()
    return [BatchStats(*row) for row in rows]


def record_drift(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    stats: Sequence[BatchStats],
    at: datetime,
    rule: DriftRule = DEFAULT_RULE,
) -> list[Drift]:
    """Judge this run's measures against the recent runs, store them (replacing a re-run's), return the drift."""
    if not stats:
        return []
    topic = stats[0].topic
    histories = {s.outlet: history(con, topic, s.outlet, run_id, rule.window) for s in stats}
    drifts = judge_batch(stats, histories, rule)
    for s in stats:
        found = [asdict(d) for d in drifts if d.outlet == s.outlet]
        con.execute(
            f"INSERT OR REPLACE INTO batch_stats (run_id, drift, recorded_at, {_COLUMNS}) "
            f"VALUES (?, ?, ?, {', '.join('?' * (4 + len(MEASURES)))})",
            [run_id, json.dumps(found), at, s.topic, s.outlet, s.articles, s.claims]
            + [getattr(s, m) for m in MEASURES],
        )
    return drifts
