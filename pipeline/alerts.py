"""Contradiction alerts: who gets which, what they say, and how they are sent.

``detect`` turns each contradiction into one :class:`Alert` per matching route
(``routes_for`` + ``build_alert``); ``deliver`` sends a stored alert.  The
payload is built once, stored with the alert and sent unchanged, so a retry
days later sends exactly what was queued.

Everything quoted in an alert comes from untrusted web pages.  The payload
keeps it as data (JSON strings); the human message (``render_message``) is
plain text with control and bidi characters removed and quotes capped, and is
handed to Apprise declared as TEXT so Apprise escapes it for HTML/Markdown
channels instead of rendering it.

The alert id is the idempotency key: it is in every payload and message, and
webhooks (``json://``) also get it as an ``Idempotency-Key`` header.  A file
route is exactly-once: a line already holding the alert id is not written
again.  Other channels are at-least-once; a resend carries the same id.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline import envrefs
from pipeline.config import AlertRoute
from pipeline.records import Alert, Contradiction, SourcedClaim, severity_rank, stable_id

log = logging.getLogger(__name__)

QUOTE_MAX_CHARS = 500
FIELD_MAX_CHARS = 200
JSON_SCHEMES = frozenset({"json", "jsons"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TIMEOUT_SECONDS = 30.0  # AlertRoute's default; Apprise's own is 4 s
CONNECT_TIMEOUT_MAX_SECONDS = 10.0

# Line/paragraph separators that str.splitlines() and JS treat as line breaks
# although json.dumps leaves them raw: escaped so one alert stays one line.
_RAW_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


class AlertDeliveryError(RuntimeError):
    """An alert that could not be sent; it stays pending and is retried."""


# --- pure helpers ---------------------------------------------------------------------


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


def expand_env(url: str, environ: Mapping[str, str]) -> str:
    """Replace ``${VAR}`` with its value, so secrets live in the environment, not in topic files."""
    try:
        return envrefs.expand(url, environ, what=f"alert route {route_label(url)}").text
    except envrefs.MissingVariableError as exc:
        raise AlertDeliveryError(str(exc)) from None


def route_label(url: str) -> str:
    """``scheme://host[:port]`` of a route for logs and errors: never the user, password, path or query.

    Many Apprise URLs carry a token where the host goes (``tgram://TOKEN/...``),
    so a "host" that does not look like a host name or address is masked.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else "?"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # e.g. "TOKEN:SECRET" where host:port would be
        return f"{scheme}://***"
    if host and not (host == "localhost" or "." in host or ":" in host):
        host = "***"
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def json_line(payload: Mapping[str, Any]) -> str:
    """The payload as one JSON line (sorted keys, UTF-8 kept), safe for line-based readers."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    for raw, escaped in _RAW_LINE_BREAKS.items():
        text = text.replace(raw, escaped)
    return text


def file_route_path(url: str, data_dir: Path) -> Path | None:
    """Where a ``file:`` route writes (``file:NAME`` under data_dir, ``file:///abs``); None if not a file route."""
    if not url.lower().startswith("file:"):
        return None
    if url[5:7] == "//":
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise AlertDeliveryError("file alert route must be file:NAME or file:///absolute/path")
        return Path(unquote(parts.path))
    rest = url[5:]
    if not rest:
        raise AlertDeliveryError("file alert route names no file (use file:NAME or file:///absolute/path)")
    path = Path(rest)
    return path if path.is_absolute() else data_dir / path


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


# --- I/O --------------------------------------------------------------------------------


def send_timeouts(timeout_seconds: float) -> tuple[float, float]:
    """(connect, read) socket timeouts for one send: the route's read timeout, a shorter connect timeout."""
    return min(timeout_seconds, CONNECT_TIMEOUT_MAX_SECONDS), timeout_seconds


def claim_lease_seconds(timeout_seconds: float) -> float:
    """How long a claimed alert is left to its sender: longer than any send with these timeouts can take."""
    connect, read = send_timeouts(timeout_seconds)
    return connect + read + 5.0


def deliver(alert: Alert, data_dir: Path, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> bool:
    """Send one alert to its route; raise AlertDeliveryError so the caller keeps it pending.

    Returns False when a file route already holds the alert (a run that
    crashed after writing it), True when it was sent now.
    """
    title, body = render_message(alert)
    return send_to_route(
        alert.route_url, alert.alert_id, alert.severity, alert.payload, (title, body), data_dir, timeout_seconds
    )


def send_to_route(
    route_url: str,
    alert_id: str,
    severity: str,
    payload: Mapping[str, Any],
    message: tuple[str, str],
    data_dir: Path,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> bool:
    """The route sender every kind of alert shares: a ``file:`` route gets ``payload`` as one JSON line
    (exactly once per ``alert_id``), a webhook the payload with ``alert_id`` as its idempotency key, any
    other Apprise channel the plain-text ``message`` (title, body).  False when a file already held it."""
    path = file_route_path(route_url, data_dir)
    if path is not None:
        written = _append_once(path, alert_id, json_line(payload))
        log.info("alert %s %s %s", alert_id, "appended to" if written else "already in", path)
        return written
    _notify_apprise(route_url, alert_id, severity, payload, message, timeout_seconds)
    return True


def _append_once(path: Path, alert_id: str, line: str) -> bool:
    """Append under an exclusive lock, then fsync, unless a whole line already carries ``alert_id``.

    The lock keeps concurrent workers from interleaving lines; the check makes
    the append idempotent, so a crash between writing and marking the alert
    delivered never yields a second line.  A torn last line (a crash mid-write)
    is closed with a newline first, and does not count as delivered.
    """
    data = (line + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                fh.seek(0)
                torn = False
                for raw in fh:
                    torn = not raw.endswith(b"\n")
                    if not torn and _line_alert_id(raw) == alert_id:
                        return False
                fh.write((b"\n" if torn else b"") + data)
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except OSError as exc:
        raise AlertDeliveryError(f"cannot append alert to {path}: {exc.strerror or exc}") from exc
    return True


def _line_alert_id(raw: bytes) -> str | None:
    """The top-level ``alert_id`` of one JSON line, or None (cheap substring test first)."""
    if b'"alert_id"' not in raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    found = value.get("alert_id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def _notify_apprise(
    route_url: str,
    alert_id: str,
    severity: str,
    payload: Mapping[str, Any],
    message: tuple[str, str],
    timeout_seconds: float,
) -> None:
    """Send through Apprise; ``json://``/``jsons://`` webhooks get the payload itself.

    Apprise's JSON plugin always posts its own envelope
    ``{"version", "title", "message", "attachments", "type"}``.  For those
    routes ``message`` is the alert payload as a JSON string (the same line a
    ``file:`` route writes) and ``title`` the human title, so a receiver does
    ``json.loads(body["message"])``; the alert id also goes in the
    ``Idempotency-Key`` header (the plugin's ``+Header`` URL arguments, set on
    the instance so the id never passes through URL quoting).  Other channels
    get the plain-text ``message`` (``render_message``'s, which ends with the alert id).  The
    body is declared TEXT so Apprise escapes it for HTML/Markdown services
    rather than render it.  The route's timeout replaces Apprise's 4 s socket
    timeouts (its ``cto``/``rto`` URL arguments), so a receiver that answers
    slowly is not counted as a failure and sent the alert again.
    """
    import apprise

    label = route_label(route_url)
    url = expand_env(route_url, os.environ)
    scheme = url.split("://", 1)[0].lower() if "://" in url else "?"
    title, body = message
    if scheme in JSON_SCHEMES:
        body = json_line(payload)
    notify_type = apprise.NotifyType.WARNING if severity_rank(severity) >= 2 else apprise.NotifyType.INFO

    try:
        service = apprise.Apprise.instantiate(url, suppress_exceptions=False)
    except Exception as exc:  # a plugin rejecting its URL must not surface the URL itself
        raise AlertDeliveryError(f"invalid alert route (scheme {scheme!r}): {type(exc).__name__}") from None
    if service is None:
        hint = "; for a plain webhook use json:// or jsons://" if scheme in ("http", "https") else ""
        raise AlertDeliveryError(f"invalid alert route (scheme {scheme!r}){hint}")
    service.socket_connect_timeout, service.socket_read_timeout = send_timeouts(timeout_seconds)
    if scheme in JSON_SCHEMES:
        headers = getattr(service, "headers", None)  # the JSON plugin's ``+Header=value`` URL arguments
        if not isinstance(headers, dict):
            raise AlertDeliveryError(f"alert route {label}: this Apprise cannot add an {IDEMPOTENCY_HEADER} header")
        headers[IDEMPOTENCY_HEADER] = alert_id
    sender = apprise.Apprise()
    sender.add(service)
    try:
        sent = sender.notify(body=body, title=title, notify_type=notify_type, body_format=apprise.NotifyFormat.TEXT)
    except Exception as exc:
        raise AlertDeliveryError(f"alert route {label}: sending failed ({type(exc).__name__})") from None
    if not sent:
        raise AlertDeliveryError(f"alert route {label}: the channel did not accept the alert (see Apprise warnings)")
    log.info("alert %s sent to %s", alert_id, label)
