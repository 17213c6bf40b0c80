"""Which part of a validated batch loads and which is held back: pure, no GX.

A critical failure holds back the articles its rows belong to, with all their
claims; everything else in the batch loads.  When most articles fail, or a
failure cannot be pinned on articles (a null id, an expectation that raised),
the batch's articles are held whole: a batch that bad says more about the
pipeline than about any one page.  Held pages are recorded as ``Skipped``
(outcome ``quarantined``, stage ``quality``) in the batch that loads, so they are
not fetched again until released.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.quality.gate import WARNING, Problem, QualityReport
from pipeline.records import Article, Batch, Claim, Skipped, from_json, to_json

WHOLE_BATCH_SHARE = 0.5  # held whole when more than this share of its articles fail
_FIRST_ROWS = 3  # offending articles named in a failure message


@dataclass(frozen=True)
class Held:
    """The quarantined part of a batch, with the critical problems that put it there."""

    articles: list[Article]
    claims: list[Claim]
    problems: tuple[Problem, ...]
    whole: bool
    total_articles: int

    def summary(self) -> str:
        """What failed, how many rows, the first offending ones: the run's failure message."""
        scope = "the whole batch: " if self.whole else ""
        head = (
            f"quality gate held back {scope}{len(self.articles)} of {self.total_articles} articles "
            f"({len(self.claims)} claims)"
        )
        lines = [f"  - [{p.suite}] {p.line}" for p in self.problems]
        urls = [a.url for a in self.articles[:_FIRST_ROWS]]
        more = f" and {len(self.articles) - len(urls)} more" if len(self.articles) > len(urls) else ""
        return "\n".join([head + ":", *lines, f"  first held: {', '.join(urls)}{more}"])

    def to_dict(self) -> dict[str, Any]:
        """The validation result kept with the held batch (its rows are stored apart)."""
        return {
            "whole": self.whole,
            "total_articles": self.total_articles,
            "summary": self.summary(),
            "problems": [p.to_dict() for p in self.problems],
        }

    def to_json(self) -> dict[str, Any]:
        """Everything, for the staging file between ``validate`` and ``load``."""
        return {
            **self.to_dict(),
            "articles": [to_json(a) for a in self.articles],
            "claims": [to_json(c) for c in self.claims],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Held:
        return cls(
            [from_json(Article, a) for a in raw["articles"]],
            [from_json(Claim, c) for c in raw["claims"]],
            tuple(Problem.from_dict(p) for p in raw["problems"]),
            bool(raw["whole"]),
            int(raw["total_articles"]),
        )


@dataclass(frozen=True)
class Split:
    """``accepted`` loads (the held pages among its ``skipped``); ``held`` is None for a clean batch."""

    accepted: Batch
    held: Held | None
    warnings: list[str]


def split_batch(batch: Batch, reports: Sequence[QualityReport], whole_share: float = WHOLE_BATCH_SHARE) -> Split:
    """Separate the articles (and their claims) that failed a critical expectation from the rest."""
    problems = [p for r in reports for p in r.problems]
    warnings = [f"[{p.suite}] {p.line}" for p in problems if p.severity == WARNING]
    critical = tuple(p for p in problems if p.severity != WARNING)
    if not critical:
        return Split(batch, None, warnings)
    blamed: dict[str, list[Problem]] = {}
    for p in critical:
        for article_id in p.article_ids:
            blamed.setdefault(article_id, []).append(p)
    held_articles = [a for a in batch.articles if a.article_id in blamed]
    whole = not all(p.attributable for p in critical) or len(held_articles) > whole_share * len(batch.articles)
    if whole:
        held_articles = list(batch.articles)
    held_ids = {a.article_id for a in held_articles}
    skipped = [
        Skipped(
            a.url, "quarantined", _reason(blamed.get(a.article_id) or list(critical), whole), "quality", a.article_id
        )
        for a in held_articles
    ]
    accepted = dataclasses.replace(
        batch,
        articles=[a for a in batch.articles if a.article_id not in held_ids],
        claims=[c for c in batch.claims if c.article_id not in held_ids],
        skipped=[*batch.skipped, *skipped],
    )
    held = Held(held_articles, [c for c in batch.claims if c.article_id in held_ids], critical, whole,
                len(batch.articles))  # fmt: skip
    return Split(accepted, held, warnings)


def _reason(problems: Sequence[Problem], whole: bool) -> str:
    names = "; ".join(dict.fromkeys(f"{p.suite}: {p.expectation}" for p in problems))
    return ("held with its whole batch: " if whole else "failed ") + names
