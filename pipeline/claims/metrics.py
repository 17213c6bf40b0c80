"""Which catalogue metric a figure counts, read from the noun it counts and the verb around it.

All knowledge of the topic comes from its catalogue: cue words, and the
part-whole tree (``parent``).  A figure whose noun matches no cue is ``other``,
never forced into a metric.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from pipeline.claims.window import ahead, back, words_after
from pipeline.records import OTHER_METRIC
from pipeline.topics import TopicConfig

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
    r"^\s*(?:a|per|each|every)\s+(?:day|week|month|year|hour)\b(?!\s+(?:earlier|ago|later|before|after))"
    r"|^\s*(?:daily|weekly|monthly|annually)\b",
    re.I,
)
_OF_BEFORE = re.compile(r"\b(?P<noun>[A-Za-z][\w'’-]*)\s+of\s*$")
_SKIP_AFTER_FIGURE = {"of", "them", "those", "these", "the", "more", "additional", "further", "other", "new", "extra"}
_AUXILIARIES = {"had", "have", "has", "been", "were", "was", "are", "is", "will", "be", "would", "could", "reportedly",
                "also", "now", "all", "since", "already", "being"}  # fmt: skip
_MODAL = re.compile(r"^(?:could|would|will|may|might|must|should|can|remain|remained|remains|arrive|arrived)$", re.I)
_LINK_BEFORE = re.compile(
    r"\b(?:is|are|was|were|stand|stands|stood|number|numbers|numbered|numbering|total|totals|totalled|totaled|"
    r"totalling|totaling|reached|"
    r"reach|put\s+(?:[\w'’-]+\s+){0,9}?at|rose\s+to|risen\s+to|fell\s+to|fallen\s+to|dropped\s+to|grew\s+to|"
    r"climbed\s+to|to|at)\s*[\"“”']?\s*(?:(?:about|around|roughly|some|approximately|more\s+than|over|nearly|"
    r"almost|up\s+to|at\s+least|fewer\s+than|less\s+than|no\s+more\s+than|an\s+estimated|close\s+to)\s*)?$",
    re.IGNORECASE,
)
_PRE_WORDS = 5
_TIME_AFTER = re.compile(
    r"^\s*(?:a|one|two|three|several|a\s+few)\s+(?:days?|weeks?|months?|years?)\s+(?:earlier|ago|later|before|after)\b",
    re.IGNORECASE,
)
_SECURITY = re.compile(r"\bsecurity\b|\bguard(?:s|ing)?\b|\bgarrison\b|\bpolic(?:e|ing)\b", re.IGNORECASE)
_PLANNED = re.compile(
    r"\b(?:plans?|planned|planning|agreed|agree|pledged|pledge|promised|promise|offered|intends?|intended|"
    r"foreseen|envisaged|envisioned|expected|will|shall|"
    r"(?:would|could|may|might)(?!\s+(?:put|estimate|say|guess|think|argue|suggest|describe|call|reckon|hold|"
    r"contain|carry|have))|"
    r"set\s+to|ready\s+to|prepared\s+to|is\s+(?:sending|deploying|dispatching)|"
    r"are\s+(?:sending|deploying|dispatching)|to\s+(?:send|dispatch|deploy|provide|supply))\b",
    re.IGNORECASE,
)


def _any_of(words: list[str], ignore_case: bool = True) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’])(?:{alternatives})(?![\w'’])", re.IGNORECASE if ignore_case else 0)


_COORDINATED = re.compile(r"^\s*(?:,\s*)?(?:and/or|and|or|,)\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Decision:
    """The metric of one figure and the rule (``family.rule``) that decided it, for explain output."""

    metric: str
    rule: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Cue phrases of a topic, longest first, and the part-whole tree."""

    cues: tuple[tuple[re.Pattern[str], str], ...]
    parents: dict[str, str | None]
    context: dict[str, re.Pattern[str]]
    other_populations: re.Pattern[str] | None
    events: frozenset[str] = frozenset()  # metrics whose cue was an event word, keyed "metric:cue"
    tasks: tuple[tuple[re.Pattern[str], str], ...] = ()
    other_events: re.Pattern[str] | None = None
    planned_other: frozenset[str] = frozenset()
    cumulative: frozenset[str] = frozenset()
    populations: dict[str, str] = dataclasses.field(default_factory=dict)
    any_cue: re.Pattern[str] | None = None  # matches where some cue does: most words are no cue
    cue_words: re.Pattern[str] | None = None  # finds the words where some cue starts

    @classmethod
    def of(cls, topic: TopicConfig) -> Catalogue:
        pairs = [(cue, name) for name, spec in topic.metrics.items() for cue in (*spec.cues, *spec.events)]
        pairs.sort(key=lambda p: -len(p[0]))
        cues = tuple((re.compile(rf"^{re.escape(cue)}\b", re.IGNORECASE), name) for cue, name in pairs)
        alternatives = "|".join(rf"{re.escape(cue)}\b" for cue, _ in pairs)
        any_cue = re.compile(f"^(?:{alternatives})", re.IGNORECASE)
        cue_words = re.compile(rf"(?<![\w'’-])(?=[\w'’-])(?=(?:{alternatives}))", re.IGNORECASE)
        context = {name: _any_of(spec.context) for name, spec in topic.metrics.items() if spec.context}
        others = _any_of(topic.other_populations, ignore_case=False) if topic.other_populations else None
        events = frozenset(f"{name}:{cue.lower()}" for name, spec in topic.metrics.items() for cue in spec.events)
        tasks = tuple((_any_of(spec.tasks), name) for name, spec in topic.metrics.items() if spec.tasks)
        return cls(
            cues,
            {name: spec.parent for name, spec in topic.metrics.items()},
            context,
            others,
            events,
            tasks,
            _any_of(topic.other_events) if topic.other_events else None,
            frozenset(name for name, spec in topic.metrics.items() if spec.planned == "other"),
            frozenset(name for name, spec in topic.metrics.items() if spec.cumulative),
            {name: spec.population or name for name, spec in topic.metrics.items()},
            any_cue if pairs else None,
            cue_words if pairs else None,
        )

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

    def depth(self, metric: str) -> int:
        return len(self.ancestors(metric))

    def match_at(self, text: str) -> tuple[str, int] | None:
        """The metric whose cue starts ``text``, and the cue's length.

        Two coordinated events whose metrics are parts of one whole ("dead and injured",
        "killed, wounded") name the whole: the combined-event rule.
        """
        hit = self._cue_at(text)
        if hit is None:
            return None
        joined = _COORDINATED.match(text[hit[1] :])
        if joined:
            second = self._cue_at(text[hit[1] + joined.end() :])
            parent = self.parents.get(hit[0])
            if second and second[0] != hit[0] and parent and self.parents.get(second[0]) == parent:
                return parent, hit[1] + joined.end() + second[1]
        return hit

    def _cue_at(self, text: str) -> tuple[str, int] | None:
        if self.any_cue is not None and not self.any_cue.match(text):
            return None
        for pattern, name in self.cues:
            m = pattern.match(text)
            if m:
                return name, m.end()
        return None

    def task_part(self, metric: str, text: str) -> str | None:
        """The one part of ``metric`` whose task the text names ("engineers to clear mines")."""
        parts = {name for pattern, name in self.tasks if self.parents.get(name) == metric and pattern.search(text)}
        return parts.pop() if len(parts) == 1 else None


