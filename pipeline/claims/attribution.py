"""Who the text credits a figure to, and through whom it was relayed.

A relayed figure ("sources told Reuters", repeated by another outlet) is one
source, not two, so the originator and the relay are kept apart.  Each rule
family below names the construction it reads; the examples are wordings of
the same construction, not sentences the rules were tuned on.

**Speech verbs and their subjects.**  "X said / told / estimated / counted /
acknowledged that N ...": the subject before the verb.  A verb used as a noun
("the higher estimates"), after a modal ("officials may have counted"), as an
infinitive ("it is hard to confirm") or as a participle adjective ("a brigade
estimated at 4,000") names nobody.  A belief verb inside reported content
yields to the sentence's own speaker ("Customs papers show N, and Moscow
expects M more, the president said" credits the president with both).

**Postposed and parenthetical speakers.**  "N soldiers died, the ministry
said (on Friday | in a statement)": a verb that ends its clause, after a
comma, credits the words between the comma and the verb.  A verb followed by
an object is reported content, not a speaker ("..., and Moscow expects more,
he said" credits "he").  "Deliveries go on, the general staff said, with N
rounds ...": the words after the last comma before the verb are the speaker,
never the statement before them.  "..., the president said, adding that it
had lost N": the participle carries on the same speaker.

**Fronted phrases.**  "In a letter to the UN, the ministry said" / "Back in
March, Ukrainian intelligence counted" / "Speaking on television, the
governor said": the phrase before the comma is dropped from the speaker.

**Cited and briefing sources.**  "X, citing Y, said", "Citing Y, X reported",
"X said on Monday, citing Y", "X, quoting Y", "X, briefed by Y", "X said after
a closed-door Y briefing", "after a session with Y, X said": the speaker
relies on Y.  When X is a relay (a name of the topic's relay family, such as
a news agency), Y is the source and X its relay; otherwise the source reads
"X, citing Y" and belongs to Y's family ("an MP briefed by the spy agency" is
the spy agency's figure).  "X told Reuters" keeps Reuters as the relay.

**Possessive and compound sources.**  "according to X", "by X's count", "in
the estimate of X", "X's latest figures show", "the ministry's own tally",
"the Pentagon estimate was ...", "follows the JCS assessment that N ...": the
owner of the estimate is the source.

**Anonymous estimates.**  "a force, estimated at N" / "is put at some N"
with no "by": nobody is credited, even inside another speaker's sentence.

**Anaphors, pronouns and acronyms.**  "he", "it", "those officials", "the
agency" resolve to the most recent source named earlier in the article that
fits; "the paper", "the Seoul-based daily", "the outlet" to the most recent
relay (outlet) named; "its sources" to "<that outlet>, citing sources";
"the president", "the minister" to the last source named with that title.
"N of them were killed" without a speaker of its own
keeps the previous figure's source, and so does a figure in a later clause
of the same sentence ("X estimates N were sent; M of them died").  An agency
named by its letters ("the NIS") is stored under the name the article spells
out ("... Intelligence Service (NIS)", or a capitalised name whose initials
match), else under the topic's ``sources.acronyms``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

from pipeline.claims.discourse import ANAPHOR, PRONOUNS, Attribution, Discourse
from pipeline.claims.ranks import Placed, Sorted, start_of, until_of
from pipeline.claims.window import REACH, ahead, back, words_after, words_before

__all__ = ["Attribution", "Discourse", "Speakers", "attribute", "headline_source", "sources_in"]

_SPEECH_VERBS = (
    r"said|says|say|told|tells|tell|estimated|estimates|estimate|reported|reports|report|claimed|claims|"
    r"claim|confirmed|confirms|confirm|announced|announces|stated|states|added|adds|believes|believe|"
    r"cited|cites|citing|alleging|alleged|alleges|wrote|writes|noted|notes|warned|warns|acknowledged|"
    r"revealed|reveals|disclosed|assessed|assesses|indicated|indicates|described|describes|describe|telling|"
    r"saying|adding|puts|put|informs|informed|declared|declares|specified|underlined|insists|insisted|argues|"
    r"argued|maintains|maintained|asserts|asserted|expect|expects|stressed|emphasised|emphasized|counted|counts|"
    r"tallied|recorded|admitted|admits|acknowledges"
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
_AUXILIARY_BEFORE = re.compile(r"\b(?:had|has|have|was|were|is|are)\s+(?:earlier|already|also|since)\s*$", re.I)
_MODAL_BEFORE = re.compile(r"\b(?:may|might|could|would|should|must)\s+(?:have\s+)?(?:\w+ly\s+)?$", re.I)
_NOUN_OR_VERB = {"estimates", "estimate", "reports", "report", "claims", "claim", "notes", "states", "put", "puts"}
_VERB_FOLLOWS = re.compile(
    r"^\s+(?:that|about|around|some|more|over|up|at|nearly|roughly|as|between|fewer|less|the|north|\d|[A-Z])"
)
_CLAUSE_LIKE = re.compile(r"\d|[\"“”]|\b(?:are|is|was|were|has|have|had|stand|stands|remain|remains)\b")
_FINITE_AFTER = re.compile(r"^[^,.;]*?\b(?:has|have|had|is|are|was|were|will)\b", re.IGNORECASE)
_BE_BEFORE = re.compile(r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?$", re.IGNORECASE)
# An uninflected speech verb: after "to" it is an infinitive and names nobody ("hard to confirm").
_BASE_FORM = re.compile(r"(?i)(?!\w*(?:s|ed|ing)$)\w+")
# Verbs of belief inside reported content: "..., and Moscow expects more, he said" credits "he".
_BELIEF_VERBS = {"expect", "expects", "believe", "believes"}
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
# Month and day names: "in June" ends a subject, "in Washington" is part of it ("officials in Washington").
_CALENDAR = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\.?"
)
_TRAILING_TIME = re.compile(
    r"(?:\s+(?:in|on|during|at|since|by|earlier|last|this)\s+(?:the\s+)?(?:" + _CALENDAR + r"|\d{1,4}|this\s+\w+|"
    r"month|week|year)(?:\s+\d{1,2})?(?:,?\s+\d{4})?)+$"
)
_TRAILING_WORDS = {
    "also", "has", "have", "had", "first", "previously", "earlier", "recently", "later", "now", "then",
    "again", "publicly", "separately", "repeatedly", "reportedly", "already", "once", "further", "is",
    "are", "was", "were", "been", "who", "which", "officially", "initially",
}  # fmt: skip
_DETERMINERS = {"some", "the", "those", "these", "several", "many", "other", "multiple", "various", "media"}
_DATELINE = re.compile(r"^(?:(?:[^()]{0,60}\()?[^()]{0,60}\)\s*|[A-Z][A-Z .,/'’-]{2,40}\s*)[-—–]\s+")
_INVERTED = re.compile(
    r"[,\"”’]\s*(?:said|says|added|told\s+\w+|wrote|noted|reports|reported|stated|declared|informs|specified|"
    r"underlined|stressed)\s+(?P<who>[^,.;:\"“”]{3,80})",
    re.IGNORECASE,
)


# A fronted adverbial before the subject: "In a report to parliament, the agency said".
_FRONTED = re.compile(
    r"^(?:in|at|after|before|during|following|speaking|briefing|back\s+in|on|since|from|as\s+of|by)\b"
    r"[^,]{0,140},\s+(?=\S)",
    re.IGNORECASE,
)
# What a speaker relies on: "X, citing Y,", "Citing Y, X", "X, briefed by Y,", "after a closed-door Y session".
_CITED_PATTERNS = (
    re.compile(r"^(?:citing|quoting)\s+(?P<y>[^,]+),\s+(?P<pre>.+)$", re.IGNORECASE),
    re.compile(r"^(?P<pre>.+?)(?:,\s*|\s+)(?:citing|quoting|briefed\s+by)\s+(?P<y>[^,]+)(?P<post>,.*|\s*)$", re.I),
    re.compile(
        r"^(?P<pre>.*?)(?:,\s*)?(?:\bbriefing\s+\w+\s+)?\b(?:after|following|at|in)\s+(?:a|an|the)\s+"
        r"(?:(?:closed-door|private|confidential|parliamentary|separate)\s+)*"
        r"(?:(?:session|briefing|meeting|hearing)\s+(?:with|by|of|from)\s+(?P<y>[^,]+)"
        r"|(?P<y2>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})\s+(?:session|briefing|meeting|hearing))"
        r"(?P<post>.*)$"
    ),
)
_CITED_WORDS = ("citing", "quoting", "briefed", "session", "briefing", "meeting", "hearing")
# A figure an anonymous estimate gives: "a force estimated at 11,000", "put at some 3,000".
_ANONYMOUS_ESTIMATE = re.compile(
    r"(?:,|\b(?:is|are|was|were|been|being))\s+(?:\w+ly\s+)?(?:estimated|put|reckoned|thought|believed)\s+"
    r"(?:at|to\s+(?:number|total|be))\s+(?:[\w-]+\s+){0,2}$",
    re.IGNORECASE,
)
# A body named in front of what it produced: "the NIS estimate", "the Pentagon's assessment".
_COMPOUND = re.compile(
    r"\b[Tt]he\s+(?P<x>[A-Z]{2,6}|(?:[A-Z][\w-]+\s+){0,3}[A-Z][\w-]+)\s+(?:confirmation|estimate|estimates|"
    r"assessment|statement|report|figures?|count|tally|data|briefing|analysis|update)\b"
)
# "Around 600 of them", "most of those": a figure taken out of the previous one.
_OF_THEM = re.compile(r"^[\w\s,.-]{0,24}?\bof\s+(?:them|those|these)\b", re.IGNORECASE)
# A postposed speech verb ends its clause: "..., the ministry said (on Friday | in a statement)."
_POSTPOSED_END = re.compile(
    r"^\s*(?:(?:on|in|at|late|early|last|this|earlier|today|yesterday|during|after|before)\b[^,.;:]{0,120})?"
    r"\s*(?:[,.;:!?)\]]|[\"”’]|$)|^\s*(?:told|citing|quoting)\b",
    re.IGNORECASE,
)
# After the verb: "Reuters reported, citing Y", "Yonhap reported on Monday, after a closed-door Y briefing,".
_CITED_AFTER = re.compile(
    r"^(?:(?!\bthat\b)[^.;]){0,60}?,?\s*(?:(?:citing|quoting)\s+(?P<y>[^,.;:]+)"
    r"|(?:after|following)\s+(?:a|an|the)\s+(?:(?:closed-door|private|confidential|parliamentary|separate)\s+)*"
    r"(?:(?:session|briefing|meeting|hearing)\s+(?:with|by|of|from)\s+(?P<y1>[^,.;:]+)"
    r"|(?P<y2>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})\s+(?:session|briefing|meeting|hearing)))",
    re.IGNORECASE,
)

# Compiled once: the re module's own cache is shared with the sentence splitter's many patterns.
_OWNER_OF = re.compile(r"(?:'s|’s|'|’)\s+(?:own\s+)?(?:estimates?|count|tally|figures?|assessment|data)$")
_WHO_END = re.compile(r",\s+who\s*$")
_APPOSITION_END = re.compile(r",\s+(?:who|which|[a-z]+ed|[a-z]+ing)\s+[^,]+,?\s*$")
_CAPS_END = re.compile(r"((?:[A-Z][\w'’.-]*\s+(?:of\s+(?:the\s+)?)?)*[A-Z][\w'’.-]*)\s*$")
_ARTICLE_BEFORE_NAME = re.compile(r"^(?:[Tt]he|[Aa]n?)\s+(?=[A-Z])")
_QUOTE_MARK = re.compile(r"[\"“”]")
_PLURAL_PRONOUN_START = re.compile(r"^(?:they|we|you|it|there)\b", re.IGNORECASE)
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT_NOT_TIMES = re.compile(r"\d(?![\d,.]*\s+times\b)")
_AT_NEXT = re.compile(r"\s+at\b")
_HEAD_BOUNDARY = re.compile(r"\bthat\b|[:;—]")
_OBJECT_END = re.compile(r"[,;:]|\bthat\b")
_COMMA = re.compile(r",\s")
_SAID_COMMA_END = re.compile(rf"\b(?:{_SPEECH_VERBS})\b[^,;:.]{{0,40}},\s*$", re.IGNORECASE)
_COMMA_NEXT = re.compile(r"\s*,")
_BY_NEXT = re.compile(r"\s+by\b")
_COMMA_QUOTE = re.compile(r",[\"”’']?\s")
_CLAUSE_PUNCT = re.compile(r"[,;]\s")
_ACCORDING_END = re.compile(r"[—–();:]|\s-\s")


@dataclass(frozen=True, slots=True)
class _Candidate:
    raw: str
    relay: str | None = None
    cited: str | None = None  # what the speaker relies on ("citing the NIS")


_Speaker = Placed[_Candidate]


# "called Western ..." starts a phrase, not a speaker; "unnamed officials" is a speaker.
_PARTICIPLE_START = re.compile(r"^(?!(?:unnamed|named|unidentified|informed|retired|elected)\b)[a-z]+ed\b")


def _clean(subject: str) -> str | None:
    s = subject.strip().strip(",;:—-–\"'“”‘’ ")
    if s.endswith(")") and "(" not in s:
        s = s[:-1].strip()  # "(HUR) said": the letters inside the brackets
    s = _DATELINE.sub("", s)
    s = _LEADING.sub("", s).strip()
    s = _FRONTED.sub("", s).strip()
    # "the officials' estimate", "Seoul's own count": the owner is the source
    s = _OWNER_OF.sub("", s)
    who = _WHO_END.search(s)
    if not who:
        # "An official, who asked not to be named,", "A second post, viewed 450,000 times,"
        s = _APPOSITION_END.sub("", s)
    if who:
        s = s[: who.start()]
        caps = _CAPS_END.search(s)
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
    s = _ARTICLE_BEFORE_NAME.sub("", s)
    if _QUOTE_MARK.search(s) or _PLURAL_PRONOUN_START.match(s) and len(s.split()) > 1:
        return None  # quoted speech, not a speaker
    if not s or len(s.split()) > 14 or not _LETTER.search(s):
        return None
    if _VERB.match(s) and s[:1].islower():
        return None  # "says he": the speaker is before the verb ("Estimates from Seoul" is a source)
    if _PARTICIPLE_START.match(s) or _DIGIT_NOT_TIMES.search(s):
        return None  # "called Western", "the more than 4,000 dead": a phrase, not a speaker
    return s


def _subject_before(clause: str, verb_start: int, starts: list[int]) -> str:
    """The words before a speech verb, from the last place a subject can start (``starts``, sorted)."""
    at = bisect.bisect_right(starts, verb_start)
    return clause[max(starts[at - 1] if at else 0, back(clause, verb_start)) : verb_start]


def _main_subject(clause: str, verb_start: int, starts: list[int]) -> str:
    """For a participle ("..., telling lawmakers that"): the clause's subject, up to its first verb."""
    words: list[str] = []
    for word in _subject_before(clause, verb_start, starts).split():
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
    rest = _ACCORDING_END.split(words_after(clause, m.end()))[0]
    segments = rest.split(",")
    taken = [segments[0]]
    for segment in segments[1:]:
        words = segment.strip().rstrip(".").split()
        if len(words) <= 5 and (" and " in segment or all(w[:1].isupper() for w in words)):
            taken.append(segment)
        else:
            break
    return m.start(), ",".join(taken).split(".")[0]


