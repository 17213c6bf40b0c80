"""Which figures a "could not be independently verified" caveat covers.

A caveat in the figure's own sentence covers that sentence.  A standalone
caveat sentence covers the figures before it in its paragraph, and, when it
names what it doubts ("troop numbers and casualty figures"), every figure of
those metrics in the article.  A caveat in a relative clause ("..., which
Reuters was unable to confirm") covers only its own sentence.
"""

from __future__ import annotations

import re
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


def is_unverified(
    paragraph: int,
    sentence: int,
    metric: str,
    lineage: list[str],
    has_figures_sentence: bool,
    caveats: list[Caveat],
) -> bool:
    """``lineage`` is the metric and its ancestors: a caveat on casualties covers killed too."""
    for caveat in caveats:
        if caveat.paragraph == paragraph and caveat.sentence == sentence:
            return True
        if caveat.scope == "paragraph" and caveat.paragraph == paragraph and caveat.sentence > sentence:
            return True
        if caveat.metrics & set(lineage):
            return True
    return False