def _words(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in re.finditer(r"[\w'’-]+", text)]


def _clause_tail(sentence: str, start: int, limit: int) -> str:
    tail = sentence[start : min(limit, ahead(sentence, start))]
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
    if _TIME_AFTER.match(sentence[end:limit]):
        return False  # "3,500 a week earlier": a time, not a noun
    for _, word in _words(_clause_tail(sentence, end, limit)):
        lowered = word.lower()
        if lowered in _SKIP_AFTER_FIGURE:
            continue
        return not (_NP_STOP.match(word) or _MODAL.match(word) or lowered.endswith("ed") or lowered in _GENERIC_NOUNS)
    return False


def _cue_hits(text: str, catalogue: Catalogue) -> list[tuple[int, str]]:
    """Every cue in ``text`` (offset, metric), a combined event counted once."""
    hits, resume = [], 0
    for offset, _ in _words(text):
        if offset < resume:
            continue
        hit = catalogue.match_at(text[offset:])
        if hit:
            hits.append((offset, hit[0]))
            resume = offset + hit[1]
    return hits


def _first_cue(text: str, catalogue: Catalogue) -> str | None:
    """The metric of the first cue in ``text`` (the first of ``_cue_hits``, found without reading each word)."""
    for word in catalogue.cue_words.finditer(text) if catalogue.cue_words else ():
        hit = catalogue.match_at(text[word.start() :])
        if hit:
            return hit[0]
    return None


def _most_specific_cue(text: str, catalogue: Catalogue) -> tuple[int, str] | None:
    """In a subject such as "the number of soldiers killed", the event outranks the noun it counts:
    the deepest metric in the part-whole tree wins, the first one on a tie.  Returns (offset, metric)."""
    hits = _cue_hits(text, catalogue)
    if not hits:
        return None
    return max(hits, key=lambda h: (catalogue.depth(h[1]), -h[0]))


