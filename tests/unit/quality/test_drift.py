"""The drift judgement on its own: measures of a batch, and what counts as a sharp change."""

from __future__ import annotations

from dataclasses import replace

from pipeline.quality.drift import TOPIC_WIDE, BatchStats, DriftRule, batch_stats, judge, judge_batch
from tests.unit.factories import make_article, make_claim


def _steady(outlet: str = TOPIC_WIDE) -> BatchStats:
    return BatchStats("kursk", outlet, 10, 20, 0.1, 0.05, 1200.0, 2.0)


def test_batch_stats_per_topic_and_outlet() -> None:
    a, b, c = make_article(1), make_article(2, outlet="Other Wire"), make_article(3, outlet=None)
    claims = [make_claim(a, 0), make_claim(a, 40, metric="other"), make_claim(b, 0)]
    [topic, example, other] = batch_stats("kursk", [a, b, c], claims)
    assert (topic.outlet, topic.articles, topic.claims) == (TOPIC_WIDE, 3, 3)
    assert topic.no_claim_share == 1 / 3 and topic.other_share == 1 / 3 and topic.claims_per_article == 1.5
    assert (example.outlet, example.articles, example.other_share) == ("Example News", 1, 0.5)
    assert (other.outlet, other.claims_per_article) == ("Other Wire", 1.0)
    assert batch_stats("kursk", [], []) == []


def test_a_share_jump_and_a_halved_median_are_drift_a_small_move_is_not() -> None:
    history = [_steady()] * 6
    assert judge(replace(_steady(), other_share=0.3), history) == []
    [drift] = judge(replace(_steady(), other_share=0.5), history)
    assert (drift.measure, drift.baseline, drift.runs) == ("other_share", 0.05, 6)
    [drift] = judge(replace(_steady(), median_text_length=600.0), history)
    assert drift.measure == "median_text_length"
    assert judge(replace(_steady(), median_text_length=700.0), history) == []


def test_no_judgement_on_a_short_history_or_a_small_batch() -> None:
    sharp = replace(_steady(), no_claim_share=1.0, claims_per_article=None)
    assert judge(sharp, [_steady()] * 4) == []
    assert judge(replace(sharp, articles=4), [_steady()] * 5) == []
    assert [d.measure for d in judge(sharp, [_steady()] * 5)] == ["no_claim_share"]
    assert judge(sharp, [_steady()] * 3, DriftRule(min_runs=3)) != []


def test_an_outlet_drift_is_reported_unless_the_topic_drifted_in_the_same_measure() -> None:
    topic, outlet = replace(_steady(), other_share=0.6), replace(_steady("Example News"), other_share=0.6)
    histories = {TOPIC_WIDE: [_steady()] * 5, "Example News": [_steady("Example News")] * 5}
    assert [(d.outlet, d.measure) for d in judge_batch([outlet, topic], histories)] == [(TOPIC_WIDE, "other_share")]
    assert [(d.outlet, d.measure) for d in judge_batch([outlet, _steady()], histories)] == [
        ("Example News", "other_share")
    ]
