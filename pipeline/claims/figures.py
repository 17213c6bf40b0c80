"""Find the figures in a sentence: numbers, ranges, shares and vague amounts, with their hedge.

Quantity extractors find digits but drop hedges and read weapon names and dates
as numbers; this scanner does the opposite on purpose.  It knows what a figure
is *not* (years, dates, times, ordinals, designators such as Uran-6 or AK-74M,
temperatures) and keeps the hedge written in front of it.  Pure functions only.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

from pipeline.claims.digits import Plain, plain
from pipeline.claims.window import back, words_after, words_before

FigureKind = Literal["count", "share", "vague"]

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_ABBREV_SCALES = {"k": 1_000, "m": 1_000_000, "mn": 1_000_000, "bn": 1_000_000_000}
_FRACTIONS = {
    "half": 0.5, "a half": 0.5, "one half": 0.5, "a third": 1 / 3, "one third": 1 / 3, "one-third": 1 / 3,
    "two-thirds": 2 / 3, "two thirds": 2 / 3, "a quarter": 0.25, "one quarter": 0.25, "one-quarter": 0.25,
    "three-quarters": 0.75, "three quarters": 0.75, "a fifth": 0.2, "one-fifth": 0.2,
}  # fmt: skip
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)

# Hedge cues written right before a figure, longest first so "no more than" beats "more than".
HEDGE_CUES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        [
            ("about", "about"), ("around", "about"), ("roughly", "about"), ("approximately", "about"),
            ("some", "about"), ("an estimated", "about"), ("estimated", "about"), ("an approximate", "about"),
            ("reportedly about", "about"), ("approx.", "about"), ("circa", "about"), ("an estimate of", "about"),
            ("the best part of", "nearly"), ("just shy of", "nearly"), ("shy of", "nearly"),
            ("a little under", "nearly"), ("north of", "more_than"), ("a little over", "more_than"),
            ("just over", "more_than"), ("as few as", "at_least"), ("a reported", "exact"),
            ("more than", "more_than"), ("over", "more_than"), ("above", "more_than"),
            ("in excess of", "more_than"), ("upwards of", "more_than"), ("well over", "more_than"),
            ("at least", "at_least"), ("no fewer than", "at_least"), ("no less than", "at_least"),
            ("a minimum of", "at_least"),
            ("nearly", "nearly"), ("almost", "nearly"), ("close to", "nearly"), ("just under", "nearly"),
            ("just short of", "nearly"), ("short of", "nearly"),
            ("up to", "up_to"), ("as many as", "up_to"), ("as much as", "up_to"),
            ("at most", "at_most"), ("no more than", "at_most"), ("fewer than", "at_most"),
            ("less than", "at_most"), ("under", "at_most"), ("a maximum of", "at_most"),
        ],
        key=lambda cue: -len(cue[0]),
    )
)  # fmt: skip

# Hedges written after the figure: "3,000 or so", "a third or less".
_POST_HEDGES = {"or so": "about", "or more": "at_least", "or less": "at_most", "or fewer": "at_most", "odd": "about"}
_POST_HEDGE = re.compile(r"^(?:\s+(or\s+so|or\s+more|or\s+less|or\s+fewer)\b|-(odd)\b)", re.IGNORECASE)

_NUM_WORD = "|".join(sorted(_UNITS, key=len, reverse=True))
_SCALE_WORD = "hundred|thousand|million|billion"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMBER = (
    rf"(?:(?:{_DIGITS})(?:\s+(?:{_SCALE_WORD})|\s?(?:bn|mn|m|k)\b)?"
    rf"|half\s+an?\s+(?:{_SCALE_WORD}|dozen)\b"
    rf"|(?:a|one|{_NUM_WORD})(?:[\s-]+(?:{_NUM_WORD}))?(?:\s+(?:{_SCALE_WORD}))+\b"
    rf"|(?:{_NUM_WORD})(?:-(?:{_NUM_WORD}))?\b"
    r"|a\s+dozen\b|dozen\b)"
)
_PERCENT = r"(?:\s?%|\s+per\s?cent\b)"
_VAGUE = (
    r"(?:tens\s+of\s+thousands|hundreds\s+of\s+thousands|tens\s+of\s+millions|hundreds\s+of\s+millions"
    r"|(?:several|a\s+few|many)\s+(?:hundred|thousand|million)s?"
    r"|dozens|hundreds|thousands|millions|billions)"
)
_FRACTION = "|".join(re.escape(f) for f in sorted(_FRACTIONS, key=len, reverse=True))

_PATTERN = re.compile(
    rf"(?P<between>\bbetween\s+(?P<b1>{_NUMBER})(?P<bp1>{_PERCENT})?\s+and\s+(?P<b2>{_NUMBER})(?P<bp2>{_PERCENT})?)"
    rf"|(?P<fromto>\bfrom\s+(?P<f1>{_DIGITS})(?P<fp1>{_PERCENT})?\s+to\s+(?P<f2>{_DIGITS})"
    rf"(?P<fs>\s+(?:{_SCALE_WORD})\b)?(?P<fp2>{_PERCENT})?)"
    rf"|(?P<range>(?<![\w.,-])(?P<r1>{_DIGITS})\s?(?:-|–|—|to)\s?(?P<r2>{_DIGITS})(?P<rs>\s+(?:{_SCALE_WORD})\b)?"
    rf"(?P<rp>{_PERCENT})?(?![\w-]))"
    rf"|(?P<orrange>(?<![\w.,-])(?P<o1>{_NUMBER})\s+or\s+(?P<o2>{_NUMBER})(?P<op>{_PERCENT})?(?![\w-]))"
    rf"|(?P<vague>\b{_VAGUE}\b)"
    rf"|(?P<fraction>\b(?:{_FRACTION})\b(?!\s+an?\s+(?:{_SCALE_WORD}|dozen)\b))"
    rf"|(?P<number>(?<![\w.,])(?:{_NUMBER})(?P<pct>{_PERCENT})?)",
    re.IGNORECASE,
)
_VAGUE_BOUNDS: tuple[tuple[str, float, float], ...] = (
    (r"tens of thousands", 10_000, 1_000_000),
    (r"hundreds of thousands", 100_000, 10_000_000),
    (r"tens of millions", 10_000_000, 1_000_000_000),
    (r"hundreds of millions", 100_000_000, 10_000_000_000),
    (r"(?:several|many) hundreds?", 200, 1_000),
    (r"a few hundreds?", 200, 1_000),
    (r"(?:several|many) thousands?", 2_000, 10_000),
    (r"a few thousands?", 2_000, 10_000),
    (r"(?:several|many|a few) millions?", 2_000_000, 10_000_000),
    (r"dozens", 12, 1_000),
    (r"hundreds", 100, 10_000),
    (r"thousands", 1_000, 100_000),
    (r"millions", 1_000_000, 100_000_000),
    (r"billions", 1_000_000_000, 100_000_000_000),
)
_YEAR_CONTEXT = re.compile(
    rf"(?:\b(?:in|since|by|of|until|till|from|to|through|during|early|late|mid|before|after|and|or|"
    rf"spring|summer|autumn|fall|winter|year|{_MONTHS})\.?|\d{{1,2}},|-)\s*$",
    re.IGNORECASE,
)
_MONTH_BEFORE = re.compile(rf"\b(?:{_MONTHS})\.?\s*$", re.IGNORECASE)
_MONTH_AFTER = re.compile(rf"^\s*(?:{_MONTHS})\b", re.IGNORECASE)
_NOT_A_COUNT_AFTER = re.compile(
    r"^(?:\s?(?:°|º|degrees?\b|[FC]\b)|:\d|\s?(?:a\.m\.|p\.m\.|am\b|pm\b|GMT\b|UTC\b|hours?\s+GMT)"
    r"|(?:st|nd|rd|th)\b|\s?(?:years?\s+old|-year-old)|[A-Za-z]|[-‐]?\s?(?:mm|millimet(?:re|er)|calibre|caliber)\b)"
)
# "three days", "eight hours", "nine months": a span of time, not a count (a window is read from it elsewhere).
_DURATION_AFTER = re.compile(
    r"^[\s-]+(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b", re.IGNORECASE
)
_MULTIPLIER_AFTER = re.compile(r"^\s+times\b", re.IGNORECASE)  # "three times those of last month"
_ORDINAL_FRACTION = re.compile(  # "a third contingent", "a second wave": an ordinal, not a share
    r"^\s+(?!(?:of|or|and|to|in|have|has|had|were|was|are|is|will|would|could|may|might|now|still|already|"
    r"died|less|more|fewer)\b)[a-z]",
)
_DEFINITE_BEFORE = re.compile(r"\b(?:the|these|those|both|its|their|all)\s*$", re.IGNORECASE)
_ONLY_BEFORE = re.compile(r"\b(?:only|just|but)\s*$", re.IGNORECASE)
_LABEL_BEFORE = re.compile(
    r"\b(?:Article|Chapter|Section|No\.?|Number|Resolution|Phase|Stage|Rule|Paragraph|Clause|Item|Level|"
    r"Grade|Page|Vol\.?|Volume|Part|Protocol|Unit|Brigade|Division|Corps|Regiment|Battalion|Route|Highway)\s*$"
)
# A number split by a space or an apostrophe that is not read as grouping ("14 000", "14'000"): its
# parts are not figures, and above all its zeros are never a figure of 0.
_SEPARATOR = r"[\s'’\u200b\u200c\u200d\u2060\ufeff]"
_SPLIT_BEFORE = re.compile(rf"\d{_SEPARATOR}$")
_SPLIT_NUMBER_HEAD = re.compile(rf"^{_SEPARATOR}0{{3}}(?![\d,]|\.\d)")
_ZEROS = re.compile(r"0{3}")
_DESIGNATOR_BEFORE = re.compile(r"(?:[A-Za-z]+[-‐/+]?|\d[-‐/:])$")  # Uran-6, KN-23, UTC+3, 07:15


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure as written: where it is, the numbers stated, and the hedge in front of it."""

    start: int  # offset of the hedge cue (or the number) in the sentence
    end: int
    number_start: int  # offset of the number itself
    kind: FigureKind
    hedge: str
    stated_low: float | None
    stated_high: float | None
    vague_low: float | None = None  # bounds a vague amount implies ([B, 100B) for "thousands")
    vague_high: float | None = None
    percent: bool = False
    # A small number word ("four landing ships", "the two soldiers") is incidental detail unless it
    # counts a catalogue metric; a definite one ("the two ... captured") only if it names an event.
    weak: bool = False
    definite: bool = False

    def surface(self, sentence: str) -> str:
        return sentence[self.start : self.end]


