"""Hedges as intervals: what a hedged figure can mean (hard) and most plausibly means (soft).

The mapping follows the claims model in README.md ("How figures are read"):
round numbers read approximately, "about" widens by the metric's tolerance,
"more than" opens upwards, "up to" is a ceiling, vague plurals span two
orders of magnitude.  ``None`` as an upper bound means unbounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Interval = tuple[float, float | None]


@dataclass(frozen=True, slots=True)
class Reading:
    """The two readings of a figure the contradiction rules compare."""

    hard: Interval
    soft: Interval


def granularity(n: float) -> float:
    """The largest power of ten, or five times one, that divides n (14,000 -> 1,000; 6.5M -> 500,000)."""
    if n <= 0 or n != int(n):
        return 1.0
    best = 1.0
    power = 1.0
    while power <= n:
        for step in (power, 5 * power):
            if step <= n and n % step == 0:
                best = max(best, step)
        power *= 10
    return best


def is_round(n: float) -> bool:
    """A number ending in zeros ("6,000") reads approximately; "37" or "6,140" read precisely."""
    return n >= 100 and granularity(n) >= 100


def _next_step(n: float) -> float:
    g = granularity(n)
    return g if g < n else 10 ** math.floor(math.log10(n)) if n >= 1 else 1.0


def read_figure(
    hedge: str,
    low: float | None,
    high: float | None,
    tolerance: float,
    vague_bounds: Interval | None = None,
) -> Reading:
    """Hard and soft intervals for a stated figure under its hedge."""
    a = max(0.10, tolerance)
    if hedge == "vague":
        b_low, b_high = vague_bounds or (1.0, None)
        soft_high = None if b_high is None else min(b_high, b_low * 10)
        return Reading((b_low, b_high), (2 * b_low, soft_high))
    if low is None:
        raise ValueError(f"hedge {hedge!r} needs a stated number")
    n = low
    if hedge == "between":
        top = high if high is not None else low
        return Reading((low, top), (low, top))
    if hedge in ("exact", "ratio"):
        if not is_round(n):
            return Reading((n, n), (n, n))
        w = max(min(granularity(n) / 2, 0.1 * n), tolerance * n / 2)
        return Reading((n - 2 * w, n + 2 * w), (n - w, n + w))
    if hedge == "about":
        return Reading((n * (1 - 2 * a), n * (1 + 2 * a)), (n * (1 - a), n * (1 + a)))
    if hedge == "nearly":
        return Reading((n * (1 - 2 * a), n), (n * (1 - a), n))
    if hedge == "more_than":
        return Reading((n, None), (n, n + _next_step(n)))
    if hedge == "at_least":
        return Reading((n, None), (n, n + granularity(n)))
    if hedge in ("up_to", "at_most"):
        return Reading((0.0, n), (0.5 * n, n))
    raise ValueError(f"unknown hedge {hedge!r}")


def disjoint(x: Interval, y: Interval) -> bool:
    """True when the intervals cannot share a value."""
    (x_lo, x_hi), (y_lo, y_hi) = x, y
    return (x_hi is not None and x_hi < y_lo) or (y_hi is not None and y_hi < x_lo)


def gap(x: Interval, y: Interval) -> float:
    """Relative distance between two disjoint intervals (0 when they meet)."""
    (x_lo, x_hi), (y_lo, y_hi) = x, y
    if x_hi is not None and x_hi < y_lo:
        return (y_lo - x_hi) / y_lo if y_lo else 1.0
    if y_hi is not None and y_hi < x_lo:
        return (x_lo - y_hi) / x_lo if x_lo else 1.0
    return 0.0
