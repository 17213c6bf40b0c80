"""What counts as a figure, and the hedge written in front of it."""

from __future__ import annotations

import pytest

from pipeline.claims.figures import find_figures, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("14,000", 14000),
        ("1000", 1000),
        ("6.5 million", 6_500_000),
        ("200,000", 200_000),
        ("six thousand", 6000),
        ("a dozen", 12),
        ("twenty-five", 25),
        ("two hundred", 200),
        ("1.2m", 1_200_000),
        ("5bn", 5_000_000_000),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("sentence", "surface", "hedge", "low", "high"),
    [
        ("Seoul said about 14,000 troops were sent.", "about 14,000", "about", 14000, 14000),
        ("Kyiv said up to 12,000 soldiers went.", "up to 12,000", "up_to", 12000, 12000),
        ("More than 6,000 were killed.", "More than 6,000", "more_than", 6000, 6000),
        ("at least six units", "at least six", "at_least", 6, 6),
        ("nearly half of the rounds", "nearly half", "nearly", 0.5, 0.5),
        ("I think two-thirds have died.", "two-thirds", "ratio", 0.6667, 0.6667),
        ("between 50 and 100 percent of munitions", "between 50 and 100 percent", "between", 50, 100),
        ("10,000 to 12,000 troops", "10,000 to 12,000", "between", 10000, 12000),
        ("11,000-12,000 troops", "11,000-12,000", "between", 11000, 12000),
        ("no more than 8,000 soldiers", "no more than 8,000", "at_most", 8000, 8000),
        ("as many as 3,000 troops", "as many as 3,000", "up_to", 3000, 3000),
        ("almost 2,000 dead", "almost 2,000", "nearly", 2000, 2000),
        ("Estimated 14,000 DPRK soldiers", "Estimated 14,000", "about", 14000, 14000),
        ("40% of shells", "40%", "ratio", 40, 40),
        ("a further 3,000 or so troops", "3,000 or so", "about", 3000, 3000),
        ("a third or less of the shells", "a third or less", "at_most", 0.3333, 0.3333),
        ("north of 9 million shells", "north of 9 million", "more_than", 9e6, 9e6),
        ("the best part of 190,000 people", "the best part of 190,000", "nearly", 190000, 190000),
        ("as few as 50 of us", "as few as 50", "at_least", 50, 50),
        ("half a million soldiers", "half a million", "exact", 500000, 500000),
        ("groups of three or four", "three or four", "between", 3, 4),
        ("roughly 40% of the land", "roughly 40%", "about", 40, 40),
    ],
)
def test_hedged_figures(sentence: str, surface: str, hedge: str, low: float, high: float) -> None:
    [figure] = find_figures(sentence)
    assert figure.surface(sentence) == surface
    assert (figure.hedge, figure.stated_low, figure.stated_high) == (hedge, low, high)


@pytest.mark.parametrize(
    ("sentence", "low", "high"),
    [
        ("thousands of personnel", 1_000, 100_000),
        ("hundreds of devices", 100, 10_000),
        ("millions of artillery shells", 1_000_000, 100_000_000),
        ("tens of thousands of people", 10_000, 1_000_000),
        ("several hundred sappers", 200, 1_000),
        ("dozens of villages", 12, 1_000),
    ],
)
def test_vague_amounts_have_no_stated_number(sentence: str, low: float, high: float) -> None:
    [figure] = find_figures(sentence)
    assert figure.hedge == "vague" and figure.stated_low is None and figure.stated_high is None
    assert (figure.vague_low, figure.vague_high) == (low, high)


@pytest.mark.parametrize(
    "sentence",
    [
        "They use Uran-6 robots and Stalker-IB drones.",
        "Crews carried AK-74M rifles, RPK-74 machine guns and Saiga-12K shotguns.",
        "The engineers wear OVR-2-02 suits and VR-2-02 uniforms.",
        "Pyongyang supplied KN-23 missiles and 2S7 guns.",
        "Friday, November 14, 2025",
        "The incursion began in August 2024 and ended in April.",
        "He joined in March 2023 after graduating in 1995.",
        "In 2000, he became editor.",
        "63.7 F",
        "The briefing began at 10:30 a.m.",
        "The 3rd brigade arrived in the second quarter.",
        "One of them said the first of the teams had left.",
        "Production rose in the first half of 2025.",
        "07:15 — Ukraine's agency posted at 11:45 (UTC+3).",
        "They fired 152-mm and 122-millimetre shells.",
        "Russia signed Article 4 of the treaty.",
        "He was based in Moscow from 2019 to 2022.",
    ],
)
def test_never_a_figure(sentence: str) -> None:
    assert find_figures(sentence) == []


def test_ratio_with_denominator_gives_two_figures() -> None:
    sentence = "37 of the 64 settlements remain closed."
    assert [(f.stated_low, f.hedge) for f in find_figures(sentence)] == [(37, "exact"), (64, "exact")]
