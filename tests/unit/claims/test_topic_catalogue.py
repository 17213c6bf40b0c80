"""A second topic needs a YAML file, not code: its catalogue alone decides populations, events and scope."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from pipeline.claims import extract_claims
from pipeline.topics import TopicConfig, TopicConfigError, load_topic
from tests.unit.factories import make_article

EPIDEMIC = """
name: measles
title: Measles outbreak in the northern provinces
feeds:
  - url: https://health.example.org/rss
relevance:
  terms: [measles, outbreak, vaccination]
metrics:
  cases:
    description: Confirmed measles cases (cumulative).
    population: residents
    event: infected
    unit: persons
    cumulative: true
    cues: [cases, infections, patients, children, adults, people]
    events: [infected, fell ill, caught the disease]
  deaths:
    description: Measles deaths.
    population: residents
    event: died
    unit: persons
    cumulative: true
    parent: cases
    tolerance: 0.2
    events: [died, deaths, death toll, fatalities]
  hospitalised:
    description: Patients in hospital now.
    population: residents
    event: hospitalised
    unit: persons
    cumulative: false
    parent: cases
    events: [in hospital, hospitalised, admitted to hospital]
  doses_given:
    description: Vaccine doses administered.
    population: vaccine_doses
    event: administered
    unit: doses
    cumulative: true
    planned: other
    cues: [doses, jabs, shots]
other_populations: [Canadian, Mexican]
other_events: [expired, thrown away]
"""


@pytest.fixture
def epidemic(tmp_path: Path) -> TopicConfig:
    path = tmp_path / "measles.yaml"
    path.write_text(EPIDEMIC, encoding="utf-8")
    return load_topic(path)


def _metrics(text: str, topic: TopicConfig) -> dict[str, tuple[str, str]]:
    article = make_article(1, text=text, published_at=datetime(2026, 3, 2, tzinfo=UTC))
    return {c.surface: (c.metric, c.scope) for c in extract_claims(article, topic)}


def test_an_epidemic_topic_reads_its_own_populations_and_events(epidemic: TopicConfig) -> None:
    text = (
        "The ministry has now recorded 4,870 cases across the three provinces.\n"
        "Of those infected, 23 children have died, and roughly 310 patients are still in hospital.\n"
        "Health workers have given more than 1.2 million doses since January.\n"
        "The death toll among adults stands at 9, officials said.\n"
        "Some 200 Canadian cases are being tracked separately."
    )
    assert _metrics(text, epidemic) == {
        "4,870": ("cases", "total"),
        "23": ("deaths", "total"),
        "roughly 310": ("hospitalised", "current"),
        "more than 1.2 million": ("doses_given", "total"),
        "9": ("deaths", "total"),
        "Some 200": ("other", "total"),
    }


def test_the_epidemic_catalogue_keeps_windows_plans_and_other_events_apart(epidemic: TopicConfig) -> None:
    text = (
        "Clinics reported 640 new infections in the past week alone.\n"
        "The region plans to deliver 300,000 doses next month.\n"
        "About 40,000 doses expired in storage."
    )
    assert _metrics(text, epidemic) == {
        "640": ("other", "window"),
        "300,000": ("other", "total"),
        "About 40,000": ("other", "total"),
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda m: m["deaths"].update(events=[]), "metrics.deaths", "at least one entry in cues"),
        (lambda m: m["doses_given"].update(planned="sometimes"), "metrics.doses_given.planned", "'metric' or 'other'"),
        (lambda m: m["cases"].update(tasks=["testing"]), "metrics.cases.tasks", "only a part"),
        (lambda m: m["cases"].update(cues=["cases", " "]), "metrics.cases", "must not be empty"),
    ],
)
def test_catalogue_errors_name_the_file_and_the_field(tmp_path: Path, change, field: str, message: str) -> None:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load(EPIDEMIC)
    change(raw["metrics"])
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(TopicConfigError) as err:
        load_topic(path)
    text = str(err.value)
    assert str(path) in text and field in text and message in text, text
