"""Data-quality gates for a batch, run with Great Expectations Core before anything is stored.

The expectation suites are the JSON files in ``suites/`` (GX suite definitions, one per
table a batch writes), versioned with the code and readable without it.  Each expectation
is ``critical`` (its offending articles are quarantined with their claims) or ``warning``
(reported, and the rows load).  A ``Gate`` builds one GX context and the suites the first
time it validates rows and reuses them for every later batch, so a process pays GX's
start-up once.  GX is imported lazily: importing it takes seconds, and DAG files import
this module at parse time.  The pandas route is used because GX's SQL datasource is broken
on DuckDB.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import math
import os
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import PermanentError
from pipeline.records import FUTURE_DATE_SKEW, HEDGES, OTHER_METRIC, Article, Claim

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.topics import TopicConfig

SUITES_DIR = Path(__file__).with_name("suites")
ARTICLES_SUITE = "claimwatch_articles"
CLAIMS_SUITE = "claimwatch_claims"
SUITE_FILES = {ARTICLES_SUITE: "articles.json", CLAIMS_SUITE: "claims.json"}
MIN_TEXT_CHARS = 200
# Computed columns the suites refer to (see the suites' notes).
STATED_NULL_IFF_VAGUE = "stated_null_iff_vague"
SURFACE_IN_SENTENCE = "surface_in_sentence"
PLAUSIBLE_MAX = "plausible_max"
VALUE_TOP = "value_top"
CLAIM_COUNT = "claim_count"
# True unless the article is dated after its fetch beyond the skew extraction allows (it replaces such dates).
PUBLISHED_BY_FETCH = "published_not_after_fetch"
CRITICAL = "critical"
WARNING = "warning"
_SAMPLES = 3  # offending values quoted per failure line
# Imported at GX import time only for the KL-divergence and KS-test expectations (charts and
# statistics), which these suites never use: about 80 MB of resident memory.
_DEFERRED_BY_GX = ("altair", "scipy.stats")


@dataclass(frozen=True)
class Problem:
    """One failed expectation: what it checks, how bad, how many rows, and which articles they belong to.

    ``article_ids`` is empty and ``attributable`` False when some offending row names no article
    (or the expectation raised): then no single article can be blamed and the batch is held whole.
    """

    suite: str
    expectation: str  # the GX type and its column(s), e.g. "expect_column_values_to_be_in_set on metric"
    severity: str  # critical | warning
    count: int | None
    total: int
    samples: tuple[str, ...]
    article_ids: tuple[str, ...]
    attributable: bool
    error: str | None = None

    @property
    def line(self) -> str:
        """The readable form: type, column(s), how many rows, a few offending values and rows."""
        if self.error:
            return f"{self.expectation}: raised {self.error}"
        counted = f"{self.count} of {self.total} rows unexpected" if self.count is not None else "failed"
        return f"{self.expectation}: {counted}" + (f", e.g. {', '.join(self.samples)}" if self.samples else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "expectation": self.expectation,
            "severity": self.severity,
            "count": self.count,
            "total": self.total,
            "samples": list(self.samples),
            "article_ids": list(self.article_ids),
            "attributable": self.attributable,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Problem:
        return cls(
            raw["suite"], raw["expectation"], raw["severity"], raw["count"], raw["total"], tuple(raw["samples"]),
            tuple(raw["article_ids"]), raw["attributable"], raw.get("error"),
        )  # fmt: skip


@dataclass(frozen=True)
class QualityReport:
    """Outcome of one suite on one batch: ``failures`` (critical) and ``warnings``, one readable line each."""

    suite: str
    success: bool
    evaluated: int
    failures: list[str]
    warnings: list[str] = field(default_factory=list)
    problems: tuple[Problem, ...] = ()
    result: Any = field(default=None, compare=False, repr=False)  # GX's own result, for Data Docs


class QualityError(PermanentError, ValueError):
    """A batch failed its quality suite; the message names the suite and each failure."""


def require(report: QualityReport) -> None:
    """Raise when the suite failed critically (warnings never raise)."""
    if report.success:
        return
    lines = "\n".join(f"  - {line}" for line in report.failures) or "  - (no failure details)"
    raise QualityError(f"{report.suite} failed on {report.evaluated} rows:\n{lines}")


def suite_parameters(topic: TopicConfig) -> dict[str, Any]:
    """The values the suite files leave to the topic and the record vocabulary (``$PARAMETER``)."""
    return {"metrics": sorted({*topic.metrics, OTHER_METRIC}), "hedges": list(HEDGES)}


class Gate:
    """The quality gate of one process: a GX context and the suites, built on first use, then reused.

    Pass one gate to every validation a process makes (a step, a release, a benchmark);
    empty batches never start GX.
    """

    def __init__(self, suites_dir: Path = SUITES_DIR) -> None:
        self.suites_dir = suites_dir
        self._engine: _Engine | None = None

    def validate_articles(self, articles: Sequence[Article], claims: Sequence[Claim] = ()) -> QualityReport:
        """The articles suite: unique ids, addresses and texts, http(s) urls, real text, dates, claims per page."""
        if not articles:
            return QualityReport(ARTICLES_SUITE, True, 0, [])
        df = _frame(articles, Article)
        counts: dict[str, int] = {}
        for c in claims:
            counts[c.article_id] = counts.get(c.article_id, 0) + 1
        df[CLAIM_COUNT] = [counts.get(a.article_id, 0) for a in articles]
        df[PUBLISHED_BY_FETCH] = [
            a.published_at is None or a.fetched_at is None or a.published_at <= a.fetched_at + FUTURE_DATE_SKEW
            for a in articles
        ]
        return self._engine_now().run(ARTICLES_SUITE, df, "article_id", {})

    def validate_claims(self, claims: Sequence[Claim], topic: TopicConfig) -> QualityReport:
        """The claims suite: record invariants, the topic's catalogue and plausible ranges, quoted surfaces."""
        if not claims:
            return QualityReport(CLAIMS_SUITE, True, 0, [])
        return self._engine_now().run(CLAIMS_SUITE, claims_frame(claims, topic), "article_id", suite_parameters(topic))

    def _engine_now(self) -> _Engine:
        if self._engine is None:
            self._engine = _Engine.start(self.suites_dir)
        return self._engine