def parse_number(text: str) -> float | None:
    """The value of a written number: '14,000', '6.5 million', 'six thousand', 'a dozen', '5bn'."""
    t = " ".join(text.lower().replace("-", " ").split())
    if t in ("dozen", "a dozen"):
        return 12.0
    half = re.fullmatch(r"half an? (\w+)", t)
    if half:
        return 6.0 if half.group(1) == "dozen" else _SCALES[half.group(1)] / 2
    m = re.fullmatch(r"([\d,]+(?:\.\d+)?)\s?(hundred|thousand|million|billion|bn|mn|m|k)?", t)
    if m:
        value = float(m.group(1).replace(",", ""))
        if m.group(2):
            value *= _SCALES.get(m.group(2)) or _ABBREV_SCALES[m.group(2)]
        return value
    total, current = 0.0, 0.0
    for word in t.split():
        if word in ("a", "one") and current == 0:
            current = 1.0
        elif word in _UNITS:
            current += _UNITS[word]
        elif word == "hundred":
            current = (current or 1.0) * 100
        elif word in _SCALES:
            total += (current or 1.0) * _SCALES[word]
            current = 0.0
        else:
            return None
    return total + current


def _hedge_before(sentence: str, start: int) -> tuple[str, int]:
    lo = back(sentence, start)
    words = sentence[lo:start].rstrip()
    lowered = words.lower()
    for cue, hedge in HEDGE_CUES:
        if lowered.endswith(cue) and (len(lowered) == len(cue) or not lowered[-len(cue) - 1].isalnum()):
            return hedge, lo + len(words) - len(cue)
    return "exact", start


