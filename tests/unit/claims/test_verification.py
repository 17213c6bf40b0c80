"""Caveat rule families (pipeline/claims/verification.py) on sentences written for this test."""

from __future__ import annotations

import pytest

from pipeline.claims.verification import caveat_in, is_unverified

METRICS = ["troops_deployed", "troops_killed", "troops_casualties", "other"]


@pytest.mark.parametrize(
    ("sentence", "scope"),
    [
        ("The toll has not been corroborated by any independent source.", "paragraph"),
        ("Neither figure could be confirmed.", "paragraph"),
        ("Officials put the dead at 90, a number which the wire was unable to confirm.", "sentence"),
        ("Kyiv says 300 died; we could not confirm that.", "sentence"),
        ("Independent verification of the count remains impossible.", "paragraph"),
    ],
)
def test_caveat_cues_and_their_scope(sentence: str, scope: str) -> None:
    caveat = caveat_in(sentence, 0, 1, METRICS)
    assert caveat is not None and caveat.scope == scope


@pytest.mark.parametrize(
    "sentence",
    ["The ministry confirmed 300 deaths.", "Verification teams arrived on Monday.", "Troop numbers rose."],
)
def test_no_caveat_without_doubt(sentence: str) -> None:
    assert caveat_in(sentence, 0, 0, METRICS) is None


def test_a_standalone_caveat_covers_earlier_figures_of_its_paragraph_only() -> None:
    caveat = caveat_in("That account could not be independently verified.", 2, 5, METRICS)
    assert caveat is not None
    assert is_unverified(2, 4, "troops_killed", ["troops_killed"], True, [caveat])
    assert not is_unverified(2, 6, "troops_killed", ["troops_killed"], True, [caveat])  # after it
    assert not is_unverified(3, 1, "troops_killed", ["troops_killed"], True, [caveat])  # another paragraph


def test_a_caveat_naming_casualties_covers_their_parts_article_wide() -> None:
    caveat = caveat_in("The casualty estimates have not been independently verified.", 7, 0, METRICS, True)
    assert caveat is not None and "troops_casualties" in caveat.metrics
    lineage = ["troops_killed", "troops_casualties", "troops_deployed"]
    assert is_unverified(0, 0, "troops_killed", lineage, True, [caveat])
    assert not is_unverified(0, 0, "other", ["other"], True, [caveat])
