"""Data-quality gates for a batch, run with Great Expectations Core before anything is stored.

A batch that breaks a rule here is quarantined whole by the ``validate`` step, so the
rules encode what later stages silently assume (ids unique, metrics from the topic's
catalogue, intervals the right way round).  GX is imported lazily inside the call:
importing it takes seconds, and DAG files import this module at parse time.  The
pandas route is used because GX's SQL datasource is broken on DuckDB.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import os
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from pipeline.errors import PermanentError
from pipeline.records import FUTURE_DATE_SKEW, HEDGES, OTHER_METRIC, Article, Claim

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.topics import TopicConfig

ARTICLES_SUITE = "claimwatch_articles"
CLAIMS_SUITE = "claimwatch_claims"
MIN_TEXT_CHARS = 200
# Computed column: True when the stated numbers are missing exactly for vague claims.
STATED_NULL_IFF_VAGUE = "stated_null_iff_vague"
# Computed column: True unless the article is dated after its fetch (beyond the allowed skew).
PUBLISHED_BY_FETCH = "published_not_after_fetch"
_SAMPLES = 3  # unexpected values quoted per failure line
# Imported at GX import time only for the KL-divergence and KS-test expectations (charts and
# statistics), which these suites never use: about 80 MB of resident memory.
_DEFERRED_BY_GX = ("altair", "scipy.stats")

# (GX expectation class name, keyword arguments); instantiated once GX is imported.
Spec = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class QualityReport:
    """Outcome of one suite on one batch; ``failures`` has one readable line per failed expectation."""

    suite: str
    success: bool
    evaluated: int
    failures: list[str]


class QualityError(PermanentError, ValueError):
    """A batch failed its quality suite; the message names the suite and each failure."""


def require(report: QualityReport) -> None:
    """Raise so the Airflow task fails (and the batch is not loaded) when the suite failed."""
    if report.success:
        return
    lines = "\n".join(f"  - {line}" for line in report.failures) or "  - (no failure details)"
    raise QualityError(f"{report.suite} failed on {report.evaluated} rows:\n{lines}")


def validate_articles(articles: Sequence[Article]) -> QualityReport:
    """Check the articles of a batch: ids and content hashes unique, http(s) urls, real text, no
    publication date after the fetch (extraction replaces such a date; this holds it to that)."""
    if not articles:
        return QualityReport(ARTICLES_SUITE, True, 0, [])
    df = _frame(articles, Article)
    df[PUBLISHED_BY_FETCH] = [
        a.published_at is None or a.fetched_at is None or a.published_at <= a.fetched_at + FUTURE_DATE_SKEW
        for a in articles
    ]
    specs: list[Spec] = [
        ("ExpectColumnValuesToNotBeNull", {"column": "article_id"}),
        ("ExpectColumnValuesToBeUnique", {"column": "article_id"}),
        ("ExpectColumnValuesToNotBeNull", {"column": "url"}),
        ("ExpectColumnValuesToMatchRegex", {"column": "url", "regex": r"^https?://"}),
        ("ExpectColumnValuesToNotBeNull", {"column": "text"}),
        ("ExpectColumnValueLengthsToBeBetween", {"column": "text", "min_value": MIN_TEXT_CHARS}),
        ("ExpectColumnValuesToNotBeNull", {"column": "content_hash"}),
        ("ExpectColumnValuesToBeUnique", {"column": "content_hash"}),
        ("ExpectColumnValuesToNotBeNull", {"column": "fetched_at"}),
        ("ExpectColumnValuesToBeInSet", {"column": PUBLISHED_BY_FETCH, "value_set": [True]}),
    ]
    return _run_suite(ARTICLES_SUITE, df, specs, id_column="article_id")


def validate_claims(claims: Sequence[Claim], topic: TopicConfig) -> QualityReport:
    """Check the claims of a batch against the record invariants and the topic's metric catalogue."""
    if not claims:
        return QualityReport(CLAIMS_SUITE, True, 0, [])
    df = _frame(claims, Claim)
    for column in ("stated_low", "stated_high", "value_low", "value_high"):
        df[column] = df[column].astype("float64")  # all-None columns would stay object dtype
    vague = df["hedge"].eq("vague")
    df[STATED_NULL_IFF_VAGUE] = ((df["stated_low"].isna() == vague) & (df["stated_high"].isna() == vague)).astype(bool)
    either_missing = "either_value_is_missing"
    specs: list[Spec] = [
        ("ExpectColumnValuesToNotBeNull", {"column": "claim_id"}),
        ("ExpectColumnValuesToBeUnique", {"column": "claim_id"}),
        # in-set checks skip nulls, so the non-optional fields also get a not-null check
        ("ExpectColumnValuesToNotBeNull", {"column": "metric"}),
        ("ExpectColumnValuesToBeInSet", {"column": "metric", "value_set": sorted({*topic.metrics, OTHER_METRIC})}),
        ("ExpectColumnValuesToNotBeNull", {"column": "hedge"}),
        ("ExpectColumnValuesToBeInSet", {"column": "hedge", "value_set": list(HEDGES)}),
        (
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "stated_high", "column_B": "stated_low", "or_equal": True, "ignore_row_if": either_missing},
        ),
        (
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "value_high", "column_B": "value_low", "or_equal": True, "ignore_row_if": either_missing},
        ),
        ("ExpectColumnValuesToNotBeNull", {"column": "char_start"}),
        ("ExpectColumnValuesToNotBeNull", {"column": "char_end"}),
        ("ExpectColumnValuesToBeBetween", {"column": "char_start", "min_value": 0}),
        (
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "char_end", "column_B": "char_start", "or_equal": False, "ignore_row_if": either_missing},
        ),
        ("ExpectColumnValuesToNotBeNull", {"column": "surface"}),
        ("ExpectColumnValuesToNotBeNull", {"column": "sentence"}),
        ("ExpectColumnValuesToNotBeNull", {"column": "extractor_version"}),
        ("ExpectColumnValuesToBeInSet", {"column": STATED_NULL_IFF_VAGUE, "value_set": [True]}),
    ]
    return _run_suite(CLAIMS_SUITE, df, specs, id_column="claim_id")


