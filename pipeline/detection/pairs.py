"""Decide which pairs of claims contradict, and how badly.

Comparability comes before arithmetic: two figures are compared only when they
count the same thing (metric, role, planned vs actual) at a comparable time,
and are not the same claim re-reported.  Then their intervals are compared:
hard intervals that cannot overlap are a conflict, soft ones that do not
overlap a milder one.  Re-reports of one figure form a cluster; a pair of
clusters is one contradiction, so the tenth outlet repeating a figure never
raises a tenth alert.  The rules and severities are documented in README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pipeline.claims.intervals import Interval, Reading, disjoint, gap, read_figure
from pipeline.detection.histories import LOWER_BOUNDS, family_of, figure_key, is_named
from pipeline.records import OTHER_METRIC, SEVERITIES, Claim, SourcedClaim, stable_id
from pipeline.topics import MetricSpec, TopicConfig

_STOCK_WINDOW_DAYS = 30
SAME_MOMENT_DAYS = 14  # cumulative figures this close describe the same moment
_INCREMENT_BEFORE = re.compile(
    r"\b(?:further|additional|another|extra|new|fresh|first|second|third|initial|latest)\s+(?:group\s+of\s+|batch\s+of\s+|"
    r"wave\s+of\s+|contingent\s+of\s+)?$|\b(?:group|batch|wave|rotation)\s+of\s+$",
    re.IGNORECASE,
)
_FLOW = re.compile(
    r"\balone\b|\b(?:in|during|over)\s+the\s+(?:first|second|third|fourth|last)\s+(?:half|quarter)\b", re.IGNORECASE
)
_INCREMENT_AFTER = re.compile(
    r"^\s+(?:more|additional|further|extra|new)\b|^[^.;]{0,60}?\b(?:first|initial|second|third|next)\s+"
    r"(?:phase|stage|wave|group|batch|tranche|rotation)\b",
    re.IGNORECASE,
)
_CURRENT = re.compile(
    r"^[^.;,]{0,60}?\b(?:remain|remains|remained|are\s+now|is\s+now|now\s+in|still|currently|at\s+present|"
    r"yet\s+to\s+return|living\s+in|already|(?:are|is)\s+(?:also\s+)?(?:at\s+work|working|stationed|posted|"
    r"deployed|present|located|based)|(?:were|was|have\s+been|had\s+been)\s+(?:relocated|redeployed|repositioned|"
    r"moved))\b",
    re.IGNORECASE,
)
_CURRENT_BEFORE = re.compile(
    r"\b(?:now|currently|still|at\s+present)\b[\s,]+(?:\w+\s+){0,3}$|"
    r"\b(?:fallen|fell|dropped|down|reduced|shrunk|shrank)\s+to\s+(?:\w+\s+){0,2}$|"
    r"\b(?:compared\s+with|down\s+from|up\s+from)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
_MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# A window, not the running total: "this year", or "since September" with no year (the latest September).
_WINDOW_AFTER = re.compile(
    rf"^[^.;\d]{{0,70}}?(?<!earlier )(?<!later )\bthis\s+year\b"
    rf"|^[^.;\d]{{0,70}}?\bsince\s+{_MONTHS}\b(?!,?\s+(?:\d{{4}}|last\b))",
    re.IGNORECASE,
)
_WINDOW_BEFORE = re.compile(rf"\bsince\s+{_MONTHS}\b(?!,?\s+(?:\d{{4}}|last\b))[\s,]+(?:\w+\s+){{0,2}}$", re.IGNORECASE)
_CEILINGS = ("up_to",)
_UPPER_BOUNDS = ("up_to", "at_most")


@dataclass(frozen=True, slots=True)
class Verdict:
    severity: str
    rule: str
    reason: str


def cluster_key(claim: Claim) -> tuple[object, ...]:
    """Claims with the same key are one figure re-reported ("about 600" and "600"), as the engine links them."""
    return figure_key(claim, scope_of(claim)).parts()


def scope_of(claim: Claim) -> str:
    """Whether a figure is the running total, what is there now, or an increment.

    Read from the words next to the figure in its sentence: "a further 3,000", "a first group of
    1,500" are increments; "1,000 remain", "now in Kursk", "at present" are current levels.
    """
    sentence, surface = claim.sentence, claim.surface
    at = sentence.find(surface)
    if at == -1:
        return "total"
    before = sentence[max(0, at - 40) : at]
    after = sentence[at + len(surface) : at + len(surface) + 80]
    if _INCREMENT_BEFORE.search(before) or _INCREMENT_AFTER.match(after):
        return "increment"
    if _FLOW.search(sentence[max(0, at - 60) : at + len(surface) + 40]):
        return "increment"  # "in the first half of 2025 alone": a flow over a period, not the running total
    if _WINDOW_AFTER.match(after) or _WINDOW_BEFORE.search(before):
        return "increment"  # "3.5 million shells this year", "since September, 10,000 were sent"
    if _CURRENT.search(after) or _CURRENT_BEFORE.search(before):
        return "current"
    return "total"


def contradiction_id(topic: str, a: Claim, b: Claim) -> str:
    keys = sorted((repr(cluster_key(a)), repr(cluster_key(b))))
    return stable_id("contradiction", topic, *keys)


def reading(claim: Claim, topic: TopicConfig) -> Reading:
    """The hard and soft intervals of a claim under its metric's tolerance."""
    spec = topic.metrics.get(claim.metric)
    tolerance = spec.tolerance if spec else 0.10
    vague = (claim.value_low or 1.0, claim.value_high) if claim.hedge == "vague" else None
    return read_figure(claim.hedge, claim.stated_low, claim.stated_high, tolerance, vague)


