"""Who the text credits a figure to, and through whom it was relayed.

A relayed figure ("sources told Reuters", repeated by another outlet) is one
source, not two, so the originator and the relay are kept apart.  Pronouns and
anaphors ("he", "those sources", "the outlet") resolve to the most recent
source named earlier in the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SPEECH_VERBS = (
    r"said|says|say|told|tells|tell|estimated|estimates|estimate|reported|reports|report|claimed|claims|"
    r"claim|confirmed|confirms|confirm|announced|announces|stated|states|added|adds|believes|believe|"
    r"cited|cites|citing|alleging|alleged|alleges|wrote|writes|noted|notes|warned|warns|acknowledged|"
    r"revealed|reveals|disclosed|assessed|assesses|indicated|indicates|described|describes|describe|telling|"
    r"saying|adding|puts|put|informs|informed|declared|declares|specified|underlined|insists|insisted|argues|"
    r"argued|maintains|maintained|asserts|asserted|expect|expects|stressed|emphasised|emphasized"
)
_VERB = re.compile(rf"\b(?:{_SPEECH_VERBS})\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\baccording\s+to\s+|\bin\s+the\s+words\s+of\s+", re.IGNORECASE)
_ESTIMATE_OF = re.compile(
    r"\b(?:in|by)\s+the\s+(?:estimate|count|tally|figures?|assessment)\s+(?:of\s+)?(?P<x>[^,.;]+?)"
    r"(?:\s+(?:gave|provided|published|released|cited|presented|issued)\b|[,.;]|$)",
    re.IGNORECASE,
)
_POSSESSIVE_FIGURE = re.compile(
    r"(?P<x>(?:[A-Z][\w.-]*\s){0,3}[A-Z][\w.-]*)(?:'s|’s)\s+(?:[a-z]+\s+){0,3}"
    r"(?:figure|figures|estimate|estimates|count|tally|assessment|data)\b"
)
_BY_ESTIMATE = re.compile(
    r"\b(?:by|in|according\s+to)\s+(?P<x>(?:the\s+)?[\w'’. -]{2,60}?)(?:'s|’s)\s+"
    r"(?:own\s+)?(?:estimate|estimates|count|tally|assessment|reckoning|figures|data)\b",
    re.IGNORECASE,
)
_PASSIVE = re.compile(
    r"\b(?:cited|claimed|reported|given|estimated|provided|announced|released|published|confirmed|quoted|stated|"
    r"declared|specified)"
    r"\s+by\s+(?P<x>[^,.;:()—–]{2,80})",
    re.IGNORECASE,
)
_NOUN_USE = re.compile(
    r"\b(?:the|a|an|its|their|his|her|these|those|such|higher|lower|latest|new|earlier|official|own|whose|"
    r"this|that|of)\s*$",
    re.IGNORECASE,
)
_NOUN_OR_VERB = {"estimates", "estimate", "reports", "report", "claims", "claim", "notes", "states", "put", "puts"}
_VERB_FOLLOWS = re.compile(
    r"^\s+(?:that|about|around|some|more|over|up|at|nearly|roughly|as|between|fewer|less|the|north|\d|[A-Z])"
)
_CLAUSE_LIKE = re.compile(r"\d|[\"“”]|\b(?:are|is|was|were|has|have|had|stand|stands|remain|remains)\b")
_FINITE_AFTER = re.compile(r"^[^,.;]*?\b(?:has|have|had|is|are|was|were|will)\b", re.IGNORECASE)
_BE_BEFORE = re.compile(r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?$", re.IGNORECASE)
_PARTICIPLES = {"telling", "saying", "adding", "citing", "claiming", "estimating", "noting", "warning"}
_FINITE = re.compile(
    r"^(?:\w+ed|has|have|had|is|are|was|were|will|would|said|says|told|tells|painted|made|gave|put|took|sent)$",
    re.IGNORECASE,
)
_TOLD = re.compile(r"^\s*told\s+(?P<relay>(?:[A-Z][\w'’.-]*\s?){1,4})")
_SUBJECT_START = re.compile(
    r"(?:,\s+with\s+|\bwith\s+|\bthat\s+|\bwhile\s+|,\s+and\s+|,\s+but\s+|:\s+|;\s+|—\s*|\(\s*|\bwhile\s+)",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:[-–•*]\s*)?(?:(?:meanwhile|however|also|separately|in addition|moreover|but|and|still|yet|now|"
    r"earlier|later|previously)\b,?\s*)*",
    re.IGNORECASE,
)
_TRAILING_TIME = re.compile(
    r"(?:\s+(?:in|on|during|at|since|by|earlier|last|this)\s+(?:the\s+)?(?:[A-Z][a-z]+|\d{1,4}|this\s+\w+|"
    r"month|week|year)(?:\s+\d{1,2})?(?:,?\s+\d{4})?)+$"
)
_TRAILING_WORDS = {
    "also", "has", "have", "had", "first", "previously", "earlier", "recently", "later", "now", "then",
    "again", "publicly", "separately", "repeatedly", "reportedly", "already", "once", "further", "is",
    "are", "was", "were", "been", "who", "which", "officially", "initially",
}  # fmt: skip
_DETERMINERS = {"some", "the", "those", "these", "several", "many", "other", "multiple", "various", "media"}
_DATELINE = re.compile(r"^(?:(?:[^()]{0,60}\()?[^()]{0,60}\)\s*|[A-Z][A-Z .,/'’-]{2,40}\s*)[-—–]\s+")
_MEDIA_HEADS = {"newspaper", "paper", "outlet", "channel", "broadcaster", "publication", "report"}
_PRONOUNS = {"he", "she", "they", "i", "we", "it", "his", "her"}
_ANAPHOR = re.compile(
    r"^(?:those|these|the|that|this|such)\s+(?P<head>sources?|outlet|report|reports|newspaper|paper|channel|"
    r"agency|ministry|officials?|official|statement|publication|broadcaster|agencies|outlets)$",
    re.IGNORECASE,
)
_TITLE = re.compile(
    r"\b(?:chief|head|director|minister|spokes(?:man|woman|person)|commander|president|governor|general|"
    r"secretary|ambassador|lt|gen|col|maj|colonel|major|lieutenant|mr|mrs|ms|dr|premier|leader|deputy|member|"
    r"lawmaker|rep|officer|analyst|mayor|senator|envoy|adviser|advisor)\b\.?",
    re.IGNORECASE,
)
_INVERTED = re.compile(
    r"[,\"”’]\s*(?:said|says|added|told\s+\w+|wrote|noted|reports|reported|stated|declared|informs|specified|"
    r"underlined|stressed)\s+(?P<who>[^,.;:\"“”]{3,80})",
    re.IGNORECASE,
)
_NON_PERSON = re.compile(
    r"\b(?:sources?|officials|agency|agencies|outlet|outlets|ministry|reports?|media|government|newspaper|"
    r"channel|intelligence|news|wire|paper)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Attribution:
    source: str
    relay: str | None = None


@dataclass
class Discourse:
    """Sources named so far in one article, for resolving pronouns and anaphors."""

    sources: list[str] = field(default_factory=list)

    def remember(self, source: str) -> None:
        self.sources.append(source)

    def resolve(self, text: str) -> str | None:
        lowered = text.lower().strip()
        if lowered in _PRONOUNS:
            people = [s for s in self.sources if _TITLE.search(s) or not _NON_PERSON.search(s)]
            if lowered in ("he", "she", "his", "her", "i"):
                return people[-1] if people else None
            bodies = [s for s in self.sources if s not in people]
            if lowered == "it":
                return bodies[-1] if bodies else None
            return self.sources[-1] if self.sources else None
        m = _ANAPHOR.match(lowered)
        if m:
            head = m.group("head").rstrip("s")
            for source in reversed(self.sources):
                if re.search(rf"\b{re.escape(head)}", source, re.IGNORECASE):
                    return source
            if head in _MEDIA_HEADS:
                return text.strip()  # "the newspaper" with no newspaper named before: keep the words, never guess
            bodies = [s for s in self.sources if _NON_PERSON.search(s) and not _TITLE.search(s)]
            return bodies[-1] if bodies else (self.sources[-1] if self.sources else None)
        return None


def _clean(subject: str) -> str | None:
    s = subject.strip().strip(",;:—-–\"'“”‘’ ")
    s = _DATELINE.sub("", s)
    s = _LEADING.sub("", s).strip()
    who = re.search(r",\s+who\s*$", s)
    if not who:
        # "An official, who asked not to be named,", "A second post, viewed 450,000 times,"
        s = re.sub(r",\s+(?:who|which|[a-z]+ed|[a-z]+ing)\s+[^,]+,?\s*$", "", s)
    if who:
        s = s[: who.start()]
        caps = re.search(r"((?:[A-Z][\w'’.-]*\s+(?:of\s+(?:the\s+)?)?)*[A-Z][\w'’.-]*)\s*$", s)
        s = caps.group(1) if caps else s
    if " by " in s:
        s = s.rsplit(" by ", 1)[1]
    for _ in range(4):
        s = _TRAILING_TIME.sub("", s).strip()
        words = s.split()
        while words and (
            words[-1].lower().strip(",") in _TRAILING_WORDS
            or (_VERB.fullmatch(words[-1]) and len(words) > 1 and words[-2].lower() not in _DETERMINERS)
        ):
            words.pop()
        s = " ".join(words).strip(" ,")
    s = re.sub(r"^(?:[Tt]he|[Aa]n?)\s+(?=[A-Z])", "", s)
    if re.search(r"[\"“”]", s) or re.match(r"^(?:they|we|you|it|there)\b", s, re.IGNORECASE) and len(s.split()) > 1:
        return None  # quoted speech, not a speaker
    if not s or len(s.split()) > 14 or not re.search(r"[A-Za-z]", s):
        return None
    if re.match(r"^[a-z]+ed\b", s) or re.search(r"\d(?![\d,.]*\s+times\b)", s):
        return None  # "called Western", "the more than 4,000 dead": a phrase, not a speaker
    return s


def _subject_before(clause: str, verb_start: int) -> str:
    head = clause[:verb_start]
    starts = [m.end() for m in _SUBJECT_START.finditer(head)]
    return head[max(starts) if starts else 0 :]


def _main_subject(clause: str, verb_start: int) -> str:
    """For a participle ("..., telling lawmakers that"): the clause's subject, up to its first verb."""
    words: list[str] = []
    for word in _subject_before(clause, verb_start).split():
        if words and (_FINITE.match(word) or word.endswith(",")):
            if word.endswith(",") and not _FINITE.match(word):
                words.append(word)
            break
        words.append(word)
    return " ".join(words)


