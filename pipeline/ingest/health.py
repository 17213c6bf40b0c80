"""Feed health: is a feed fine, quiet, failing, broken or silent?

A pure verdict over one feed's recent polls (``feed_polls``), so "no news"
(the feed answers, nothing new) is never mistaken for "source broken" (the
feed errors), and a feed that answers but has stopped listing new items is
noticed once it has been quiet for far longer than its own usual rhythm.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.topics import FeedHealthSpec

OK, NO_NEWS, FAILING, BROKEN, SILENT = "ok", "no_news", "failing", "broken", "silent"
# The verdicts that page the topic's operations route.
ALERTING = frozenset({BROKEN, SILENT})


@dataclass(frozen=True, slots=True)
class PollRecord:
    """One poll of one feed, as ``feed_polls`` holds it."""

    polled_at: datetime
    ok: bool
    new_entries: int
    status: str


@dataclass(frozen=True, slots=True)
class FeedHealth:
    feed_url: str
    state: str  # ok | no_news | failing | broken | silent
    consecutive_failures: int
    last_ok_at: datetime | None
    last_new_at: datetime | None
    median_interval: timedelta | None  # between polls that brought new items
    detail: str  # the verdict in words: what an operations alert says

    @property
    def alerting(self) -> bool:
        return self.state in ALERTING


def feed_health(feed_url: str, polls: Sequence[PollRecord], now: datetime, spec: FeedHealthSpec) -> FeedHealth:
    """The verdict on one feed from its polls (any order); ``now`` is when it is judged."""
    ordered = sorted(polls, key=lambda p: p.polled_at)
    failures = 0
    for poll in reversed(ordered):
        if poll.ok:
            break
        failures += 1
    last_ok = max((p.polled_at for p in ordered if p.ok), default=None)
    new_times = [p.polled_at for p in ordered if p.ok and p.new_entries > 0]
    last_new = new_times[-1] if new_times else None
    gaps = [b - a for a, b in zip(new_times, new_times[1:], strict=False)]
    median = _median(gaps) if len(gaps) >= spec.min_intervals else None

    def verdict(state: str, detail: str) -> FeedHealth:
        return FeedHealth(feed_url, state, failures, last_ok, last_new, median, detail)

    if not ordered:
        return verdict(NO_NEWS, "never polled")
    latest = ordered[-1]
    if failures >= spec.failed_polls:
        since = f"; last answered {_when(last_ok)}" if last_ok else "; it has never answered"
        return verdict(BROKEN, f"source broken: {failures} polls failed in a row{since}; last error: {latest.status}")
    if failures:
        return verdict(
            FAILING, f"last poll failed ({failures} in a row, alert at {spec.failed_polls}): {latest.status}"
        )
    if median is not None and last_new is not None and now - last_new > median * spec.silence_factor:
        return verdict(
            SILENT,
            f"silent: nothing new for {_span(now - last_new)} (since {_when(last_new)}), more than "
            f"{spec.silence_factor:g} x its median interval of {_span(median)} between new items; the feed answers",
        )
    if latest.new_entries > 0:
        return verdict(OK, f"{latest.new_entries} new item(s)")
    return verdict(NO_NEWS, "no news: the feed answers, nothing new")


def _median(gaps: Sequence[timedelta]) -> timedelta:
    return timedelta(seconds=statistics.median(g.total_seconds() for g in gaps))


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "never"


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


@dataclass(frozen=True, slots=True)
class IngestFreshness:
    """When a topic last ingested successfully, and whether that is too long ago."""

    topic: str
    last_ok_at: datetime | None  # None: never
    freshness: timedelta
    judged_at: datetime

    @property
    def stale(self) -> bool:
        return self.last_ok_at is None or self.judged_at - self.last_ok_at > self.freshness

    @property
    def detail(self) -> str:
        if self.last_ok_at is None:
            return "no successful ingest recorded"
        return f"last successful ingest {_when(self.last_ok_at)}, {_span(self.judged_at - self.last_ok_at)} ago"


def ingest_freshness(topic: str, last_ok_at: datetime | None, now: datetime, hours: float) -> IngestFreshness:
    """The freshness verdict on a topic: stale once no ingest succeeded within ``hours``."""
    return IngestFreshness(topic, last_ok_at, timedelta(hours=hours), now)
