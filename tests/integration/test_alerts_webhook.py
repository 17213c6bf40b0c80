"""Alerts to a real HTTP webhook on 127.0.0.1 through Apprise's json:// plugin."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.alerting.messages import build_alert
from pipeline.alerting.routes import AlertDeliveryError, send_alert
from pipeline.records import Alert, Contradiction, stable_id
from pipeline.topics import AlertRoute
from tests.integration.helpers import webhook_receiver
from tests.unit.factories import UP_TO_12K, make_article, make_sourced


def _alert(url: str) -> Alert:
    a1 = make_article(1)
    a2 = make_article(2, published_at=datetime(2025, 11, 14, 9, 0, tzinfo=UTC))
    old = make_sourced(a1, "Yonhap")
    sentence = 'Up to 12,000 troops, "Zelensky" said — <b>ünïcode</b>.'
    new = make_sourced(a2, "Fox News", **{**UP_TO_12K, "stated_low": None}, sentence=sentence)
    x = Contradiction(
        contradiction_id=stable_id(new.claim.claim_id, old.claim.claim_id),
        claim_id=new.claim.claim_id,
        other_claim_id=old.claim.claim_id,
        topic="kursk",
        metric="troops_deployed",
        severity="medium",
        rule="disjoint_intervals",
        reason="intervals do not overlap",
    )
    return build_alert(x, new, old, AlertRoute(url=url))


def test_webhook_receives_the_alert_payload_once(tmp_path: Path) -> None:
    with webhook_receiver() as hook:
        alert = _alert(hook.url)
        send_alert(alert, tmp_path)
        bodies = hook.json_bodies()
    assert len(bodies) == 1
    envelope = bodies[0]
    assert envelope["type"] == "warning" and "troops_deployed" in envelope["title"]
    payload = json.loads(envelope["message"])
    assert payload == alert.payload
    assert payload["topic"] == "kursk" and payload["metric"] == "troops_deployed"
    assert payload["new_claim"]["surface"] == "up to 12,000"
    assert payload["contradicts"][0]["surface"] == "about 14,000"
    assert payload["new_claim"]["sentence"] == 'Up to 12,000 troops, "Zelensky" said — <b>ünïcode</b>.'


def test_webhook_down_raises_and_records_nothing(tmp_path: Path) -> None:
    with webhook_receiver() as hook:
        hook.status = 503
        alert = _alert(hook.url)
        with pytest.raises(AlertDeliveryError) as info:
            send_alert(alert, tmp_path)
        assert hook.bodies == []
    message = str(info.value)
    assert "127.0.0.1" in message and "/hook" not in message


def test_webhook_url_with_environment_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with webhook_receiver() as hook:
        port = hook.url.split(":")[2].split("/")[0]
        monkeypatch.setenv("CLAIMWATCH_TEST_HOOK_PATH", "hook")
        send_alert(_alert(f"json://127.0.0.1:{port}/${{CLAIMWATCH_TEST_HOOK_PATH}}"), tmp_path)
        assert len(hook.bodies) == 1


def test_a_redirect_names_where_it_points_with_the_route_secrets_written_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as hook:
        port = hook.url.split(":")[2].split("/")[0]
        monkeypatch.setenv("CLAIMWATCH_TEST_HOOK_TOKEN", "t0ken-value")
        hook.status, hook.location = 302, "/t0ken-value/moved?sig=s3cr3t"  # relative: against the route
        with pytest.raises(AlertDeliveryError) as info:
            send_alert(_alert(f"json://127.0.0.1:{port}/${{CLAIMWATCH_TEST_HOOK_TOKEN}}"), tmp_path)
        assert [r.method for r in hook.received] == ["POST"]
    message = str(info.value)
    assert f"redirecting to http://127.0.0.1:{port}/${{CLAIMWATCH_TEST_HOOK_TOKEN}}/moved;" in message
    assert "t0ken-value" not in message and "s3cr3t" not in message


@pytest.mark.parametrize("status", [302, 307])
def test_no_apprise_channel_follows_a_redirect(tmp_path: Path, status: int) -> None:
    """Apprise's other HTTP channels (here its form:// webhook) send with redirects off too."""
    with webhook_receiver() as target, webhook_receiver() as hook:
        hook.status, hook.location = status, target.http_url
        with pytest.raises(AlertDeliveryError, match="did not accept"):
            send_alert(_alert(hook.url.replace("json://", "form://", 1)), tmp_path)
        assert [r.method for r in hook.received] == ["POST"] and target.received == []


def test_a_webhook_request_is_the_one_apprise_builds_from_the_url(tmp_path: Path) -> None:
    """Headers, query arguments, payload renames, method and credentials from the route's Apprise URL."""
    with webhook_receiver() as hook:
        url = hook.url.replace("json://", "json://ops:pw@", 1) + "?+X-Team=oncall&-source=claimwatch"
        alert = _alert(url + "&:type=level&:attachments=&:team=kursk&method=PUT")
        send_alert(alert, tmp_path)
        [request] = hook.received
    assert (
        request.method == "PUT" and request.path == "/hook?source=claimwatch" and request.headers["X-Team"] == "oncall"
    )
    assert request.headers["Idempotency-Key"] == alert.alert_id and request.headers["User-Agent"] == "Apprise"
    assert request.headers["Authorization"].startswith("Basic ")
    envelope = json.loads(request.body)
    assert set(envelope) == {"version", "title", "message", "level", "team"}
    assert envelope["level"] == "warning" and envelope["team"] == "kursk"
    assert json.loads(envelope["message"]) == alert.payload


def test_a_webhook_send_logs_the_route_label_never_its_path(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    with webhook_receiver() as hook:
        alert = _alert(hook.url.replace("/hook", "/t0ken-in-path"))
        send_alert(alert, tmp_path)
        port = hook.url.split(":")[2].split("/")[0]
    assert f"alert {alert.alert_id} sent to json://127.0.0.1:{port}" in caplog.text
    assert "t0ken" not in caplog.text
