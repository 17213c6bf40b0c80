"""Sending one alert to its route: a ``file:`` line, a webhook, or any Apprise channel.

The alert id is the idempotency key: it is in every payload and message, and
webhooks (``json://``) also get it as an ``Idempotency-Key`` header.  A file
route is exactly-once: a line already holding the alert id is not written
again.  Other channels are at-least-once; a resend carries the same id.  The
human message is handed to Apprise declared as TEXT, so Apprise escapes it for
HTML/Markdown channels instead of rendering it.  No route follows a redirect:
an alert goes only to the host its route names, and a webhook answering 3xx
fails the attempt with the ``Location`` it pointed at.  ``${VAR}`` references
are expanded in every kind of route, ``file:`` paths included, and written
back in place of their values in every log line and error.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

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


def expand_route(url: str, environ: Mapping[str, str]) -> envrefs.Expanded:
    """The route with its ``${VAR}`` filled in, and the values to redact from whatever is said about it."""
    try:
        return envrefs.expand(url, environ, what=f"alert route {route_label(url)}")
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
    route = expand_route(route_url, os.environ)
    path = file_route_path(route.text, data_dir)
    if path is not None:
        try:
            written = _append_once(path, alert_id, json_line(payload))
        except AlertDeliveryError as exc:
            raise AlertDeliveryError(route.redact(str(exc))) from None
        log.info("alert %s %s %s", alert_id, "appended to" if written else "already in", route.redact(str(path)))
        return written
    _notify_apprise(route_url, route, alert_id, severity, payload, message, timeout_seconds)
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
    route: envrefs.Expanded,
    alert_id: str,
    severity: str,
    payload: Mapping[str, Any],
    message: tuple[str, str],
    timeout_seconds: float,
) -> None:
    """Send to an Apprise URL; ``json://``/``jsons://`` webhooks get the payload itself.

    For those routes ``message`` is the alert payload as a JSON string (the
    same line a ``file:`` route writes) inside the envelope of Apprise's JSON
    plugin (``{"version", "title", "message", "attachments", "type"}``), so a
    receiver does ``json.loads(body["message"])``, and the alert id also goes in
    the ``Idempotency-Key`` header (see ``_post_webhook``).  Other channels get
    the plain-text ``message`` (``render_message``'s, which ends with the alert
    id), declared TEXT so Apprise escapes it for HTML/Markdown services rather
    than render it.  The route's timeout replaces Apprise's 4 s socket timeouts
    (its ``cto``/``rto`` URL arguments), so a receiver that answers slowly is
    not counted as a failure and sent the alert again; redirects are off (also
    against a ``redirect=yes`` in the URL), so an alert never reaches a host
    nobody configured.
    """
    import apprise

    label = route_label(route_url)
    url = route.text
    scheme = url.split("://", 1)[0].lower() if "://" in url else "?"
    title, body = message
    notify_type = apprise.NotifyType.WARNING if severity_rank(severity) >= 2 else apprise.NotifyType.INFO

    try:
        service = apprise.Apprise.instantiate(url, suppress_exceptions=False)
    except Exception as exc:  # a plugin rejecting its URL must not surface the URL itself
        raise AlertDeliveryError(f"invalid alert route (scheme {scheme!r}): {type(exc).__name__}") from None
    if service is None:
        hint = "; for a plain webhook use json:// or jsons://" if scheme in ("http", "https") else ""
        raise AlertDeliveryError(f"invalid alert route (scheme {scheme!r}){hint}")
    timeouts = send_timeouts(timeout_seconds)
    service.socket_connect_timeout, service.socket_read_timeout = timeouts
    service.redirects = False
    if scheme in JSON_SCHEMES:
        with _http_library_logs_off():
            _post_webhook(service, label, route, alert_id, (title, json_line(payload)), notify_type.value, timeouts)
        log.info("alert %s sent to %s", alert_id, label)
        return
    sender = apprise.Apprise()
    sender.add(service)
    try:
        sent = sender.notify(body=body, title=title, notify_type=notify_type, body_format=apprise.NotifyFormat.TEXT)
    except Exception as exc:
        raise AlertDeliveryError(f"alert route {label}: sending failed ({type(exc).__name__})") from None
    if not sent:
        raise AlertDeliveryError(f"alert route {label}: the channel did not accept the alert (see Apprise warnings)")
    log.info("alert %s sent to %s", alert_id, label)


class _Nothing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def _http_library_logs_off(names: tuple[str, ...] = ("httpx", "httpcore")) -> Iterator[None]:
    """httpx logs each request's full URL, and a webhook's path often is its token: while a webhook is
    posted only ``route_label`` speaks of it (the send and its outcome are logged here, or raised)."""
    quiet = _Nothing()
    loggers = [logging.getLogger(n) for n in names]
    for lg in loggers:
        lg.addFilter(quiet)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(quiet)


_JSON_PLUGIN_FIELDS = (
    "secure",
    "host",
    "port",
    "fullpath",
    "method",
    "params",
    "headers",
    "payload_extras",
    "user",
    "password",
    "verify_certificate",
    "json_version",
    "app_id",
)


def location_label(location: str | None, target: str) -> str:
    """Where a redirect pointed, for an error: scheme, host, port and path (relative ones resolved
    against ``target``), never credentials or a query."""
    if not location:
        return "no Location"
    try:
        parts = urlsplit(urljoin(target, location.strip()))
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an unreadable Location"
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}{parts.path}"[:300]


def webhook_envelope(
    title: str, body: str, notify_type: str, version: str, extras: Mapping[str, str]
) -> dict[str, Any]:
    """The body Apprise's JSON plugin posts, with its ``:key=value`` URL arguments applied the way it applies
    them (``:title=subject`` renames a field, ``:title=`` drops it, ``:team=ops`` adds one)."""
    envelope: dict[str, Any] = {
        "version": version,
        "title": title,
        "message": body,
        "attachments": [],
        "type": notify_type,
    }
    for key, value in extras.items():
        if key not in envelope:
            envelope[key] = value
        elif value:
            envelope[value] = envelope.pop(key)
        else:
            del envelope[key]
    return envelope


def _post_webhook(
    service: Any,
    label: str,
    route: envrefs.Expanded,
    alert_id: str,
    message: tuple[str, str],
    notify_type: str,
    timeouts: tuple[float, float],
) -> None:
    """The request Apprise's JSON plugin would make, sent here so that a redirect is seen and refused.

    The plugin hands a 3xx to ``requests``, which follows it (a 302 or 303
    turns the POST into a GET, so the target gets nothing and the send counts
    as delivered; a 307 re-posts the alert to wherever the receiver points)
    and never shows the response.  Apprise still reads the URL (``+Header``,
    ``-param`` and ``:key`` arguments, ``method``, credentials, ``verify``); only
    the send is ours, with redirects off: any answer but 2xx fails the attempt,
    and a 3xx names its ``Location`` (scheme and host, resolved against the
    route), so the alert stays pending and is retried.
    """
    import httpx

    if not all(hasattr(service, name) for name in _JSON_PLUGIN_FIELDS):
        raise AlertDeliveryError(f"alert route {label}: this Apprise's JSON plugin does not expose its request")
    port = f":{service.port}" if isinstance(service.port, int) else ""
    target = f"{'https' if service.secure else 'http'}://{service.host}{port}{service.fullpath}"
    title, body = message
    envelope = webhook_envelope(title, body, notify_type, service.json_version, service.payload_extras)
    headers = {"User-Agent": service.app_id, "Content-Type": "application/json", **service.headers}
    headers[IDEMPOTENCY_HEADER] = alert_id
    auth = (service.user, service.password or "") if service.user else None
    connect, read = timeouts
    try:
        with httpx.Client(
            verify=service.verify_certificate, timeout=httpx.Timeout(read, connect=connect), follow_redirects=False
        ) as client:
            response = client.request(
                service.method, target, params=service.params, headers=headers, content=json.dumps(envelope), auth=auth
            )
    except httpx.HTTPError as exc:
        raise AlertDeliveryError(f"alert route {label}: sending failed ({type(exc).__name__})") from None
    status = response.status_code
    if 300 <= status < 400:
        where = route.redact(location_label(response.headers.get("location"), target))
        raise AlertDeliveryError(
            f"alert route {label}: the receiver answered {status} redirecting to {where}; redirects are not"
            " followed (an alert goes only to the host its route names)"
        )
    if not 200 <= status < 300:
        raise AlertDeliveryError(f"alert route {label}: the receiver answered {status}")
