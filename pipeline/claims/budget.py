"""A page's time budget: the claim reader checks it as it goes, and stops when it has run out.

Reading costs time in proportion to the text, but a long enough text still takes
long; the extract step gives each page a budget (``extract.page_seconds``) so one
page cannot hold up the pages behind it.  The clock is passed in, so a test can
drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


class OverBudget(Exception):
    """The page took longer than its budget."""

    def __init__(self, seconds: float, spent: float) -> None:
        super().__init__(f"over its budget of {seconds:g} s after {spent:.1f} s")
        self.seconds, self.spent = seconds, spent


@dataclass(frozen=True, slots=True)
class Deadline:
    seconds: float
    started: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def start(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(seconds, clock(), clock)

    def check(self) -> None:
        """Raise ``OverBudget`` once more than ``seconds`` have passed since the start."""
        spent = self.clock() - self.started
        if spent > self.seconds:
            raise OverBudget(self.seconds, spent)
