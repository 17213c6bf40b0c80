"""Is an article about the topic?  A cheap term test before claims are parsed.

Feeds are broad (a world-news feed) while a topic is narrow, so most entries
are off topic; counting distinct whole-word terms keeps a passing mention of
one word ("Kursk" in a sports report) from letting an article in.

A topic's usual names are not the only way to be on topic: a report on
Kursk's displaced civilians is about a catalogue metric even when it never
names North Korea.  ``relevance.alternatives`` in the topic file lists such
other ways, each a rule of its own (required terms, other terms, a minimum),
so admitting them stays configuration: "Kursk" together with "displaced" or
"evacuees" admits a report on the region's refugees, while "Kursk" with
"football" alone does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.records import Article
from pipeline.topics import RelevanceRule, RelevanceSpec

_PLAIN = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-"})


def is_relevant(article: Article, spec: RelevanceSpec) -> bool:
    """On topic by the main rule, or by one of the topic's ``alternatives``."""
    haystack = f"{article.title or ''}\n{article.text}"
    rules: list[RelevanceSpec | RelevanceRule] = [spec, *spec.alternatives]
    return any(_passes(haystack, rule) for rule in rules)


def _passes(haystack: str, rule: RelevanceSpec | RelevanceRule) -> bool:
    found = matched_terms(haystack, [*rule.terms, *rule.required])
    if rule.required and not any(term in found for term in _distinct(rule.required)):
        return False
    return len(found) >= rule.min_matches


def matched_terms(text: str, terms: Iterable[str]) -> set[str]:
    """The distinct terms (casefolded) that occur in ``text`` as whole words, case-insensitively."""
    folded = _fold(text)
    return {term for term in _distinct(terms) if _pattern(term).search(folded)}


def _distinct(terms: Iterable[str]) -> set[str]:
    return {" ".join(_fold(t).split()) for t in terms if t.strip()}


def _fold(text: str) -> str:
    """Casefold, and read typographic apostrophes and dashes as the plain ones topic files use."""
    return text.casefold().translate(_PLAIN)


def _pattern(term: str) -> re.Pattern[str]:
    """Word boundaries that work for terms starting or ending in punctuation; any spacing between words."""
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


__all__ = ["is_relevant", "matched_terms"]
