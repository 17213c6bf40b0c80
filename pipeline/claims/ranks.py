"""Candidates placed in a sentence, searched by where a figure stands.

Which speaker a figure is credited to depends only on where the figure is: the
nearest one before it, the first one after it.  Candidates read once per clause
and sorted here are found for each figure by bisection, so a clause with many
figures and many speakers is not read again for every figure.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Placed(Generic[T]):
    """A candidate named at ``start``; ``order`` is the order the rules list it in (ties keep it)."""

    start: int
    order: int
    item: T
    until: int = 0  # for a candidate that applies to figures up to a place of its own (a comma)


class Sorted(Generic[T]):
    """Candidates sorted by where a figure must be for each to apply (``at``), searched by bisection.

    ``tie`` orders candidates at the same place: +1 puts the first listed first (for searches
    from the left), -1 last (for searches from the right).
    """

    def __init__(self, entries: list[Placed[T]], at: Callable[[Placed[T]], int], tie: int) -> None:
        self.entries = sorted(entries, key=lambda n: (at(n), tie * n.order))
        self.keys = [at(n) for n in self.entries]

    def last_before(self, position: int) -> Placed[T] | None:
        at = bisect.bisect_left(self.keys, position)
        return self.entries[at - 1] if at else None

    def first_from(self, position: int) -> Placed[T] | None:
        at = bisect.bisect_left(self.keys, position)
        return self.entries[at] if at < len(self.entries) else None


def start_of(placed: Placed[T]) -> int:
    return placed.start


def until_of(placed: Placed[T]) -> int:
    return placed.until
