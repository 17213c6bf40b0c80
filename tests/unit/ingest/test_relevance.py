"""pipeline.ingest.relevance: whole-word, case-insensitive, distinct terms, required terms."""

from __future__ import annotations

import pytest

from pipeline.ingest.relevance import is_relevant, matched_terms
from pipeline.topics import RelevanceRule, RelevanceSpec
from tests.unit.factories import make_article

KURSK = RelevanceSpec(
    required=["North Korea", "North Korean", "DPRK", "Pyongyang", "Korean People's Army"],
    terms=["Kursk", "Russia", "troops", "shells"],
    min_matches=2,
)
ANY_ONE = RelevanceSpec(terms=["harbour", "strike"])


@pytest.mark.parametrize(
    ("spec", "title", "text", "relevant"),
    [
        (KURSK, "North Korean troops in Kursk", "No more.", True),
        (KURSK, None, "north korean TROOPS were seen.", True),
        (KURSK, "Weather", "Snow in Kursk, Russia, on Sunday.", False),  # two terms, none required
        (KURSK, "Pyongyang", "Pyongyang said so. Pyongyang again.", False),  # one distinct term, repeated
        (KURSK, "", "Pyongyang sent shells.", True),
        (KURSK, "", "The Korean People\u2019s Army arrived in Kursk.", True),  # typographic apostrophe
        (KURSK, "", "North   Korea\nsent troops.", True),  # any spacing inside a term
        (KURSK, "", "The DPRKs and Kurskaya troops.", False),  # no whole-word match
        (KURSK, "", "Troopship from Russian ports.", False),  # prefixes do not count
        (KURSK, "Russia", "Russia, Kursk, troops, shells.", False),  # many terms, no required one
        (ANY_ONE, "", "Dock workers at the harbour.", True),
        (ANY_ONE, "", "Harbourside cafe.", False),
        (ANY_ONE, "STRIKE", "", True),
        (ANY_ONE, "", "", False),
    ],
)
def test_is_relevant(spec: RelevanceSpec, title: str | None, text: str, relevant: bool) -> None:
    assert is_relevant(make_article(title=title, text=text), spec) is relevant


def test_required_terms_count_towards_min_matches() -> None:
    spec = RelevanceSpec(required=["North Korea", "Pyongyang"], terms=["troops"], min_matches=2)
    assert is_relevant(make_article(title="", text="North Korea and Pyongyang."), spec)
    assert not is_relevant(make_article(title="", text="North Korea only."), spec)


@pytest.mark.parametrize(
    ("text", "terms", "found"),
    [
        ("Kim Jong-un met envoys", ["Kim Jong-un", "Kim"], {"kim jong-un", "kim"}),
        ("(Kursk)", ["Kursk"], {"kursk"}),
        ("U.S. officials", ["U.S."], {"u.s."}),
        ("USA", ["U.S."], set()),
        ("Kursk kursk KURSK", ["kursk", "KURSK"], {"kursk"}),
        ("anything", ["   "], set()),
    ],
)
def test_matched_terms(text: str, terms: list[str], found: set[str]) -> None:
    assert matched_terms(text, terms) == found


DISPLACED = RelevanceSpec(
    required=["North Korea", "Pyongyang"],
    terms=["Kursk", "troops"],
    min_matches=2,
    alternatives=[
        RelevanceRule(
            description="the region's displaced civilians",
            required=["Kursk"],
            terms=["displaced", "evacuees", "refugees", "temporary housing"],
            min_matches=3,
        )
    ],
)


@pytest.mark.parametrize(
    ("text", "relevant"),
    [
        # the main rule still admits what it admitted
        ("Pyongyang moved more troops towards Kursk.", True),
        # a catalogue metric reported without the topic's usual names
        ("Families displaced from Kursk are still in temporary housing a year on.", True),
        ("Evacuees from the Kursk border villages say they were displaced twice.", True),
        # one displacement word is not enough, and neither is the place alone
        ("Kursk's mayor opened a shelter for refugees of the flood.", False),
        ("Kursk won the regional football cup on Sunday.", False),
        # the alternative's required term is required
        ("Refugees in temporary housing were displaced by the storm.", False),
    ],
)
def test_alternative_rules_admit_a_metric_without_the_topic_names(text: str, relevant: bool) -> None:
    assert is_relevant(make_article(title="", text=text), DISPLACED) is relevant


def test_an_alternative_needs_a_required_term() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        RelevanceRule(required=[], terms=["displaced"])


def test_kursk_topic_admits_its_displaced_civilians(kursk_topic) -> None:  # type: ignore[no-untyped-def]
    text = (
        "The regional governor said thousands of residents displaced by the fighting in the Kursk region "
        "are still living in temporary accommodation and cannot return home."
    )
    assert is_relevant(make_article(title="Kursk families wait to go home", text=text), kursk_topic.relevance)
    sport = "Kursk beat Oryol 2-1 in front of 5,000 fans; the residents of both towns travelled to the match."
    assert not is_relevant(make_article(title="Cup final", text=sport), kursk_topic.relevance)