def _words_before(clause: str, end: int) -> str:
    """The last few whole words before ``end``: the "...$" tests need no more, and scan less."""
    lo = max(0, end - REACH)
    start = clause.rfind(" ", lo, max(0, end - 48)) + 1 if end > 48 else 0
    return clause[max(start, lo) : end]


def _cited(head: str) -> tuple[str, str] | None:
    """(speaker, what the speaker relies on) when the words before a speech verb name both."""
    lowered = head.lower()
    if not any(word in lowered for word in _CITED_WORDS):
        return None  # the patterns are costly; most heads name no cited source
    for pattern in _CITED_PATTERNS:
        m = pattern.match(head.strip())
        if m:
            groups = m.groupdict()
            cited = groups.get("y") or groups.get("y2") or ""
            speaker = (groups.get("pre") or "") + " " + (groups.get("post") or "")
            if cited.strip() and speaker.strip(" ,"):
                return speaker.strip(), cited.strip()
    return None


def _is_speech_verb(clause: str, verb: re.Match[str]) -> bool:
    """False for a speech verb used as a noun, after a modal, as an infinitive or as an adjective."""
    tail = _words_before(clause, verb.start())
    return not (
        (_NOUN_USE.search(tail) and not _AUXILIARY_BEFORE.search(tail))
        or _BE_BEFORE.search(tail)
        or _MODAL_BEFORE.search(tail)  # "officials may have counted": a guess, not a source
        or (tail.endswith(" to ") and _BASE_FORM.fullmatch(verb.group(0)) is not None)  # "impossible to confirm"
        or _AT_NEXT.match(clause, verb.end()) is not None  # "a unit estimated at 3,000": no speaker
        or (verb.group(0).lower() in _NOUN_OR_VERB and not _VERB_FOLLOWS.match(words_after(clause, verb.end())))
    )  # "the higher estimates", "called Western estimates": a noun, not a verb


