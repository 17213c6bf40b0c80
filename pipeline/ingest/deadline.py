"""One wall-clock deadline for a whole HTTP request: connect, TLS, headers and body.

httpx's timeouts bound each socket operation, not the request: a server that
sends a byte every half second never trips a 2 s read timeout and can hold a
worker for as long as it likes.  ``Deadline`` is a watchdog that shuts the
request's socket when the time is up; the thread reading it then sees the
connection end, whatever phase it was in.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any


class Deadline:
    """A watchdog that shuts a request's socket when its time is up, in whatever phase it is
    (connect, TLS, headers, body).  The socket is learnt from httpcore's ``trace`` extension when
    the connection is made, so the client must open a connection per request (no keep-alive)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._ends_at = 0.0
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._ends_at = time.monotonic() + self._seconds
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._socket = None

    def passed(self) -> bool:
        return self._expired or time.monotonic() > self._ends_at

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: remember the socket of each new connection (and its TLS wrapper),
        and forget it once the response is being closed (its descriptor is about to be released)."""
        if event.endswith("response_closed.started"):
            with self._lock:
                self._socket = None
            return
        if not event.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._socket = sock
                if self._expired:
                    _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            if self._socket is not None:
                _shut(self._socket)


def _shut(sock: socket.socket) -> None:
    """Wake the thread blocked reading ``sock``: it sees the connection end.  For a TLS socket the
    plain socket's shutdown is used, which leaves the TLS object to the reading thread."""
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


__all__ = ["Deadline"]
