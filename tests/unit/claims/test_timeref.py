"""Time expressions resolved against the publication date."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.claims.timeref import find_times, nearest_time

PUBLISHED = date(2025, 11, 14)


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("sent 14,000 troops last year", "2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("supplied shells since 2023", "2023/2025-11-14", date(2023, 1, 1), PUBLISHED),
        ("shipped since the summer of 2023", "2023/2025-11-14", date(2023, 1, 1), PUBLISHED),
        ("Shoigu said in June that", "2025-06", date(2025, 6, 1), date(2025, 6, 30)),
        ("Seoul said in December that", "2024-12", date(2024, 12, 1), date(2024, 12, 31)),
        ("reported earlier this month", "2025-11", date(2025, 11, 1), PUBLISHED),
        ("said last month", "2025-10", date(2025, 10, 1), date(2025, 10, 31)),
        ("by the second quarter of 2025", "by 2025-Q2", None, date(2025, 6, 30)),
        ("in August 2024 Ukraine attacked", "2024-08", date(2024, 8, 1), date(2024, 8, 31)),
        ("on November 14, 2025", "2025-11-14", PUBLISHED, PUBLISHED),
    ],
)
def test_resolution(text: str, label: str, start: date | None, end: date | None) -> None:
    [found] = find_times(text, PUBLISHED)
    assert (found.label, found.start, found.end) == (label, start, end)


def test_relative_expressions_need_a_publication_date() -> None:
    assert find_times("sent last year", None) == []
    assert [t.label for t in find_times("in 2024", None)] == ["2024"]


def test_nearest_expression_wins() -> None:
    text = "In 2023 talks began; by the middle of the year 6 units relied on shells"
    assert nearest_time(text, text.index("6 units"), PUBLISHED).label == "mid-2025"  # type: ignore[union-attr]
