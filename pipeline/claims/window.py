"""How far the claim reader reads on either side of a figure, a verb or a speaker.

Every rule reads the words next to what it judges: the hedge before a figure,
the noun after it, the subject before a speech verb.  Reading them from at most
``REACH`` characters either side, cut at a space, keeps the cost of one figure
independent of the length of its sentence, so reading a sentence costs time in
proportion to its length (a hostile page can hold one "sentence" of 10,000
words).  A sentence shorter than ``REACH`` is read whole, as it always was; the
longest sentences of real reporting are well under it.
"""

from __future__ import annotations

import re

REACH = 1_000  # characters

_SPACE = re.compile(r"\s")


def back(text: str, end: int, reach: int = REACH) -> int:
    """Where the words read before ``end`` start: at the first word that begins within ``reach``."""
    if end <= reach:
        return 0
    space = _SPACE.search(text, end - reach, end)
    return space.end() if space else end - reach


def ahead(text: str, start: int, reach: int = REACH) -> int:
    """Where the words read after ``start`` end: after the last word that ends within ``reach``."""
    if len(text) - start <= reach:
        return len(text)
    cut = text.rfind(" ", start + 1, start + reach)
    return cut if cut != -1 else start + reach


def words_before(text: str, end: int) -> str:
    """The words read before ``end``."""
    return text[back(text, end) : end]


def words_after(text: str, start: int) -> str:
    """The words read after ``start``."""
    return text[start : ahead(text, start)]
