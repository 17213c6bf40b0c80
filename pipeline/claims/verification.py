"""Which figures a "could not be independently verified" caveat covers.

Rule families (examples in wordings the rules were not written from):

**Caveat cues.**  A sentence doubts what it reports when it says the figures
"could not be / have not been (independently) verified, confirmed or
corroborated", calls them "unverified", or says "verification is lacking /
pending / not possible": "Neither claim could be confirmed", "The toll has
not been corroborated by an independent source".

**Own sentence.**  A caveat covers every figure of its own sentence:
"Officials put the dead at 90, a number that could not be checked
independently".

**Relative clause.**  A caveat in a relative clause ("..., which the agency
was unable to confirm") covers only its own sentence, and the metrics the
sentence names wherever they appear ("the casualty figures, which no one
could verify").

**Standalone caveat sentence.**  A caveat sentence covers the figures before
it in its paragraph ("Kyiv says 300 died. That account could not be checked
independently."), and,
when it names what it doubts ("troop numbers", "the casualty figures"),
every figure of those metrics (and their parts) in the article.  A caveat
paragraph with no figures of its own that speaks of figures in general
("Figures are given as published; none has been checked") covers them all.

**Closing "that".**  "...; we could not confirm that" doubts its sentence only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_CAVEAT = re.compile(
    r"(?:could\s+not|couldn't|cannot|can't|was\s+unable\s+to|were\s+unable\s+to|unable\s+to|has\s+not|have\s+not|"
    r"had\s+not|did\s+not|not\s+been|not\s+been\s+able\s+to|not\s+able\s+to)\s+(?:be\s+)?(?:independently\s+)?"
    r"(?:verif|confirm|corroborat|check)"
    r"|\bnot\s+checked\b[^.]{0,40}\bindependently\b"
    r"|\bneither\b[^.]{0,80}\bcould\s+be\s+(?:independently\s+)?(?:verified|confirmed)"
    r"|\bunverified\b|\bnot\s+(?:been\s+)?(?:independently\s+)?(?:verified|confirmed|corroborated)\b"
    r"|\b(?:independent\s+)?(?:verification|confirmation)\b[^.]{0,120}?\b(?:lacking|limited|pending|unavailable|"
    r"impossible|not\s+possible)\b",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"\b(?:which|what)\b[^.]{0,60}$", re.IGNORECASE)
_THAT = re.compile(r"^\w*\s+(?:that|this)\b\s*[.;]?\s*$", re.IGNORECASE)
_ALL_FIGURES = re.compile(r"\b(?:figures|numbers|claims|estimates|statistics)\b", re.IGNORECASE)
_GENERIC = {"deployed", "supplied", "closed", "displaced"}


@dataclass(frozen=True, slots=True)
class Caveat:
    paragraph: int
    sentence: int
    scope: str  # "sentence" | "paragraph"
    metrics: frozenset[str]  # metrics named, covered article-wide


def caveat_in(
    sentence: str, paragraph: int, index: int, metric_names: list[str], has_figures: bool = False
) -> Caveat | None:
    m = _CAVEAT.search(sentence)
    if not m:
        return None
    relative = bool(_RELATIVE.search(sentence[: m.start()]))
    words = {w[:5] for w in re.findall(r"[a-z]+", sentence.lower()) if len(w) >= 5}
    named = frozenset(
        name
        for name in metric_names
        if any(part[:5] in words for part in name.split("_") if part not in _GENERIC and len(part) >= 5)
    )
    if not named and not has_figures and _ALL_FIGURES.search(sentence):
        named = frozenset(metric_names)  # "figures are given as published; we have not checked them"
    if _THAT.match(sentence[m.end() :]):
        return Caveat(paragraph, index, "sentence", frozenset())  # "...; we cannot confirm that"
    # A relative clause ("..., which Reuters could not verify") covers its own sentence, and the
    # metrics it names ("the casualty figures, which ...") wherever they appear.
    return Caveat(paragraph, index, "sentence" if relative else "paragraph", named)


@dataclass(frozen=True, slots=True)
class Caveats:
    """An article's caveats, indexed so a figure asks what covers it without reading them all."""

    sentences: frozenset[tuple[int, int]]  # (paragraph, sentence) of every caveat
    last_in_paragraph: dict[int, int]  # paragraph -> the last sentence of a caveat covering those before it
    metrics: frozenset[str]  # metrics named, covered article-wide

    @classmethod
    def of(cls, caveats: Sequence[Caveat]) -> Caveats:
        last: dict[int, int] = {}
        for caveat in caveats:
            if caveat.scope == "paragraph":
                last[caveat.paragraph] = max(caveat.sentence, last.get(caveat.paragraph, caveat.sentence))
        return cls(
            frozenset((c.paragraph, c.sentence) for c in caveats),
            last,
            frozenset(m for c in caveats for m in c.metrics),
        )

    def cover(self, paragraph: int, sentence: int, lineage: list[str]) -> bool:
        return (
            (paragraph, sentence) in self.sentences
            or self.last_in_paragraph.get(paragraph, -1) > sentence
            or not self.metrics.isdisjoint(lineage)
        )


def is_unverified(
    paragraph: int,
    sentence: int,
    metric: str,
    lineage: list[str],
    has_figures_sentence: bool,
    caveats: Sequence[Caveat] | Caveats,
) -> bool:
    """``lineage`` is the metric and its ancestors: a caveat on casualties covers killed too."""
    index = caveats if isinstance(caveats, Caveats) else Caveats.of(caveats)
    return index.cover(paragraph, sentence, lineage)
