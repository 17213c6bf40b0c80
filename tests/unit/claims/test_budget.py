"""The claim reader stops when its deadline has run out, and reads the same claims when it has not.

The clock is fake: it moves on by one second each time it is read, as if every sentence took that long.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipeline.claims import Deadline, OverBudget, extract_claims
from pipeline.topics import TopicConfig
from tests.unit.factories import make_article

TEXT = "\n".join(f"In week {i}, officials said about {1000 + i} North Korean troops reached Kursk." for i in range(40))


def _ticking() -> Callable[[], float]:
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    return clock


def test_reading_stops_once_the_deadline_has_run_out(kursk_topic: TopicConfig) -> None:
    deadline = Deadline.start(10, _ticking())
    with pytest.raises(OverBudget, match="over its budget of 10 s") as stopped:
        extract_claims(make_article(text=TEXT), kursk_topic, deadline=deadline)
    assert stopped.value.seconds == 10 and stopped.value.spent > 10


def test_within_the_deadline_the_claims_are_those_read_without_one(kursk_topic: TopicConfig) -> None:
    article = make_article(text=TEXT)
    unhurried = extract_claims(article, kursk_topic, deadline=Deadline.start(10_000, _ticking()))
    assert unhurried == extract_claims(article, kursk_topic)
    assert len([c for c in unhurried if c.surface.startswith("about ")]) == 40