def validate_articles(articles: Sequence[Article], claims: Sequence[Claim] = ()) -> QualityReport:
    """One-off check with a gate of its own; a process validating more than once keeps a ``Gate``."""
    return Gate().validate_articles(articles, claims)


def validate_claims(claims: Sequence[Claim], topic: TopicConfig) -> QualityReport:
    """One-off check with a gate of its own; a process validating more than once keeps a ``Gate``."""
    return Gate().validate_claims(claims, topic)


def claims_frame(claims: Sequence[Claim], topic: TopicConfig) -> pd.DataFrame:
    """The claims as a frame with the computed columns the claims suite checks."""
    df = _frame(claims, Claim)
    for column in ("stated_low", "stated_high", "value_low", "value_high"):
        df[column] = df[column].astype("float64")  # all-None columns would stay object dtype
    vague = df["hedge"].eq("vague")
    df[STATED_NULL_IFF_VAGUE] = ((df["stated_low"].isna() == vague) & (df["stated_high"].isna() == vague)).astype(bool)
    # None when either side is missing: the not-null expectations report those, once.
    df[SURFACE_IN_SENTENCE] = [
        None if c.surface is None or c.sentence is None else c.surface.casefold() in c.sentence.casefold()
        for c in claims
    ]
    ceilings = {name: spec.plausible_max for name, spec in topic.metrics.items()}
    df[PLAUSIBLE_MAX] = [ceilings.get(c.metric) for c in claims]
    df[PLAUSIBLE_MAX] = df[PLAUSIBLE_MAX].astype("float64")
    df[VALUE_TOP] = df["value_high"].fillna(df["value_low"])
    return df


