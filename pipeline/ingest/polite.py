"""Politeness towards the sites we read: per-host limits, spacing between requests, robots.txt.

A run fetches pages from many hosts at once but never more than a few from
one, and spaces the requests it sends to one host, so a topic with fifty
links to one outlet does not hammer that outlet.  robots.txt is read once per
host per run, through the same hardened fetch path as any page (SSRF checks,
size cap, timeouts), and a page it disallows is never requested.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from pipeline.records import FeedEntry
from pipeline.topics import FetchSpec

log = logging.getLogger(__name__)

# RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; more than that is not a robots file.
ROBOTS_MAX_BYTES = 512 * 1024
# A Crawl-delay above this is read as this: one site must not stall a run for minutes per page.
MAX_CRAWL_DELAY_SECONDS = 30.0


def host_of(url: str) -> str:
    """scheme://host[:port], the unit that limits and robots.txt apply to."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


class HostGate:
    """At most ``per_host`` requests in flight per host, and request starts to one host at least
    ``delay`` seconds apart (a host may be given a longer delay, e.g. its robots.txt Crawl-delay).

    Thread-safe: the fetch task's workers share one gate per run.
    """

    def __init__(
        self,
        per_host: int,
        delay: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._per_host = per_host
        self._delay = delay
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}
        self._delays: dict[str, float] = {}

    def set_delay(self, host: str, seconds: float) -> None:
        with self._lock:
            self._delays[host] = max(self._delay, min(seconds, MAX_CRAWL_DELAY_SECONDS))

    @contextmanager
    def slot(self, url: str, *, delay: float | None = None) -> Iterator[None]:
        """Hold one of the host's slots for the duration of a request, started no sooner than its turn."""
        host = host_of(url)
        with self._lock:
            semaphore = self._slots.setdefault(host, threading.BoundedSemaphore(self._per_host))
        with semaphore:
            with self._lock:  # book the next start time under the lock, then wait outside it
                spacing = self._delays.get(host, self._delay) if delay is None else delay
                start = max(self._clock(), self._next_start.get(host, 0.0))
                self._next_start[host] = start + spacing
            wait = start - self._clock()
            if wait > 0:
                self._sleep(wait)
            yield


class RobotsDisallowed(Exception):
    """robots.txt of the page's host disallows it for our user agent."""


class RobotsCache:
    """robots.txt per host, fetched at most once per run (the cache lives as long as the run's fetch task).

    Per RFC 9309: a robots.txt that does not exist or cannot be used (4xx, refused, not text) allows
    everything; one that cannot be reached for now (timeout, 5xx) disallows everything for this
    run, and the page is retried on a later run.
    """

    def __init__(self, spec: FetchSpec, *, allow_private_hosts: bool, gate: HostGate | None = None) -> None:
        self._spec = spec.model_copy(update={"max_bytes": min(spec.max_bytes, ROBOTS_MAX_BYTES)})
        self._allow_private_hosts = allow_private_hosts
        self._gate = gate
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._parsers: dict[str, RobotFileParser | None] = {}
        self._errors: dict[str, str] = {}

    def check(self, url: str) -> None:
        """Return when ``url`` may be fetched; RobotsDisallowed or a transient FetchError otherwise."""
        from pipeline.ingest.http import FetchError

        host = host_of(url)
        with self._lock:
            host_lock = self._host_locks.setdefault(host, threading.Lock())
        with host_lock:  # one fetch of robots.txt per host, however many workers ask at once
            if host not in self._parsers and host not in self._errors:
                self._load(host)
        if host in self._errors:
            raise FetchError(url, f"robots.txt of {host} unreachable for now ({self._errors[host]})", transient=True)
        parser = self._parsers[host]
        if parser is not None and not parser.can_fetch(self._spec.user_agent, url):
            raise RobotsDisallowed(f"disallowed by {host}/robots.txt for user agent {self._agent()!r}")

    def _agent(self) -> str:
        return self._spec.user_agent.split("/", 1)[0]

    def _load(self, host: str) -> None:
        from pipeline.ingest.http import FetchError, fetch_bytes

        robots_url = f"{host}/robots.txt"
        slot: AbstractContextManager[None] = self._gate.slot(robots_url) if self._gate is not None else nullcontext()
        try:
            with slot:
                _final, _status, body = fetch_bytes(
                    robots_url, self._spec, allow_private_hosts=self._allow_private_hosts
                )
        except FetchError as exc:
            if exc.transient:
                log.warning("robots.txt of %s unreachable: %s", host, exc.reason or exc)
                self._errors[host] = exc.reason or str(exc)
            else:
                self._parsers[host] = None  # no usable robots.txt: everything allowed
            return
        parser = RobotFileParser(robots_url)
        parser.parse(body.decode("utf-8", errors="replace").splitlines())
        self._parsers[host] = parser
        crawl_delay = parser.crawl_delay(self._spec.user_agent)
        if crawl_delay is not None and self._gate is not None:
            self._gate.set_delay(host, float(crawl_delay))


__all__ = ["HostGate", "RobotsCache", "RobotsDisallowed", "host_of"]


def interleave_by_host(entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """Round-robin over hosts (feed order kept within a host), so workers waiting on one busy host's
    limit do not hold up every other host."""
    from itertools import chain, zip_longest

    from pipeline.ingest.polite import host_of

    by_host: dict[str, list[FeedEntry]] = {}
    for entry in entries:
        by_host.setdefault(host_of(entry.url), []).append(entry)
    return [e for e in chain.from_iterable(zip_longest(*by_host.values())) if e is not None]
