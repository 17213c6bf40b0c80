"""What a contradiction alert says: the stored payload and the plain-text message, built once.

The payload is built when the contradiction is found, stored with the alert and
sent unchanged, so a retry days later sends exactly what was queued.  Everything
quoted comes from untrusted web pages: the payload keeps it as data (JSON
strings); the message is plain text with control and bidi characters removed and
quotes capped.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pipeline.records import Alert, Contradiction, SourcedClaim, severity_rank, stable_id
from pipeline.topics import AlertRoute

QUOTE_MAX_CHARS = 500


FIELD_MAX_CHARS = 200


# Line/paragraph separators that str.splitlines() and JS treat as line breaks
# although json.dumps leaves them raw: escaped so one alert stays one line.
_RAW_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def routes_for(severity: str, routes: Sequence[AlertRoute]) -> list[AlertRoute]:
    """The routes that want a contradiction of this severity (``min_severity`` at or below it)."""
    rank = severity_rank(severity)
    return [r for r in routes if severity_rank(r.min_severity) <= rank]


def build_alert(contradiction: Contradiction, new: SourcedClaim, other: SourcedClaim, route: AlertRoute) -> Alert:
    """One alert for one route; the id is derived from content so re-detection queues nothing twice."""
    alert_id = stable_id(contradiction.contradiction_id, route.url)
    new_d, other_d = _claim_dict(new), _claim_dict(other)
    payload: dict[str, Any] = {
        "alert_id": alert_id,
        "topic": contradiction.topic,
        "metric": contradiction.metric,
        "severity": contradiction.severity,
        "rule": contradiction.rule,
        "reason": contradiction.reason,
        "contradiction_id": contradiction.contradiction_id,
        "new_claim": new_d,
        "contradicts": [other_d],
        "summary": _summary(contradiction.metric, new_d, other_d, contradiction.severity),
    }
    return Alert(
        alert_id=alert_id,
        contradiction_id=contradiction.contradiction_id,
        topic=contradiction.topic,
        metric=contradiction.metric,
        severity=contradiction.severity,
        route_url=route.url,
        payload=payload,
    )


def render_message(alert: Alert) -> tuple[str, str]:
    """(title, body) as plain text for email/chat: a one-line headline, then each figure with who said
    it, the outlet, the date, the quote and the link.

    Reads the stored payload (not live records) so a retried alert says what was
    queued.  Nothing is marked up or escaped here: the text is only cleaned of
    control characters and capped; escaping for a rich channel is Apprise's job.
    """
    p = alert.payload
    metric = plain_line(p.get("metric") or alert.metric)
    severity = plain_line(p.get("severity") or alert.severity)
    topic = plain_line(p.get("topic") or alert.topic)
    new = p.get("new_claim")
    new = new if isinstance(new, Mapping) else {}
    others = [c for c in p.get("contradicts") or [] if isinstance(c, Mapping)]
    headline = _headline(metric, new, others[0] if others else {})
    title = capped(f"[claimwatch {severity}] {headline}", FIELD_MAX_CHARS)

    lines = [
        headline,
        "",
        f"Topic: {topic}",
        f"Metric: {metric}",
        f"Severity: {severity}",
        f"Rule: {plain_line(p.get('rule'))}",
        f"Why: {capped(plain_line(p.get('reason')), QUOTE_MAX_CHARS)}",
        "",
        *_claim_lines("New figure", new),
    ]
    for other in others:
        lines += ["", *_claim_lines("Contradicts", other)]
    ids = f"Alert {plain_line(p.get('alert_id') or alert.alert_id)}, contradiction {plain_line(alert.contradiction_id)}"
    lines += ["", ids]
    return title, "\n".join(lines)


def json_line(payload: Mapping[str, Any]) -> str:
    """The payload as one JSON line (sorted keys, UTF-8 kept), safe for line-based readers."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    for raw, escaped in _RAW_LINE_BREAKS.items():
        text = text.replace(raw, escaped)
    return text


