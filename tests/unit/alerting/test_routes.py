"""Sending an alert: file routes exactly once, Apprise routes, labels and timeouts."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.alerting.messages import json_line
from pipeline.alerting.routes import AlertDeliveryError, location_label, route_label, send_alert
from pipeline.topics import AlertRoute
from tests.unit.factories import (
    another_alert,
    make_alert,
)


def test_file_route_appends_one_line_per_alert_and_creates_directories(tmp_path: Path) -> None:
    alert = make_alert(url="file:out/nested/alerts.jsonl")
    send_alert(alert, tmp_path)
    target = tmp_path / "out" / "nested" / "alerts.jsonl"
    assert target.read_text(encoding="utf-8").splitlines() == [json.dumps(alert.payload, sort_keys=True)]
    second = another_alert(make_alert(url="file:out/nested/alerts.jsonl", surface="upward of 12,000 — ünïcode"), 2)
    send_alert(second, tmp_path)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and [json.loads(x) for x in lines] == [alert.payload, second.payload]
    assert "ünïcode" in lines[1]  # ensure_ascii=False


def test_file_route_with_an_absolute_url(tmp_path: Path) -> None:
    target = tmp_path / "abs" / "alerts.jsonl"
    send_alert(make_alert(url=f"file://{target}"), tmp_path / "unused")
    assert len(target.read_text(encoding="utf-8").splitlines()) == 1


def test_unicode_line_separators_in_a_quote_do_not_split_the_line(tmp_path: Path) -> None:
    alert = make_alert(sentence="before\u2028after\u2029end\x85!")
    send_alert(alert, tmp_path)
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0]) == alert.payload


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    alerts = [another_alert(make_alert(sentence=f"{n} " + "y" * 20_000), n) for n in range(16)]
    threads = [threading.Thread(target=send_alert, args=(a, tmp_path)) for a in alerts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(x)["new_claim"]["sentence"] for x in lines) == sorted(
        a.payload["new_claim"]["sentence"] for a in alerts
    )


def test_file_route_writes_an_alert_once_however_often_it_is_sent(tmp_path: Path) -> None:
    """A run that crashed after writing the line but before marking the alert sends it again: no second line."""
    alert, other = make_alert(), another_alert(make_alert(), 2)
    assert send_alert(alert, tmp_path) is True
    assert send_alert(alert, tmp_path) is False
    assert send_alert(other, tmp_path) is True
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["alert_id"] for x in lines] == [alert.alert_id, other.alert_id]


def test_a_torn_last_line_is_closed_and_does_not_count_as_written(tmp_path: Path) -> None:
    """A crash mid-write leaves half a line: the alert is written whole on the next line."""
    alert = make_alert()
    whole = json_line(alert.payload)
    (tmp_path / "alerts.jsonl").write_text(whole[: len(whole) // 2], encoding="utf-8")
    assert send_alert(alert, tmp_path) is True
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == [whole[: len(whole) // 2], whole]
    assert send_alert(alert, tmp_path) is False


def test_unwritable_file_route_raises_with_the_path(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory", encoding="utf-8")
    with pytest.raises(AlertDeliveryError, match="blocker"):
        send_alert(make_alert(url="file:blocker/alerts.jsonl"), tmp_path)


def test_a_file_route_expands_its_variables_and_never_says_their_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CLAIMWATCH_TEST_TOKEN", "s3cr3t-value")
    caplog.set_level("INFO", logger="pipeline.alerting.routes")
    alert = make_alert(url="file:alerts-${CLAIMWATCH_TEST_TOKEN}.jsonl")
    assert send_alert(alert, tmp_path) is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alerts-s3cr3t-value.jsonl"]
    assert json.loads((tmp_path / "alerts-s3cr3t-value.jsonl").read_text(encoding="utf-8")) == alert.payload
    assert send_alert(alert, tmp_path) is False  # the same file, so still exactly once
    assert "alerts-${CLAIMWATCH_TEST_TOKEN}.jsonl" in caplog.text and "s3cr3t" not in caplog.text

    (tmp_path / "s3cr3t-value").write_text("a file, not a directory", encoding="utf-8")
    with pytest.raises(AlertDeliveryError) as info:
        send_alert(make_alert(url="file:${CLAIMWATCH_TEST_TOKEN}/alerts.jsonl"), tmp_path)
    assert "${CLAIMWATCH_TEST_TOKEN}/alerts.jsonl" in str(info.value) and "s3cr3t" not in str(info.value)
    monkeypatch.delenv("CLAIMWATCH_TEST_TOKEN")
    with pytest.raises(AlertDeliveryError, match="CLAIMWATCH_TEST_TOKEN is not set"):
        send_alert(alert, tmp_path)


def test_missing_environment_variable_names_it_and_no_other_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLAIMWATCH_TEST_ABSENT", raising=False)
    monkeypatch.setenv("CLAIMWATCH_TEST_TOKEN", "s3cr3t-value")
    alert = make_alert(url="json://${CLAIMWATCH_TEST_TOKEN}@hooks.example/${CLAIMWATCH_TEST_ABSENT}")
    with pytest.raises(AlertDeliveryError, match="CLAIMWATCH_TEST_ABSENT") as info:
        send_alert(alert, tmp_path)
    assert "s3cr3t-value" not in str(info.value) and "CLAIMWATCH_TEST_TOKEN" not in str(info.value)


def test_invalid_apprise_url_names_the_scheme_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A topic no longer loads with such a route; an alert queued for one earlier still fails cleanly."""
    monkeypatch.setenv("CLAIMWATCH_TEST_TOKEN", "s3cr3t-value")
    alert = replace(make_alert(), route_url="nosuchservice://${CLAIMWATCH_TEST_TOKEN}@example.org/path")
    with pytest.raises(AlertDeliveryError, match="invalid alert route") as info:
        send_alert(alert, tmp_path)
    message = str(info.value)
    assert "nosuchservice" in message and "s3cr3t-value" not in message and "example.org" not in message


