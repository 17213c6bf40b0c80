"""Source families (pipeline/claims/families.py): configuration, not code, decides the grouping."""

from __future__ import annotations

import pytest

from pipeline.claims.families import SourceFamilies
from pipeline.topics import SourcesSpec, TopicConfig, TopicConfigError, parse_topic

# A second subject, to show the rules carry no topic: a measles outbreak.
OUTBREAK = SourcesSpec.model_validate(
    {
        "mixed": "several",
        "unattributed": "nobody",
        "acronyms": {"CDC": "Centers for Disease Control and Prevention"},
        "families": {
            "health_ministry": {"description": "the ministry", "names": ["health ministry", "minister Ortiz"]},
            "cdc": {"description": "US agency", "names": ["Centers for Disease Control", "CDC"]},
            "who": {"description": "UN agency", "names": ["World Health Organization", "WHO"]},
            "several": {"description": "more than one", "names": ["health officials"]},
            "press": {"description": "outlets", "names": ["Gazette", "newspaper", "wire service"], "relay": True},
            "nobody": {"description": "vague", "names": ["some reports", "rumours"]},
        },
    }
)


@pytest.mark.parametrize(
    ("source", "family"),
    [
        ("the health ministry", "health_ministry"),
        ("Centers for Disease Control and Prevention", "cdc"),
        ("CDC and WHO officials", "several"),  # two families joined by "and"
        ("the health ministry, the CDC and the World Health Organization", "several"),
        ("a Gazette reporter, citing the CDC", "cdc"),  # what is cited decides
        ("the regional newspaper", "press"),  # only a relay named: the relay's family
        ("the WHO office's newspaper", "press"),  # a name describing the outlet
        ("some reports", "nobody"),
        (None, "nobody"),
        ("a local pharmacist", None),  # no name matches: no family, never a guess
        ("who knows", None),  # an acronym matches its own case only
    ],
)
def test_family_of_a_source(source: str | None, family: str | None) -> None:
    assert SourceFamilies.of(OUTBREAK).family(source) == family


def test_relays_and_acronyms() -> None:
    families = SourceFamilies.of(OUTBREAK)
    assert families.is_relay("the Gazette") and not families.is_relay("the Gazette, citing the CDC health ministry")
    assert families.expand("CDC") == "Centers for Disease Control and Prevention"
    assert families.expand("FDA") is None


def test_no_sources_section_means_no_families() -> None:
    families = SourceFamilies.of(None)
    assert families.family("the health ministry") is None and families.family(None) is None


def test_kursk_families_cover_the_labelled_keys(kursk_topic: TopicConfig) -> None:
    keys = {"kr_nis", "kr_jcs", "kr_dia", "ua_president", "ua_intel", "ua_military", "us_gov", "uk_mod",
            "western_officials", "mixed_sources", "ru_gov", "dprk_gov", "media", "unattributed"}  # fmt: skip
    assert kursk_topic.sources is not None and set(kursk_topic.sources.families) == keys


def _topic_with(sources: object) -> dict[str, object]:
    return {
        "name": "t",
        "title": "T",
        "feeds": [{"url": "https://example.org/feed"}],
        "relevance": {"terms": ["x"]},
        "metrics": {"m": {"description": "d", "unit": "u", "cumulative": True, "cues": ["c"]}},
        "sources": sources,
    }


@pytest.mark.parametrize(
    ("sources", "problem"),
    [
        ({"families": {}}, "families"),
        ({"families": {"a": {"description": "d", "names": []}}}, "names"),
        ({"families": {"a": {"description": "d", "names": ["x"]}}, "mixed": "b"}, "unknown family 'b'"),
        ({"families": {"Bad-Name": {"description": "d", "names": ["x"]}}}, "family name"),
        ({"families": {"a": {"description": "d", "names": ["x"]}}, "acronyms": {"nis": "x"}}, "acronym"),
        ({"families": {"a": {"description": "d", "names": ["x"], "colour": "red"}}}, "colour"),
    ],
)
def test_bad_sources_sections_are_refused_with_the_field(sources: object, problem: str) -> None:
    with pytest.raises(TopicConfigError, match=problem):
        parse_topic(_topic_with(sources), source="t.yaml")
