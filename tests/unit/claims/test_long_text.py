"""Hostile lengths: one sentence of 10,000 words, one paragraph of many thousand sentences.

Both are read (in time proportional to their length: bench/bench_claims_linear.py measures it), each
claim points at its own figure, and a claim quotes the words around its figure, not a sentence of
60,000 characters repeated for each of its hundreds of figures.
"""

from __future__ import annotations

from pipeline.claims import extract_claims, sentences_of
from pipeline.claims.window import REACH
from pipeline.topics import TopicConfig
from tests.unit.factories import make_article

CLAUSE = "North Korean officials said about 14,000 troops arrived in Kursk in March and"


def test_each_claim_of_a_10000_word_sentence_quotes_the_words_around_its_figure(kursk_topic: TopicConfig) -> None:
    sentence = " ".join((CLAUSE.split() * 1_000)[:10_000]) + "."
    article = make_article(text="North Korean troops are in Kursk.\n" + sentence)
    claims = extract_claims(article, kursk_topic)
    figures = [c for c in claims if c.surface == "about 14,000"]
    assert len(figures) == sentence.count("about 14,000")
    for claim in figures:
        assert article.text[claim.char_start : claim.char_end] == claim.surface
        assert claim.surface in claim.sentence and len(claim.sentence) <= 2 * REACH + len(claim.surface)
    assert {c.attributed_to for c in figures} == {"North Korean officials"}


def test_a_paragraph_of_thousands_of_sentences_is_split_into_all_of_them() -> None:
    unit = "Officials said about {} troops arrived, according to Lt. Gen. Kim of the U.S. Army. He said so. "
    paragraph = "".join(unit.format(1000 + i) for i in range(1_500))  # about 140,000 characters
    sentences = sentences_of(paragraph)
    assert len(sentences) == 3_000
    assert all(paragraph[s.start : s.start + len(s.text)] == s.text for s in sentences)
    assert [s.index for s in sentences] == list(range(3_000))
    assert sentences[2].text == "Officials said about 1001 troops arrived, according to Lt. Gen. Kim of the U.S. Army."