def test_plain_https_url_gets_a_hint(tmp_path: Path) -> None:
    with pytest.raises(AlertDeliveryError, match="json://"):
        send_alert(replace(make_alert(), route_url="https://hooks.example/abc"), tmp_path)


def test_route_label_shows_scheme_and_host_only() -> None:
    assert route_label("json://user:pw@127.0.0.1:8080/hook?x=1") == "json://127.0.0.1:8080"
    assert route_label("mailto://me:pw@gmail.com") == "mailto://gmail.com"
    assert route_label("tgram://123456:ABCDEF/987") == "tgram://***"
    assert route_label("discord://12345/token") == "discord://***"


def test_a_redirect_is_named_by_where_it_points_without_credentials_or_query() -> None:
    target = "http://127.0.0.1:8080/hook"
    assert location_label("/moved/here?sig=abc", target) == "http://127.0.0.1:8080/moved/here"
    assert location_label("https://u:pw@evil.example:8443/x?t=1#f", target) == "https://evil.example:8443/x"
    assert location_label("//[::1]:9/y", target) == "http://[::1]:9/y"
    assert location_label(None, target) == "no Location"
    assert location_label("http://h:99999/", target) == "an unreadable Location"


def test_a_route_waits_longer_than_apprise_by_default_and_its_claim_outlasts_a_send() -> None:
    from pipeline.alerting.routes import claim_lease_seconds, send_timeouts
    from pipeline.topics import TopicConfigError, parse_topic

    assert AlertRoute(url="json://127.0.0.1/hook").timeout_seconds == 30.0  # Apprise's own read timeout is 4 s
    assert send_timeouts(30.0) == (10.0, 30.0) and send_timeouts(2.0) == (2.0, 2.0)
    assert claim_lease_seconds(30.0) > sum(send_timeouts(30.0))
    with pytest.raises(TopicConfigError, match=r"alerts\.0\.timeout_seconds"):
        parse_topic({"alerts": [{"url": "json://h/x", "timeout_seconds": 0}]})
