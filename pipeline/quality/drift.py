"""Drift: this run's batch measured against the topic's recent runs, per topic and per outlet.

A slow break upstream passes every expectation: a publisher's new layout turns
each page into a cookie banner (no claims, short texts), a reader change sends
half the figures to ``other``.  Each load records four measures of its batch
(``BatchStats``); ``judge`` compares them with the median of a window of
earlier runs and names the sharp changes.  Pure: the store keeps the history,
the load step reads it and pages the ops route.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.records import OTHER_METRIC, Article, Claim

TOPIC_WIDE = ""  # the outlet of a topic's own row: all its outlets together


@dataclass(frozen=True, slots=True)
class DriftRule:
    """When a change is sharp: a share moving more than ``share_jump`` (absolute), a median halved
    or doubled (``ratio``); judged only once the history holds ``min_runs`` runs and the batch
    (or the outlet's part of it) ``min_articles`` articles, so a quiet run is not a drift."""

    window: int = 20
    min_runs: int = 5
    min_articles: int = 5
    share_jump: float = 0.4
    ratio: float = 2.0


DEFAULT_RULE = DriftRule()


@dataclass(frozen=True, slots=True)
class BatchStats:
    """The measures of one run's batch, for the topic (``outlet`` = ``TOPIC_WIDE``) or one outlet.

    ``claims_per_article`` is the median over articles that have claims, so a batch of pages
    without claims shows up once, in ``no_claim_share``; a measure with nothing to measure is None."""

    topic: str
    outlet: str
    articles: int
    claims: int
    no_claim_share: float | None
    other_share: float | None
    median_text_length: float | None
    claims_per_article: float | None


SHARES = ("no_claim_share", "other_share")
MEDIANS = ("median_text_length", "claims_per_article")
MEASURES = SHARES + MEDIANS


@dataclass(frozen=True, slots=True)
class Drift:
    """One measure of one topic (or outlet) that changed sharply against its recent runs."""

    topic: str
    outlet: str
    measure: str
    current: float
    baseline: float
    runs: int

    def describe(self) -> str:
        where = f"topic {self.topic}" + (f", outlet {self.outlet}" if self.outlet else "")
        return (
            f"{where}: {self.measure.replace('_', ' ')} is {self.current:.3g} in this run "
            f"against a median of {self.baseline:.3g} over the last {self.runs} runs"
        )


def batch_stats(topic: str, articles: Sequence[Article], claims: Sequence[Claim]) -> list[BatchStats]:
    """The topic's measures of a batch, then each outlet's (an article without outlet counts only for
    the topic); empty for an empty batch."""
    if not articles:
        return []
    by_article: dict[str, list[Claim]] = {}
    for c in claims:
        by_article.setdefault(c.article_id, []).append(c)
    outlets: dict[str, list[Article]] = {}
    for a in articles:
        if a.outlet:
            outlets.setdefault(a.outlet, []).append(a)
    groups = {TOPIC_WIDE: list(articles), **outlets}
    return [_stats(topic, outlet, group, by_article) for outlet, group in groups.items()]


def _stats(topic: str, outlet: str, articles: list[Article], by_article: dict[str, list[Claim]]) -> BatchStats:
    counts = [len(by_article.get(a.article_id, [])) for a in articles]
    claims = [c for a in articles for c in by_article.get(a.article_id, [])]
    with_claims = [n for n in counts if n]
    return BatchStats(
        topic=topic,
        outlet=outlet,
        articles=len(articles),
        claims=len(claims),
        no_claim_share=sum(1 for n in counts if not n) / len(articles),
        other_share=sum(c.metric == OTHER_METRIC for c in claims) / len(claims) if claims else None,
        median_text_length=float(statistics.median(len(a.text) for a in articles)),
        claims_per_article=float(statistics.median(with_claims)) if with_claims else None,
    )


def judge(current: BatchStats, history: Sequence[BatchStats], rule: DriftRule = DEFAULT_RULE) -> list[Drift]:
    """The measures of ``current`` that moved sharply against the median of ``history`` (earlier
    runs of the same topic and outlet, newest first; only the first ``rule.window`` count)."""
    window = list(history)[: rule.window]
    if len(window) < rule.min_runs or current.articles < rule.min_articles:
        return []
    drifts = []
    for measure in MEASURES:
        now = getattr(current, measure)
        past = [v for v in (getattr(h, measure) for h in window) if v is not None]
        if now is None or len(past) < rule.min_runs:
            continue
        baseline = float(statistics.median(past))
        if _sharp(measure, float(now), baseline, rule):
            drifts.append(Drift(current.topic, current.outlet, measure, float(now), baseline, len(window)))
    return drifts


def _sharp(measure: str, now: float, baseline: float, rule: DriftRule) -> bool:
    if measure in SHARES:
        return abs(now - baseline) > rule.share_jump
    if baseline <= 0 or now <= 0:
        return baseline != now
    return now <= baseline / rule.ratio or now >= baseline * rule.ratio


def judge_batch(
    stats: Sequence[BatchStats], histories: Mapping[str, Sequence[BatchStats]], rule: DriftRule = DEFAULT_RULE
) -> list[Drift]:
    """Judge the topic and each outlet; an outlet's drift in a measure the whole topic already drifted
    in is the same news, so it is left out."""
    drifts: list[Drift] = []
    for s in sorted(stats, key=lambda s: s.outlet != TOPIC_WIDE):  # the topic first
        topic_wide = {d.measure for d in drifts if d.outlet == TOPIC_WIDE}
        drifts += [d for d in judge(s, histories.get(s.outlet, []), rule) if d.measure not in topic_wide]
    return drifts