def _as_of(s: SourcedClaim) -> date | None:
    if s.claim.period_end is not None:
        return s.claim.period_end
    return s.published_at.date() if s.published_at else None


def shift_severity(severity: str, steps: int, floor: str = "low") -> str:
    """``steps`` levels up or down, never below ``floor`` nor above the top."""
    rank = max(SEVERITIES.index(floor), min(len(SEVERITIES) - 1, SEVERITIES.index(severity) + steps))
    return SEVERITIES[rank]


def _who(s: SourcedClaim) -> str:
    source = s.claim.attributed_to or "unattributed"
    return f"{source}, {s.outlet}" if s.outlet else source


def _above(x: Interval, y: Interval) -> bool:
    return y[1] is not None and x[0] > y[1]


def _same_metric(new: SourcedClaim, old: SourcedClaim, topic: TopicConfig) -> Verdict | None:
    a, b = new.claim, old.claim
    ra, rb = reading(a, topic), reading(b, topic)
    ceiling = a.hedge in _CEILINGS or b.hedge in _CEILINGS
    # "up to" is a pragmatic ceiling: it can be cancelled, so only the soft reading conflicts
    hard = disjoint(ra.hard, rb.hard) and not ceiling
    if not (hard or disjoint(ra.soft, rb.soft)) or _bounds_cannot_conflict(a, b):
        return None
    pair = _Pair(new, old, ra, rb, topic.metrics[a.metric], hard, ceiling)
    when_a, when_b = _as_of(new), _as_of(old)
    if when_a and when_b and when_a != when_b:
        decided, verdict = _over_time(pair, when_a, when_b)
        if decided:
            return verdict
    return _at_one_moment(pair)


def _bounds_cannot_conflict(a: Claim, b: Claim) -> bool:
    if "vague" in (a.hedge, b.hedge):
        return True  # "thousands of" is too loose to contradict a figure
    if a.hedge in LOWER_BOUNDS and b.hedge in LOWER_BOUNDS:
        return True  # two lower bounds always share their upper values
    # and two ceilings their lower ones: "fewer than 500" and "less than 9,000" can both hold
    return a.hedge in _UPPER_BOUNDS and b.hedge in _UPPER_BOUNDS


@dataclass(frozen=True, slots=True)
class _Pair:
    """Two figures of one metric whose readings conflict, as the rules below weigh them."""

    new: SourcedClaim
    old: SourcedClaim
    ra: Reading
    rb: Reading
    spec: MetricSpec
    hard: bool
    ceiling: bool

    @property
    def stock(self) -> bool:
        return scope_of(self.new.claim) == "current"

    @property
    def dated(self) -> bool:
        return self.new.claim.period_end is not None and self.old.claim.period_end is not None


def _over_time(p: _Pair, when_a: date, when_b: date) -> tuple[bool, Verdict | None]:
    """Figures of different dates: (decided, verdict); undecided ones are weighed as of one moment."""
    a, b, ra, rb, spec = p.new.claim, p.old.claim, p.ra, p.rb, p.spec
    stock = p.stock
    earlier_claim, later_r, earlier_r = (b, ra, rb) if when_a > when_b else (a, rb, ra)
    if earlier_claim.hedge in ("more_than", "at_least") and _above(later_r.soft, earlier_r.soft):
        return True, None
    # Cumulative figures dated within two weeks describe the same moment (no count grows 50% in a
    # week), unless the earlier one was only a lower bound ("more than 300" is true of 4,000).
    window = _STOCK_WINDOW_DAYS if (stock or not spec.cumulative) else SAME_MOMENT_DAYS
    days = abs((when_a - when_b).days)
    if days <= window:
        return False, None
    later, earlier = (ra, rb) if when_a > when_b else (rb, ra)
    later_claim = a if when_a > when_b else b
    if (stock or not spec.cumulative) and days > _STOCK_WINDOW_DAYS:
        return True, None  # a level that changes over time: a later different figure is an update
    if spec.cumulative and not stock and _above(later.soft, earlier.soft):
        return True, _implausible_growth(later_claim, later, earlier, days, spec.max_monthly_growth)
    if later_claim.hedge in LOWER_BOUNDS and not p.hard:
        return True, None  # "more than 600" after "2,000" restates less; it does not lower the count
    if not (spec.cumulative and not stock):
        return False, None
    severity = "high" if p.hard else "medium"
    if not p.dated:
        severity = shift_severity(severity, -1)
    if p.ceiling:
        severity = "low"
    return True, Verdict(severity, "cumulative_regression",
                         f"{a.metric} is cumulative, yet the later figure ({(a if when_a > when_b else b).surface!r})"
                         f" is below the earlier one ({(b if when_a > when_b else a).surface!r}).")  # fmt: skip