def _other_owner(text_before_cue: str, catalogue: Catalogue) -> bool:
    """ "Russia's losses", "Russian casualties": another population owns the noun."""
    if catalogue.other_populations is None:
        return False
    words = " ".join(w for _, w in _words(text_before_cue)[-_OWNER_WORDS:])
    return catalogue.other_populations.search(words) is not None


def _part_of(metric: str, head: str, catalogue: Catalogue) -> bool:
    return head in catalogue.ancestors(metric)


def _foreign_event(event: str, head: str, catalogue: Catalogue) -> bool:
    """An event of another population ("killed" of troops) governing this noun ("civilians")."""
    return (
        catalogue.parents.get(event) is not None
        and catalogue.populations.get(event, event) != catalogue.populations.get(head, head)
        and not _part_of(head, event, catalogue)
    )


_APPOSED_EVENT = re.compile(r"^\s*,\s*")  # "lost 6,000 soldiers, dead or wounded"
_PRONOUN_SUBJECT = re.compile(r"\b(?:them|they|those|these|it|the\s+figure|the\s+tally)\b[^,;]{0,12}$", re.IGNORECASE)
_BEFORE_EVENT_WORDS = 3
_OWNER_WORDS = 5
_OF_PHRASE = re.compile(r"(?:\b[\w'’-]+\s+){1,3}of\s*$")
_GENERIC_APPOSED = re.compile(r"^\s+(?:men|people|persons|personnel|individuals)\s*,\s*", re.IGNORECASE)
_NEW_PHRASE = {"and", "or", "with", "plus", "but", "while", "whereas"}
_PARTITIVES = {"members", "member", "total", "all", "some", "most", "many", "each", "one", "up", "out"}


def decide_metric(
    sentence: str,
    start: int,
    end: int,
    limit: int,
    catalogue: Catalogue,
    previous: str | None = None,
    floor: int = 0,
    anaphor: str | None = None,
) -> Decision:
    """Metric for the figure spanning ``start:end``, and the rule that chose it.

    ``limit`` is where the next figure starts, ``previous`` the metric of the figure before it in
    the sentence (for "... and as many as 10,000"), ``anaphor`` the metric the previous sentence
    ended on (for "put them at 3,000").
    """
    decision = _catalogue_metric(sentence, start, end, limit, catalogue, previous, floor, anaphor)
    if decision.metric == OTHER_METRIC:
        return decision
    context = catalogue.context.get(decision.metric)
    if context and not context.search(sentence[floor:limit]):
        return Decision(OTHER_METRIC, "context.missing")  # "residents" who were not displaced
    return decision


def _other(rule: str) -> Decision:
    return Decision(OTHER_METRIC, rule)


