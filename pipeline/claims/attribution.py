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
    r"revealed|reveals|disclosed|assessed|assesses|indicated|indicates|put\s+the\s+(?:figure|number|toll)"
)
_VERB = re.compile(rf"\b(?:{_SPEECH_VERBS})\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\baccording\s+to\s+", re.IGNORECASE)
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
_PRONOUNS = {"he", "she", "they", "i", "we", "it", "his", "her"}
_ANAPHOR = re.compile(
    r"^(?:those|these|the|that|this|such)\s+(?P<head>sources?|outlet|report|reports|newspaper|paper|channel|"
    r"agency|ministry|officials?|official|statement|publication|broadcaster|agencies|outlets)$",
    re.IGNORECASE,
)
_TITLE = re.compile(
    r"\b(?:chief|head|director|minister|spokes(?:man|woman|person)|commander|president|governor|general|"
    r"secretary|ambassador|lt|gen|col|maj|colonel|major|lieutenant|mr|mrs|ms|dr|premier|leader|deputy)\b\.?",
    re.IGNORECASE,
)
_INVERTED = re.compile(
    r"[,\"”’]\s*(?:said|says|added|told\s+\w+|wrote|noted)\s+(?P<who>[^,.;:\"“”]{3,80})",
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
            if lowered in ("he", "she", "his", "her", "i") and people:
                return people[-1]
            return self.sources[-1] if self.sources else None
        m = _ANAPHOR.match(lowered)
        if m:
            head = m.group("head").rstrip("s")
            for source in reversed(self.sources):
                if re.search(rf"\b{re.escape(head)}", source, re.IGNORECASE):
                    return source
            if head in ("official", "source"):
                return None  # "those officials" without officials named before: do not guess
            bodies = [s for s in self.sources if _NON_PERSON.search(s) and not _TITLE.search(s)]
            return bodies[-1] if bodies else None
        return None


def _clean(subject: str) -> str | None:
    s = subject.strip().strip(",;:—-–\"'“”‘’ ")
    s = _LEADING.sub("", s).strip()
    who = re.search(r",\s+who\s*$", s)
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
    return s


def _subject_before(clause: str, verb_start: int) -> str:
    head = clause[:verb_start]
    starts = [m.end() for m in _SUBJECT_START.finditer(head)]
    return head[max(starts) if starts else 0 :]


def _according(clause: str) -> str | None:
    m = _ACCORDING.search(clause)
    if not m:
        return None
    segments = clause[m.end() :].split(",")
    taken = [segments[0]]
    for segment in segments[1:-1]:
        words = segment.split()
        if len(words) <= 5 and (" and " in segment or all(w[:1].isupper() for w in words)):
            taken.append(segment)
        else:
            break
    return ",".join(taken).split(".")[0] if taken else None


def attribute(clause: str, position: int, discourse: Discourse) -> Attribution | None:
    """The source credited with the figure at ``position`` in ``clause`` (None if unattributed)."""
    candidates: list[tuple[int, str, str | None]] = []
    accorded = _according(clause)
    if accorded:
        candidates.append((0, accorded, None))
    for verb in _VERB.finditer(clause):
        if verb.start() < position:
            subject = _subject_before(clause, verb.start())
            told = _TOLD.match(clause[verb.start() :])
            relay = told.group("relay").strip() if told else None
            candidates.append((verb.start(), subject, relay))
        else:
            # A postposed verb: "..., officials said."  Only at the clause's end.
            tail = clause[verb.end() :].strip(" .\"”'’")
            if not tail:
                comma = clause.rfind(",", position, verb.start())
                if comma != -1:
                    candidates.append((verb.start(), clause[comma + 1 : verb.start()], None))
    for inverted in _INVERTED.finditer(clause):
        candidates.append((inverted.start(), inverted.group("who"), None))
    for _, raw, relay in sorted(candidates, key=lambda c: -c[0]):
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


def sources_in(sentence: str, discourse: Discourse) -> list[str]:
    """Sources a sentence names (used to keep the discourse memory up to date)."""
    found: list[str] = []
    accorded = _according(sentence)
    if accorded and (cleaned := _clean(accorded)):
        found.append(cleaned)
    for inverted in _INVERTED.finditer(sentence):
        if cleaned := _clean(inverted.group("who")):
            found.append(cleaned)
    for verb in _VERB.finditer(sentence):
        cleaned = _clean(_subject_before(sentence, verb.start()))
        if cleaned and cleaned.lower() not in _PRONOUNS and not _ANAPHOR.match(cleaned.lower()):
            found.append(cleaned)
    return found
