"""Real loopback peers for integration tests: a webhook receiver and the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CLAIMWATCH = Path(sys.executable).with_name("claimwatch")


@dataclass(frozen=True)
class Received:
    """One POST as it arrived, before the receiver answered (or the sender gave up)."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Webhook:
    url: str
    bodies: list[bytes] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0  # seconds the receiver takes to answer
    received: list[Received] = field(default_factory=list)

    def json_bodies(self) -> list[Any]:
        return [json.loads(b) for b in self.bodies]


@contextmanager
def webhook_receiver() -> Iterator[Webhook]:
    """An HTTP server on 127.0.0.1 that records every POST on arrival, then answers after ``delay``.

    ``bodies`` holds the bodies it accepted (status 200), ``received`` every
    request with its headers, including those whose sender stopped waiting.
    """
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            hook.received.append(Received(dict(self.headers.items()), body))
            if hook.delay:
                time.sleep(hook.delay)
            if hook.status == 200:
                hook.bodies.append(body)
            try:
                self.send_response(hook.status)
                self.end_headers()
            except OSError:  # the sender gave up (timeout, or it was killed)
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


def write_topic(
    path: Path, feed_url: str, alert_urls: list[str], name: str = "kursk_test", alert_timeout: float | None = None
) -> Path:
    raw = yaml.safe_load((REPO_ROOT / "topics" / "kursk.yaml").read_text(encoding="utf-8"))
    timeout = {} if alert_timeout is None else {"timeout_seconds": alert_timeout}
    raw.update(
        name=name,
        feeds=[{"url": feed_url}],
        allow_private_hosts=True,
        alerts=[{"url": u, "min_severity": "low", **timeout} for u in alert_urls],
    )
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def run_cli(
    args: list[str], env: Mapping[str, str], timeout: float = 600, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [str(CLAIMWATCH), *args], env=full_env, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )
