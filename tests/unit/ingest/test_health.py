"""Feed health verdicts: no news is not a broken source, and silence is judged against the feed's own rhythm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.ingest.health import BROKEN, FAILING, NO_NEWS, OK, SILENT, PollRecord, feed_health
from pipeline.topics import FeedHealthSpec

T0 = datetime(2025, 12, 1, tzinfo=UTC)
SPEC = FeedHealthSpec(failed_polls=3, silence_factor=5, min_intervals=3)
FEED = "https://news.example/feed"


def _poll(hours: float, ok: bool = True, new: int = 0) -> PollRecord:
    return PollRecord(T0 + timedelta(hours=hours), ok, new if ok else 0, "ok" if ok else "error: HTTP 503")


def _daily_news(days: int) -> list[PollRecord]:
    """Hourly polls of a feed with something new every 24 hours."""
    return [_poll(h, new=2 if h % 24 == 0 else 0) for h in range(days * 24)]


@pytest.mark.parametrize(
    ("polls", "now_hours", "state"),
    [
        ([_poll(0, new=3)], 1, OK),
        ([_poll(0, new=3), _poll(1)], 2, NO_NEWS),
        ([_poll(0, new=3), _poll(1, ok=False)], 2, FAILING),
        ([_poll(0, new=3), _poll(1, ok=False), _poll(2, ok=False)], 3, FAILING),
        ([_poll(0, new=3), _poll(1, ok=False), _poll(2, ok=False), _poll(3, ok=False)], 4, BROKEN),
        # a success in between resets the count: failures must be in a row
        ([_poll(0, ok=False), _poll(1, ok=False), _poll(2), _poll(3, ok=False)], 4, FAILING),
        ([_poll(h, ok=False) for h in range(5)], 5, BROKEN),
        ([], 0, NO_NEWS),
    ],
)
def test_failures_in_a_row_make_a_feed_broken_and_quiet_answers_are_no_news(
    polls: list[PollRecord], now_hours: float, state: str
) -> None:
    assert feed_health(FEED, polls, T0 + timedelta(hours=now_hours), SPEC).state == state


def test_a_feed_silent_far_beyond_its_median_interval_is_silent_not_broken() -> None:
    polls = _daily_news(5)  # new items at hours 0, 24, 48, 72, 96: median interval 24 h
    last_new = T0 + timedelta(hours=96)
    quiet = polls + [_poll(h) for h in range(120, 96 + 5 * 24 + 2)]
    within = feed_health(FEED, quiet, last_new + timedelta(hours=5 * 24 - 1), SPEC)
    assert within.state == NO_NEWS and within.median_interval == timedelta(hours=24)
    beyond = feed_health(FEED, quiet, last_new + timedelta(hours=5 * 24 + 1), SPEC)
    assert beyond.state == SILENT and beyond.alerting
    assert "median interval of 24.0 h" in beyond.detail and "the feed answers" in beyond.detail
    assert beyond.consecutive_failures == 0 and beyond.last_new_at == last_new


def test_silence_is_not_judged_on_thin_evidence() -> None:
    polls = [_poll(0, new=1), _poll(1, new=1), _poll(2, new=1)]  # two intervals only
    verdict = feed_health(FEED, polls, T0 + timedelta(days=30), SPEC)
    assert verdict.state == OK and verdict.median_interval is None


def test_a_broken_feed_says_when_it_last_answered_and_the_last_error() -> None:
    polls = [_poll(0, new=1), *[_poll(h, ok=False) for h in (1, 2, 3)]]
    verdict = feed_health(FEED, polls, T0 + timedelta(hours=4), SPEC)
    assert verdict.state == BROKEN and verdict.consecutive_failures == 3 and verdict.alerting
    assert (
        "source broken" in verdict.detail and "2025-12-01 00:00 UTC" in verdict.detail and "HTTP 503" in verdict.detail
    )
    assert not feed_health(FEED, polls[:-1], T0 + timedelta(hours=3), SPEC).alerting


def test_ingest_is_stale_once_no_load_succeeded_within_the_freshness_window() -> None:
    from pipeline.ingest.health import ingest_freshness

    last = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    fresh = ingest_freshness("kursk", last, last + timedelta(hours=5, minutes=59), hours=6)
    stale = ingest_freshness("kursk", last, last + timedelta(hours=6, minutes=1), hours=6)
    never = ingest_freshness("kursk", None, last, hours=6)
    assert (fresh.stale, stale.stale, never.stale) == (False, True, True)
    assert "6.0 h ago" in stale.detail and never.detail == "no successful ingest recorded"
