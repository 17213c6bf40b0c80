"""Typed records passed between the stages of the data's journey.

Every stage takes and returns these small frozen dataclasses, never loose
dicts, so a field renamed in one stage fails loudly in the next.  Records
that cross an Airflow task boundary are serialised with ``to_json`` /
``from_json`` (dates as ISO strings).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar, cast, get_args, get_type_hints

Hedge = Literal["exact", "about", "more_than", "at_least", "nearly", "up_to", "at_most", "between", "vague", "ratio"]
HEDGES: tuple[str, ...] = get_args(Hedge)

Severity = Literal["note", "low", "medium", "high"]
SEVERITIES: tuple[str, ...] = get_args(Severity)  # ordered, weakest first

Modality = Literal["actual", "planned"]
Role = Literal["combat", "engineering", "security", "unspecified"]
# How much of ``published_at`` the page or feed gave: a month-only date is stored as the 1st.
DatePrecision = Literal["day", "month", "year", "none"]
# How far after its fetch a page's date may lie (clocks and time zones differ); later is impossible.
FUTURE_DATE_SKEW = timedelta(days=1)

OTHER_METRIC = "other"


def stable_id(*parts: object, length: int = 16) -> str:
    """A short content hash: ids derive from content so re-runs never duplicate rows."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:length]


def claim_key(topic: str, article_id: str, char_start: int, char_end: int, metric: str) -> str:
    """A claim's id: one per topic reading an article, per figure (its offsets) and metric."""
    return stable_id(topic, article_id, char_start, char_end, metric)


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of an RSS/Atom feed: a candidate article not yet fetched."""

    feed_url: str
    url: str
    title: str | None = None
    published_at: datetime | None = None
    guid: str | None = None
    # The outlet the feed names for the item (Google News' <source>), and the aggregator's redirect
    # link the URL was resolved from, kept so the item can be traced back to the feed.
    outlet: str | None = None
    via: str | None = None


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """Raw HTML of an article page as the server sent it."""

    url: str
    final_url: str
    status: int
    html: str
    fetched_at: datetime
    entry: FeedEntry


@dataclass(frozen=True, slots=True)
class Article:
    """Main text and metadata of one article, after boilerplate removal."""

    article_id: str
    url: str
    canonical_url: str
    title: str | None
    outlet: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    text: str
    content_hash: str
    published_precision: DatePrecision | None = None  # None: not recorded ("day" if published_at, else "none")
    # The page or feed gave a date after the fetch: published_at is the fetch time, the note says why.
    published_corrected: bool = False
    published_note: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """One figure in one article: what it counts, how sure the text is, who says it, when.

    ``stated_*`` are the numbers as written (NULL for a vague amount); ``value_*``
    the interpreted interval (``value_high`` None = no upper bound).
    ``char_start``/``char_end`` locate ``surface`` in the article text.
    """

    claim_id: str
    article_id: str
    topic: str
    metric: str
    stated_low: float | None
    stated_high: float | None
    value_low: float | None
    value_high: float | None
    hedge: Hedge
    surface: str
    sentence: str
    char_start: int
    char_end: int
    attributed_to: str | None
    relayed_by: str | None
    refers_to: str | None
    period_start: date | None
    period_end: date | None
    unverified: bool
    modality: Modality
    role: Role
    extractor_version: str
    # The figure's frame: who or what it counts, what happened to them, which part of the running
    # total it gives (total, current, increment, window, rate), and the rule that chose the metric.
    population: str | None = None
    event: str | None = None
    scope: str = "total"
    metric_rule: str | None = None
    source_family: str | None = None  # the topic's family of the originating source (None: no family matched)


@dataclass(frozen=True, slots=True)
class SourcedClaim:
    """A claim with the article facts an alert or a contradiction rule needs."""

    claim: Claim
    url: str
    outlet: str | None
    published_at: datetime | None
    copy_of: str | None = None  # the original article when this claim's article is a relayed copy
    # The article's text hash: what orders articles published at the same moment, so the order (and what
    # the engine finds) follows what they say, not the address they were fetched from.
    content_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Two claims of one metric that cannot both be right (``claim_id`` is the newer)."""

    contradiction_id: str
    claim_id: str
    other_claim_id: str
    topic: str
    metric: str
    severity: Severity
    rule: str
    reason: str
    incident_id: str | None = None  # the incident this pair is evidence of; None for a note


