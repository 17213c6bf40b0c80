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
    r"since|after|before|during|as|than|would|will|could|may|might|being|been|be|last|next|this|earlier|later|ago|"
    r"yesterday|today|when|while|because|so|if|per)$",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[,;:.!?()—–]|\s-\s")
_HEAD_WORDS = 6
_LIST_DASH = re.compile(r"^\s*[—–:]\s+")
_GENERIC_NOUNS = {"persons", "people", "men", "individuals", "strong"}
_RATE = re.compile(
    r"^\s*(?:a|per|each|every)\s+(?:day|week|month|year|hour)\b|^\s*(?:daily|weekly|monthly|annually)\b", re.I
)
_OF_BEFORE = re.compile(r"\b(?P<noun>[A-Za-z][\w'’-]*)\s+of\s*$")
_SKIP_AFTER_FIGURE = {"of", "them", "those", "these", "the", "more", "additional", "further", "other", "new", "extra"}
_AUXILIARIES = {"had", "have", "has", "been", "were", "was", "are", "is", "will", "be", "would", "could", "reportedly",
                "also", "now", "all", "since", "already", "being"}  # fmt: skip
_MODAL = re.compile(r"^(?:could|would|will|may|might|must|should|can|remain|remained|remains|arrive|arrived)$", re.I)
_LINK_BEFORE = re.compile(
    r"\b(?:is|are|was|were|stand|stands|stood|number|numbers|numbered|numbering|total|totals|totalled|totaled|reached|"
    r"reach|put\s+(?:[\w'’-]+\s+){0,9}?at|rose\s+to|risen\s+to|fell\s+to|fallen\s+to|dropped\s+to|grew\s+to|"
    r"climbed\s+to|to|at)\s*[\"“”']?\s*(?:(?:about|around|roughly|some|approximately|more\s+than|over|nearly|"
    r"almost|up\s+to|at\s+least|fewer\s+than|less\s+than|no\s+more\s+than|an\s+estimated|close\s+to)\s*)?$",
    re.IGNORECASE,
)
_PRE_WORDS = 5
_SECURITY = re.compile(r"\bsecurity\b|\bguard(?:s|ing)?\b|\bgarrison\b|\bpolic(?:e|ing)\b", re.IGNORECASE)
_PLANNED = re.compile(
    r"\b(?:plans?|planned|planning|agreed|agree|pledged|pledge|promised|promise|offered|intends?|intended|"
    r"foreseen|envisaged|envisioned|expected|will|shall|"
    r"(?:would|could|may|might)(?!\s+(?:put|estimate|say|guess|think|argue|suggest|describe|call|reckon))|"
    r"set\s+to|ready\s+to|prepared\s+to|is\s+(?:sending|deploying|dispatching)|"
    r"are\s+(?:sending|deploying|dispatching)|to\s+(?:send|dispatch|deploy|provide|supply))\b",
    re.IGNORECASE,
)


