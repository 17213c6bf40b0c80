"""The contradiction engine alone, fed the labelled claims of real reporting (no extraction).

Metric, hedge, numbers and source family come from the labels, the date from
the article's publication date, the sentence from the article text: so what
this scores is the engine, not the extractor.  A labelled pair is found when
an incident links the two figures (the figures, not necessarily the same
mentions: the engine links one mention of each re-reported figure).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.app.evaluation import load_corpus
from pipeline.claims.intervals import read_figure
from pipeline.detection.engine import Engine
from pipeline.detection.histories import figure_key
from pipeline.detection.pairs import scope_of
from pipeline.records import Article, Claim, SourcedClaim, severity_rank
from pipeline.topics import TopicConfig
from tests.conftest import SHARED_DIR, require_path

_VAGUE_BASES = (("million", 1e6), ("thousand", 1e3), ("hundred", 1e2), ("dozen", 12.0))
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“])")


@pytest.fixture(scope="module")
def realdev() -> Path:
    return require_path(SHARED_DIR / "eval" / "realdev", "labelled real reporting (development set)")


def _sentence(text: str, surface: str) -> tuple[str, int]:
    at = text.find(surface)
    if at == -1:
        at = text.lower().find(surface.lower())
    if at == -1:
        return surface, 0
    starts = [0, *(m.end() for m in _SENTENCE_END.finditer(text))]
    start = max(s for s in starts if s <= at)
    ends = [m.start() for m in _SENTENCE_END.finditer(text) if m.start() >= at + len(surface)]
    return text[start : ends[0] if ends else len(text)], at


def _claim(label: dict[str, Any], article: Article, topic: TopicConfig) -> SourcedClaim:
    metric, hedge = label["metric"], label["hedge"]
    low, high = label.get("stated_low"), label.get("stated_high")
    if hedge == "vague":
        surface = label["surface"].lower()
        base = next((b for word, b in _VAGUE_BASES if word in surface), 1.0)
        value_low, value_high = base, base * 100
    elif hedge == "ratio" or low is None:
        value_low, value_high = low, high
    else:
        spec = topic.metrics.get(metric)
        hard = read_figure(hedge, low, high, spec.tolerance if spec else 0.10).hard
        value_low, value_high = hard
    sentence, at = _sentence(article.text, label["surface"])
    refers = (label.get("refers_to") or "").lower()
    claim = Claim(
        claim_id=label["claim_id"],
        article_id=article.article_id,
        topic=topic.name,
        metric=metric,
        stated_low=low,
        stated_high=high,
        value_low=value_low,
        value_high=value_high,
        hedge=hedge,
        surface=label["surface"],
        sentence=sentence,
        char_start=at,
        char_end=at + len(label["surface"]),
        attributed_to=label.get("attributed_to"),
        relayed_by=None,
        refers_to=label.get("refers_to"),
        period_start=None,
        period_end=None,
        unverified=bool(label.get("unverified")),
        modality="planned" if "planned" in refers else "actual",
        role="unspecified",
        extractor_version="labels",
        source_family=label.get("attribution_key"),
    )
    return SourcedClaim(claim, article.url, article.outlet, article.published_at)


def test_engine_on_labelled_claims_finds_the_contradictions_and_little_else(
    realdev: Path, kursk_topic: TopicConfig
) -> None:
    seeds = require_path(SHARED_DIR / "eval" / "seeds", "labelled seed corpus")
    labels = json.loads((realdev / "labels.json").read_text(encoding="utf-8"))
    articles = {a.article_id: a for folder in (realdev, seeds) for a in load_corpus(folder)}
    claims = {c["claim_id"]: _claim(c, articles[c["article_id"]], kursk_topic) for c in labels["claims"]}

    engine = Engine(kursk_topic)
    # Fed in four waves by publication date, as the pipeline would meet them.
    ordered = sorted(claims.values(), key=lambda s: (s.published_at, s.claim.article_id, s.claim.char_start))
    waves = [ordered[len(ordered) * k // 4 : len(ordered) * (k + 1) // 4] for k in range(4)]
    evidence = [e for wave in waves for e in engine.process(wave).evidence]
    raised = [e for e in evidence if e.contradiction.severity != "note"]
    incidents = {i.incident_id: i for i in engine.incidents.values() if severity_rank(i.severity) >= 1}

    def node(claim_id: str) -> str:
        s = claims[claim_id]
        return figure_key(s.claim, scope_of(s.claim)).node_id(kursk_topic.name)

    linked = {frozenset((e.node, e.other_node)) for e in raised}
    gold = [frozenset((node(p["a"]["claim_id"]), node(p["b"]["claim_id"]))) for p in labels["contradictions"]]
    non = [frozenset((node(p["a"]["claim_id"]), node(p["b"]["claim_id"]))) for p in labels["non_contradictions"]]
    found = [g for g in gold if g in linked]
    flagged = [n for n in non if n in linked]
    summary = sorted(f"{e.contradiction.severity} {e.contradiction.rule}: {e.contradiction.reason}" for e in raised)

    assert len(found) >= 0.9 * len(gold), (len(found), len(gold), summary)
    assert not flagged, summary
    assert len(incidents) <= 1.5 * len(gold), (len(incidents), summary)
