"""Contradiction rules: comparability first, then intervals, severities, clusters of re-reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline.app.evaluation import evaluate
from pipeline.detection.engine import find_contradictions
from pipeline.detection.pairs import compare, scope_of
from pipeline.records import SourcedClaim
from pipeline.topics import TopicConfig
from tests.unit.factories import make_article, make_claim


def _sourced(n: int, day: int = 14, **claim: object) -> SourcedClaim:
    article = make_article(n, published_at=datetime(2025, 11, day, tzinfo=UTC))
    c = make_claim(article, **claim)
    return SourcedClaim(c, article.url, f"Outlet {n}", article.published_at)


ABOUT_14K = {"surface": "about 14,000"}
UP_TO_12K = {"stated_low": 12000, "stated_high": 12000, "hedge": "up_to", "surface": "up to 12,000"}


def test_ceiling_below_an_estimate_is_a_low_contradiction(kursk_topic: TopicConfig) -> None:
    verdict = compare(_sourced(2, **UP_TO_12K), _sourced(1, **ABOUT_14K), kursk_topic)
    assert verdict is not None and (verdict.severity, verdict.rule) == ("low", "ceiling_below_estimate")
    assert "up to 12,000" in verdict.reason and "about 14,000" in verdict.reason


def test_far_apart_figures_are_a_hard_conflict(kursk_topic: TopicConfig) -> None:
    killed = {
        "metric": "troops_killed",
        "role": "unspecified",
        "hedge": "about",
        "stated_low": 3000,
        "stated_high": 3000,
    }
    more = {**killed, "hedge": "more_than", "stated_low": 6000, "stated_high": 6000, "surface": "more than 6,000"}
    verdict = compare(_sourced(2, **killed), _sourced(1, **more), kursk_topic)
    assert verdict is not None and verdict.rule == "hard_conflict" and verdict.severity in ("low", "medium")


def test_not_comparable_pairs(kursk_topic: TopicConfig) -> None:
    about = _sourced(1, **ABOUT_14K)
    security = _sourced(2, stated_low=10000, stated_high=10000, role="security", surface="about 10,000")
    planned = _sourced(3, **UP_TO_12K, modality="planned")
    vague = _sourced(4, hedge="vague", stated_low=None, stated_high=None, value_low=1000, value_high=100000)
    rereport = _sourced(5, **ABOUT_14K)
    share = _sourced(6, metric="other", hedge="ratio", stated_low=0.6667, stated_high=0.6667)
    for other in (security, planned, vague, rereport, share):
        assert compare(other, about, kursk_topic) is None, other.claim


def test_part_within_whole_is_fine_but_part_above_whole_is_high(kursk_topic: TopicConfig) -> None:
    engineers = _sourced(1, metric="engineers_deployed", role="engineering", hedge="exact", stated_low=6000,
                         stated_high=6000)  # fmt: skip
    deminers = _sourced(2, metric="deminers_deployed", role="engineering", hedge="exact", stated_low=1000,
                        stated_high=1000)  # fmt: skip
    assert compare(deminers, engineers, kursk_topic) is None
    too_many = replace(deminers, claim=replace(deminers.claim, stated_low=9000, stated_high=9000))
    verdict = compare(too_many, engineers, kursk_topic)
    assert verdict is not None and (verdict.rule, verdict.severity) == ("part_exceeds_whole", "high")


def test_a_cumulative_count_that_grows_later_is_an_update(kursk_topic: TopicConfig) -> None:
    earlier = _sourced(1, day=1, stated_low=11000, stated_high=11000, hedge="exact", surface="11,000",
                       period_start=date(2024, 12, 1), period_end=date(2024, 12, 31))  # fmt: skip
    later = _sourced(2, day=14, **ABOUT_14K, period_start=date(2025, 11, 1), period_end=date(2025, 11, 14))
    assert compare(later, earlier, kursk_topic) is None
    # The same figures the other way round: the count fell, which a cumulative metric cannot do.
    fell = compare(replace(earlier, claim=replace(earlier.claim, period_end=date(2026, 1, 31))), later, kursk_topic)
    assert fell is not None and fell.rule == "cumulative_regression"


def test_re_reports_of_one_figure_raise_one_contradiction_linked_in_the_same_article(
    kursk_topic: TopicConfig,
) -> None:
    stored = [_sourced(1, **ABOUT_14K), _sourced(2, **ABOUT_14K)]
    article = make_article(3, published_at=datetime(2025, 11, 14, tzinfo=UTC))
    same_article_14k = make_claim(article, start=0, **ABOUT_14K)
    ceiling = make_claim(article, start=50, **UP_TO_12K, attributed_to="Volodymyr Zelensky")
    new = [SourcedClaim(c, article.url, "Outlet 3", article.published_at) for c in (same_article_14k, ceiling)]
    found = find_contradictions(new, stored, kursk_topic)
    assert len(found) == 1
    assert {found[0].claim_id, found[0].other_claim_id} == {ceiling.claim_id, same_article_14k.claim_id}
    # A later re-report of either figure is more evidence for the same incident, never a second one.
    again = find_contradictions([_sourced(4, **ABOUT_14K)], [*stored, *new], kursk_topic)
    assert {x.incident_id for x in again} <= {found[0].incident_id}


def test_seed_corpus_contradictions_match_the_labels(eval_seeds_dir: Path, kursk_topic: TopicConfig) -> None:
    report = evaluate(eval_seeds_dir, eval_seeds_dir / "labels.json", kursk_topic)
    assert report.contradiction_recall == 1.0 and report.contradiction_precision == 1.0, report.wrong_contradictions
    assert report.non_contradictions_flagged == 0


def test_increments_and_current_levels_are_not_the_running_total(kursk_topic: TopicConfig) -> None:
    total = _sourced(1, **ABOUT_14K, sentence="Seoul said about 14,000 troops were sent in all.")
    further = _sourced(2, stated_low=3000, stated_high=3000, hedge="exact", surface="3000",
                       sentence="Kyiv said a further 3000 soldiers arrived.")  # fmt: skip
    remaining = _sourced(3, stated_low=500, stated_high=500, hedge="at_most", surface="fewer than 500",
                         sentence="Bloggers said fewer than 500 of them remained at the front.")  # fmt: skip
    assert [scope_of(x.claim) for x in (total, further, remaining)] == ["total", "increment", "current"]
    assert compare(further, total, kursk_topic) is None
    assert compare(remaining, total, kursk_topic) is None


def test_vague_amounts_never_contradict(kursk_topic: TopicConfig) -> None:
    dozens = _sourced(2, hedge="vague", stated_low=None, stated_high=None, value_low=12, value_high=1000,
                      surface="dozens")  # fmt: skip
    assert compare(dozens, _sourced(1, **ABOUT_14K), kursk_topic) is None


def test_part_whole_is_checked_within_one_source_only(kursk_topic: TopicConfig) -> None:
    killed = {"metric": "troops_killed", "role": "unspecified", "hedge": "more_than", "stated_low": 9000,
              "stated_high": 9000, "surface": "more than 9,000"}  # fmt: skip
    deployed = {"hedge": "at_most", "stated_low": 8000, "stated_high": 8000, "surface": "no more than 8,000"}
    other_source = compare(_sourced(2, **killed, attributed_to="Kyiv"), _sourced(1, **deployed), kursk_topic)
    assert other_source is None
    same = compare(_sourced(2, **killed), _sourced(1, **deployed), kursk_topic)
    assert same is not None and same.rule == "part_exceeds_whole"


def test_a_count_cannot_double_within_two_weeks_but_may_over_months(kursk_topic: TopicConfig) -> None:
    about_14k = _sourced(1, day=10, **ABOUT_14K)
    upwards = {"hedge": "more_than", "stated_low": 30000, "stated_high": 30000, "surface": "upwards of 30,000"}
    week_later = compare(_sourced(2, day=17, **upwards), about_14k, kursk_topic)
    assert week_later is not None and week_later.rule == "hard_conflict"
    months_later = replace(_sourced(2, **upwards), published_at=datetime(2026, 3, 1, tzinfo=UTC))
    assert compare(months_later, about_14k, kursk_topic) is None


def test_a_later_figure_above_an_earlier_lower_bound_is_consistent(kursk_topic: TopicConfig) -> None:
    killed = {"metric": "troops_killed", "role": "unspecified", "hedge": "more_than"}
    early = _sourced(1, day=1, **killed, stated_low=300, stated_high=300, surface="more than 300")
    late = _sourced(2, day=10, **killed, stated_low=4000, stated_high=4000, surface="more than 4,000")
    assert compare(late, early, kursk_topic) is None


def test_a_flow_over_part_of_a_period_is_not_the_running_total(kursk_topic: TopicConfig) -> None:
    shells = {"metric": "artillery_shells_supplied", "role": "unspecified", "hedge": "about"}
    total = _sourced(1, **shells, stated_low=6e6, stated_high=6e6, surface="About 6 million",
                     sentence="About 6 million shells were delivered since 2023.")  # fmt: skip
    flow = _sourced(2, **shells, stated_low=1.5e6, stated_high=1.5e6, surface="about 1.5 million",
                    sentence="In the first half of 2025 alone we tracked about 1.5 million rounds.")  # fmt: skip
    assert scope_of(flow.claim) == "increment" and compare(flow, total, kursk_topic) is None


def test_more_killed_than_now_at_the_front_is_no_contradiction(kursk_topic: TopicConfig) -> None:
    killed = {"metric": "troops_killed", "role": "unspecified", "hedge": "more_than", "stated_low": 6000,
              "stated_high": 6000, "surface": "a little over 6,000",
              "sentence": "Our count is a little over 6,000."}  # fmt: skip
    front = {"hedge": "between", "stated_low": 2000, "stated_high": 3000, "surface": "between 2,000 and 3,000",
             "sentence": "Right now, between 2,000 and 3,000 are deployed along the line."}  # fmt: skip
    assert compare(_sourced(2, **killed), _sourced(1, **front), kursk_topic) is None


def test_a_relayed_copy_never_contradicts_its_original_nor_another_copy(kursk_topic: TopicConfig) -> None:
    original = _sourced(1, **ABOUT_14K)
    copy = replace(_sourced(2, **UP_TO_12K), copy_of=original.claim.article_id)
    other_copy = replace(_sourced(3, **ABOUT_14K), copy_of=original.claim.article_id)
    assert compare(copy, original, kursk_topic) is None  # a re-edit of the same text: one source
    assert compare(copy, other_copy, kursk_topic) is None
    independent = replace(copy, copy_of=None)
    assert compare(independent, original, kursk_topic) is not None  # the same figures from a second source
    assert compare(copy, _sourced(4, **ABOUT_14K), kursk_topic) is not None  # a copy still meets other sources
