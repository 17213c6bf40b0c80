"""Sentences of an article body, with their offsets, skipping page furniture.

Bylines, author bios, repeated captions and weather lines carry numbers that
are not claims; they are dropped here, before any figure is looked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_FURNITURE = re.compile(
    r"^\s*(?:(?i:by)\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}\s*(?:$|[,.|\[(]|\s+and\s|\s+in\s)|"
    r"(?i:-?\s*advertisement\s*-?$|share\s+this|sign\s+up|subscribe|follow\s+us|read\s+more|related:|copyright|©))"
)
_BIO = re.compile(
    r"\b(?:joined\s+the|began\s+(?:his|her|their)\s+(?:journalism\s+)?career|graduat(?:ed|ing)\s+from|"
    r"is\s+(?:the|a|an)\s+[\w\s'’-]{0,40}(?:editor|correspondent|reporter|writer|columnist)\b|"
    r"has\s+(?:covered|reported\s+(?:on|from)|written\s+(?:about|on))\b|^\s*(?:additional\s+)?reporting\s+by\b|"
    r"contributed\s+(?:reporting|to\s+this\s+report)|^\s*editing\s+by\b)",
    re.IGNORECASE,
)
_WEATHER = re.compile(r"^\s*weather\b[^.:]{0,40}:", re.IGNORECASE)
_TERMINAL = re.compile(r"[.!?\"”’)]\s*$")
_MAYBE_SEVERAL = re.compile(r"[.!?…][\"”’)]*\s+\S")
# pysbd reads a paragraph once per abbreviation in it, so a paragraph costs it time in proportion to
# the square of its length; a longer one is handed over in pieces cut where a sentence surely ends.
_PIECE = 5_000  # characters
_SURE_END = re.compile(r"(?:\b[a-z]{3,}|\d)[.!?][\"”’)]*\s+(?=[\"“‘(]?[A-Z])")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence with its place in the article text."""

    text: str
    start: int
    paragraph: int
    index: int  # position within the paragraph
    headline: bool


def paragraphs_of(text: str) -> list[tuple[int, str]]:
    out, offset = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((offset, line))
        offset += len(line) + 1
    return out


def sentences_of(text: str, check: Callable[[], None] | None = None) -> list[Sentence]:
    """Sentences of the article body, skipping repeated paragraphs (captions) and page furniture.

    ``check`` is called before each paragraph (and each piece of a long one) is segmented: a
    deadline's check stops a page that takes too long.
    """
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    seen: set[str] = set()
    out: list[Sentence] = []
    for number, (offset, paragraph) in enumerate(paragraphs_of(text)):
        if check:
            check()
        key = " ".join(paragraph.split()).lower()
        if key in seen or _FURNITURE.match(paragraph) or _BIO.search(paragraph):
            continue
        seen.add(key)
        headline = not _TERMINAL.search(paragraph) and len(paragraph.split()) <= 25
        if not _MAYBE_SEVERAL.search(paragraph.rstrip()):
            if not _WEATHER.match(paragraph):  # one sentence: no need for pysbd
                out.append(Sentence(paragraph.rstrip(), offset, number, 0, headline))
            continue
        segments = []
        for at, piece in _pieces(paragraph):
            if check:
                check()
            segments += [(at + start, sent) for start, sent in _segment(segmenter, piece)]
        for index, (start, sent) in enumerate(segments):
            if not _WEATHER.match(sent):
                out.append(Sentence(sent.rstrip(), offset + start, number, index, headline))
    return out


def _pieces(paragraph: str) -> list[tuple[int, str]]:
    """The paragraph in pieces of at most ``_PIECE`` characters, with their offsets.

    A piece ends after a sentence that surely ends there (a lower-case word or a digit, then
    ".", "!" or "?", then a capital: never "Gen." or "U.S."), else at a space.  Paragraphs of real
    reporting are far shorter than a piece and are segmented whole.
    """
    out, start = [], 0
    while len(paragraph) - start > _PIECE:
        limit = start + _PIECE
        cut = None
        for end in _SURE_END.finditer(paragraph, start + 1, limit):
            cut = end.end()
        if cut is None:
            space = paragraph.rfind(" ", start + 1, limit)
            cut = space + 1 if space != -1 else limit
        out.append((start, paragraph[start:cut]))
        start = cut
    out.append((start, paragraph[start:]))
    return out


def _segment(segmenter: Any, paragraph: str) -> list[tuple[int, str]]:
    """pysbd's sentences with their offsets in ``paragraph``.

    pysbd finds each sentence's span again with one regular expression per sentence over the
    whole paragraph, which costs a third of its time; its sentences are substrings of the
    paragraph (``clean=False``), so a forward ``str.find`` gives the same offsets.  When a
    sentence is not found verbatim, pysbd's own span search decides.
    """
    sentences = segmenter.processor(paragraph).process()
    out, cursor = [], 0
    for sent in sentences:
        at = paragraph.find(sent, cursor)
        if at == -1:
            return [(span.start, span.sent) for span in segmenter.segment(paragraph)]
        out.append((at, sent))
        cursor = at + len(sent)
    return out
