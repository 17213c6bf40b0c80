"""The scope of a figure: running total, current level, increment, window of days, or rate.

A cumulative metric's stored figures are running totals.  A figure that counts
only what was added ("another 5,000", "3,000 more", "a third contingent of
6,000"), what happened in a few days or one engagement ("50 killed in three
days", "in a single battle") or a rate ("a day") is a different quantity: it is
stored as ``other`` with its scope recorded, never as the running total.  A
current level ("are at present stationed") stays on the metric, scope
``current``.  Pure functions over one sentence.
"""

from __future__ import annotations

import re

SCOPES = ("total", "current", "increment", "window", "rate")

_NUMBER_WORD = (
    r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty|"
    r"forty|forty-eight|seventy-two|a\s+few|several|a\s+single|\d+)"
)
_INCREMENT_BEFORE = re.compile(
    r"\b(?:further|additional|another|extra|fresh|new)\s+(?:(?:group|batch|wave|contingent|rotation|deployment)\s+"
    r"of\s+)?(?:[\w-]+\s+){0,1}$|"
    r"\b(?:second|third|fourth|fifth|next|latest)\s+(?:group|batch|wave|contingent|rotation|deployment|tranche)"
    r"\s+of\s+(?:[\w-]+\s+){0,1}$",
    re.IGNORECASE,
)
_INCREMENT_AFTER = re.compile(
    r"^\s+(?:more|additional|further|extra|new|fresh)\b|^[^.;,]{0,50}?\b(?:been|be|were|was)\s+added\b|"
    r"^[^.;,]{0,30}?\b(?:as\s+)?reinforcements\b",
    re.IGNORECASE,
)
_WINDOW = re.compile(
    rf"\b(?:in|over|within|during|across)\s+(?:the\s+)?(?:(?:past|last|previous|first|following|same)\s+)?"
    rf"(?:(?:about|around|roughly|nearly|just|only|some|almost|less\s+than)\s+)?{_NUMBER_WORD}[\s-]+"
    r"(?:hours?|days?|nights?|weeks?)\b|"
    r"\b(?:in|over|during|within)\s+the\s+(?:past|last|previous)\s+(?:day|night|week|fortnight|24\s+hours)\b|"
    r"\b(?:in|during)\s+(?:a|an|one|a\s+single|the\s+same)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:day|night|battle|attack|assault|clash|engagement|skirmish|ambush|raid|strike|barrage)\b|"
    r"\b(?:repell?(?:ing|ed)|repulsing|repulsed|during|in)\s+(?:a|an|one)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:attack|assault|battle|clash|engagement|skirmish|ambush|raid|strike|barrage)\b",
    re.IGNORECASE,
)
_CURRENT = re.compile(
    r"^[^.;,]{0,60}?\b(?:remain|remains|remained|are\s+now|is\s+now|now\s+in|still|currently|at\s+present|"
    r"(?:are|is)\s+(?:also\s+)?(?:at\s+work|working|stationed|posted|present|located|based))\b",
    re.IGNORECASE,
)
# "has now recorded 4,870" is a running total: "now" after a perfect auxiliary is not a current level.
_CURRENT_BEFORE = re.compile(
    r"(?<!has\s)(?<!have\s)(?<!had\s)\b(?:now|currently|still|at\s+present)\b[\s,]+"
    r"(?!(?:believes?|says?|said|thinks?|estimates?|reckons?|puts?|assesses)\b)(?:\w+\s+){0,3}$",
    re.IGNORECASE,
)


def scope_opens_with_window(sentence: str) -> bool:
    """True when the sentence's words before its first comma name a window ("Repelling an attack, ...")."""
    return _WINDOW.search(sentence.split(",", 1)[0]) is not None


def scope_of_figure(
    before: str, after: str, sentence: str = "", rate: bool = False, *, opening_window: bool | None = None
) -> str:
    """Scope of the figure whose own stretch of the sentence is ``before`` + figure + ``after``.

    ``before`` and ``after`` stop at the neighbouring figures, so "4,000 ... and another 5,000"
    keeps the first a total.  A window may be named anywhere in the sentence ("Repelling an
    attack ..., they killed 21"); ``opening_window`` is ``scope_opens_with_window(sentence)``,
    computed once for all the figures of a sentence.
    """
    if rate:
        return "rate"
    if opening_window is None:
        opening_window = scope_opens_with_window(sentence)
    if _WINDOW.search(before) or _WINDOW.search(after.split(";")[0]) or opening_window:
        return "window"
    if _INCREMENT_BEFORE.search(before) or _INCREMENT_AFTER.match(after):
        return "increment"
    if _CURRENT.search(after) or _CURRENT_BEFORE.search(before):
        return "current"
    return "total"
