"""Data Docs from the real validate and load steps: the failing validation's HTML exists beside the
database file, names the failed expectations, and the load's failure message gives its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.quality.gate import QualityError
from pipeline.steps import load, validate
from tests.unit.steps.test_validate_load import _faulty_batch, _good, _stage, _topic


def test_a_failing_validation_has_data_docs_naming_the_failed_expectations(
    tmp_path: Path, kursk_topic_file: Path
) -> None:
    articles, claims, _ = _faulty_batch()
    job = _stage(tmp_path, _topic(tmp_path, kursk_topic_file), articles, claims, "manual__2025-12-01T00:00:00+00:00")
    validate.run(job)
    with pytest.raises(QualityError) as failed:
        load.run(job)
    folder = tmp_path / "data_docs" / "manual__2025-12-01T00_00_00_00_00"
    index = folder / "index.html"
    assert f"Data Docs of this validation: {index}" in str(failed.value)
    page = index.read_text(encoding="utf-8")
    assert "claimwatch_claims.html'>claimwatch_claims</a>: FAILED (32 rows)" in page
    for expectation in (
        "expect_column_values_to_be_in_set on metric: 1 of 32 rows unexpected, e.g. &#x27;tanks_lost&#x27;",
        "expect_column_values_to_be_unique on canonical_url: 2 of 16",
        "expect_column_value_lengths_to_be_between on text: 1 of 16",
    ):
        assert expectation in page, page
    claims_page = (folder / "claimwatch_claims.html").read_text(encoding="utf-8")
    assert "claimwatch_claims" in claims_page and "tanks_lost" in claims_page  # GX's own rendering
    assert "values must belong to this set" in claims_page
    assert (folder / "claimwatch_articles.html").exists()
    assert "manual__2025-12-01T00_00_00_00_00/index.html" in (tmp_path / "data_docs" / "index.html").read_text()


def test_a_clean_validation_has_passing_data_docs(tmp_path: Path, kursk_topic_file: Path) -> None:
    pairs = [_good(n) for n in range(1, 3)]
    job = _stage(
        tmp_path, _topic(tmp_path, kursk_topic_file), [a for a, _ in pairs], [c for _, cs in pairs for c in cs], "r1"
    )
    validate.run(job)
    load.run(job)
    page = (tmp_path / "data_docs" / "r1" / "index.html").read_text(encoding="utf-8")
    assert "claimwatch_articles</a>: passed (2 rows)" in page and "claimwatch_claims</a>: passed (4 rows)" in page