def _claim_dict(s: SourcedClaim) -> dict[str, Any]:
    c = s.claim
    return {
        "claim_id": c.claim_id,
        "value_low": c.value_low,
        "value_high": c.value_high,
        "stated_low": c.stated_low,
        "stated_high": c.stated_high,
        "hedge": c.hedge,
        "surface": c.surface,
        "sentence": c.sentence,
        "attributed_to": c.attributed_to,
        "relayed_by": c.relayed_by,
        "refers_to": c.refers_to,
        "unverified": c.unverified,
        "modality": c.modality,
        "role": c.role,
        "url": s.url,
        "outlet": s.outlet,
        "published_at": s.published_at.isoformat() if s.published_at else None,
    }


def _summary(metric: str, new: Mapping[str, Any], other: Mapping[str, Any], severity: str) -> str:
    """One line: ``metric: 'new' (who, outlet, date) contradicts 'other' (...) [severity]``."""
    return (
        f"{plain_line(metric)}: {_figure(new)} ({_provenance(new)}) "
        f"contradicts {_figure(other)} ({_provenance(other)}) [{plain_line(severity)}]"
    )


def _headline(metric: str, new: Mapping[str, Any], other: Mapping[str, Any]) -> str:
    """What a phone shows first: ``metric: 'figure' (source, date) vs 'figure' (source, date)``."""

    def side(c: Mapping[str, Any]) -> str:
        who = capped(plain_line(c.get("attributed_to")) or plain_line(c.get("outlet")) or "unattributed", 60)
        return f"{capped(_figure(c), 60)} ({who}, {_day(c.get('published_at')) or 'date unknown'})"

    return f"{metric}: {side(new)} vs {side(other)}" if other else f"{metric}: {side(new)}"


def _figure(c: Mapping[str, Any]) -> str:
    return "'" + capped(plain_line(c.get("surface")), FIELD_MAX_CHARS) + "'"


def _provenance(c: Mapping[str, Any]) -> str:
    who = plain_line(c.get("attributed_to")) or "unattributed"
    if c.get("relayed_by"):
        who += f" via {plain_line(c.get('relayed_by'))}"
    parts = [capped(who, FIELD_MAX_CHARS)]
    if c.get("outlet"):
        parts.append(capped(plain_line(c.get("outlet")), FIELD_MAX_CHARS))
    parts.append(_day(c.get("published_at")) or "date unknown")
    return ", ".join(parts)


def _claim_lines(label: str, c: Mapping[str, Any]) -> list[str]:
    who = plain_line(c.get("attributed_to")) or "unattributed"
    if c.get("relayed_by"):
        who += f" (relayed by {plain_line(c.get('relayed_by'))})"
    lines = [
        f"{label}: {_figure(c)}" + (" [unverified]" if c.get("unverified") else ""),
        f"  Said by: {capped(who, FIELD_MAX_CHARS)}",
        f"  Outlet: {capped(plain_line(c.get('outlet')), FIELD_MAX_CHARS) or 'unknown'}",
        f"  Published: {capped(plain_line(c.get('published_at')), 40) or 'unknown'}",
    ]
    if c.get("refers_to"):
        lines.append(f"  Refers to: {capped(plain_line(c.get('refers_to')), FIELD_MAX_CHARS)}")
    lines += [
        f'  Quote: "{capped(plain_line(c.get("sentence")), QUOTE_MAX_CHARS)}"',
        f"  Link: {_link(c.get('url'))}",
    ]
    return lines


def _link(value: object) -> str:
    """Only http(s) links are shown: a ``javascript:`` or ``data:`` URL from a page is withheld."""
    url = plain_line(value)
    if not url:
        return "none"
    if not url.lower().startswith(("http://", "https://")):
        return "(withheld: not an http(s) link)"
    return capped(url, 2000)


def _day(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        return capped(plain_line(value), 40)


def plain_line(value: object) -> str:
    """Untrusted text to one plain line: control, format (bidi, zero-width) and separator chars go."""
    if value is None:
        return ""
    out = []
    for ch in str(value):
        cat = unicodedata.category(ch)
        if ch in "\t\n\r" or cat in ("Zl", "Zp"):
            out.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def capped(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking the cut: a phone screen, not a page."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