# --- helpers ---------------------------------------------------------------------------


def _frame(records: Sequence[Any], cls: type) -> pd.DataFrame:
    """One row per record, one column per dataclass field (shallow: no deep copy like ``asdict``)."""
    import pandas as pd

    names = [f.name for f in fields(cls)]
    return pd.DataFrame([[getattr(r, n) for n in names] for r in records], columns=names)


class _Deferred(types.ModuleType):
    """Stands in for a module until someone reads an attribute of it, then imports the real one."""

    def __getattr__(self, attr: str) -> Any:
        real = sys.modules.get(self.__name__)
        if real is self:
            del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
        return getattr(real, attr)


def _defer_imports(names: Sequence[str]) -> None:
    """Let ``import x`` of these modules succeed without loading them until first use.

    GX imports every expectation class eagerly; the ones we never run pull in
    altair and scipy.stats at module level, though they only use them inside
    methods.  A module already imported is left alone, and a deferred one
    loads in full the moment any code touches it, so nothing behaves differently.
    """
    for name in names:
        if name in sys.modules:
            continue
        stand_in = _Deferred(name)
        sys.modules[name] = stand_in
        parent, _, child = name.rpartition(".")
        if parent:  # `from scipy import stats` looks for the attribute on the package
            setattr(importlib.import_module(parent), child, stand_in)


def _import_gx() -> Any:
    """Import GX quietly, with usage statistics off, without overriding the operator's explicit settings."""
    if "great_expectations" not in sys.modules:
        _defer_imports(_DEFERRED_BY_GX)
    # The name GX 1.x documents (AbstractDataContext.enable_analytics).  The installed 1.24.1
    # ships no analytics code, so this is a guard in case a later release brings it back.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:
        gx_logger.setLevel(logging.WARNING)  # hides the import-time "Skipping registering function" INFO lines
    import great_expectations as gx

    # This GX module pins its own logger to INFO on import and logs a line per ephemeral
    # context; let it inherit from "great_expectations" like every other GX logger.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.NOTSET)
    return gx


def _run_suite(name: str, df: pd.DataFrame, specs: Sequence[Spec], id_column: str) -> QualityReport:
    """Validate ``df`` in a fresh ephemeral context (no state survives the call) and summarise it."""
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm bars in task logs
    batch = (
        context.data_sources.add_pandas(f"{name}_source")
        .add_dataframe_asset(f"{name}_rows")
        .add_batch_definition_whole_dataframe("whole_batch")
        .get_batch(batch_parameters={"dataframe": df})
    )
    suite = gx.ExpectationSuite(name=name)
    for class_name, kwargs in specs:
        suite.add_expectation(getattr(gx.expectations, class_name)(**kwargs))
    result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": _SAMPLES})
    failures = [_describe(r, df, id_column) for r in result.results if not r.success]
    return QualityReport(name, bool(result.success) and not failures, len(df), failures)


def _describe(result: Any, df: pd.DataFrame, id_column: str) -> str:
    """One line for a failed expectation: type, column(s), how many rows, a few offending values."""
    config = result.expectation_config
    kwargs = config.kwargs
    if "column" in kwargs:
        where = kwargs["column"]
    else:
        op = ">=" if kwargs.get("or_equal") else ">"
        where = f"{kwargs['column_A']} {op} {kwargs['column_B']}"
    head = f"{config.type} on {where}"
    error = _exception_message(result.exception_info)
    if error:
        return f"{head}: raised {error}"
    info = result.result or {}
    count = info.get("unexpected_count")
    total = info.get("element_count", len(df))
    values = info.get("partial_unexpected_list") or []
    rows = info.get("partial_unexpected_index_list") or []
    samples = []
    for i, value in enumerate(values[:_SAMPLES]):
        if isinstance(value, tuple) and len(value) == 2 and "column_A" in kwargs:  # pairs yield (A, B)
            sample = f"{kwargs['column_A']}={_fmt(value[0])}, {kwargs['column_B']}={_fmt(value[1])}"
        else:
            sample = _fmt(value)
        row = rows[i] if i < len(rows) else None
        if isinstance(row, int) and 0 <= row < len(df):
            where_row = f"row {row}"
            if id_column != kwargs.get("column"):
                where_row += f", {id_column}={_fmt(df[id_column].iloc[row])}"
            sample += f" ({where_row})"
        samples.append(sample)
    counted = f"{count} of {total} rows unexpected" if count is not None else "failed"
    return f"{head}: {counted}" + (f", e.g. {', '.join(samples)}" if samples else "")


def _exception_message(info: Any) -> str | None:
    """GX reports a crashed expectation as (possibly nested, per metric) exception dicts."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "an exception")
    for nested in info.values():
        message = _exception_message(nested)
        if message:
            return message
    return None


def _fmt(value: Any) -> str:
    """A short, stable rendering of a cell: numpy scalars unwrapped, missing as null, long text cut."""
    import pandas as pd

    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(TypeError, ValueError):  # .item() of a non-scalar array
            value = value.item()
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
