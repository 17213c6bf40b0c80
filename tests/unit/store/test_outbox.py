"""The check bookkeeping and the alert outbox: claim, send, mark, with a lease."""

from __future__ import annotations

from pathlib import Path

from pipeline.records import Alert, Contradiction
from pipeline.store.batches import load_batch
from pipeline.store.checks import record_check
from pipeline.store.claims import topic_claims
from pipeline.store.outbox import claim_alert, mark_delivered, mark_failed, pending_alerts
from pipeline.store.session import open_store
from tests.unit.factories import make_batch


def test_check_bookkeeping_and_outbox(db_path: Path) -> None:
    batch = make_batch()
    with open_store(db_path) as con:
        load_batch(con, batch, "r1")
        pending, checked = topic_claims(con, "kursk")
        assert len(pending) == 2 and checked == []
        assert pending[0].claim == batch.claims[0] and pending[0].url == batch.articles[0].url
        a, b = pending
        x = Contradiction("x1", b.claim.claim_id, a.claim.claim_id, "kursk", "troops_deployed", "low", "r", "why")
        alert = Alert("al1", "x1", "kursk", "troops_deployed", "low", "file:alerts.jsonl", {"reason": "why"})
        ids = [c.claim.claim_id for c in pending]
        assert record_check(con, "kursk", ids, [x], [alert], "r2") == (1, 1)
        assert record_check(con, "kursk", ids, [x], [alert], "r3") == (0, 0)
        assert topic_claims(con, "kursk")[0] == []
        assert [al.payload for al in pending_alerts(con, "kursk")] == [{"reason": "why"}]
        assert claim_alert(con, "al1", lease_seconds=60)
        mark_failed(con, "al1", "connection refused")
        assert len(pending_alerts(con, "kursk")) == 1
        assert claim_alert(con, "al1", lease_seconds=60)
        mark_delivered(con, "al1")
        assert pending_alerts(con, "kursk") == []
        assert not claim_alert(con, "al1", lease_seconds=60)  # delivered is final
        row = con.execute("SELECT status, attempts, last_error FROM alerts").fetchone()
    assert row == ("delivered", 2, None)


def test_a_claimed_alert_stays_pending_and_is_reclaimed_only_after_its_lease(db_path: Path) -> None:
    """Claim, crash, run again: the alert is still owed, a second sender waits for the lease, then may send."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    alert = Alert("al1", "x1", "kursk", "troops_deployed", "low", "json://127.0.0.1/hook", {"alert_id": "al1"})
    with open_store(db_path) as con:
        record_check(con, "kursk", [], [], [alert], "r1")
        assert claim_alert(con, "al1", lease_seconds=30, now=t0)
    # the sender died here: nothing marked it
    with open_store(db_path) as con:
        assert [a.alert_id for a in pending_alerts(con, "kursk")] == ["al1"]
        assert not claim_alert(con, "al1", lease_seconds=30, now=t0 + timedelta(seconds=29))
        assert claim_alert(con, "al1", lease_seconds=30, now=t0 + timedelta(seconds=31))
        row = con.execute("SELECT status, attempts, last_attempt_at FROM alerts").fetchone()
    assert row == ("sending", 2, t0 + timedelta(seconds=31))