class Speakers:
    """Every possible source one clause names, read once for all of its figures.

    For a figure at ``position`` the rules rank them: a passive speaker right after it ("claimed
    by X") first, then the nearest speaker before it, then the nearest after it (", officials
    said"), then verbs of belief.  What a figure's rank depends on is only where the figure is, so
    each speaker is read once, and a figure finds its source by a search of the sorted speakers
    (a clause with many figures and speech verbs costs time in proportion to its length).
    """

    def __init__(self, clause: str) -> None:
        self.clause = clause
        order = count()
        self._subject_starts = [m.end() for m in _SUBJECT_START.finditer(clause)]
        self._head_starts = [m.end() for m in _HEAD_BOUNDARY.finditer(clause)]
        self._commas = [(m.start(), m.end()) for m in _COMMA_QUOTE.finditer(clause)]
        self._lead = len(clause) - len(clause.lstrip(" -–—\"'“‘"))
        accorded = _according(clause)
        self._either: list[_Speaker] = []  # before or after the figure: "according to", passives, inverted
        if accorded:
            self._either.append(Placed(accorded[0], next(order), _Candidate(accorded[1])))
        compound = _COMPOUND.search(clause)
        self._compound = Placed(compound.start(), next(order), _Candidate(compound.group("x"))) if compound else None
        self._compound_end = compound.end() if compound else 0
        self._before: list[_Speaker] = []
        self._weak: list[_Speaker] = []  # belief verbs: a postposed speaker outranks them
        self._postposed: list[_Speaker] = []
        for verb in _VERB.finditer(clause):
            if not _is_speech_verb(clause, verb):
                continue
            following = clause[verb.end() : verb.end() + 120]
            lowered = following.lower()
            after_verb = _CITED_AFTER.match(following) if any(w in lowered for w in _CITED_WORDS) else None
            cited_after = next((g for g in after_verb.group("y", "y1", "y2") if g), None) if after_verb else None
            target = self._weak if verb.group(0).lower() in _BELIEF_VERBS else self._before
            target += [Placed(verb.start(), next(order), c) for c in self._subjects(verb, cited_after)]
            postposed = self._postposed_speaker(verb, cited_after)
            if postposed is not None:
                self._postposed.append(Placed(verb.start(), next(order), postposed[1], postposed[0]))
        self._passives = [Placed(m.start(), next(order), _Candidate(m.group("x"))) for m in _PASSIVE.finditer(clause)]
        self._either += self._passives
        self._either += [Placed(m.start(), next(order), _Candidate(m.group("who"))) for m in _INVERTED.finditer(clause)]
        self._passive_starts = [p.start for p in self._passives]
        self._state: tuple[tuple[Discourse, int], Callable[[str | None], str | None], _Ranked] | None = None

    def _subjects(self, verb: re.Match[str], cited_after: str | None) -> list[_Candidate]:
        """Who a speech verb credits, for a figure after it: its subject, or the speaker it relies on."""
        clause, start, word = self.clause, verb.start(), verb.group(0).lower()
        told = _TOLD.match(words_after(clause, start))
        relay = told.group("relay").strip() if told else None
        participle = word in _PARTICIPLES
        if word == "citing" and self._lead >= start:
            # "Citing the Institute for Peninsula Security, I would put ...": the cited body is the source.
            return [_Candidate(re.split(r"[,;:]", words_after(clause, verb.end()))[0], relay)]
        if participle and _SAID_COMMA_END.search(clause, back(clause, start), start):
            return []  # "..., the president said, adding that ...": the speaker of "said" goes on
        at = bisect.bisect_right(self._head_starts, start)
        head = clause[max(self._head_starts[at - 1] if at else 0, back(clause, start)) : start]
        cited = _cited(head) if not participle else None
        if cited:
            return [_Candidate(cited[0], relay, cited[1])]
        starts = self._subject_starts
        subject = _main_subject(clause, start, starts) if participle else _subject_before(clause, start, starts)
        if word in ("citing", "quoting"):
            # "The outlet reported on Monday, citing the JCS, that ...": the outlet relies on the JCS.
            end = ahead(clause, verb.end())
            what = _OBJECT_END.search(clause, verb.end(), end)
            return [_Candidate(subject, relay, clause[verb.end() : what.start() if what else end])]
        commas = list(_COMMA.finditer(subject))
        parenthetical = bool(_COMMA_NEXT.match(clause, verb.end()))  # "Shipments continue, X said, ..."
        found: list[_Candidate] = []
        if commas and (_CLAUSE_LIKE.search(subject) or parenthetical):
            # "Around 1,000 deminers are working in the region, he said": the speaker follows the comma.
            found.append(_Candidate(subject[commas[-1].end() :], relay, cited_after))
            if parenthetical:
                return found  # the words before the comma are what was said, never who said it
        return [*found, _Candidate(subject, relay, cited_after)]

    def _postposed_speaker(self, verb: re.Match[str], cited_after: str | None) -> tuple[int, _Candidate] | None:
        """A verb that ends its clause (", officials said (on Tuesday)."): the words after its last comma,
        for a figure before that comma."""
        clause, word = self.clause, verb.group(0).lower()
        rest = words_after(clause, verb.end())
        if (
            word in _PARTICIPLES
            or _BY_NEXT.match(clause, verb.end())
            or _FINITE_AFTER.match(rest)  # "deployments reported so far have been"
            or not (word in ("told", "tells") or _POSTPOSED_END.match(rest))
        ):
            return None
        at = bisect.bisect_left(self._commas, (verb.start(), 0))
        if not at:
            return None
        comma, after_comma = self._commas[at - 1]
        raw = clause[max(after_comma, back(clause, verb.start())) : verb.start()]
        return comma, _Candidate(raw, None, cited_after)

    def _near(self, position: int, passive: _Speaker) -> bool:
        """A passive speaker attached to the figure ("the more than 4,000 dead claimed by X")."""
        return passive.start - position < 60 and not _CLAUSE_PUNCT.search(self.clause[position : passive.start])

    def first(self, position: int, discourse: Discourse) -> _Candidate | None:
        """The first speaker in rank for a figure at ``position`` that names a source (``_named``)."""
        named, ranked = self._read(discourse)
        at = bisect.bisect_left(self._passive_starts, position)
        for passive in self._passives[at:]:
            if passive.start - position >= 60:
                break
            if self._near(position, passive) and named(passive.item.raw) is not None:
                return passive.item
        best = ranked.before.last_before(position)
        compound = self._compound
        if (
            compound
            and self._compound_end <= position  # "the NIS estimate had been 200"
            and named(compound.item.raw) is not None
            and (best is None or (best.start, -best.order) < (compound.start, -compound.order))
        ):
            best = compound
        if best is None:
            later = (ranked.after.first_from(position), ranked.postposed.first_from(position))
            best = min((n for n in later if n is not None), key=lambda n: (n.start, n.order), default=None)
        best = best or ranked.weak.last_before(position)
        return best.item if best else None

    def everyone(self) -> list[_Candidate]:
        """Every speaker the clause names, in rank for a figure after its end."""
        before = [*self._either, *self._before, *([self._compound] if self._compound else [])]
        return [n.item for group in (before, self._weak) for n in sorted(group, key=lambda n: (-n.start, n.order))]

    def names(self, discourse: Discourse) -> Callable[[str | None], str | None]:
        """``_named`` over this clause's words, each read once while the discourse stays as it is."""
        return self._read(discourse)[0]

    def _read(self, discourse: Discourse) -> tuple[Callable[[str | None], str | None], _Ranked]:
        """The names of the speakers, and those that name a source ranked, for the discourse as it is now
        (it changes only after all the figures of the clause are read)."""
        state = (discourse, len(discourse.sources))
        if self._state is None or self._state[0][0] is not discourse or self._state[0][1] != state[1]:
            seen: dict[str, str | None] = {}

            def named(raw: str | None) -> str | None:
                if raw is None:
                    return None
                if raw not in seen:
                    seen[raw] = _named(raw, discourse)
                return seen[raw]

            self._state = (state, named, _Ranked(self, named))
        return self._state[1], self._state[2]