@dataclass
class _Engine:
    """GX itself: the ephemeral context's whole-dataframe batch definition and the built suites."""

    batch_definition: Any
    suites: dict[str, Any]

    @classmethod
    def start(cls, suites_dir: Path) -> _Engine:
        gx = _import_gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm bars in task logs
        definition = (
            context.data_sources.add_pandas("claimwatch_batch")
            .add_dataframe_asset("rows")
            .add_batch_definition_whole_dataframe("whole_batch")
        )
        suites = {name: gx.ExpectationSuite(**read_suite(suites_dir / file)) for name, file in SUITE_FILES.items()}
        return cls(definition, suites)

    def run(self, name: str, df: pd.DataFrame, id_column: str, parameters: dict[str, Any]) -> QualityReport:
        df = df.reset_index(drop=True)  # row labels are positions, so offending rows map back to records
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": df})
        result = batch.validate(
            self.suites[name],
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": _SAMPLES},
            expectation_parameters=parameters,
        )
        problems = tuple(_problem(name, r, df, id_column) for r in result.results if not r.success)
        failures = [p.line for p in problems if p.severity != WARNING]
        warnings = [p.line for p in problems if p.severity == WARNING]
        return QualityReport(name, not failures, len(df), failures, warnings, problems, result)


def read_suite(path: Path) -> dict[str, Any]:
    """A suite file as the keyword arguments of ``gx.ExpectationSuite``; a broken file names itself."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise QualityError(f"{path}: not a readable expectation suite: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("expectations"), list) or "name" not in raw:
        raise QualityError(f"{path}: an expectation suite needs a name and a list of expectations")
    for i, item in enumerate(raw["expectations"]):
        severity = item.get("severity") if isinstance(item, dict) else None
        if severity not in (CRITICAL, WARNING):
            raise QualityError(f"{path}: expectations[{i}] needs severity critical or warning, got {severity!r}")
    return {k: raw[k] for k in ("name", "expectations", "meta") if k in raw}


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


def _problem(suite: str, result: Any, df: pd.DataFrame, id_column: str) -> Problem:
    """A failed expectation as a Problem: its rows mapped back to their articles, a few quoted."""
    config = result.expectation_config
    kwargs = config.kwargs
    if "column" in kwargs:
        where = kwargs["column"]
    else:
        op = ">=" if kwargs.get("or_equal") else ">"
        where = f"{kwargs['column_A']} {op} {kwargs['column_B']}"
    severity = getattr(config.severity, "value", config.severity) or CRITICAL
    head = f"{config.type} on {where}"
    error = _exception_message(result.exception_info)
    if error:
        return Problem(suite, head, severity, None, len(df), (), (), False, error)
    info = result.result or {}
    rows = [r for r in info.get("unexpected_index_list") or [] if isinstance(r, int) and 0 <= r < len(df)]
    ids = [df[id_column].iat[r] for r in rows]
    count = info.get("unexpected_count")
    attributable = bool(rows) and len(rows) == (count or 0) and all(isinstance(i, str) for i in ids)
    values = info.get("unexpected_list") or info.get("partial_unexpected_list") or []
    samples = []
    for i, value in enumerate(values[:_SAMPLES]):
        if isinstance(value, tuple) and len(value) == 2 and "column_A" in kwargs:  # pairs yield (A, B)
            sample = f"{kwargs['column_A']}={_fmt(value[0])}, {kwargs['column_B']}={_fmt(value[1])}"
        else:
            sample = _fmt(value)
        if i < len(rows):
            where_row = f"row {rows[i]}"
            for column in dict.fromkeys(("claim_id", id_column)):
                if column in df.columns and column != kwargs.get("column"):
                    where_row += f", {column}={_fmt(df[column].iat[rows[i]])}"
            sample += f" ({where_row})"
        samples.append(sample)
    article_ids = tuple(sorted({i for i in ids if isinstance(i, str)})) if attributable else ()
    return Problem(suite, head, severity, count, int(info.get("element_count", len(df))), tuple(samples),
                   article_ids, attributable)  # fmt: skip


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
