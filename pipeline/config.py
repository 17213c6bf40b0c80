"""Topic configuration: one YAML file per topic, validated once and passed in.

A second topic is a second YAML file.  Errors name the file, the field and
what is wrong, so an operator can fix a typo without reading code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.records import SEVERITIES, Severity


class TopicConfigError(ValueError):
    """A topic file that cannot be used, with the file and field at fault."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedSpec(_Strict):
    """``url`` may hold ``${VAR}`` references (a token in the query): expanded when the feed is read."""

    url: str
    name: str | None = None

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"feed url must be http(s), got {url!r}")
        return url


class MetricSpec(_Strict):
    """One catalogue metric: an event applied to a population ("North Korean troops" x "killed").

    ``cues`` are the nouns that name the population counted ("troops", "shells"); ``events`` the
    words that say what happened to it ("killed", "death toll", "wounded").  When both are in a
    figure's clause the event outranks the noun, so "soldiers killed" is a toll, not a deployment.
    ``context``, when set, names words one of which must be in the sentence too ("residents" count
    as displaced only where they fled).  ``tasks`` are purpose phrases that make the parent's
    generic noun this part ("engineers to clear mines" are deminers).  ``planned`` says what a
    plan or forecast of this metric becomes: the metric (with modality ``planned``) or ``other``.
    """

    description: str
    unit: str
    cumulative: bool
    population: str | None = None  # who or what is counted; defaults to the metric's own name
    event: str = "counted"  # what happened to the population: sent, killed, supplied, ...
    cues: list[str] = []
    events: list[str] = []
    context: list[str] = []
    tasks: list[str] = []
    parent: str | None = None
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.10
    role: str = "unspecified"
    planned: Literal["metric", "other"] = "metric"

    @model_validator(mode="after")
    def _has_cues(self) -> MetricSpec:
        if not self.cues and not self.events:
            raise ValueError("a metric needs at least one entry in cues (nouns) or events (what happened)")
        blank = [c for c in [*self.cues, *self.events, *self.tasks, *self.context] if not c.strip()]
        if blank:
            raise ValueError("cues, events, tasks and context entries must not be empty")
        return self


class RelevanceSpec(_Strict):
    """An article is on topic when it mentions at least ``min_matches`` distinct terms
    and, if ``required`` is set, at least one of those."""

    terms: Annotated[list[str], Field(min_length=1)]
    required: list[str] = []
    min_matches: Annotated[int, Field(ge=1)] = 1


class AlertRoute(_Strict):
    """``timeout_seconds`` bounds one send; it must exceed the receiver's answer time, or a slow
    receiver that did get the alert is counted as a failure and sent it again (same idempotency key)."""

    url: str
    min_severity: Severity = "low"
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0

    @field_validator("url")
    @classmethod
    def _has_scheme(cls, url: str) -> str:
        if "://" not in url and not url.startswith("file:"):
            raise ValueError(
                f"alert url needs a scheme (file:alerts.jsonl, file:///abs/path or an Apprise URL), got {url!r}"
            )
        return url


class FetchSpec(_Strict):
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 20.0
    max_bytes: Annotated[int, Field(gt=0)] = 5_000_000
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff_seconds: Annotated[float, Field(ge=0)] = 1.0
    max_articles_per_run: Annotated[int, Field(gt=0)] = 200
    user_agent: str = "claimwatch/0.1 (+https://github.com/claimwatch)"
    # A URL that fails for now is retried on later runs after this delay, doubling, then quarantined.
    url_retry_minutes: Annotated[float, Field(ge=0)] = 60.0
    max_url_attempts: Annotated[int, Field(ge=1, le=20)] = 5


class FeedHealthSpec(_Strict):
    """When a feed is worth an operations alert.

    ``failed_polls``: this many failed polls in a row make a feed ``broken``.
    ``silence_factor`` and ``min_intervals``: a feed that answers but has listed
    nothing new for more than ``silence_factor`` times its median interval between
    new items is ``silent``; judged only once ``min_intervals`` such intervals are
    known, so a young or irregular feed is not called silent on thin evidence.
    ``history_polls``: how many recent polls per feed the verdict reads.
    """

    failed_polls: Annotated[int, Field(ge=1, le=100)] = 3
    silence_factor: Annotated[float, Field(gt=1)] = 5.0
    min_intervals: Annotated[int, Field(ge=1)] = 3
    history_polls: Annotated[int, Field(ge=10, le=10_000)] = 500


class TopicConfig(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    title: str
    allow_private_hosts: bool = False
    feeds: Annotated[list[FeedSpec], Field(min_length=1)]
    relevance: RelevanceSpec
    metrics: Annotated[dict[str, MetricSpec], Field(min_length=1)]
    alerts: list[AlertRoute] = []
    # Operations alerts (a failed run, a broken or silent feed): never sent on the contradiction routes.
    ops_alerts: list[AlertRoute] = []
    feed_health: FeedHealthSpec = FeedHealthSpec()
    fetch: FetchSpec = FetchSpec()
    # Words in a counted noun phrase that put it in another population ("Russian engineering troops").
    other_populations: list[str] = []
    # Predicates that make a counted figure something else ("2,000 wounded sent home" are repatriated).
    other_events: list[str] = []

    @model_validator(mode="after")
    def _parents_exist(self) -> TopicConfig:
        for name, spec in self.metrics.items():
            if spec.parent is not None and spec.parent not in self.metrics:
                raise ValueError(f"metrics.{name}.parent names unknown metric {spec.parent!r}")
            if spec.tasks and spec.parent is None:
                raise ValueError(f"metrics.{name}.tasks: only a part (a metric with a parent) can have tasks")
        return self


def load_topic(path: str | Path) -> TopicConfig:
    """Read and validate one topic file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TopicConfigError(f"{path}: topic file not found") from None
    except yaml.YAMLError as exc:
        raise TopicConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TopicConfigError(f"{path}: expected a mapping at the top level")
    return parse_topic(raw, source=str(path))


def parse_topic(raw: dict[str, object], source: str = "<topic>") -> TopicConfig:
    try:
        return TopicConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise TopicConfigError(f"{source}: {problems}") from None


__all__ = [
    "SEVERITIES",
    "AlertRoute",
    "FeedHealthSpec",
    "FeedSpec",
    "FetchSpec",
    "MetricSpec",
    "RelevanceSpec",
    "TopicConfig",
    "TopicConfigError",
    "load_topic",
    "parse_topic",
]
