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

import re
from dataclasses import dataclass, field

from pipeline.claims.families import SourceFamilies

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
_MEDIA_HEADS = {"newspaper", "paper", "outlet", "channel", "broadcaster", "publication", "report"}
_PRONOUNS = {"he", "she", "they", "i", "we", "it", "his", "her"}
_ANAPHOR = re.compile(
    r"^(?:those|these|the|that|this|such)\s+(?P<head>sources?|outlet|report|reports|newspaper|paper|channel|"
    r"agency|ministry|officials?|official|statement|publication|broadcaster|agencies|outlets|investigation|study)$",
    re.IGNORECASE,
)
# "the president", "the minister": the last source named with that title, never a guess.
_TITLE_ANAPHOR = re.compile(
    r"^the\s+(?P<head>president|prime\s+minister|minister|spokesman|spokeswoman|spokesperson|leader|commander)$",
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
    r"channel|intelligence|news|wire|paper|investigation|think\s+tank|study|institute|analysis|review)\b",
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
# The head of a descriptive anaphor: "the British paper", "the spy agency", "the Seoul-based daily".
_DESCRIPTIVE = re.compile(
    r"^(?:the\s+)?(?:[\w'’-]+\s+){0,2}(?P<head>paper|newspaper|daily|outlet|broadcaster|agency|publication|"
    r"wire|service)$",
    re.IGNORECASE,
)
_THEIR_SOURCES = re.compile(r"^(?P<owner>its|their|his|her)\s+(?:own\s+)?(?P<who>sources|informants|contacts)$")
_RELAY_HEADS = {"paper", "newspaper", "daily", "outlet", "broadcaster", "publication", "wire"}
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
class Attribution:
    source: str
    relay: str | None = None


@dataclass(frozen=True, slots=True)
class _Candidate:
    raw: str
    relay: str | None = None
    cited: str | None = None  # what the speaker relies on ("citing the NIS")


@dataclass
class Discourse:
    """Sources named so far in one article, for resolving pronouns, anaphors and acronyms.

    ``text`` is the article (it spells out the acronyms it uses), ``families`` the topic's
    source families (they say which sources are relays, and spell out acronyms the article
    leaves unexplained).
    """

    sources: list[str] = field(default_factory=list)
    text: str = ""
    families: SourceFamilies = field(default_factory=SourceFamilies)
    last: Attribution | None = None  # the latest figure's attribution, for "600 of them"
    _spelled: dict[str, str] | None = None

    def remember(self, source: str) -> None:
        self.sources.append(source)

    def resolve(self, text: str) -> str | None:
        lowered = text.lower().strip()
        owned = _THEIR_SOURCES.match(lowered)
        if owned:
            pronoun = {"its": "it", "their": "they"}.get(owned.group("owner"), owned.group("owner"))
            owner = self.resolve(pronoun)  # "its sources": the outlet's unnamed sources
            return f"{owner}, citing {owned.group('who')}" if owner else None
        if lowered in _PRONOUNS:
            people = [
                s
                for s in self.sources
                if (_TITLE.search(s) or not _NON_PERSON.search(s)) and not self.families.is_relay(s)
            ]
            if lowered in ("he", "she", "his", "her", "i"):
                return people[-1] if people else None
            bodies = [s for s in self.sources if s not in people]
            if lowered == "it":
                return bodies[-1] if bodies else None
            return self.sources[-1] if self.sources else None
        titled = _TITLE_ANAPHOR.match(lowered)
        if titled:
            head = titled.group("head")
            return next((s for s in reversed(self.sources) if re.search(rf"\b{head}\b", s, re.IGNORECASE)), None)
        m = _ANAPHOR.match(lowered)
        if m:
            head = m.group("head").rstrip("s")
            for source in reversed(self.sources):
                if re.search(rf"\b{re.escape(head)}", source, re.IGNORECASE):
                    return source
            if head in _MEDIA_HEADS:
                return self._relay() or text.strip()  # no outlet named before: keep the words, never guess
            bodies = [s for s in self.sources if _NON_PERSON.search(s) and not _TITLE.search(s)]
            return bodies[-1] if bodies else (self.sources[-1] if self.sources else None)
        d = _DESCRIPTIVE.match(text.strip())
        if d and d.group("head").islower():
            if d.group("head").lower() in _RELAY_HEADS:
                return self._relay()  # "the British paper": the outlet named last
            head = d.group("head").lower()
            return next((s for s in reversed(self.sources) if re.search(rf"\b{head}\b", s, re.IGNORECASE)), None)
        return None

    def _relay(self) -> str | None:
        return next((s for s in reversed(self.sources) if self.families.is_relay(s)), None)

    def expand(self, source: str) -> str:
        """An agency named by its letters ("the NIS") under the name the article or topic spells out."""
        m = re.fullmatch(r"(?:[Tt]he\s+)?([A-Z][A-Z0-9]{1,9})", source.strip())
        if not m:
            return source
        acronym = m.group(1)
        if self._spelled is None:
            self._spelled = _spelled_out(self.text)
        in_text = self._spelled.get(acronym)
        configured = self.families.expand(acronym)
        if configured and (in_text is None or configured.endswith(in_text)):
            return configured
        return in_text or source


def _spelled_out(text: str) -> dict[str, str]:
    """Acronym -> the first capitalised name in the text whose initials spell it ("Joint Chiefs of Staff")."""
    out: dict[str, str] = {}
    for m in _CAPITALISED_RUN.finditer(text):
        words = re.sub(r"^(?:The|A|An)\s+", "", m.group(0)).split()
        possessive = max((i for i, w in enumerate(words) if w.endswith(("'s", "’s"))), default=-1)
        for first in {0, possessive + 1}:
            initials = "".join(w[0] for w in words[first:] if w not in ("of", "the", "and", "for"))
            if len(initials) >= 2:
                out.setdefault(initials.upper(), " ".join(words))
    return out


_CAPITALISED_RUN = re.compile(r"(?:[A-Z][\w'’-]*\s+(?:(?:of|for|and)\s+(?:the\s+)?)?)+[A-Z][\w'’-]*")


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
    rest = _ACCORDING_END.split(clause[m.end() :])[0]
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
    start = clause.rfind(" ", 0, max(0, end - 48)) + 1 if end > 48 else 0
    return clause[start:end]


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


def _candidates(clause: str, position: int) -> list[_Candidate]:
    """Possible sources of a figure at ``position``: nearest before it first, then those after it."""
    before: list[tuple[int, _Candidate]] = []
    after: list[tuple[int, _Candidate]] = []
    weak: list[tuple[int, _Candidate]] = []  # belief verbs: a postposed speaker outranks them
    accorded = _according(clause)
    if accorded:
        (before if accorded[0] < position else after).append((accorded[0], _Candidate(accorded[1])))
    compound = _COMPOUND.search(clause, 0, position)
    if compound and compound.end() <= position:
        before.append((compound.start(), _Candidate(compound.group("x"))))  # "the NIS estimate had been 200"
    for verb in _VERB.finditer(clause):
        if (
            (_NOUN_USE.search(tail := _words_before(clause, verb.start())) and not _AUXILIARY_BEFORE.search(tail))
            or _BE_BEFORE.search(tail)
            or _MODAL_BEFORE.search(tail)  # "officials may have counted": a guess, not a source
            or (tail.endswith(" to ") and _BASE_FORM.fullmatch(verb.group(0)) is not None)  # "impossible to confirm"
            or _AT_NEXT.match(clause, verb.end()) is not None  # "a unit estimated at 3,000": no speaker
            or (verb.group(0).lower() in _NOUN_OR_VERB and not _VERB_FOLLOWS.match(clause[verb.end() :]))
        ):
            continue  # "the higher estimates", "called Western estimates": a noun, not a verb
        following = clause[verb.end() : verb.end() + 120]
        lowered = following.lower()
        after_verb = _CITED_AFTER.match(following) if any(w in lowered for w in _CITED_WORDS) else None
        cited_after = next((g for g in after_verb.group("y", "y1", "y2") if g), None) if after_verb else None
        if verb.start() < position:
            target = weak if verb.group(0).lower() in _BELIEF_VERBS else before
            told = _TOLD.match(clause[verb.start() :])
            relay = told.group("relay").strip() if told else None
            participle = verb.group(0).lower() in _PARTICIPLES
            if verb.group(0).lower() == "citing" and not clause[: verb.start()].strip(" -–—\"'“‘"):
                # "Citing the Institute for Peninsula Security, I would put ...": the cited body is the source.
                target.append((verb.start(), _Candidate(re.split(r"[,;:]", clause[verb.end() :])[0], relay)))
                continue
            if participle and _SAID_COMMA_END.search(clause, 0, verb.start()):
                continue  # "..., the president said, adding that ...": the speaker of "said" goes on
            head = _HEAD_BOUNDARY.split(clause[: verb.start()])[-1]
            cited = _cited(head) if not participle else None
            if cited:
                target.append((verb.start(), _Candidate(cited[0], relay, cited[1])))
                continue
            subject = _main_subject(clause, verb.start()) if participle else _subject_before(clause, verb.start())
            if verb.group(0).lower() in ("citing", "quoting"):
                # "The outlet reported on Monday, citing the JCS, that ...": the outlet relies on the JCS.
                what = _OBJECT_END.split(clause[verb.end() :])[0]
                target.append((verb.start(), _Candidate(subject, relay, what)))
                continue
            commas = list(_COMMA.finditer(subject))
            parenthetical = bool(_COMMA_NEXT.match(clause, verb.end()))  # "Shipments continue, X said, ..."
            if commas and (_CLAUSE_LIKE.search(subject) or parenthetical):
                # "Around 1,000 deminers are working in the region, he said": the speaker follows the comma.
                tail = subject[commas[-1].end() :]
                target.append((verb.start(), _Candidate(tail, relay, cited_after)))
                if parenthetical:
                    continue  # the words before the comma are what was said, never who said it
            target.append((verb.start(), _Candidate(subject, relay, cited_after)))
        elif (
            verb.group(0).lower() not in _PARTICIPLES
            and not _BY_NEXT.match(clause, verb.end())
            and not _FINITE_AFTER.match(clause[verb.end() :])  # "deployments reported so far have been"
            and (verb.group(0).lower() in ("told", "tells") or _POSTPOSED_END.match(clause[verb.end() :]))
        ):
            # A postposed verb: "..., officials said (on Tuesday)."
            commas = list(_COMMA_QUOTE.finditer(clause[position : verb.start()]))
            if commas:
                raw = clause[position + commas[-1].end() : verb.start()]
                after.append((verb.start(), _Candidate(raw, None, cited_after)))
    first: list[tuple[int, _Candidate]] = []
    for passive in _PASSIVE.finditer(clause):
        if passive.start() < position:
            before.append((passive.start(), _Candidate(passive.group("x"))))  # "As was stated by X, ..."
        else:
            # "the more than 4,000 dead claimed by X": attached to the figure, it beats an earlier verb.
            near = not _CLAUSE_PUNCT.search(clause[position : passive.start()]) and passive.start() - position < 60
            (first if near else after).append((passive.start(), _Candidate(passive.group("x"))))
    for inverted in _INVERTED.finditer(clause):
        (before if inverted.start() < position else after).append((inverted.start(), _Candidate(inverted.group("who"))))
    ordered = first + sorted(before, key=lambda c: -c[0]) + sorted(after, key=lambda c: c[0])
    ordered += sorted(weak, key=lambda c: -c[0])
    return [candidate for _, candidate in ordered]


def _named(raw: str, discourse: Discourse) -> str | None:
    """A cleaned source with pronouns, anaphors and acronyms resolved (None: not a source)."""
    source = _clean(raw)
    if source is None:
        return None
    resolved = discourse.resolve(source)
    if resolved is not None:
        return discourse.expand(resolved)
    if source.lower() in _PRONOUNS or _ANAPHOR.match(source.lower()):
        return None
    return discourse.expand(source)


def attribute(clause: str, position: int, discourse: Discourse) -> Attribution | None:
    """The source credited with the figure at ``position`` in ``clause`` (None if unattributed).

    A speaker relying on another source ("X, citing Y") is stored as "X, citing Y" and placed in
    Y's family; when the speaker is a relay (an outlet), Y is the source and the outlet its relay.
    """
    if _ANONYMOUS_ESTIMATE.search(clause[:position]):
        return None  # "a force estimated at 11,000": nobody is credited with the estimate
    for candidate in _candidates(clause, position):
        source = _named(candidate.raw, discourse)
        if source is None:
            continue
        relay = candidate.relay
        cited = _named(candidate.cited, discourse) if candidate.cited else None
        if cited and cited != source:
            if discourse.families.is_relay(source):
                source, relay = cited, relay or source
            else:
                source = f"{source}, citing {cited}"
        discourse.last = Attribution(source, relay)
        return discourse.last
    if discourse.last is not None and _OF_THEM.match(clause[position:]):
        return discourse.last  # "Around 600 of them were killed": the previous figure's source
    return None


def headline_source(headline: str) -> str | None:
    """ "Seoul: at least 100 soldiers killed" credits Seoul."""
    m = re.match(r"^\s*([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3})\s*:\s+\S", headline)
    return m.group(1) if m else None


def sources_in(sentence: str, discourse: Discourse) -> list[str]:
    """Sources a sentence names (used to keep the discourse memory up to date)."""
    found: list[str] = []
    for candidate in _candidates(sentence, len(sentence)):
        for raw in (candidate.raw, candidate.cited):
            cleaned = _clean(raw) if raw else None
            if cleaned and cleaned.lower() not in _PRONOUNS and not _ANAPHOR.match(cleaned.lower()):
                found.append(cleaned)
    return list(reversed(found))
