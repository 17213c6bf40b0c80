"""The records passed between stages."""

from __future__ import annotations

from pipeline.records import RetryPolicy


def test_retry_policy_doubles_the_delay_up_to_a_cap_then_gives_up() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2025, 12, 1, tzinfo=UTC)
    policy = RetryPolicy(first_delay=timedelta(hours=1), max_attempts=5, max_delay=timedelta(hours=6))
    assert [policy.next_retry(n, now) for n in range(1, 6)] == [
        now + timedelta(hours=1),
        now + timedelta(hours=2),
        now + timedelta(hours=4),
        now + timedelta(hours=6),
        None,
    ]