def _catalogue_metric(
    sentence: str,
    start: int,
    end: int,
    limit: int,
    catalogue: Catalogue,
    previous: str | None,
    floor: int,
    anaphor: str | None,
) -> Decision:
    metric, head_end, modifiers = head_metric(sentence, end, limit, catalogue)
    lo = back(sentence, start)
    head = sentence[lo:start]  # offsets into ``head`` are ``lo`` less than into the sentence
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(head)), default=0)
    own = max(clause_start, floor - lo)  # where the figure's clause, after the previous figure, begins
    if metric is not None and _RATE.match(words_after(sentence, head_end)):
        return _other("scope.rate")  # "12k rounds a day" is a rate, not a count
    if metric is not None and _measure_noun(modifiers):
        return _other("head_noun.measure")  # "16,000 containers of shells" counts containers
    of_noun = _OF_BEFORE.search(head)
    if metric is None and of_noun and of_noun.group("noun").lower() not in ("some", "total", "up", "out", "all"):
        # "an army of 1.2 million", "a force of 11,000": the noun before "of" is what is counted
        hit = catalogue.match_at(head[of_noun.start() :])
        if hit and _other_owner(head[: of_noun.start()], catalogue):
            return _other("population.other")  # "a combined Russian and North Korean force of 50,000"
        return Decision(hit[0], "head_noun.of_noun") if hit else _other("head_noun.of_noun")
    if metric is not None:
        if catalogue.other_populations and (
            catalogue.other_populations.search(modifiers) or _other_owner(_of_phrase(head), catalogue)
        ):
            return _other("population.other")  # "several hundred Russian engineering troops", "a Russian force of"
        tail = _clause_tail(sentence, head_end, limit)
        # "lost 6,000 soldiers, dead or wounded": an event in apposition names what happened.
        apposed = _APPOSED_EVENT.match(sentence[head_end:limit])
        if apposed:
            hit = catalogue.match_at(sentence[head_end + apposed.end() : limit])
            if hit and _part_of(hit[0], metric, catalogue):
                return Decision(hit[0], "event.apposed")
        # "6,000 of those soldiers were killed", "2,000 service members sent ... have been killed":
        # the predicate that governs the counted noun outranks it.
        for offset, word in _words(tail):
            hit = catalogue.match_at(tail[offset:])
            if hit and _part_of(hit[0], metric, catalogue):
                return Decision(hit[0], "event.predicate")
            if hit and _foreign_event(hit[0], metric, catalogue):
                return _other("event.other_population")  # "300 civilians died": a toll, but not of troops
            if word.lower() in _NEW_PHRASE:
                break  # "personnel and heavy casualties" names two things, not one
        # "captured two North Korean soldiers": the verb before the figure names the part.
        before = head[own:]
        if re.search(r"(?:\band|\bor|,)\s*$", before):
            before = ""  # "1000 deminers and 5000 engineers": the first noun belongs to the first figure
        for offset, _ in _words(before)[-_BEFORE_EVENT_WORDS:]:
            hit = catalogue.match_at(before[offset:])
            if hit and _part_of(hit[0], metric, catalogue):
                return Decision(hit[0], "event.verb_before")
        # "1,000 engineers to clear mines": a purpose naming one part's task names that part.
        part = catalogue.task_part(metric, sentence[head_end:limit])
        if part:
            return Decision(part, "task.purpose")
        return Decision(metric, "head_noun.cue")
    if has_counted_noun(sentence, end, limit):
        return _other("head_noun.outside_catalogue")  # "500 officers", "five sites"
    # No counted noun: "more than 6,000 were killed", "1,000 will be deminers".
    tail = _clause_tail(sentence, end, limit)
    for offset, word in _words(tail):
        if word.lower() in _SKIP_AFTER_FIGURE or word.lower() in _AUXILIARIES:
            continue
        hit = catalogue.match_at(tail[offset:])
        if hit:
            return Decision(hit[0], "bare.predicate")
        break
    # "their losses are more than 4,000", "put the number of soldiers killed at around 1,000".
    if _LINK_BEFORE.search(head):
        subject = head[own:]
        specific = _most_specific_cue(subject, catalogue)
        if specific:
            if _other_owner(subject[: specific[0]], catalogue):
                return _other("population.other")
            return Decision(specific[1], "bare.linked_subject")
        if anaphor and _PRONOUN_SUBJECT.search(subject):
            return Decision(anaphor, "bare.anaphor")  # "had put them at 3,000": the last sentence's metric
        first = _first_cue(head, catalogue)  # "Total casualties, including the wounded, stand at 4,000"
        if first:
            return Decision(first, "bare.linked_subject")
    # "lost 3,000 men, killed or injured": a generic noun with an event set off by a comma.
    apposed = _GENERIC_APPOSED.match(sentence[end:limit])
    if apposed:
        hit = catalogue.match_at(sentence[end + apposed.end() : limit])
        if hit and catalogue.parents.get(hit[0]) is not None:
            return Decision(hit[0], "event.apposed")
    # "killed 21 soldiers and wounded 40": the verb right before a bare figure names it.
    before_words = _words(head[own:])[-2:]
    for offset, _ in before_words:
        stretch = head[own:]
        hit = catalogue.match_at(stretch[offset:])
        if hit and hit[0] in catalogue.parents and catalogue.parents[hit[0]] is not None:
            return Decision(hit[0], "bare.verb_before")
    if previous is not None and previous != OTHER_METRIC:
        return Decision(previous, "bare.previous_figure")  # "about 3,000 soldiers ... and as many as 10,000"
    first = _first_cue(head, catalogue)
    return Decision(first, "bare.sentence_cue") if first else _other("bare.no_cue")


def _of_phrase(head: str) -> str:
    """The words of "a Russian force of" right before a figure, or nothing."""
    m = _OF_PHRASE.search(head)
    return m.group(0) if m else ""


def _measure_noun(modifiers: str) -> bool:
    """True when a noun and "of" stand between the figure and its cue ("16,000 containers of shells")."""
    words = [w.lower() for _, w in _words(modifiers)]
    if "of" not in words:
        return False
    noun = words[: words.index("of")]
    return bool(noun) and noun[-1] not in _PARTITIVES


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


_ALREADY = re.compile(r"\balready\b|\b(?:had|have|has)\s+(?:been\s+)?(?:sent|deployed|dispatched|arrived)\b", re.I)


def actual_after(text_after_figure: str) -> bool:
    """ "the 14,000 troops Pyongyang had already sent": what follows the figure says it happened."""
    return _ALREADY.search(text_after_figure) is not None
