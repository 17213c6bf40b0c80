"""Sentence segmentation with offsets, and the page furniture it leaves out."""

from __future__ import annotations

from pipeline.claims.sentences import sentences_of


def test_offsets_point_into_the_text_and_titles_do_not_split() -> None:
    text = "Lt. Gen. Kyrylo Budanov said 6,000 engineers went. Zelensky said more.\nSecond paragraph here."
    sentences = sentences_of(text)
    assert [s.text for s in sentences] == [
        "Lt. Gen. Kyrylo Budanov said 6,000 engineers went.",
        "Zelensky said more.",
        "Second paragraph here.",
    ]
    assert all(text[s.start : s.start + len(s.text)] == s.text for s in sentences)
    assert [(s.paragraph, s.index) for s in sentences] == [(0, 0), (0, 1), (1, 0)]


def test_furniture_is_left_out() -> None:
    caption = "Soldiers train near Kursk in an image released on November 14, 2025."
    text = "\n".join(
        [
            "Weather in Kursk today: 19C, wind 4 metres per second.",
            caption,
            caption,
            "BY MOOYOUNG LEE [lee@example.com]",
            "- Advertisement -",
            "Lee joined the paper in 2018 after reporting from Seoul since 2011.",
            "By the agency's estimate, 6 million shells were sent.",
        ]
    )
    assert [s.text for s in sentences_of(text)] == [caption, "By the agency's estimate, 6 million shells were sent."]


def test_a_short_line_without_final_punctuation_is_a_headline() -> None:
    [headline, body] = sentences_of("North Korea deploys 1,000 deminers\nThe ministry said so.")
    assert headline.headline and not body.headline


def test_sentence_offsets_match_pysbds_own_spans() -> None:
    import pysbd

    from pipeline.claims.sentences import _segment

    paragraph = (
        'Lt. Gen. Kim said on Oct. 4 that "about 2,000 men" had left. U.S. officials disagreed! '
        "The figure (approx. 1.5m rounds) was cited again... and again. Was it right?  Nobody knows."
    )
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    expected = [(span.start, span.sent.rstrip()) for span in segmenter.segment(paragraph)]
    found = [(start, sent.rstrip()) for start, sent in _segment(segmenter, paragraph)]
    assert found == expected and len(found) >= 4
    assert all(paragraph[start : start + len(sent)] == sent for start, sent in found)
