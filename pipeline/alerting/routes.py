"""Sending one alert to its route: a ``file:`` line, a webhook, or any Apprise channel.

The alert id is the idempotency key: it is in every payload and message, and
webhooks (``json://``) also get it as an ``Idempotency-Key`` header.  A file
route is exactly-once: a line already holding the alert id is not written
again.  Other channels are at-least-once; a resend carries the same id.  The
human message is handed to Apprise declared as TEXT, so Apprise escapes it for
HTML/Markdown channels instead of rendering it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline import envrefs
from pipeline.alerting.messages import json_line, render_message
from pipeline.records import Alert, severity_rank

log = logging.getLogger(__name__)


JSON_SCHEMES = frozenset({"json", "jsons"})


IDEMPOTENCY_HEADER = "Idempotency-Key"


DEFAULT_TIMEOUT_SECONDS = 30.0  # AlertRoute's default; Apprise's own is 4 s


CONNECT_TIMEOUT_MAX_SECONDS = 10.0


class AlertDeliveryError(RuntimeError):
    """An alert that could not be sent; it stays pending and is retried."""


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


def send_timeouts(timeout_seconds: float) -> tuple[float, float]:
    """(connect, read) socket timeouts for one send: the route's read timeout, a shorter connect timeout."""
    return min(timeout_seconds, CONNECT_TIMEOUT_MAX_SECONDS), timeout_seconds


def claim_lease_seconds(timeout_seconds: float) -> float:
    """How long a claimed alert is left to its sender: longer than any send with these timeouts can take."""
    connect, read = send_timeouts(timeout_seconds)
    return connect + read + 5.0


def send_alert(alert: Alert, data_dir: Path, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> bool:
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
