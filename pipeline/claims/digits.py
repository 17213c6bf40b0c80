"""Numbers as people write them, rewritten in the ASCII digits the figure scanner reads.

"14 000" with a narrow no-break space (French typesetting), fullwidth "１４，０００",
"14\\u200b000" with a zero-width space, Arabic-Indic "١٤٬٠٠٠": each writes 14,000.  ``plain``
rewrites a sentence so that it reads "14,000": every decimal digit (Unicode category Nd) becomes
its ASCII digit, a space that groups thousands (no-break, narrow no-break, thin, figure space)
becomes a comma, the Arabic and fullwidth commas, decimal points and percent signs their ASCII
ones, and an invisible character inside a number (zero-width space, joiners, word joiner, BOM)
is dropped.  It keeps where each character came from, so a figure found in the rewritten text
is stored with the offsets, and the surface, of the text as written.  Pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_GROUP_SPACES = "\u00a0\u202f\u2009\u2007"  # no-break, narrow no-break, thin, figure space
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_SAME = {"\u066c": ",", "\uff0c": ",", "\u066b": ".", "\uff0e": ".", "\u066a": "%", "\uff05": "%"}
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of another script: Arabic-Indic, fullwidth, ...
_SPECIAL = re.compile(f"(?![0-9])\\d|[{_GROUP_SPACES}{_INVISIBLE}{''.join(_SAME)}]")  # else nothing to rewrite
_IN_NUMBER = re.compile(f"(?<=[0-9,.{_GROUP_SPACES}])[{_INVISIBLE}]+(?=[0-9])")
_GROUPED = re.compile(f"(?<![0-9,.])[0-9]{{1,3}}(?:[{_GROUP_SPACES}][0-9]{{3}})+(?![0-9])")
_BETWEEN_DIGITS = re.compile("(?<=[0-9])[\u066c\uff0c\u066b\uff0e](?=[0-9])|(?<=[0-9])[\u066a\uff05]")


@dataclass(frozen=True, slots=True)
class Plain:
    """A sentence in ASCII digits; ``origin[i]`` is where ``text[i]`` was written (one past the end last)."""

    text: str
    origin: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the written text that ``text[start:end]`` was rewritten from."""
        return self.origin[start], (self.origin[end - 1] + 1 if end > start else self.origin[start])


def plain(sentence: str) -> Plain | None:
    """``sentence`` with its numbers in ASCII digits, or None when it needs no rewriting."""
    if not _SPECIAL.search(sentence):
        return None
    digits = _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(0))), sentence)  # one digit for one
    kept = [i for i, _ in enumerate(digits)]
    for m in reversed(list(_IN_NUMBER.finditer(digits))):
        del kept[m.start() : m.end()]
    text = "".join(digits[i] for i in kept)
    text = _GROUPED.sub(lambda m: re.sub(f"[{_GROUP_SPACES}]", ",", m.group(0)), text)
    text = _BETWEEN_DIGITS.sub(lambda m: _SAME[m.group(0)], text)
    if text == sentence:
        return None
    return Plain(text, (*kept, len(sentence)))
