"""Hedges read as hard (semantic) and soft (pragmatic) intervals."""

from __future__ import annotations

import pytest

from pipeline.claims.intervals import disjoint, gap, granularity, read_figure


@pytest.mark.parametrize(
    ("n", "g"), [(14_000, 1_000), (200_000, 100_000), (37, 1), (6_500_000, 500_000), (5_000, 5_000)]
)
def test_granularity(n: float, g: float) -> None:
    assert granularity(n) == g


def test_about_widens_by_the_metric_tolerance() -> None:
    reading = read_figure("about", 14_000, 14_000, tolerance=0.10)
    assert reading.soft == pytest.approx((12_600, 15_400))
    assert reading.hard == pytest.approx((11_200, 16_800))


def test_more_than_is_open_upwards_with_a_soft_ceiling_one_step_up() -> None:
    reading = read_figure("more_than", 6_000, 6_000, tolerance=0.25)
    assert reading.hard == (6_000, None) and reading.soft == (6_000, 7_000)


def test_up_to_is_a_ceiling() -> None:
    assert read_figure("up_to", 12_000, 12_000, tolerance=0.10).soft == (6_000, 12_000)


def test_sharp_numbers_read_exactly_and_round_ones_approximately() -> None:
    assert read_figure("exact", 37, 37, 0.0).hard == (37, 37)
    lo, hi = read_figure("exact", 6_000, 6_000, 0.10).hard
    assert lo < 6_000 < hi


def test_vague_plural_spans_two_orders_of_magnitude() -> None:
    reading = read_figure("vague", None, None, 0.10, (1_000, 100_000))
    assert reading.hard == (1_000, 100_000) and reading.soft == (2_000, 10_000)


def test_a_hedge_without_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a stated number"):
        read_figure("about", None, None, 0.1)


def test_disjoint_and_gap() -> None:
    assert disjoint((6_000, 12_000), (12_600, 15_400))
    assert not disjoint((6_000, None), (12_600, 15_400))
    assert gap((6_000, 12_000), (12_600, 15_400)) == pytest.approx(600 / 12_600)