def _any_of(words: list[str], ignore_case: bool = True) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’])(?:{alternatives})(?![\w'’])", re.IGNORECASE if ignore_case else 0)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Cue phrases of a topic, longest first, and the part-whole tree."""

    cues: tuple[tuple[re.Pattern[str], str], ...]
    parents: dict[str, str | None]
    context: dict[str, re.Pattern[str]]
    other_populations: re.Pattern[str] | None

    @classmethod
    def of(cls, topic: TopicConfig) -> Catalogue:
        pairs = [(cue, name) for name, spec in topic.metrics.items() for cue in spec.cues]
        pairs.sort(key=lambda p: -len(p[0]))
        cues = tuple((re.compile(rf"^{re.escape(cue)}\b", re.IGNORECASE), name) for cue, name in pairs)
        context = {name: _any_of(spec.context) for name, spec in topic.metrics.items() if spec.context}
        others = _any_of(topic.other_populations, ignore_case=False) if topic.other_populations else None
        return cls(cues, {name: spec.parent for name, spec in topic.metrics.items()}, context, others)

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
    lead = _LIST_DASH.match(tail)  # "About 14,000 — North Korean soldiers sent ...": a fact-box line
    if lead:
        tail = " " + tail[lead.end() :]
    end = _CLAUSE_END.search(tail)
    return tail[: end.start()] if end else tail


def head_metric(sentence: str, end: int, limit: int, catalogue: Catalogue) -> tuple[str | None, int, str]:
    """The metric of the noun the figure counts ("14,000 North Korean troops"), where it ends, and the
    words in between (the noun phrase's modifiers)."""
    tail = _clause_tail(sentence, end, limit)
    for count, (offset, word) in enumerate(_words(tail)):
        if count >= _HEAD_WORDS:
            break
        hit = catalogue.match_at(tail[offset:])
        if hit:
            return hit[0], end + offset + hit[1], tail[:offset]
        if _NP_STOP.match(word):
            break
    return None, end, ""


def has_counted_noun(sentence: str, end: int, limit: int) -> bool:
    """True when a noun follows the figure ("500 officers"), false for "4,000 more could arrive"."""
    for _, word in _words(_clause_tail(sentence, end, limit)):
        lowered = word.lower()
        if lowered in _SKIP_AFTER_FIGURE:
            continue
        return not (_NP_STOP.match(word) or _MODAL.match(word) or lowered.endswith("ed") or lowered in _GENERIC_NOUNS)
    return False


def _first_cue(text: str, catalogue: Catalogue) -> str | None:
    for offset, _ in _words(text):
        hit = catalogue.match_at(text[offset:])
        if hit:
            return hit[0]
    return None


def assign_metric(
    sentence: str,
    start: int,
    end: int,
    limit: int,
    catalogue: Catalogue,
    previous: str | None = None,
    floor: int = 0,
) -> str:
    """Metric for the figure spanning ``start:end``; ``limit`` is where the next figure starts and
    ``previous`` the metric of the figure before it in the sentence (for "... and as many as 10,000")."""
    metric = _catalogue_metric(sentence, start, end, limit, catalogue, previous, floor)
    if metric is None:
        return OTHER_METRIC
    context = catalogue.context.get(metric)
    if context and not context.search(sentence[floor:limit]):
        return OTHER_METRIC  # "residents" who were not displaced, "villages" that are not closed
    return metric


def _catalogue_metric(
    sentence: str, start: int, end: int, limit: int, catalogue: Catalogue, previous: str | None, floor: int
) -> str | None:
    metric, head_end, modifiers = head_metric(sentence, end, limit, catalogue)
    head = sentence[:start]
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(head)), default=0)
    if metric is not None and _RATE.match(sentence[head_end:]):
        return None  # "12k rounds a day" is a rate, not a count
    of_noun = _OF_BEFORE.search(head)
    if metric is None and of_noun and of_noun.group("noun").lower() not in ("some", "total", "up", "out", "all"):
        # "an army of 1.2 million", "a force of 11,000": the noun before "of" is what is counted
        hit = catalogue.match_at(head[of_noun.start() :])
        return hit[0] if hit else None
    if metric is not None:
        if catalogue.other_populations and catalogue.other_populations.search(modifiers):
            return None  # "several hundred Russian engineering troops"
        # "6,000 of those soldiers were killed": a later cue that is a part of the head's population wins.
        tail = _clause_tail(sentence, head_end, limit)
        for count, (offset, word) in enumerate(_words(tail)):
            if count >= _HEAD_WORDS or word.lower() in ("and", "or", "with", "plus"):
                break  # "personnel and heavy casualties" names two things, not one
            hit = catalogue.match_at(tail[offset:])
            if hit and metric in catalogue.ancestors(hit[0]):
                return hit[0]
        # "captured two North Korean soldiers": the verb before the figure names the part.
        before = head[max(clause_start, floor) :]
        if re.search(r"(?:\band|\bor|,)\s*$", before):
            before = ""  # "1000 deminers and 5000 engineers": the first noun belongs to the first figure
        for offset, _ in _words(before)[-3:]:
            hit = catalogue.match_at(before[offset:])
            if hit and metric in catalogue.ancestors(hit[0]):
                return hit[0]
        return metric
    if has_counted_noun(sentence, end, limit):
        return None  # "500 officers", "five sites": a noun outside the catalogue
    # No counted noun: "more than 6,000 were killed", "1,000 will be deminers".
    tail = _clause_tail(sentence, end, limit)
    for offset, word in _words(tail):
        if word.lower() in _SKIP_AFTER_FIGURE or word.lower() in _AUXILIARIES:
            continue
        hit = catalogue.match_at(tail[offset:])
        if hit:
            return hit[0]
        break
    # "their losses are more than 4,000", "casualties ... stand at around 4,000": the subject counts.
    if _LINK_BEFORE.search(head):
        return _first_cue(head[clause_start:], catalogue) or _first_cue(head, catalogue)
    if previous is not None and previous != OTHER_METRIC:
        return previous  # "about 3,000 soldiers ... and could send as many as 10,000"
    return _first_cue(head, catalogue)


def complement_sibling(metric: str, sibling: str, catalogue: Catalogue) -> str:
    """In "1000 deminers and 5000 engineers" the umbrella noun names the remaining part (builders)."""
    if catalogue.parents.get(sibling) != metric:
        return metric
    rest = [c for c in catalogue.children(metric) if c != sibling]
    return rest[0] if len(rest) == 1 else metric


def role_for(after_figure: str, metric: str, configured: str) -> str:
    """Security duty is said after the counted noun ("10,000 troops ... to perform security duties")."""
    if configured != "engineering" and _SECURITY.search(after_figure):
        return "security"
    return configured if configured in ("combat", "engineering", "security") else "unspecified"


def modality_for(text_before_figure: str) -> str:
    """Planned when a pledge or plan governs the figure ("agreed to send 5,000")."""
    return "planned" if _PLANNED.search(text_before_figure) else "actual"