def _is_year(value: float, raw: str, before: str, after: str) -> bool:
    if "," in raw or "." in raw or not 1800 <= value <= 2100:
        return False
    if _YEAR_CONTEXT.search(before):
        return True
    # A bare four-digit number counts something only when a plural noun follows it.
    next_word = re.match(r"^\s+([a-z]+)", after)
    return not (next_word and next_word.group(1).endswith("s") and next_word.group(1) not in ("years", "was", "is"))


def _words_around(sentence: str, start: int, end: int) -> tuple[str, str]:
    """The words read before ``start`` and after ``end`` (see ``pipeline.claims.window``)."""
    return words_before(sentence, start), words_after(sentence, end)


def _left_token(before: str) -> str:
    """The token that ends where ``before`` ends ("" after a space)."""
    return "" if not before or before[-1].isspace() else before.rsplit(None, 1)[-1]


def _skip_number(sentence: str, start: int, end: int, raw: str, value: float) -> bool:
    """True for digits that are not a count: years, dates, times, ordinals, designators, weather."""
    before, after = _words_around(sentence, start, end)
    if _SPLIT_NUMBER_HEAD.match(after) or (_SPLIT_BEFORE.search(before) and _ZEROS.fullmatch(raw)):
        return True  # "14 000" with a plain space: neither 14 nor 0 is what it says
    left = _left_token(before).lstrip("\"'“‘([")
    if raw[0].isdigit():
        if left and _DESIGNATOR_BEFORE.search(left):
            return True  # Uran-6, KN-23, VR-2-02, T-90
        if _NOT_A_COUNT_AFTER.match(after) and not re.match(r"^\s?(?:bn|mn|m|k)\b", after, re.I):
            return True  # 12K, 74M, 63.7 F, 10:30, 5th, 25 years old
        if re.match(r"^-\d", after) or re.match(r"^[-‐][A-Z]{1,3}\b", after):
            return True  # 2-02, 23-B
        if _MONTH_BEFORE.search(before) or _MONTH_AFTER.match(after):
            return True  # November 14, 14 November
        if _is_year(value, raw, before, after):
            return True
    if _DURATION_AFTER.match(after) or (value <= 10 and _MULTIPLIER_AFTER.match(after)):
        return True
    if _LABEL_BEFORE.search(before):
        return True  # Article 4, Phase 2, No. 7: a label, not a count
    if raw.lower() == "a":
        return True
    # the pronoun "one", not a count
    return raw.lower() == "one" and (
        re.match(r"^\s*(?:of|another|day|time|way|side|hand|thing|more|[.,;:!?\"”)])", after, re.IGNORECASE) is not None
        or re.search(r"\b(?:no|any|every|each|this|that|which|the|someone|anyone|every)\s*$", before, re.IGNORECASE)
        is not None
        or not after.strip()
    )


