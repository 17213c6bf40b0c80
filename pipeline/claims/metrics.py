"""Which catalogue metric a figure counts, read from the noun it counts and the verb around it.

All knowledge of the topic comes from its catalogue: cue words, and the
part-whole tree (``parent``).  A figure whose noun matches no cue is ``other``,
never forced into a metric.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.config import TopicConfig
from pipeline.records import OTHER_METRIC

_NP_STOP = re.compile(
    r"^(?:to|in|into|from|were|was|are|is|have|has|had|under|for|by|on|at|with|that|who|which|"
    r"since|after|before|during|as|than|would|will|could|may|might|being|been|be)$",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[,;:.!?()—–]|\s-\s")
_HEAD_WORDS = 6
_PRE_WORDS = 5
_SECURITY = re.compile(r"\bsecurity\b|\bguard(?:s|ing)?\b|\bgarrison\b|\bpolic(?:e|ing)\b", re.IGNORECASE)
_PLANNED = re.compile(
    r"\b(?:plans?|planned|planning|agreed|agree|pledged|pledge|promised|promise|offered|intends?|intended|"
    r"expected|will|would|shall|set\s+to|ready\s+to|prepared\s+to|is\s+(?:sending|deploying|dispatching)|"
    r"are\s+(?:sending|deploying|dispatching)|to\s+(?:send|dispatch|deploy|provide|supply))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Cue phrases of a topic, longest first, and the part-whole tree."""

    cues: tuple[tuple[re.Pattern[str], str], ...]
    parents: dict[str, str | None]

    @classmethod
    def of(cls, topic: TopicConfig) -> Catalogue:
        pairs = [(cue, name) for name, spec in topic.metrics.items() for cue in spec.cues]
        pairs.sort(key=lambda p: -len(p[0]))
        cues = tuple((re.compile(rf"^{re.escape(cue)}\b", re.IGNORECASE), name) for cue, name in pairs)
        return cls(cues, {name: spec.parent for name, spec in topic.metrics.items()})

    def ancestors(self, metric: str) -> list[str]:
        chain, seen = [], set()
        parent = self.parents.get(metric)
        while parent and parent not in seen:
            chain.append(parent)
            seen.add(parent)
            parent = self.parents.get(parent)
        return chain

    def children(self, metric: str) -> list[str]:
        return [m for m, p in self.parents.items() if p == metric]

    def match_at(self, text: str) -> tuple[str, int] | None:
        """The metric whose cue starts ``text``, and the cue's length."""
        for pattern, name in self.cues:
            m = pattern.match(text)
            if m:
                return name, m.end()
        return None


def _words(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in re.finditer(r"[\w'’-]+", text)]


def _clause_tail(sentence: str, start: int, limit: int) -> str:
    tail = sentence[start:limit]
    end = _CLAUSE_END.search(tail)
    return tail[: end.start()] if end else tail


def head_metric(sentence: str, end: int, limit: int, catalogue: Catalogue) -> tuple[str | None, int]:
    """The metric of the noun the figure counts ("14,000 North Korean troops"), and where it ends."""
    tail = _clause_tail(sentence, end, limit)
    for count, (offset, word) in enumerate(_words(tail)):
        if count >= _HEAD_WORDS:
            break
        hit = catalogue.match_at(tail[offset:])
        if hit:
            return hit[0], end + offset + hit[1]
        if _NP_STOP.match(word):
            break
    return None, end


def assign_metric(sentence: str, start: int, end: int, limit: int, catalogue: Catalogue) -> str:
    """Metric for the figure spanning ``start:end``; ``limit`` is where the next figure starts."""
    metric, head_end = head_metric(sentence, end, limit, catalogue)
    if metric is not None:
        # "6,000 of those soldiers were killed": a later cue that is a part of the head's population wins.
        tail = _clause_tail(sentence, head_end, limit)
        for count, (offset, word) in enumerate(_words(tail)):
            if count >= _HEAD_WORDS or word.lower() in ("and", "or", "with", "plus"):
                break  # "personnel and heavy casualties" names two things, not one
            hit = catalogue.match_at(tail[offset:])
            if hit and metric in catalogue.ancestors(hit[0]):
                return hit[0]
        return metric
    # No counted noun: "more than 6,000 were killed", "their losses are more than 4,000".
    tail = _clause_tail(sentence, end, limit)
    for count, (offset, _) in enumerate(_words(tail)):
        if count >= 3:
            break
        hit = catalogue.match_at(tail[offset:])
        if hit:
            return hit[0]
    head = sentence[:start]
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(head)), default=0)
    before = _words(head[clause_start:])[-_PRE_WORDS:]
    for offset, _ in reversed(before):
        hit = catalogue.match_at(head[clause_start + offset :])
        if hit:
            return hit[0]
    return OTHER_METRIC


def complement_sibling(metric: str, sibling: str, catalogue: Catalogue) -> str:
    """In "1000 deminers and 5000 engineers" the umbrella noun names the remaining part (builders)."""
    if catalogue.parents.get(sibling) != metric:
        return metric
    rest = [c for c in catalogue.children(metric) if c != sibling]
    return rest[0] if len(rest) == 1 else metric


def role_for(sentence: str, metric: str, configured: str) -> str:
    if configured != "engineering" and _SECURITY.search(sentence):
        return "security"
    return configured if configured in ("combat", "engineering", "security") else "unspecified"


def modality_for(text_before_figure: str) -> str:
    """Planned when a pledge or plan governs the figure ("agreed to send 5,000")."""
    return "planned" if _PLANNED.search(text_before_figure) else "actual"
