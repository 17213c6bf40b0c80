"""The disagreements page: escaped, and a page rather than an error when there is no data yet."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.app.dashboard import create_app, render_disagreements
from pipeline.records import Batch, Contradiction
from pipeline.store.batches import load_batch
from pipeline.store.checks import record_check
from pipeline.store.incidents import set_incident_status
from pipeline.store.session import open_store, publish_snapshot
from tests.unit.factories import make_article, make_claim, store_incident


def test_untrusted_text_is_escaped() -> None:
    page = render_disagreements([("low", "troops_deployed", "<script>alert(1)</script>", "a", "b", "c", "d", "e", "f")])
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_page_without_a_snapshot(tmp_path: Path) -> None:
    client = TestClient(create_app(lambda: tmp_path / "none.snapshot.duckdb"))
    response = client.get("/")
    assert response.status_code == 200 and "No snapshot yet" in response.text


def test_page_lists_disagreements_from_the_snapshot(db_path: Path) -> None:
    a, b = make_article(1), make_article(2)
    ca = make_claim(a, surface="about 14,000")
    cb = make_claim(b, surface="up to 12,000", hedge="up_to", attributed_to="Kyiv <b>")
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [a, b], [ca, cb]), "r")
        x = Contradiction("x", cb.claim_id, ca.claim_id, "kursk", "troops_deployed", "low", "r", "they differ")
        record_check(con, "kursk", [], [x], [], "r")
    snapshot = publish_snapshot(db_path)
    text = TestClient(create_app(lambda: snapshot)).get("/").text
    assert "up to 12,000" in text and "about 14,000" in text and "Kyiv &lt;b&gt;" in text


def test_page_lists_open_incidents_with_state_and_escaped_evidence(db_path: Path) -> None:
    incident_id = store_incident(db_path, source="NIS <img src=x onerror=alert(1)>")
    snapshot = publish_snapshot(db_path)
    text = TestClient(create_app(lambda: snapshot)).get("/").text
    section = text[text.index("Open incidents") : text.index("Recent disagreements")]
    assert incident_id in section and "<td>open</td>" in section and "<td>medium</td>" in section
    assert "'up to 12,000' (NIS &lt;img" in section and "'about 14,000' (Seoul" in section
    assert "<img" not in text

    with open_store(db_path) as con:
        set_incident_status(con, incident_id, "resolve", "done")
    snapshot = publish_snapshot(db_path)
    text = TestClient(create_app(lambda: snapshot)).get("/").text
    assert "No open incidents." in text and incident_id not in text.split("Recent disagreements")[0]
