"""Contradiction alerts: routing, payload and the plain-text message."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from pipeline.alerting.messages import build_alert, render_message, routes_for
from pipeline.records import stable_id
from pipeline.topics import AlertRoute
from tests.unit.factories import (
    make_alert,
    make_alert_pair,
    make_article,
    make_contradiction,
    make_sourced,
)

CLAIM_KEYS = {
    "claim_id",
    "value_low",
    "value_high",
    "stated_low",
    "stated_high",
    "hedge",
    "surface",
    "sentence",
    "attributed_to",
    "relayed_by",
    "refers_to",
    "unverified",
    "modality",
    "role",
    "url",
    "outlet",
    "published_at",
}


def test_routes_for_keeps_routes_whose_threshold_is_at_or_below_the_severity() -> None:
    note = AlertRoute(url="file:note.jsonl", min_severity="note")
    low = AlertRoute(url="file:low.jsonl", min_severity="low")
    high = AlertRoute(url="file:high.jsonl", min_severity="high")
    routes = [note, low, high]
    assert routes_for("note", routes) == [note]
    assert routes_for("low", routes) == [note, low]
    assert routes_for("medium", routes) == [note, low]
    assert routes_for("high", routes) == [note, low, high]
    assert routes_for("high", []) == []


def test_a_note_is_not_routed_to_default_routes() -> None:
    assert routes_for("note", [AlertRoute(url="file:a.jsonl")]) == []


def test_alert_id_derives_from_contradiction_and_route() -> None:
    new, old = make_alert_pair()
    x = make_contradiction(new, old)
    route_a, route_b = AlertRoute(url="file:a.jsonl"), AlertRoute(url="file:b.jsonl")
    first, again = build_alert(x, new, old, route_a), build_alert(x, new, old, route_a)
    other_route = build_alert(x, new, old, route_b)
    assert first == again
    assert first.alert_id == stable_id(x.contradiction_id, route_a.url)
    assert other_route.alert_id != first.alert_id
    assert (first.contradiction_id, first.topic, first.metric, first.severity, first.route_url) == (
        x.contradiction_id,
        "kursk",
        "troops_deployed",
        "low",
        "file:a.jsonl",
    )


def test_payload_has_every_field_and_survives_a_json_round_trip() -> None:
    alert = make_alert()
    p = alert.payload
    assert set(p) == {
        "alert_id",
        "topic",
        "metric",
        "severity",
        "rule",
        "reason",
        "contradiction_id",
        "new_claim",
        "contradicts",
        "summary",
    }
    assert set(p["new_claim"]) == CLAIM_KEYS
    assert len(p["contradicts"]) == 1 and set(p["contradicts"][0]) == CLAIM_KEYS
    assert json.loads(json.dumps(p)) == p  # plain JSON types only, no datetimes
    assert p["new_claim"]["published_at"] == "2025-11-03T00:00:00+00:00"
    assert p["contradicts"][0]["published_at"] == "2025-11-02T08:30:00+00:00"
    assert p["new_claim"]["surface"] == "up to 12,000" and p["contradicts"][0]["surface"] == "about 14,000"
    assert p["new_claim"]["url"] == "https://news.example/2"


def test_summary_is_one_line_naming_both_figures_and_sources() -> None:
    summary = make_alert(sentence="line one\nline two").payload["summary"]
    assert summary == (
        "troops_deployed: 'up to 12,000' (Volodymyr Zelensky via Reuters, Fox News, 2025-11-03) "
        "contradicts 'about 14,000' (Seoul, Yonhap, 2025-11-02) [low]"
    )


def test_missing_published_date_is_none_in_the_payload() -> None:
    new, old = make_alert_pair()
    old = replace(old, published_at=None, outlet=None)
    alert = build_alert(make_contradiction(new, old), new, old, AlertRoute(url="file:a.jsonl"))
    assert alert.payload["contradicts"][0]["published_at"] is None
    assert "(Seoul, date unknown)" in alert.payload["summary"]


def test_message_says_what_contradicts_what_who_when_and_where() -> None:
    title, body = render_message(make_alert(severity="medium"))
    assert "troops_deployed" in title and "medium" in title and "\n" not in title
    for text in (
        "up to 12,000",
        "about 14,000",
        "Volodymyr Zelensky",
        "Reuters",
        "Seoul",
        "Fox News",
        "Yonhap",
        "https://news.example/2",
        "https://news.example/1",
        "2025-11-02T08:30:00+00:00",
        "Up to 12,000 North Korean troops are in Kursk, Zelensky said.",
        "Severity: medium",
        "disjoint_intervals",
    ):
        assert text in body, text
    details = body.split("\n", 1)[1]  # after the headline
    assert details.index("up to 12,000") < details.index("Contradicts") < details.index("about 14,000")


def test_message_opens_with_a_one_line_headline_a_phone_shows_whole() -> None:
    new = make_sourced(
        make_article(3, published_at=datetime(2025, 11, 4, 6, 0, tzinfo=UTC)),
        "Yonhap",
        metric="troops_killed",
        surface="about 600",
        attributed_to=None,
    )
    old = make_sourced(
        make_article(4, published_at=datetime(2025, 9, 4, tzinfo=UTC)),
        "Reuters",
        metric="troops_killed",
        surface="about 2,000",
        attributed_to="NIS",
    )
    contradiction = replace(make_contradiction(new, old, "high"), metric="troops_killed")
    title, body = render_message(build_alert(contradiction, new, old, AlertRoute(url="file:a")))
    headline = "troops_killed: 'about 600' (Yonhap, 2025-11-04) vs 'about 2,000' (NIS, 2025-09-04)"
    assert body.splitlines()[0] == headline
    assert title == f"[claimwatch high] {headline}"
    # then each figure: quote, source, outlet, date and link; the idempotency key line stays last
    for text in ("Said by: NIS", "Outlet: Reuters", "Published: 2025-09-04", "Quote: ", "Link: https://news.example/4"):
        assert text in body, text
    assert body.splitlines()[-1].startswith("Alert ")


def test_the_headline_stays_one_short_line_whatever_the_page_said() -> None:
    title, body = render_message(make_alert(surface="12,000\n\nFAKE: " + "x" * 400, attributed_to="A\u202eB\r\nC"))
    headline = body.splitlines()[0]
    assert "\u202e" not in headline and len(headline) < 200 and headline.startswith("troops_deployed: '12,000 FAKE")
    assert "\n" not in title and not any(line.startswith("FAKE") for line in body.splitlines())


def test_message_is_plain_text_with_control_characters_stripped() -> None:
    hostile = (
        "<script>alert(1)</script> **bold** [x](https://evil.example)\x1b[31mred\x07\u202eevil\u200b\r\nFAKE: line"
    )
    title, body = render_message(make_alert(sentence=hostile, attributed_to="Ministry\x00\x1b]0;pwned\x07"))
    for ch in ("\x1b", "\x07", "\x00", "\u202e", "\u200b", "\r"):
        assert ch not in body and ch not in title
    # Left as literal text (no HTML escaping, no Markdown): Apprise escapes per channel.
    assert "<script>alert(1)</script> **bold** [x](https://evil.example)" in body
    # An injected newline cannot start a line of its own that looks like ours.
    assert not any(line.startswith("FAKE:") for line in body.splitlines())
    assert "Said by: Ministry]0;pwned" in body


def test_long_quotes_are_capped() -> None:
    _, body = render_message(make_alert(sentence="x" * 5000))
    quote = next(line for line in body.splitlines() if "Quote:" in line)
    assert 400 < len(quote) < 600 and quote.rstrip('"').endswith("…")


def test_non_http_links_are_withheld() -> None:
    new, old = make_alert_pair()
    new = replace(new, url="javascript:alert(1)")
    _, body = render_message(build_alert(make_contradiction(new, old), new, old, AlertRoute(url="file:a")))
    assert "javascript:" not in body and "withheld" in body


def test_message_renders_from_a_payload_read_back_from_json() -> None:
    alert = make_alert()
    stored = replace(alert, payload=json.loads(json.dumps(alert.payload, sort_keys=True)))
    assert render_message(stored) == render_message(alert)
