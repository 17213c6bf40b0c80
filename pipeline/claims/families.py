"""Source families: which voice a claim's source speaks with.

Two outlets repeating the NIS are one source, and the contradiction engine must
know it: a figure that disagrees with its own family is a revision, one that
disagrees across families is a dispute.  Families and the names that put a
source in them are topic configuration (``sources:`` in the topic file); this
module only reads them.

How a source string is placed:

- **Cited first.** "Lee Seong-kweun, citing the NIS" belongs to the family of
  what is cited (the NIS), not of the speaker; so does "a lawmaker quoting the
  spy agency".
- **Most specific name wins.** In "South Korea's Joint Chiefs of Staff" the
  longer name ("Joint Chiefs of Staff") decides, not the country.
- **Coordinated families are mixed.** "US and South Korean estimates" or
  "Ukrainian, British and Western sources" name two families joined by "and"
  or commas: the topic's ``mixed`` family.
- **Relays last.** A relay family (the media) is the family only when nothing
  else is named ("a British think tank and Reuters").
- No source at all is the ``unattributed`` family; a source no name matches
  has no family (NULL), never a guessed one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.topics import SourcesSpec

_CITING = re.compile(r"(?:,\s*|\s+)(?:citing|quoting|based\s+on|via)\s+(?P<cited>.+)$", re.IGNORECASE)
# What may stand between two coordinated names: "US and South Korean", "South Korean, Ukrainian and Western".
_COORDINATED = re.compile(
    r"^(?:[\w'.-]+)?(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?:(?:the\s+)?[\w'.-]+(?:\s*,\s*(?:and\s+)?|\s+(?:and|or)\s+))*"
    r"(?:the\s+)?$",
    re.IGNORECASE,
)
_PLAIN = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-"})


@dataclass(frozen=True, slots=True)
class _Name:
    family: str
    pattern: re.Pattern[str]
    relay: bool
    exact_case: bool  # an acronym ("US", "AP") never matches the word it spells ("us", "ap")


@dataclass(frozen=True, slots=True)
class SourceFamilies:
    """The compiled ``sources:`` section of a topic (empty when the topic has none)."""

    names: tuple[_Name, ...] = ()
    mixed: str | None = None
    unattributed: str | None = None
    acronyms: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, spec: SourcesSpec | None) -> SourceFamilies:
        """Compiled once per distinct section: extraction calls this for every article."""
        if spec is None:
            return cls()
        families = tuple((name, tuple(fam.names), fam.relay) for name, fam in spec.families.items())
        return _compiled(families, spec.mixed, spec.unattributed, tuple(spec.acronyms.items()))

    def family(self, source: str | None) -> str | None:
        """The family of a stored source string (``attributed_to``)."""
        if source is None:
            return self.unattributed
        return _family(self, source)

    def _family(self, source: str) -> str | None:
        cited = _CITING.search(source)
        if cited:
            found = self._classify(cited.group("cited"), relays=False)
            if found is not None and found != self.unattributed:
                return found  # "X, citing sources" says no more than X
        return self._classify(source, relays=True)

    def is_relay(self, source: str) -> bool:
        """Does the source only pass on what others say (an outlet, a news agency)?"""
        spans = self._spans(source)
        return bool(spans) and all(name.relay for _, _, name in spans)

    def expand(self, acronym: str) -> str | None:
        """The configured full name of an agency known by its letters ("NIS")."""
        return dict(self.acronyms).get(acronym)

    def _spans(self, source: str) -> list[tuple[int, int, _Name]]:
        plain = source.translate(_PLAIN)
        folded = plain.casefold()  # same length as plain for the scripts topic names use
        if len(folded) != len(plain):
            folded = plain.lower()
        found = [
            (m.start(), m.end(), name)
            for name in self.names
            for m in name.pattern.finditer(plain if name.exact_case else folded)
        ]
        # A name inside a longer name of another entry ("South Korea's" in "South Korea's Joint Chiefs
        # of Staff") says less than the longer one: keep the longest, earliest first.
        found.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
        kept: list[tuple[int, int, _Name]] = []
        for span in found:
            if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
                kept.append(span)
        return sorted(kept, key=lambda s: s[0])

    def _classify(self, source: str, relays: bool) -> str | None:
        spans = self._spans(source)
        voices = [s for s in spans if not s[2].relay and s[2].family != self.unattributed]
        if not voices:
            relayed = [s for s in spans if s[2].relay]
            if relayed and relays:
                return relayed[0][2].family  # an outlet named says more than "its sources"
            return self.unattributed if spans else None  # "some reports", "sources"
        text = source.casefold().translate(_PLAIN)
        if (
            spans[-1][2].relay
            and not _CITING.search(source)
            and not any(_COORDINATED.match(text[v[1] : spans[-1][0]]) for v in voices)
        ):
            return spans[-1][2].family  # "South Korea's Yonhap news agency": the country describes the outlet
        if self.mixed is not None:
            for left, right in zip(voices, voices[1:], strict=False):
                if left[2].family != right[2].family and _COORDINATED.match(text[left[1] : right[0]]):
                    return self.mixed
        return max(voices, key=lambda s: (s[1] - s[0], -s[0]))[2].family


@lru_cache(maxsize=4096)
def _family(families: SourceFamilies, source: str) -> str | None:
    """Sources repeat within and across articles; a pure memo of ``SourceFamilies._family``."""
    return families._family(source)


@lru_cache(maxsize=32)
def _compiled(
    families: tuple[tuple[str, tuple[str, ...], bool], ...],
    mixed: str | None,
    unattributed: str,
    acronyms: tuple[tuple[str, str], ...],
) -> SourceFamilies:
    """One pattern per family and letter case, longest name first (a pure memo: the section is immutable)."""
    compiled: list[_Name] = []
    for family, names, relay in families:
        for exact_case in (False, True):
            chosen = sorted({n for n in names if n.strip() and _is_acronym(n) == exact_case}, key=len, reverse=True)
            if chosen:
                compiled.append(_Name(family, _pattern(chosen, exact_case), relay, exact_case))
    return SourceFamilies(tuple(compiled), mixed, unattributed, acronyms)


def _is_acronym(name: str) -> bool:
    letters = name.replace(".", "")
    return letters.isupper() and len(letters) <= 6 and " " not in name


def _pattern(names: list[str], exact_case: bool) -> re.Pattern[str]:
    alternatives = []
    for name in names:
        plain = name.translate(_PLAIN)
        alternatives.append(r"\s+".join(re.escape(w) for w in (plain if exact_case else plain.casefold()).split()))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


__all__ = ["SourceFamilies"]
