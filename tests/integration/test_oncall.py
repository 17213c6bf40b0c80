"""The on-call workflow on a real DuckDB file: list, ack and resolve incidents from the command line.

An acked or resolved incident is not paged again: its queued alerts are not
delivered (a real webhook on 127.0.0.1 and a file route), and new evidence
joining it queues nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.records import SourcedClaim
from pipeline.steps import deliver
from pipeline.steps.detect import check_claims
from pipeline.steps.job import Job
from pipeline.store.db import snapshot_path
from pipeline.store.incidents import list_incidents, set_incident_status
from pipeline.store.session import open_store
from pipeline.topics import TopicConfig, load_topic
from tests.integration.helpers import run_cli, webhook_receiver, write_topic
from tests.unit.factories import make_article, make_claim


def _said(n: int, when: date, family: str, number: float, hedge: str = "about") -> SourcedClaim:
    published = datetime(when.year, when.month, when.day, tzinfo=UTC)
    article = make_article(n, published_at=published)
    claim = make_claim(
        article,
        metric="troops_killed",
        role="unspecified",
        stated_low=float(number),  # as stored (DOUBLE), so figures reloaded from the file match
        stated_high=float(number),
        hedge=hedge,
        surface=f"about {number:,.0f}",
        sentence=f"About {number:,.0f} soldiers were killed, {family} said.",
        source_family=family,
        attributed_to=family,
    )
    return SourcedClaim(claim, article.url, f"Outlet {n}", published)


def _detect(db: Path, topic: TopicConfig, claims: list[SourcedClaim], run_id: str) -> int:
    """One detect run the way the task does it, on these claims: the alerts it queued."""
    with open_store(db) as con:
        return check_claims(con, topic, claims, [], run_id)["alerts_queued"]


def _open_incident(db: Path, topic: TopicConfig) -> str:
    assert _detect(db, topic, [_said(1, date(2025, 1, 22), "ua_president", 4000, hedge="exact")], "r1") == 0
    assert _detect(db, topic, [_said(2, date(2025, 4, 30), "kr_nis", 600)], "r2") >= 1
    with open_store(db) as con:
        (row,) = list_incidents(con)
    assert row.status == "open"
    return row.incident_id


def _alert_states(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT status FROM alerts ORDER BY alert_id").fetchall()]


@pytest.mark.slow
def test_ack_stops_redelivery_to_a_webhook_that_was_down(tmp_path: Path) -> None:
    with webhook_receiver() as hook:
        path = write_topic(tmp_path / "t.yaml", "http://127.0.0.1:9/feed.xml", [hook.url], name="kursk")
        topic, db = load_topic(path), tmp_path / "c.duckdb"
        job = Job(str(path), str(db), str(tmp_path / "data"), "manual__1")
        incident_id = _open_incident(db, topic)

        hook.status = 503  # the channel is down: the page stays pending
        with pytest.raises(Exception, match="not delivered"):
            deliver.run(job)
        assert _alert_states(db) == ["pending"] and len(hook.received) >= 1

        acked = run_cli(["alerts", "ack", incident_id, "--db", str(db)], {}, timeout=120)
        assert acked.returncode == 0, acked.stderr
        assert f"incident {incident_id}: open -> acked" in acked.stdout

        hook.status, before = 200, len(hook.received)
        assert deliver.run(job) == {"delivered": 0}  # the channel is back, on-call already knows
        assert len(hook.received) == before and hook.bodies == []
        assert _alert_states(db) == ["suppressed"]

        # More evidence for the acked incident pages nobody.
        assert _detect(db, topic, [_said(3, date(2025, 5, 20), "us_gov", 600)], "r3") == 0
        with open_store(db) as con:
            (row,) = list_incidents(con)
        assert row.incident_id == incident_id and row.status == "acked" and row.evidence == 2
        assert deliver.run(job) == {"delivered": 0} and len(hook.received) == before


def test_a_file_route_gets_nothing_after_ack_even_if_the_alert_was_still_queued(tmp_path: Path) -> None:
    path = write_topic(tmp_path / "t.yaml", "http://127.0.0.1:9/feed.xml", ["file:alerts.jsonl"], name="kursk")
    topic, db = load_topic(path), tmp_path / "c.duckdb"
    job = Job(str(path), str(db), str(tmp_path / "data"), "manual__1")
    incident_id = _open_incident(db, topic)
    with open_store(db) as con:
        set_incident_status(con, incident_id, "ack")
        # A detect run that loaded the incident before the ack queues its page after it: still not sent.
        con.execute("UPDATE alerts SET status = 'pending'")
    assert deliver.run(job) == {"delivered": 0}
    assert not (tmp_path / "data" / "alerts.jsonl").exists()


def test_list_ack_and_resolve_from_the_command_line(tmp_path: Path) -> None:
    path = write_topic(tmp_path / "t.yaml", "http://127.0.0.1:9/feed.xml", ["file:alerts.jsonl"], name="kursk")
    topic, db = load_topic(path), tmp_path / "c.duckdb"
    incident_id = _open_incident(db, topic)

    def cli(*args: str) -> tuple[int, str, str]:
        done = run_cli(["alerts", *args, "--db", str(db)], {}, timeout=120)
        return done.returncode, done.stdout, done.stderr

    code, out, _ = cli("list", "--status", "open")
    assert code == 0 and incident_id in out and "troops_killed" in out and "open" in out
    assert cli("list", "--status", "acked")[1].strip() == "no incidents with status acked"

    code, _, err = cli("ack", "no-such-incident")
    assert code == 2 and "no incident 'no-such-incident'" in err

    code, out, _ = cli("resolve", incident_id, "--note", "NIS revised; both figures reported, not a data error")
    assert code == 0 and "open -> resolved" in out
    code, out, _ = cli("list", "--status", "resolved")
    assert incident_id in out and "note: NIS revised" in out
    assert cli("list", "--status", "open")[1].strip() == "no incidents with status open"
    code, _, err = cli("ack", incident_id)
    assert code == 2 and "already resolved" in err
    with duckdb.connect(str(db), read_only=True) as con:
        actions = con.execute("SELECT action, note FROM incident_actions WHERE incident_id = ?", [incident_id])
        assert actions.fetchall() == [("resolve", "NIS revised; both figures reported, not a data error")]
    # The analyst snapshot follows, so the plugin page shows the new state.
    with duckdb.connect(str(snapshot_path(db)), read_only=True) as con:
        assert con.execute("SELECT status FROM incidents").fetchall() == [("resolved",)]

    # A resolved incident is not joined: the next conflict with its figures opens a new incident, which pages.
    assert _detect(db, topic, [_said(5, date(2025, 8, 22), "us_gov", 300)], "r5") >= 1  # below both figures
    with open_store(db) as con:
        rows = list_incidents(con)
    assert sorted((r.incident_id == incident_id, r.status) for r in rows) == [(False, "open"), (True, "resolved")]
