"""What the contradiction engine reads and writes: figure histories, unresolved
incidents, and a check's outcome stored with its alerts in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.records import (
    Alert,
    Contradiction,
    SourcedClaim,
    from_json,
    to_json,
)
from pipeline.store.db import count_rows, insert_many, transaction, utcnow

if TYPE_CHECKING:
    import duckdb

    from pipeline.detection.engine import Incident
    from pipeline.detection.histories import HistoryEntry


def has_histories(con: duckdb.DuckDBPyConnection, topic: str) -> bool:
    """Whether the topic's figure histories are there, or nothing was checked yet that would be in them.

    False on a database whose claims were checked before figure histories existed.
    """
    row = con.execute("SELECT EXISTS (SELECT 1 FROM figure_history WHERE topic = ?)", [topic]).fetchone()
    if row and row[0]:
        return True
    row = con.execute(
        "SELECT EXISTS (SELECT 1 FROM claims WHERE topic = ? AND checked_at IS NOT NULL AND metric <> 'other')",
        [topic],
    ).fetchone()
    return not (row and row[0])


def detection_state(
    con: duckdb.DuckDBPyConnection, topic: str, metrics: Sequence[str]
) -> tuple[list[HistoryEntry], list[Incident]]:
    """The figure histories of the given metrics and their incidents not resolved.

    All a check reads: its cost follows the state of the metrics it touches,
    not the number of claims stored.
    """
    from pipeline.detection.engine import Incident
    from pipeline.detection.histories import FigureKey, HistoryEntry

    if not metrics:
        return [], []
    rows = con.execute(
        "SELECT figure_id, topic, family, metric, role, modality, scope, stated_low, stated_high, kind, vague_base,"
        " first_mention, first_seen, last_mention, last_seen, mentions, seq FROM figure_history"
        " WHERE topic = ? AND list_contains(?, metric) ORDER BY seq",
        [topic, list(metrics)],
    ).fetchall()
    figures = [
        HistoryEntry(
            figure_id=r[0],
            topic=r[1],
            family=r[2],
            key=FigureKey(r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]),
            scope=r[6],
            first=from_json(SourcedClaim, json.loads(r[11])),
            first_seen=r[12],
            last=from_json(SourcedClaim, json.loads(r[13])),
            last_seen=r[14],
            mentions=r[15],
            seq=r[16],
        )
        for r in rows
    ]
    rows = con.execute(
        "SELECT incident_id, topic, metric, severity, status, opened_on, last_evidence_on, alerted_severity, edges"
        " FROM incidents WHERE topic = ? AND list_contains(?, metric) AND status <> 'resolved'"
        " ORDER BY opened_on, incident_id",
        [topic, list(metrics)],
    ).fetchall()
    incidents = [
        Incident(
            incident_id=r[0],
            topic=r[1],
            metric=r[2],
            severity=r[3],
            status=r[4],
            opened_on=r[5],
            last_evidence_on=r[6],
            alerted_severity=r[7],
            edges={(a, b) for a, b in json.loads(r[8])},
        )  # fmt: skip
        for r in rows
    ]
    return figures, incidents


def record_check(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    checked_claim_ids: Sequence[str],
    contradictions: Sequence[Contradiction],
    alerts: Sequence[Alert],
    run_id: str,
    *,
    figures: Sequence[HistoryEntry] = (),
    incidents: Sequence[Incident] = (),
) -> tuple[int, int]:
    """Store figures, incidents and their evidence, queue alerts and mark claims checked, in one transaction.

    Returns (new contradictions, new alerts); evidence or an alert already
    stored is left alone, so repeating a check queues nothing twice.  The
    outbox rows commit with the incidents they page for, or not at all.
    """
    now = utcnow()
    with transaction(con):
        before_x = count_rows(con, "contradictions")
        before_a = count_rows(con, "alerts")
        insert_many(
            con,
            "INSERT INTO figure_history VALUES {rows} ON CONFLICT (figure_id) DO UPDATE SET"
            " first_seen = excluded.first_seen, last_seen = excluded.last_seen, mentions = excluded.mentions,"
            " first_mention = excluded.first_mention, last_mention = excluded.last_mention,"
            " updated_at = excluded.updated_at",
            [
                [
                    f.figure_id, f.topic, f.key.metric, f.family, f.node_id, f.key.role, f.key.modality,
                    f.key.scope, f.key.low, f.key.high, f.key.kind, f.key.vague_base, f.first_seen, f.last_seen,
                    f.mentions, f.seq, json.dumps(to_json(f.first)), json.dumps(to_json(f.last)), now,
                ]
                for f in {f.figure_id: f for f in figures}.values()
            ],
        )  # fmt: skip
        insert_many(
            con,
            "INSERT INTO incidents VALUES {rows} ON CONFLICT (incident_id) DO UPDATE SET"
            " severity = excluded.severity, alerted_severity = excluded.alerted_severity,"
            " last_evidence_on = excluded.last_evidence_on, edges = excluded.edges, updated_at = excluded.updated_at",
            [
                [
                    i.incident_id, i.topic, i.metric, i.severity, i.alerted_severity, i.status, i.opened_on,
                    i.last_evidence_on, json.dumps(sorted(i.edges)), now, now,
                ]
                for i in {i.incident_id: i for i in incidents}.values()
            ],
        )  # fmt: skip
        insert_many(
            con,
            "INSERT INTO contradictions (contradiction_id, claim_id, other_claim_id, topic, metric, severity,"
            " rule, reason, detected_at, run_id, incident_id) VALUES {rows} ON CONFLICT DO NOTHING",
            [
                [x.contradiction_id, x.claim_id, x.other_claim_id, x.topic, x.metric, x.severity, x.rule,
                 x.reason, now, run_id, x.incident_id]
                for x in {x.contradiction_id: x for x in reversed(contradictions)}.values()
            ],
        )  # fmt: skip
        insert_many(
            con,
            "INSERT INTO alerts (alert_id, contradiction_id, topic, metric, severity, route_url, payload,"
            " status, attempts, last_error, created_at, delivered_at, incident_id)"
            " VALUES {rows} ON CONFLICT DO NOTHING",
            [
                [al.alert_id, al.contradiction_id, al.topic, al.metric, al.severity, al.route_url,
                 json.dumps(al.payload, sort_keys=True), "pending", 0, None, now, None, al.payload.get("incident_id")]
                for al in {al.alert_id: al for al in alerts}.values()
            ],
        )  # fmt: skip
        if checked_claim_ids:
            con.execute(
                "UPDATE claims SET checked_at = ? WHERE topic = ? AND claim_id IN (SELECT unnest(?::VARCHAR[]))",
                [now, topic, list(checked_claim_ids)],
            )
        new_x = count_rows(con, "contradictions") - before_x
        new_a = count_rows(con, "alerts") - before_a
    return new_x, new_a
