"""Numbers as people write them: other digits and group separators read as the number they write.

A figure is found in the sentence's ASCII rewriting, but stored with the offsets and the surface of
the text as written, so a claim's id and ``char_start``/``char_end`` point into the stored text.
"""

from __future__ import annotations

import pytest

from pipeline.claims import extract_claims
from pipeline.claims.digits import plain
from pipeline.claims.figures import find_figures
from pipeline.topics import TopicConfig
from tests.unit.factories import make_article

WRITTEN_14_000 = {
    "narrow no-break space": "14\u202f000",
    "no-break space": "14\u00a0000",
    "thin space": "14\u2009000",
    "fullwidth": "\uff11\uff14\uff0c\uff10\uff10\uff10",  # １４，０００
    "zero-width space": "14\u200b000",
    "zero-width joiner after the comma": "14,\u200d000",
    "Arabic-Indic with the Arabic thousands separator": "\u0661\u0664\u066c\u0660\u0660\u0660",  # ١٤٬٠٠٠
}


@pytest.mark.parametrize("written", WRITTEN_14_000.values(), ids=WRITTEN_14_000.keys())
def test_each_way_of_writing_fourteen_thousand_is_read_as_14000(written: str, kursk_topic: TopicConfig) -> None:
    text = f"Seoul says. North Korea has sent about {written} troops to Russia, officials said."
    article = make_article(text=text)
    [claim] = extract_claims(article, kursk_topic)
    assert (claim.metric, claim.stated_low, claim.stated_high) == ("troops_deployed", 14000, 14000)
    assert claim.hedge == "about"
    # The offsets point at the characters as written, and the surface is that slice of the stored text.
    assert claim.surface == f"about {written}"
    assert text[claim.char_start : claim.char_end] == claim.surface
    assert claim.char_start == text.index("about")


@pytest.mark.parametrize("written", WRITTEN_14_000.values(), ids=WRITTEN_14_000.keys())
def test_the_figure_scanner_reports_offsets_in_the_sentence_as_written(written: str) -> None:
    sentence = f"Up to {written} soldiers and 3,000 engineers arrived."
    first, second = find_figures(sentence)
    assert (first.stated_low, sentence[first.start : first.end], sentence[first.number_start]) == (
        14000,
        f"Up to {written}",
        written[0],
    )
    assert (second.stated_low, sentence[second.start : second.end]) == (3000, "3,000")


def test_other_decimal_digits_and_separators_keep_their_value() -> None:
    [arabic_decimal] = find_figures("About \u0663\u066b\u0665 million shells were sent.")  # ٣٫٥
    assert arabic_decimal.stated_low == 3_500_000
    [share] = find_figures("Some \uff14\uff10\uff05 of the rounds were duds.")  # ４０％
    assert (share.kind, share.stated_low) == ("share", 40)
    [millions] = find_figures("Nearly 1\u202f200\u202f000 people fled.")
    assert millions.stated_low == 1_200_000


@pytest.mark.parametrize("written", ["14 000", "14'000", "14\u2019000", "14 000 000"])
def test_a_number_split_by_a_plain_space_or_an_apostrophe_never_yields_a_zero(
    written: str, kursk_topic: TopicConfig
) -> None:
    """Not read as grouping (an ordinary space or an apostrophe also separates two numbers), so its
    parts are not figures: never "000" = 0 troops, never 14 troops."""
    claims = extract_claims(make_article(text=f"North Korea has sent about {written} troops to Russia."), kursk_topic)
    assert [c.surface for c in claims] == []
    assert find_figures(f"The troops sent number {written}.") == []


def test_plain_keeps_where_each_character_was_written() -> None:
    sentence = "In total \u0661\u0664\u066c\u0660\u0660\u0660 and 14\u200b000 and 5 000 and \u00a0 alone."
    rewritten = plain(sentence)
    assert rewritten is not None
    assert rewritten.text == "In total 14,000 and 14000 and 5 000 and \u00a0 alone."
    assert len(rewritten.origin) == len(rewritten.text) + 1
    start = rewritten.text.index("14000")
    assert rewritten.original(start, start + 5) == (sentence.index("14\u200b"), sentence.index("14\u200b") + 6)
    assert plain("About 14,000 troops, 40% of them, in 2024.") is None  # ASCII text is read as it is