def find_figures(sentence: str) -> list[Figure]:
    """Every figure in one sentence, left to right, with offsets into the sentence as written.

    Digits and separators written otherwise than in ASCII ("14\u202f000", "１４，０００", "١٤٬٠٠٠")
    are read in the sentence's ASCII rewriting (``pipeline.claims.digits``).
    """
    rewritten = plain(sentence)
    text = rewritten.text if rewritten else sentence
    figures: list[Figure] = []
    for m in _PATTERN.finditer(text):
        figure = _figure(text, m)
        if figure is not None:
            figures.append(_as_written(figure, rewritten) if rewritten else figure)
    return figures


def _as_written(figure: Figure, rewritten: Plain) -> Figure:
    start, end = rewritten.original(figure.start, figure.end)
    return dataclasses.replace(figure, start=start, end=end, number_start=rewritten.origin[figure.number_start])


def _figure(sentence: str, m: re.Match[str]) -> Figure | None:
    if m.group("between") or m.group("fromto") or m.group("range") or m.group("orrange"):
        key = "b" if m.group("between") else "f" if m.group("fromto") else "r" if m.group("range") else "o"
        low, high = parse_number(m.group(f"{key}1")), parse_number(m.group(f"{key}2"))
        scale = m.group("rs") if key == "r" else m.group("fs") if key == "f" else None
        if scale and low is not None and high is not None:
            # "4 to 6 million": the scale written once applies to both ends
            low, high = low * _SCALES[scale.strip().lower()], high * _SCALES[scale.strip().lower()]
        if low is None or high is None or low > high:
            return None
        first = m.start(f"{key}1")
        if key in ("r", "f", "o") and (
            _skip_number(sentence, first, m.end(f"{key}2"), m.group(f"{key}1"), low)
            or (1800 <= high <= 2100 and "," not in m.group(0))
        ):
            return None  # 2024-2025, 1950-53 and the like are periods
        percent = bool(m.groupdict().get(f"{key}p2") or m.groupdict().get(f"{key}p") or m.groupdict().get(f"{key}p1"))
        return Figure(m.start(), m.end(), first, "share" if percent else "count", "between", low, high, percent=percent)
    if m.group("vague"):
        text = m.group("vague").lower()
        before = words_before(sentence, m.start()).lower()
        if re.search(r"\b(?:the|one|first)\s+of\s*$", before) and not re.search(r"\bfirst\s+of\s*$", before):
            return None
        for pattern, low, high in _VAGUE_BOUNDS:
            if re.fullmatch(pattern, " ".join(text.split())):
                return Figure(m.start(), m.end(), m.start(), "vague", "vague", None, None, low, high)
        return None
    if m.group("fraction"):
        text = " ".join(m.group("fraction").lower().split())
        before, after = (words.lower() for words in _words_around(sentence, m.start(), m.end()))
        if text in ("half", "a half", "one half") and (
            not re.match(r"^\s+(?:of|the)\b", after)
            or re.match(r"^\s+of\s+(?:the\s+)?(?:year|month|decade|century|\d{4})\b", after)
            or re.search(r"\b(?:first|second|latter|former)\s*$", before)
        ):
            return None
        if text in ("a third", "a quarter", "a fifth") and _ORDINAL_FRACTION.match(after):
            return None
        value = round(_FRACTIONS[text], 4)
        hedge, start = _hedge_before(sentence, m.start())
        end = m.end()
        post = _POST_HEDGE.match(words_after(sentence, end))
        if post and hedge == "exact":
            hedge, end = _POST_HEDGES[post.group(1).lower()], end + post.end()
        return Figure(start, end, m.start(), "share", "ratio" if hedge == "exact" else hedge, value, value)
    raw = m.group("number")
    pct = m.group("pct")
    number_text = raw[: len(raw) - len(pct)] if pct else raw
    parsed = parse_number(number_text)
    if parsed is None:
        return None
    value = parsed
    if _skip_number(sentence, m.start(), m.start() + len(number_text), number_text, value):
        return None
    hedge, start = _hedge_before(sentence, m.start())
    end = m.end()
    post = _POST_HEDGE.match(words_after(sentence, end))
    if post and hedge == "exact":
        hedge, end = _POST_HEDGES[post.group(1).lower()], end + post.end()
    kind: FigureKind = "share" if pct else "count"
    if pct and hedge == "exact":
        hedge = "ratio"  # a bare share, like "two-thirds"
    word = not number_text[0].isdigit()
    before = words_before(sentence, m.start())
    if number_text.lower() == "one" and hedge == "exact" and not _ONLY_BEFORE.search(before):
        return None  # "one soldier about to be captured": an anecdote about one person, not a count
    definite = value <= 10 and _DEFINITE_BEFORE.search(before) is not None
    weak = definite or (word and value <= 10 and hedge == "exact" and not pct)
    return Figure(start, end, m.start(), kind, hedge, value, value, percent=bool(pct), weak=weak, definite=definite)