def _according(clause: str) -> tuple[int, str] | None:
    m = (
        _ACCORDING.search(clause)
        or _BY_ESTIMATE.search(clause)
        or _ESTIMATE_OF.search(clause)
        or _POSSESSIVE_FIGURE.search(clause)
    )
    if not m:
        return None
    if m.re is not _ACCORDING:
        return m.start(), m.group("x")
    rest = re.split(r"[—–();:]|\s-\s", clause[m.end() :])[0]
    segments = rest.split(",")
    taken = [segments[0]]
    for segment in segments[1:]:
        words = segment.strip().rstrip(".").split()
        if len(words) <= 5 and (" and " in segment or all(w[:1].isupper() for w in words)):
            taken.append(segment)
        else:
            break
    return m.start(), ",".join(taken).split(".")[0]


def _candidates(clause: str, position: int) -> list[tuple[str, str | None]]:
    """Possible sources of a figure at ``position``: nearest before it first, then those after it."""
    before: list[tuple[int, str, str | None]] = []
    after: list[tuple[int, str, str | None]] = []
    accorded = _according(clause)
    if accorded:
        (before if accorded[0] < position else after).append((accorded[0], accorded[1], None))
    for verb in _VERB.finditer(clause):
        if (
            _NOUN_USE.search(clause[: verb.start()])
            or _BE_BEFORE.search(clause[: verb.start()])
            or (verb.group(0).lower() in _NOUN_OR_VERB and not _VERB_FOLLOWS.match(clause[verb.end() :]))
        ):
            continue  # "the higher estimates", "called Western estimates": a noun, not a verb
        if verb.start() < position:
            told = _TOLD.match(clause[verb.start() :])
            relay = told.group("relay").strip() if told else None
            participle = verb.group(0).lower() in _PARTICIPLES
            if verb.group(0).lower() == "citing" and not clause[: verb.start()].strip(" -–—\"'“‘"):
                # "Citing the Institute for Peninsula Security, I would put ...": the cited body is the source.
                before.append((verb.start(), re.split(r"[,;:]", clause[verb.end() :])[0], relay))
                continue
            subject = _main_subject(clause, verb.start()) if participle else _subject_before(clause, verb.start())
            commas = list(re.finditer(r",\s", subject))
            if commas and _CLAUSE_LIKE.search(subject):
                # "Around 1,000 deminers are working in the region, he said": the speaker follows the comma.
                before.append((verb.start(), subject[commas[-1].end() :], relay))
            before.append((verb.start(), subject, relay))
        elif (
            verb.group(0).lower() not in _PARTICIPLES
            and not re.match(r"\s+by\b", clause[verb.end() :])
            and not _FINITE_AFTER.match(clause[verb.end() :])  # "deployments reported so far have been"
        ):
            # A postposed verb: "..., officials said (on Tuesday)."
            commas = list(re.finditer(r",[\"”’']?\s", clause[position : verb.start()]))
            if commas:
                after.append((verb.start(), clause[position + commas[-1].end() : verb.start()], None))
    first: list[tuple[int, str, str | None]] = []
    for passive in _PASSIVE.finditer(clause):
        if passive.start() < position:
            before.append((passive.start(), passive.group("x"), None))  # "As was stated by X, ..."
        else:
            # "the more than 4,000 dead claimed by X": attached to the figure, it beats an earlier verb.
            near = not re.search(r"[,;]\s", clause[position : passive.start()]) and passive.start() - position < 60
            (first if near else after).append((passive.start(), passive.group("x"), None))
    for inverted in _INVERTED.finditer(clause):
        (before if inverted.start() < position else after).append((inverted.start(), inverted.group("who"), None))
    ordered = first + sorted(before, key=lambda c: -c[0]) + sorted(after, key=lambda c: c[0])
    return [(raw, relay) for _, raw, relay in ordered]


def attribute(clause: str, position: int, discourse: Discourse) -> Attribution | None:
    """The source credited with the figure at ``position`` in ``clause`` (None if unattributed)."""
    for raw, relay in _candidates(clause, position):
        source = _clean(raw)
        if source is None:
            continue
        resolved = discourse.resolve(source)
        if resolved is not None:
            return Attribution(resolved, relay)
        if source.lower() in _PRONOUNS or _ANAPHOR.match(source.lower()):
            continue
        return Attribution(source, relay)
    return None


def headline_source(headline: str) -> str | None:
    """ "Seoul: at least 100 soldiers killed" credits Seoul."""
    m = re.match(r"^\s*([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3})\s*:\s+\S", headline)
    return m.group(1) if m else None


def sources_in(sentence: str, discourse: Discourse) -> list[str]:
    """Sources a sentence names (used to keep the discourse memory up to date)."""
    found: list[str] = []
    for raw, _ in _candidates(sentence, len(sentence)):
        cleaned = _clean(raw)
        if cleaned and cleaned.lower() not in _PRONOUNS and not _ANAPHOR.match(cleaned.lower()):
            found.append(cleaned)
    return list(reversed(found))