def _at_one_moment(p: _Pair) -> Verdict:
    a, b, ra, rb = p.new.claim, p.old.claim, p.ra, p.rb
    if p.hard:
        g = gap(ra.hard, rb.hard)
        severity, rule = ("high" if g >= 0.5 else "medium" if g >= 0.15 else "low"), "hard_conflict"
    else:
        g = gap(ra.soft, rb.soft)
        severity, rule = ("medium" if g >= 0.5 else "low"), "soft_conflict"
    if p.ceiling:
        severity, rule = "low", "ceiling_below_estimate"
    elif p.spec.cumulative and not p.stock and not p.dated:
        severity = shift_severity(severity, -1)
    direction = "below" if _above(rb.soft, ra.soft) or _above(rb.hard, ra.hard) else "above"
    return Verdict(
        severity,
        rule,
        f"{a.surface!r} ({_who(p.new)}) puts {a.metric} {direction} {b.surface!r} ({_who(p.old)}), "
        f"{g:.0%} apart beyond the metric's tolerance.",
    )


def _implausible_growth(
    later: Claim, later_r: Reading, earlier_r: Reading, days: int, max_monthly_growth: float | None
) -> Verdict | None:
    """A cumulative count that grew faster than its metric can: a steady flow does not double in a quarter.

    Only for metrics that name their pace (``max_monthly_growth``); counts that
    grow in jumps (a deployment of 10,000 at once) have none.
    """
    top = earlier_r.hard[1]
    if max_monthly_growth is None or top is None or top <= 0:
        return None
    allowed = top * (1 + max_monthly_growth) ** (days / 30.44)
    if later_r.hard[0] <= allowed:
        return None
    return Verdict(
        "medium",
        "implausible_growth",
        f"{later.metric} grows at most {max_monthly_growth:.0%} a month, yet {later.surface!r} is "
        f"{later_r.hard[0] / top:.1f}x the earlier figure {days} days later.",
    )


def _part_whole(child: SourcedClaim, parent: SourcedClaim, topic: TopicConfig) -> Verdict | None:
    """Only within one source's own figures: across sources, a "whole" is often a part itself
    (a first group of 1,500, a further 3,000), so a bigger part proves nothing."""
    family = family_of(child)
    if not is_named(family) or family != family_of(parent):
        return None
    if scope_of(parent.claim) != "total" or scope_of(child.claim) == "increment":
        return None  # more killed than are at the front *now* is no contradiction
    rc, rp = reading(child.claim, topic), reading(parent.claim, topic)
    if "vague" in (child.claim.hedge, parent.claim.hedge) or parent.claim.hedge in _CEILINGS:
        return None
    if not _above(rc.hard, rp.hard):
        return None
    return Verdict(
        "high",
        "part_exceeds_whole",
        f"{child.claim.surface!r} {child.claim.metric} ({_who(child)}) exceeds {parent.claim.surface!r} "
        f"{parent.claim.metric} ({_who(parent)}), of which it is a part.",
    )


def _ancestors(metric: str, topic: TopicConfig) -> list[str]:
    chain: list[str] = []
    parent = topic.metrics[metric].parent if metric in topic.metrics else None
    while parent and parent not in chain:
        chain.append(parent)
        parent = topic.metrics[parent].parent
    return chain


def compare(new: SourcedClaim, old: SourcedClaim, topic: TopicConfig) -> Verdict | None:
    """The verdict on one pair, or None when they do not contradict (or cannot be compared)."""
    a, b = new.claim, old.claim
    if a.article_id != b.article_id and (new.copy_of or a.article_id) == (old.copy_of or b.article_id):
        return None  # a relayed copy and its original (or two copies of it) are one source, not two
    if OTHER_METRIC in (a.metric, b.metric) or a.metric not in topic.metrics or b.metric not in topic.metrics:
        return None
    if "ratio" in (a.hedge, b.hedge) or a.modality != b.modality:
        return None  # an unresolved share, or a pledge against a delivery: not comparable
    if a.role != b.role and "unspecified" not in (a.role, b.role):
        return None
    scopes = {scope_of(a), scope_of(b)}
    if "increment" in scopes:
        return None  # "a further 3,000": not the running total
    if len(scopes) > 1 and a.metric == b.metric and topic.metrics[a.metric].cumulative:
        return None  # "fewer than 500 remain" is not the running total of a cumulative count
    if a.metric == b.metric:
        if cluster_key(a) == cluster_key(b):
            return None  # the same figure re-reported
        return _same_metric(new, old, topic)
    if b.metric in _ancestors(a.metric, topic):
        return _part_whole(new, old, topic)
    if a.metric in _ancestors(b.metric, topic):
        return _part_whole(old, new, topic)
    return None
