"""The sources an article has named so far, for resolving pronouns, anaphors and acronyms.

"he", "it", "those officials", "the agency" resolve to the most recent source
named earlier that fits; "the paper", "the outlet" to the most recent relay
(outlet); "its sources" to "<that outlet>, citing sources"; "the president" to
the last source named with that title.  Each kind of lookup remembers how far
it has read the list, so an article that names thousands of sources is read
once per kind of lookup, not once per pronoun.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.claims.families import SourceFamilies

MEDIA_HEADS = {"newspaper", "paper", "outlet", "channel", "broadcaster", "publication", "report"}
PRONOUNS = {"he", "she", "they", "i", "we", "it", "his", "her"}
ANAPHOR = re.compile(
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
_NON_PERSON = re.compile(
    r"\b(?:sources?|officials|agency|agencies|outlet|outlets|ministry|reports?|media|government|newspaper|"
    r"channel|intelligence|news|wire|paper|investigation|think\s+tank|study|institute|analysis|review)\b",
    re.IGNORECASE,
)
# The head of a descriptive anaphor: "the British paper", "the spy agency", "the Seoul-based daily".
_DESCRIPTIVE = re.compile(
    r"^(?:the\s+)?(?:[\w'’-]+\s+){0,2}(?P<head>paper|newspaper|daily|outlet|broadcaster|agency|publication|"
    r"wire|service)$",
    re.IGNORECASE,
)
_THEIR_SOURCES = re.compile(r"^(?P<owner>its|their|his|her)\s+(?:own\s+)?(?P<who>sources|informants|contacts)$")
_RELAY_HEADS = {"paper", "newspaper", "daily", "outlet", "broadcaster", "publication", "wire"}
_CAPITALISED_RUN = re.compile(r"(?:[A-Z][\w'’-]*\s+(?:(?:of|for|and)\s+(?:the\s+)?)?)+[A-Z][\w'’-]*")


@dataclass(frozen=True, slots=True)
class Attribution:
    source: str
    relay: str | None = None


@dataclass
class Discourse:
    """Sources named so far in one article, in the order they were named (``remember`` adds one).

    ``text`` is the article (it spells out the acronyms it uses), ``families`` the topic's
    source families (they say which sources are relays, and spell out acronyms the article
    leaves unexplained).
    """

    sources: list[str] = field(default_factory=list)
    text: str = ""
    families: SourceFamilies = field(default_factory=SourceFamilies)
    last: Attribution | None = None  # the latest figure's attribution, for "600 of them"
    _spelled: dict[str, str] | None = None
    _read: dict[str, tuple[int, int, str | None]] = field(default_factory=dict, repr=False)

    def remember(self, source: str) -> None:
        self.sources.append(source)

    def _latest(self, kind: str, fits: Callable[[str], bool]) -> str | None:
        """The most recent source that ``fits``; ``kind`` names the test, whose answer is kept up to date
        by reading only the sources named since the last lookup of that kind."""
        names, read, latest = self._read.get(kind, (id(self.sources), 0, None))
        if names != id(self.sources) or read > len(self.sources):  # the list was replaced, not added to
            read, latest = 0, None
        for source in self.sources[read:]:
            if fits(source):
                latest = source
        self._read[kind] = (id(self.sources), len(self.sources), latest)
        return latest

    def _person(self, source: str) -> bool:
        return bool(_TITLE.search(source) or not _NON_PERSON.search(source)) and not self.families.is_relay(source)

    def _named_with(self, word: str, whole: bool = True) -> str | None:
        """The latest source with ``word`` in it (as a whole word, or as the start of one)."""
        pattern = re.compile(rf"\b{word}\b" if whole else rf"\b{re.escape(word)}", re.IGNORECASE)
        return self._latest(f"word:{pattern.pattern}", lambda s: pattern.search(s) is not None)

    def resolve(self, text: str) -> str | None:
        lowered = text.lower().strip()
        owned = _THEIR_SOURCES.match(lowered)
        if owned:
            pronoun = {"its": "it", "their": "they"}.get(owned.group("owner"), owned.group("owner"))
            owner = self.resolve(pronoun)  # "its sources": the outlet's unnamed sources
            return f"{owner}, citing {owned.group('who')}" if owner else None
        if lowered in PRONOUNS:
            if lowered in ("he", "she", "his", "her", "i"):
                return self._latest("person", self._person)
            if lowered == "it":
                return self._latest("body", lambda s: not self._person(s))
            return self.sources[-1] if self.sources else None
        titled = _TITLE_ANAPHOR.match(lowered)
        if titled:
            return self._named_with(titled.group("head"))
        m = ANAPHOR.match(lowered)
        if m:
            head = m.group("head").rstrip("s")
            named = self._named_with(head, whole=False)
            if named is not None:
                return named
            if head in MEDIA_HEADS:
                return self._relay() or text.strip()  # no outlet named before: keep the words, never guess
            bodies = self._latest("organisation", lambda s: bool(_NON_PERSON.search(s) and not _TITLE.search(s)))
            return bodies if bodies is not None else (self.sources[-1] if self.sources else None)
        d = _DESCRIPTIVE.match(text.strip())
        if d and d.group("head").islower():
            if d.group("head").lower() in _RELAY_HEADS:
                return self._relay()  # "the British paper": the outlet named last
            return self._named_with(d.group("head").lower())
        return None

    def _relay(self) -> str | None:
        return self._latest("relay", self.families.is_relay)

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
