"""HistoryEntry histories: what each source family has said about each metric, and since when.

A figure is one number a source family gives for one metric (whatever hedge
word each outlet wraps it in), dated to the day it was first published.  A
family's history is the sequence of its figures; its latest figure at a given
time is its part of the metric's *state*.  A later article repeating a figure
is a mention of that figure, not a new claim: that is what lets the engine
tell a stale re-report ("at least 600 killed", repeated months after the same
agency said about 2,000) from a source that really changed its number.

Claims whose source is only "media", "unattributed" or "mixed_sources" have no
family of their own: each outlet is its own bucket, and a bucket repeating a
figure some family gave earlier is a relay of that family's figure.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from pipeline.records import Claim, SourcedClaim, stable_id

AGGREGATE_FAMILIES = frozenset({"media", "unattributed", "mixed_sources"})
_CEILING_HEDGES = frozenset({"up_to", "at_most"})
LOWER_BOUNDS = frozenset({"more_than", "at_least"})


def family_of(s: SourcedClaim) -> str:
    """The independent source behind a claim: its family, else its speaker; buckets per outlet."""
    family = s.claim.source_family
    if family is None:
        who = " ".join((s.claim.attributed_to or "").lower().split())
        family = f"src:{who}" if who else "unattributed"
    if family in AGGREGATE_FAMILIES:
        return f"{family}@{' '.join((s.outlet or '').lower().split())}"
    return family


def is_named(family: str) -> bool:
    """A family that speaks for itself (an agency, a president), not a bucket of outlets."""
    return "@" not in family


def as_of(s: SourcedClaim) -> date:
    """The day a figure describes: the period its text names, else its publication date."""
    if s.claim.period_end is not None:
        return s.claim.period_end
    return s.published_at.date() if s.published_at else date.min


@dataclass(frozen=True, slots=True)
class FigureKey:
    """What makes two mentions the same figure: the thing counted and the number, not the hedge word.

    "about 600" and "600" are one estimate re-worded, and so are "at least 600"
    and "more than 600"; a bound ("more than 3,000") or a ceiling ("up to
    12,000") says something else than an estimate of the same number.
    """

    metric: str
    role: str
    modality: str
    scope: str
    low: float | None
    high: float | None
    kind: str  # point | lower (more than, at least) | ceiling (up to, at most)
    vague_base: float | None

    def node_id(self, topic: str) -> str:
        """The figure whatever family gave it: incidents link these."""
        return stable_id("figure", topic, *self.parts())

    def parts(self) -> tuple[object, ...]:
        return (self.metric, self.role, self.modality, self.scope, self.low, self.high, self.kind, self.vague_base)


def _as_float(x: float | None) -> float | None:
    """Numbers as DuckDB hands them back (``4000.0``), so a figure's id is the same before and after a reload."""
    return None if x is None else float(x)


def figure_key(c: Claim, scope: str) -> FigureKey:
    vague = c.hedge == "vague"
    return FigureKey(
        metric=c.metric,
        role=c.role,
        modality=c.modality,
        scope=scope,
        low=None if vague else _as_float(c.stated_low),
        high=None if vague else _as_float(c.stated_high),
        kind="ceiling" if c.hedge in _CEILING_HEDGES else "lower" if c.hedge in LOWER_BOUNDS else "point",
        vague_base=_as_float(c.value_low) if vague else None,
    )


def point(s: SourcedClaim) -> float | None:
    """One number for a figure, to order a family's own figures: the middle of a range, a bound, or None."""
    c = s.claim
    if c.hedge in ("vague", "ratio") or c.stated_low is None:
        return None
    if c.hedge == "between" and c.stated_high is not None:
        return (c.stated_low + c.stated_high) / 2
    if c.hedge in _CEILING_HEDGES:
        return c.stated_high if c.stated_high is not None else c.stated_low
    return c.stated_low


@dataclass(slots=True, eq=False)
class HistoryEntry:
    """One figure in one family's history: first and latest mention, how often it was repeated."""

    figure_id: str
    topic: str
    family: str
    key: FigureKey
    scope: str
    first: SourcedClaim
    first_seen: date
    last: SourcedClaim
    last_seen: date
    mentions: int = 1
    seq: int = 0
    node_id: str = ""

    def __post_init__(self) -> None:
        self.node_id = self.node_id or self.key.node_id(self.topic)

    @property
    def point(self) -> float | None:
        return point(self.first)

    def mention(self, s: SourcedClaim, when: date) -> None:
        self.mentions += 1
        if when >= self.last_seen:
            self.last, self.last_seen = s, when
        if when < self.first_seen:
            self.first, self.first_seen = s, when


def new_figure(topic: str, family: str, key: FigureKey, s: SourcedClaim, when: date, seq: int) -> HistoryEntry:
    figure_id = stable_id("figure-history", topic, family, *key.parts())
    return HistoryEntry(figure_id, topic, family, key, key.scope, s, when, s, when, 1, seq)


@dataclass(slots=True)
class MetricHistory:
    """All families' figures for one metric, indexed by family (in time order) and by figure."""

    cumulative: bool
    by_family: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    by_key: dict[tuple[str, FigureKey], HistoryEntry] = field(default_factory=dict)
    by_node: dict[FigureKey, list[HistoryEntry]] = field(default_factory=dict)
    by_node_id: dict[str, list[HistoryEntry]] = field(default_factory=dict)

    def add(self, figure: HistoryEntry) -> None:
        figures = self.by_family.setdefault(figure.family, [])
        bisect.insort(figures, figure, key=_time_order)
        self.by_key[(figure.family, figure.key)] = figure
        self.by_node.setdefault(figure.key, []).append(figure)
        self.by_node_id.setdefault(figure.node_id, []).append(figure)

    def redate(self, figure: HistoryEntry, s: SourcedClaim, when: date) -> None:
        """An older mention of a known figure: it was first given earlier than we knew."""
        figures = self.by_family[figure.family]
        figures.remove(figure)
        figure.mention(s, when)
        bisect.insort(figures, figure, key=_time_order)

    def find(self, family: str, key: FigureKey) -> HistoryEntry | None:
        return self.by_key.get((family, key))

    def first_with(self, key: FigureKey, when: date) -> HistoryEntry | None:
        """The earliest family to have given this figure by ``when``: whom a relay repeats."""
        found = [f for f in self.by_node.get(key, ()) if f.first_seen <= when]
        return min(found, key=_time_order) if found else None

    def history(self, family: str, when: date) -> list[HistoryEntry]:
        """The family's figures first given on or before ``when``, oldest first."""
        figures = self.by_family.get(family, [])
        return figures[: bisect.bisect_right(figures, (when, float("inf")), key=lambda f: (f.first_seen, f.seq))]

    def latest(self, family: str, when: date) -> HistoryEntry | None:
        """The family's current figure at ``when``.

        Of figures first given the same day, a cumulative metric takes the
        highest: "4,000 now, more than 3,000 in December" says 4,000.
        """
        figures = self.history(family, when)
        if not figures:
            return None
        day = figures[-1].first_seen
        return self._preferred([f for f in figures if f.first_seen == day])

    def _preferred(self, same_day: list[HistoryEntry]) -> HistoryEntry:
        """Of one family's figures given the same day, the one that states its count.

        A cumulative metric takes the highest ("4,000 now, more than 3,000 in December" says
        4,000), an estimate before a bound of the same number ("4,100" over "more than 4,100").
        """
        if self.cumulative:
            return max(
                same_day,
                key=lambda f: (f.point if f.point is not None else float("-inf"), f.key.kind == "point", f.seq),
            )
        return same_day[-1]

    def earlier_words(self, figure: HistoryEntry, when: date) -> list[HistoryEntry]:
        """The family's word on each day up to ``when`` before ``figure``: one figure per day.

        One article may give a bound and an estimate of one count ("more than 4,100", "4,100"):
        that day's word is the estimate.
        """
        by_day: dict[date, list[HistoryEntry]] = {}
        for f in self.history(figure.family, when):
            if f is not figure:
                by_day.setdefault(f.first_seen, []).append(f)
        return [self._preferred(same_day) for same_day in by_day.values()]

    def state(self, when: date) -> Iterator[HistoryEntry]:
        """The latest figure of every family at ``when``."""
        for family in self.by_family:
            figure = self.latest(family, when)
            if figure is not None:
                yield figure

    def figures(self) -> Iterable[HistoryEntry]:
        return self.by_key.values()


def _time_order(f: HistoryEntry) -> tuple[date, int]:
    return (f.first_seen, f.seq)