class _Ranked:
    """The speakers of a clause that name a source, sorted for each rank."""

    def __init__(self, speakers: Speakers, named: Callable[[str | None], str | None]) -> None:
        def kept(entries: list[_Speaker]) -> list[_Speaker]:
            return [e for e in entries if named(e.item.raw) is not None]

        self.before = Sorted(kept([*speakers._either, *speakers._before]), start_of, -1)
        self.weak = Sorted(kept(speakers._weak), start_of, -1)
        self.after = Sorted(kept(speakers._either), start_of, 1)
        # A postposed speaker applies to figures up to its comma; the commas come in text order.
        self.postposed = Sorted(kept(speakers._postposed), until_of, 1)


def _named(raw: str, discourse: Discourse) -> str | None:
    """A cleaned source with pronouns, anaphors and acronyms resolved (None: not a source)."""
    source = _clean(raw)
    if source is None:
        return None
    resolved = discourse.resolve(source)
    if resolved is not None:
        return discourse.expand(resolved)
    if source.lower() in PRONOUNS or ANAPHOR.match(source.lower()):
        return None
    return discourse.expand(source)


def attribute(clause: str, position: int, discourse: Discourse, speakers: Speakers | None = None) -> Attribution | None:
    """The source credited with the figure at ``position`` in ``clause`` (None if unattributed).

    A speaker relying on another source ("X, citing Y") is stored as "X, citing Y" and placed in
    Y's family; when the speaker is a relay (an outlet), Y is the source and the outlet its relay.
    ``speakers`` is ``Speakers(clause)``, read once for all the figures of the clause.
    """
    if _ANONYMOUS_ESTIMATE.search(words_before(clause, position)):
        return None  # "a force estimated at 11,000": nobody is credited with the estimate
    speakers = speakers or Speakers(clause)
    candidate = speakers.first(position, discourse)
    if candidate is not None:
        named = speakers.names(discourse)
        source, relay = named(candidate.raw) or "", candidate.relay
        cited = named(candidate.cited) if candidate.cited else None
        if cited and cited != source:
            if discourse.families.is_relay(source):
                source, relay = cited, relay or source
            else:
                source = f"{source}, citing {cited}"
        discourse.last = Attribution(source, relay)
        return discourse.last
    if discourse.last is not None and _OF_THEM.match(words_after(clause, position)):
        return discourse.last  # "Around 600 of them were killed": the previous figure's source
    return None


def headline_source(headline: str) -> str | None:
    """ "Seoul: at least 100 soldiers killed" credits Seoul."""
    m = re.match(r"^\s*([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3})\s*:\s+\S", headline)
    return m.group(1) if m else None


def sources_in(sentence: str, discourse: Discourse, speakers: Speakers | None = None) -> list[str]:
    """Sources a sentence names (used to keep the discourse memory up to date)."""
    found: list[str] = []
    for candidate in (speakers or Speakers(sentence)).everyone():
        for raw in (candidate.raw, candidate.cited):
            cleaned = _clean(raw) if raw else None
            if cleaned and cleaned.lower() not in PRONOUNS and not ANAPHOR.match(cleaned.lower()):
                found.append(cleaned)
    return list(reversed(found))
