"""Attribution rule families (pipeline/claims/attribution.py), each on sentences written for this test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.claims import extract_claims
from pipeline.claims.attribution import Discourse, attribute, sources_in
from pipeline.topics import TopicConfig
from tests.unit.factories import make_article


def _claims(text: str, topic: TopicConfig) -> dict[str, tuple[str | None, str | None, str | None]]:
    article = make_article(text=text, published_at=datetime(2025, 5, 1, tzinfo=UTC))
    return {c.surface: (c.attributed_to, c.relayed_by, c.source_family) for c in extract_claims(article, topic)}


@pytest.mark.parametrize(
    ("text", "surface", "expected"),
    [
        # speech verbs and their subjects, including counting verbs and auxiliaries
        (
            "Kyiv had earlier acknowledged that about 700 North Korean soldiers were captured or killed.",
            "about 700",
            ("Kyiv", None, "ua_president"),
        ),
        (
            "Ukraine's General Staff counted 1,900 North Korean troops killed by the end of March.",
            "1,900",
            ("Ukraine's General Staff", None, "ua_military"),
        ),
        # postposed and parenthetical speakers; "X said, adding that ..." keeps X as the speaker
        (
            "Pyongyang treats its soldiers as expendable, Ukraine's president said, adding that so far it had "
            "lost 3,800 of them.",
            "3,800",
            ("Ukraine's president", None, "ua_president"),
        ),
        # a title standing for the person last named with it
        (
            "President Volodymyr Zelenskyy said on Monday that the front was holding. Some 2,300 North Korean "
            "soldiers have been wounded, the president said.",
            "Some 2,300",
            ("President Volodymyr Zelenskyy", None, "ua_president"),
        ),
        (
            "Roughly 900 North Korean soldiers were wounded near Sudzha, the Ukrainian military said in a "
            "statement posted on its channel.",
            "Roughly 900",
            ("Ukrainian military", None, "ua_military"),
        ),
        (
            "Trains kept moving across the border, the Pentagon said, carrying at least 2 million shells.",
            "at least 2 million",
            ("Pentagon", None, "us_gov"),
        ),
        # fronted phrases are not part of the speaker
        (
            "In written answers to a parliamentary committee, the Joint Chiefs of Staff said 3,500 North Korean "
            "troops were sent in the spring.",
            "3,500",
            ("Joint Chiefs of Staff", None, "kr_jcs"),
        ),
        (
            "Back in February, Ukrainian intelligence counted 7,000 North Korean soldiers along the front.",
            "7,000",
            ("Ukrainian intelligence", None, "ua_intel"),
        ),
        # cited and briefing sources: relays kept apart
        (
            "Citing unnamed American officials, CNN reported that some 500 North Korean soldiers had died.",
            "some 500",
            ("unnamed American officials", "CNN", "us_gov"),
        ),
        (
            "The Korea Times reported on Monday, citing the JCS, that 2,500 more North Korean soldiers had arrived.",
            "2,500",
            ("South Korea's Joint Chiefs of Staff", "Korea Times", "kr_jcs"),
        ),
        (
            "A senior opposition lawmaker, briefed by the Defense Intelligence Agency, said about 9,000 North Korean "
            "troops remain in Russia.",
            "about 9,000",
            ("A senior opposition lawmaker, citing Defense Intelligence Agency", None, "kr_dia"),
        ),
        (
            "Opposition MP Kim Han-sol said after a private NIS briefing that 1,100 North Korean soldiers had been "
            "wounded.",
            "1,100",
            ("Opposition MP Kim Han-sol, citing South Korea's National Intelligence Service", None, "kr_nis"),
        ),
        # possessive and compound sources
        (
            "The Pentagon estimate had been 3,000 North Korean troops killed or wounded until last week.",
            "3,000",
            ("Pentagon", None, "us_gov"),
        ),
        # several families named together are mixed
        (
            "British defence intelligence said 11,000 North Korean troops are in Kursk, while US and Ukrainian "
            "sources put the total at 12,000.",
            "12,000",
            ("US and Ukrainian sources", None, "mixed_sources"),
        ),
        # place names stay in the speaker; only month and day names are dropped
        (
            "Officials in Washington believe 11,000 North Korean troops are in Kursk.",
            "11,000",
            ("Officials in Washington", None, "us_gov"),
        ),
    ],
)
def test_rule_families(text: str, surface: str, expected: tuple[str | None, ...], kursk_topic: TopicConfig) -> None:
    assert _claims(text, kursk_topic)[surface] == expected


def test_a_later_clause_and_a_figure_taken_out_of_another_keep_the_source(kursk_topic: TopicConfig) -> None:
    text = (
        "The Pentagon believes 11,000 North Korean troops reached Kursk; roughly 1,200 of them were wounded.\n\n"
        "Western and Ukrainian officials say 12,500 North Korean soldiers were sent. Around 900 of them have died."
    )
    claims = _claims(text, kursk_topic)
    assert claims["roughly 1,200"][0] == claims["11,000"][0] == "Pentagon"
    assert claims["Around 900"] == claims["12,500"]
    assert claims["Around 900"][2] == "mixed_sources"


def test_an_anonymous_estimate_is_nobodys_even_inside_a_speakers_sentence(kursk_topic: TopicConfig) -> None:
    text = "The governor says half of a North Korean force, put at some 8,000 soldiers, has been pulled back."
    assert _claims(text, kursk_topic)["some 8,000"] == (None, None, "unattributed")


def test_a_participle_estimated_at_is_not_a_speaker(kursk_topic: TopicConfig) -> None:
    text = "A brigade estimated at 4,000 North Korean soldiers moved to the front, Ukrainian commanders said."
    assert _claims(text, kursk_topic)["4,000"][0] == "Ukrainian commanders"


def test_a_guess_about_others_is_not_an_attribution() -> None:
    clause = "The report suggests Russian officers may have counted 300 of the missing among the dead."
    assert attribute(clause, clause.index("300"), Discourse(text=clause)) is None
    assert "Russian officers" not in sources_in(clause, Discourse(text=clause))


def test_acronyms_are_spelled_out_from_the_article_first(kursk_topic: TopicConfig) -> None:
    text = (
        "The Joint Chiefs of Staff briefed reporters on Tuesday.\n\n"
        "The JCS said 1,300 North Korean soldiers had been wounded.\n\n"
        "Separately, the HUR said 12,000 North Korean troops were deployed."
    )
    claims = _claims(text, kursk_topic)
    assert claims["1,300"][0] == "South Korea's Joint Chiefs of Staff"  # the topic's name ends with the article's
    assert claims["12,000"] == ("Ukraine's Main Intelligence Directorate", None, "ua_intel")


def test_an_acronym_unknown_to_article_and_topic_stays_as_written() -> None:
    clause = "The MDK said 300 soldiers had arrived."
    found = attribute(clause, clause.index("300"), Discourse(text=clause))
    assert found is not None and found.source == "MDK"


def test_an_outlet_anaphor_resolves_to_the_last_outlet_named(kursk_topic: TopicConfig) -> None:
    text = (
        "Citing Western intelligence sources, the Guardian said on Friday that the supply had doubled.\n\n"
        "The British paper put the flow of shells at around 2 million a year."
    )
    assert _claims(text, kursk_topic)["around 2 million"][0] == "Guardian"


def test_without_a_sources_section_families_are_empty(kursk_topic: TopicConfig) -> None:
    topic = kursk_topic.model_copy(update={"sources": None})
    text = "Citing Ukrainian officials, Reuters said 300 North Korean soldiers had died."
    surface, (source, relay, family) = next(iter(_claims(text, topic).items()))
    assert surface == "300"
    assert family is None and relay is None and source == "Reuters, citing Ukrainian officials"


def test_a_closing_speaker_outranks_a_belief_inside_what_was_said(kursk_topic: TopicConfig) -> None:
    text = (
        "Customs papers show 2 million shells crossed the border, and Moscow expects 1 million more next year, "
        "the Ukrainian president said."
    )
    claims = _claims(text, kursk_topic)
    assert claims["1 million"][0] == claims["2 million"][0] == "Ukrainian president"
    assert _claims("Moscow expects 1 million more shells next year.", kursk_topic)["1 million"][0] == "Moscow"


def test_an_infinitive_names_nobody_but_a_preposition_keeps_its_speaker(kursk_topic: TopicConfig) -> None:
    clause = "Because it was hard to confirm each shipment, analysts used a range of 3 to 5 million shells."
    assert attribute(clause, clause.index("3 to"), Discourse(text=clause)) is None
    text = "A retired colonel I talked to insists that 20,000 North Korean troops have rotated through Kursk."
    assert _claims(text, kursk_topic)["20,000"][0] == "A retired colonel I talked to"


def test_a_sentence_opening_with_a_noun_is_a_source(kursk_topic: TopicConfig) -> None:
    text = "Estimates from Washington and Seoul put the North Korean dead at around 1,500."
    source, _, family = _claims(text, kursk_topic)["around 1,500"]
    assert source == "Estimates from Washington and Seoul" and family == "mixed_sources"


def test_an_outlets_own_sources_belong_to_the_outlet(kursk_topic: TopicConfig) -> None:
    text = (
        "The Financial Times reported the first clashes on Friday. Its sources also said 700 North Korean "
        "soldiers had been wounded."
    )
    assert _claims(text, kursk_topic)["700"] == ("Financial Times, citing sources", None, "media")
