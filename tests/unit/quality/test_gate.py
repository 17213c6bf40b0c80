"""pipeline.quality.gate: real Great Expectations runs over small batches, one rule broken at a time.

GX is imported once per session (seconds); each validation after that takes ~0.1 s, so
every rule gets its own batch and must be the only expectation that fails on it.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.quality.gate import (
    ARTICLES_SUITE,
    CLAIMS_SUITE,
    QualityError,
    QualityReport,
    require,
    validate_articles,
    validate_claims,
)
from pipeline.records import Article, Claim
from tests.unit.factories import make_article, make_claim

ARTICLES = [make_article(n) for n in range(1, 4)]
# Edge cases that must pass: exactly 200 chars of text, a vague amount, the catch-all
# metric, an open-ended interval (value_high None), an exact figure.
ARTICLES.append(make_article(4, text="x" * 200))
A = ARTICLES[0]
CLAIMS = [
    make_claim(A, 0),
    make_claim(A, 40, metric="troops_killed", hedge="exact", stated_low=200, stated_high=200),
    make_claim(A, 80, hedge="vague", stated_low=None, stated_high=None, value_low=1000, value_high=99999),
    make_claim(A, 120, metric="other"),
    make_claim(A, 160, hedge="more_than", stated_low=5000, stated_high=5000, value_low=5000, value_high=None),
    make_claim(ARTICLES[1], 0, hedge="between", stated_low=10000, stated_high=12000),
]


def _claims_with(index: int, **overrides: Any) -> list[Claim]:
    batch = list(CLAIMS)
    batch[index] = replace(batch[index], **overrides)
    return batch


def _articles_with(index: int, **overrides: Any) -> list[Article]:
    batch = list(ARTICLES)
    batch[index] = replace(batch[index], **overrides)
    return batch


def _only_failure(report: QualityReport) -> str:
    assert not report.success
    assert len(report.failures) == 1, report.failures
    return report.failures[0]


def test_good_batches_pass(kursk_topic: Any) -> None:
    articles = validate_articles(ARTICLES)
    claims = validate_claims(CLAIMS, kursk_topic)
    assert articles == QualityReport(ARTICLES_SUITE, True, len(ARTICLES), [])
    assert claims == QualityReport(CLAIMS_SUITE, True, len(CLAIMS), [])
    require(articles)
    require(claims)


@pytest.mark.parametrize(
    ("batch", "expectation", "column", "shown"),
    [
        (_claims_with(1, metric="tanks_lost"), "to_be_in_set", "on metric", "'tanks_lost'"),
        (_claims_with(1, metric=None), "to_not_be_null", "on metric", "null"),
        (_claims_with(0, hedge="roughly"), "to_be_in_set", "on hedge", "'roughly'"),
        (_claims_with(5, stated_low=13000), "pair_values", "stated_high >= stated_low", "stated_low=13000"),
        (_claims_with(0, value_low=20000), "pair_values", "value_high >= value_low", "value_low=20000"),
        (_claims_with(0, hedge="vague"), "to_be_in_set", "stated_null_iff_vague", "False"),
        (_claims_with(0, stated_low=None, stated_high=None), "to_be_in_set", "stated_null_iff_vague", "False"),
        (_claims_with(0, stated_high=None), "to_be_in_set", "stated_null_iff_vague", "False"),
        (_claims_with(1, claim_id=CLAIMS[0].claim_id), "to_be_unique", "on claim_id", CLAIMS[0].claim_id),
        (_claims_with(1, claim_id=None), "to_not_be_null", "on claim_id", "row 1"),
        (_claims_with(0, char_start=-1), "to_be_between", "on char_start", "-1"),
        (_claims_with(1, char_end=40), "pair_values", "char_end > char_start", "char_end=40"),
        (_claims_with(1, char_end=30), "pair_values", "char_end > char_start", "char_start=40"),
        (_claims_with(2, surface=None), "to_not_be_null", "on surface", CLAIMS[2].claim_id),
        (_claims_with(2, sentence=None), "to_not_be_null", "on sentence", "row 2"),
        (_claims_with(3, extractor_version=None), "to_not_be_null", "on extractor_version", "row 3"),
    ],
    ids=[
        "metric-not-in-catalogue",
        "metric-null",
        "hedge-invalid",
        "stated-low-above-high",
        "value-low-above-high",
        "vague-with-stated-numbers",
        "hedged-without-stated-numbers",
        "only-one-stated-number",
        "duplicate-claim-id",
        "null-claim-id",
        "negative-char-start",
        "empty-span",
        "span-ends-before-start",
        "null-surface",
        "null-sentence",
        "null-extractor-version",
    ],
)
def test_each_claim_rule_fails_on_its_own(
    kursk_topic: Any, batch: list[Claim], expectation: str, column: str, shown: str
) -> None:
    report = validate_claims(batch, kursk_topic)
    assert report.suite == CLAIMS_SUITE
    assert report.evaluated == len(CLAIMS)
    line = _only_failure(report)
    assert expectation in line and column in line and shown in line, line


@pytest.mark.parametrize(
    ("batch", "expectation", "column", "shown"),
    [
        (_articles_with(1, text="x" * 199), "value_lengths_to_be_between", "on text", "'xxx"),
        (_articles_with(1, url="ftp://news.example/2"), "to_match_regex", "on url", "'ftp://news.example/2'"),
        (_articles_with(1, url="news.example/2"), "to_match_regex", "on url", "'news.example/2'"),
        (_articles_with(1, url=None), "to_not_be_null", "on url", "row 1"),
        (_articles_with(1, article_id=A.article_id), "to_be_unique", "on article_id", A.article_id),
        (_articles_with(2, article_id=None), "to_not_be_null", "on article_id", "row 2"),
        (_articles_with(1, content_hash=A.content_hash), "to_be_unique", "on content_hash", A.content_hash[:20]),
        (_articles_with(1, content_hash=None), "to_not_be_null", "on content_hash", "row 1"),
        (_articles_with(0, fetched_at=None), "to_not_be_null", "on fetched_at", A.article_id),
        (_articles_with(0, text=None), "to_not_be_null", "on text", A.article_id),
        (
            _articles_with(1, published_at=datetime(2099, 1, 1, tzinfo=UTC)),
            "to_be_in_set",
            "on published_not_after_fetch",
            "False",
        ),
    ],
    ids=[
        "short-text",
        "non-http-url",
        "url-without-scheme",
        "null-url",
        "duplicate-article-id",
        "null-article-id",
        "duplicate-content-hash",
        "null-content-hash",
        "null-fetched-at",
        "null-text",
        "dated-after-its-fetch",
    ],
)
def test_each_article_rule_fails_on_its_own(batch: list[Article], expectation: str, column: str, shown: str) -> None:
    report = validate_articles(batch)
    assert report.suite == ARTICLES_SUITE
    assert report.evaluated == len(ARTICLES)
    line = _only_failure(report)
    assert expectation in line and column in line and shown in line, line


def test_several_broken_rows_each_get_a_line(kursk_topic: Any) -> None:
    batch = list(CLAIMS)
    batch[0] = replace(batch[0], metric="tanks_lost")
    batch[1] = replace(batch[1], hedge="roughly")
    batch[2] = replace(batch[2], metric="tanks_lost")
    report = validate_claims(batch, kursk_topic)
    assert not report.success
    assert len(report.failures) == 2, report.failures
    metric_line = next(f for f in report.failures if "on metric" in f)
    assert "2 of 6 rows unexpected" in metric_line


def test_require_raises_with_suite_and_failures(kursk_topic: Any) -> None:
    report = validate_claims(_claims_with(1, metric="tanks_lost"), kursk_topic)
    with pytest.raises(QualityError, match=CLAIMS_SUITE) as raised:
        require(report)
    assert "tanks_lost" in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_require_raises_even_without_failure_lines() -> None:
    with pytest.raises(QualityError, match="claimwatch_claims"):
        require(QualityReport(CLAIMS_SUITE, False, 3, []))


@pytest.mark.parametrize(
    ("claims", "expectation", "shown"),
    [
        (_claims_with(0, value_low=-5.0), "to_be_between on value_low", "-5"),
        (_claims_with(5, stated_low=-1.0), "to_be_between on stated_low", "-1"),
        (_claims_with(1, surface="about 99,000"), "to_be_in_set on surface_in_sentence", CLAIMS[1].claim_id),
    ],
    ids=["negative-value", "negative-stated", "surface-not-in-sentence"],
)
def test_new_claim_rules_fail_on_their_own(kursk_topic: Any, claims: list[Claim], expectation: str, shown: str) -> None:
    line = _only_failure(validate_claims(claims, kursk_topic))
    assert expectation in line and shown in line, line


def test_a_figure_above_the_metrics_plausible_max_fails(kursk_topic: Any) -> None:
    metrics = dict(kursk_topic.metrics)
    metrics["troops_deployed"] = metrics["troops_deployed"].model_copy(update={"plausible_max": 100_000})
    topic = kursk_topic.model_copy(update={"metrics": metrics})
    assert validate_claims(CLAIMS, topic).success
    line = _only_failure(validate_claims(_claims_with(0, value_high=250_000), topic))
    assert "plausible_max >= value_top" in line and "value_top=250000" in line, line


def test_article_rules_for_addresses_dates_and_claims_per_page() -> None:
    from datetime import timedelta

    dup = _only_failure(validate_articles(_articles_with(1, canonical_url=A.canonical_url)))
    assert "to_be_unique on canonical_url: 2 of 4" in dup, dup
    skewed = validate_articles(_articles_with(1, published_at=A.fetched_at + timedelta(hours=20)))
    assert skewed.success, skewed.failures  # clocks and time zones: a day of skew is allowed
    late = _only_failure(validate_articles(_articles_with(1, published_at=A.fetched_at + timedelta(days=2))))
    assert "to_be_in_set on published_not_after_fetch" in late, late
    many = [make_claim(A, i) for i in range(501)]
    assert "to_be_between on claim_count" in _only_failure(validate_articles(ARTICLES, many))


def test_a_missing_date_is_a_warning_not_a_failure() -> None:
    report = validate_articles(_articles_with(2, published_at=None))
    assert report.success and report.failures == []
    [warning] = report.warnings
    assert "to_not_be_null on published_at: 1 of 4" in warning
    assert [p.severity for p in report.problems] == ["warning"]


def test_every_expectation_in_the_suite_files_is_critical_or_warning(tmp_path: Any) -> None:
    from pipeline.quality.gate import SUITE_FILES, SUITES_DIR, read_suite

    for file in SUITE_FILES.values():
        suite = read_suite(SUITES_DIR / file)
        assert {e["severity"] for e in suite["expectations"]} <= {"critical", "warning"}
    broken = tmp_path / "s.json"
    broken.write_text('{"name": "s", "expectations": [{"type": "expect_column_values_to_be_unique"}]}')
    with pytest.raises(QualityError, match=r"expectations\[0\] needs severity"):
        read_suite(broken)


def test_one_gate_builds_gx_once_for_many_batches(kursk_topic: Any) -> None:
    from pipeline.quality.gate import Gate

    gate = Gate()
    assert gate.validate_claims(CLAIMS, kursk_topic).success
    engine = gate._engine
    assert not gate.validate_claims(_claims_with(0, hedge="roughly"), kursk_topic).success
    assert gate._engine is engine is not None


def test_empty_batches_succeed_without_importing_gx(monkeypatch: pytest.MonkeyPatch, kursk_topic: Any) -> None:
    # A None entry makes any `import great_expectations` raise, proving the fast path skips it.
    monkeypatch.setitem(sys.modules, "great_expectations", None)
    assert validate_articles([]) == QualityReport(ARTICLES_SUITE, True, 0, [])
    assert validate_claims([], kursk_topic) == QualityReport(CLAIMS_SUITE, True, 0, [])
    require(validate_claims((), kursk_topic))


def test_analytics_switch_defaults_off_but_respects_an_explicit_setting(
    monkeypatch: pytest.MonkeyPatch, kursk_topic: Any
) -> None:
    import os

    monkeypatch.delenv("GX_ANALYTICS_ENABLED", raising=False)
    validate_claims(CLAIMS[:1], kursk_topic)
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "True")
    validate_claims(CLAIMS[:1], kursk_topic)
    assert os.environ["GX_ANALYTICS_ENABLED"] == "True"


def test_gx_runs_without_loading_the_chart_and_statistics_modules_it_never_uses() -> None:
    """In a fresh interpreter: a suite validates while altair and scipy.stats stay unloaded,
    and a deferred module still works in full the moment something uses it."""
    import os
    import subprocess

    code = (
        "import sys\n"
        "from pipeline.quality.gate import validate_articles\n"
        "from tests.unit.factories import make_article\n"
        "assert validate_articles([make_article()]).success\n"
        "print(sorted(type(sys.modules[m]).__name__ for m in ('altair', 'scipy.stats')))\n"
        "from scipy import stats\n"
        "print(round(float(stats.entropy([0.5, 0.5], [0.25, 0.75])), 4), hasattr(sys.modules['scipy.stats'], 'norm'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert out.returncode == 0, out.stderr[-2000:]
    deferred, used = out.stdout.strip().splitlines()
    assert deferred == "['_Deferred', '_Deferred']"
    assert used == "0.1438 True"