@dataclass(frozen=True, slots=True)
class Alert:
    """One contradiction bound for one route; delivered at most once, retried until it is."""

    alert_id: str
    contradiction_id: str
    topic: str
    metric: str
    severity: Severity
    route_url: str
    payload: dict[str, Any]


# --- JSON round trip for task boundaries ---------------------------------------------

R = TypeVar("R")


def to_json(record: Any) -> dict[str, Any]:
    """Serialise a record (nested records, dates) to JSON-safe primitives."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        out[f.name] = _encode(getattr(record, f.name))
    return out


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return get_type_hints(cls)


def from_json(cls: type[R], data: dict[str, Any]) -> R:
    """Rebuild a record serialised by ``to_json``."""
    hints = _hints(cast(Any, cls))
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        kwargs[f.name] = _decode(hints[f.name], data.get(f.name))
    return cls(**kwargs)


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    kinds = [a for a in (get_args(hint) or (hint,)) if a is not type(None)]
    for kind in kinds:
        if kind is datetime:
            return datetime.fromisoformat(value)
        if kind is date:
            return date.fromisoformat(value)
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            return from_json(kind, value)
    return value


@dataclass(frozen=True, slots=True)
class Skipped:
    """A URL handled without storing an article: why, so it is never fetched again."""

    url: str
    outcome: str  # off_topic | quarantined | a pipeline.ingest.pages kind (paywall, gallery, ...)
    reason: str
    stage: str  # discover | fetch | extract | claims | dedup | relevance | quality
    article_id: str | None = None


NOT_POLLED = "not polled"


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """One poll of one feed.  ``entries`` None = not parsed (unchanged): the last count is kept.
    The validators are what the next poll sends back; an error poll keeps the stored ones."""

    feed_url: str
    status: str  # "ok[ (notes)]", "error: ..." or "not polled: ..."
    entries: int | None
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None
    new_entries: int = 0  # items this topic had never seen: what tells a live feed from a silent one

    @property
    def polled(self) -> bool:
        """False for a feed left unpolled this run (``not polled: ...``): no answer, no failure."""
        return not self.status.startswith(NOT_POLLED)


@dataclass(frozen=True, slots=True)
class ArchivedPage:
    """A fetched page's entry in the raw archive: the bytes are under ``archive/`` by ``sha256``."""

    url: str
    final_url: str
    sha256: str
    content_type: str
    status: int
    fetched_at: datetime
    entry: FeedEntry


@dataclass(frozen=True, slots=True)
class Failure:
    """A URL that failed for now (timeout, 5xx, refused connection): retried later, with backoff."""

    url: str
    stage: str  # discover | fetch
    reason: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing URL is retried: after ``first_delay``, doubling, at most ``max_attempts`` attempts."""

    first_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 5
    max_delay: timedelta = timedelta(days=2)

    def next_retry(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after ``attempts`` failed attempts; None = give up (quarantine)."""
        if attempts >= self.max_attempts:
            return None
        return now + min(self.first_delay * (2 ** (attempts - 1)), self.max_delay)


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything one ingest run of one topic stores, loaded in one transaction."""

    topic: str
    articles: list[Article] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    polls: list[FeedPoll] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    archived: list[ArchivedPage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoadResult:
    articles: int  # stored, near copies included
    claims: int
    duplicates: int  # exact copies, not stored again
    skipped: int
    retrying: int = 0
    given_up: int = 0
    near_duplicates: int = 0  # stored, linked to their original
