"""Duplicate and near-duplicate detection scored on labelled pairs (tests/data/dedup/stories.yaml).

Each pair is loaded into a real DuckDB file in two runs, as the pipeline loads
them; the second article counts as detected when its URL is linked to the first
article in ``seen_urls``.  The pairs are exact copies at tracked, mobile, AMP and
partner addresses, syndicated near-copies (new headline, a sentence cut or added,
a credit line), and distinct articles the same wire wrote on the same event,
which share background sentences but are not copies.  The similarities printed
here are what the default threshold (``DEFAULT_NEAR_SIMILARITY``) is set from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.ingest.article import content_hash
from pipeline.ingest.dedup import DEFAULT_NEAR_SIMILARITY, fingerprint, similarity
from pipeline.ingest.urls import canonical_url
from pipeline.records import Article, Batch, stable_id
from pipeline.store.batches import load_batch
from pipeline.store.session import open_store

DATA = Path(__file__).resolve().parents[2] / "data" / "dedup" / "stories.yaml"
FETCHED = datetime(2025, 12, 1, tzinfo=UTC)
LAG = {"exact": timedelta(minutes=20), "near": timedelta(hours=2)}


@dataclass(frozen=True)
class Pair:
    pair_id: str
    label: str  # exact | near | distinct
    first: Article
    second: Article


def _article(url: str, story: dict[str, Any], published: datetime, edit: dict[str, Any] | None) -> Article:
    paragraphs = list(story["paragraphs"])
    title = "Wire story"
    if edit:
        title = edit.get("title", title)
        paragraphs = [p for i, p in enumerate(paragraphs) if i not in set(edit.get("cut", []))]
        for add in edit.get("add", []):
            at = len(paragraphs) if add["at"] == "end" else add["at"]
            paragraphs.insert(at, add["text"])
    text = "\n\n".join(paragraphs)
    canonical = canonical_url(url)
    return Article(
        article_id=stable_id(canonical),
        url=url,
        canonical_url=canonical,
        title=title,
        outlet=url.split("/")[2],
        published_at=published,
        fetched_at=FETCHED,
        language="en",
        text=text,
        content_hash=content_hash(text),
    )


def load_pairs() -> list[Pair]:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    stories = raw["stories"]
    pairs = []
    for p in raw["pairs"]:
        story = stories[p["story"]]
        published = datetime.fromisoformat(story["published"])
        first = _article(p["first"], story, published, None)
        if p["label"] == "distinct":
            other = stories[p["second_story"]]
            second = _article(p["second"], other, datetime.fromisoformat(other["published"]), p.get("second_edit"))
        else:
            second = _article(p["second"], story, published + LAG[p["label"]], p.get("second_edit"))
        pairs.append(Pair(p["id"], p["label"], first, second))
    return pairs


PAIRS = load_pairs()


def _link(db: Path, first: Article, second: Article) -> tuple[str | None, str | None]:
    """Load two articles in two runs; (outcome, duplicate_of) recorded for the second one's URL."""
    with open_store(db) as con:
        load_batch(con, Batch("t", [first]), "run-1")
        load_batch(con, Batch("t", [second]), "run-2")
        row = con.execute("SELECT outcome, duplicate_of FROM seen_urls WHERE url = ?", [second.url]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def test_the_labelled_set_covers_every_kind_of_pair() -> None:
    labels = [p.label for p in PAIRS]
    assert len(PAIRS) >= 30
    assert min(labels.count(k) for k in ("exact", "near", "distinct")) >= 10


def test_duplicate_detection_precision_and_recall(tmp_path: Path) -> None:
    tp = fp = fn = 0
    wrong_kind: list[str] = []
    misses: list[str] = []
    for pair in PAIRS:
        outcome, duplicate_of = _link(tmp_path / f"{pair.pair_id}.duckdb", pair.first, pair.second)
        detected = duplicate_of == pair.first.article_id
        positive = pair.label != "distinct"
        tp += detected and positive
        fp += detected and not positive
        fn += positive and not detected
        if detected != positive:
            misses.append(f"{pair.pair_id} ({pair.label}): outcome {outcome}")
        expected = {"exact": "duplicate", "near": "near_duplicate"}.get(pair.label)
        if detected and positive and outcome != expected:
            wrong_kind.append(f"{pair.pair_id}: {outcome} for {pair.label}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"\nduplicate detection on {len(PAIRS)} labelled pairs: precision {precision:.3f}, recall {recall:.3f}")
    print("misses:", misses or "none", "| wrong kind:", wrong_kind or "none")
    assert precision >= 0.95, misses
    assert recall >= 0.9, misses
    assert not wrong_kind


def test_the_default_threshold_separates_near_copies_from_distinct_articles() -> None:
    """Near copies score well above the threshold, distinct same-event articles well below."""
    scores: dict[str, list[float]] = {"near": [], "distinct": []}
    for pair in PAIRS:
        if pair.label in scores:
            a, b = fingerprint(pair.first.text), fingerprint(pair.second.text)
            scores[pair.label].append(similarity(a.signature, b.signature))
    lowest_near, highest_distinct = min(scores["near"]), max(scores["distinct"])
    print(f"\nnear copies: lowest similarity {lowest_near:.2f}; distinct articles: highest {highest_distinct:.2f}")
    assert highest_distinct + 0.1 <= DEFAULT_NEAR_SIMILARITY <= lowest_near - 0.1


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.label != "distinct"], ids=lambda p: p.pair_id)
def test_a_copy_fetched_before_its_original_is_linked_to_it(tmp_path: Path, pair: Pair) -> None:
    """Loaded in the other order, the original still ends up stored and the copy linked to it."""
    with open_store(tmp_path / "db.duckdb") as con:
        load_batch(con, Batch("t", [pair.second]), "run-1")
        load_batch(con, Batch("t", [pair.first]), "run-2")
        seen = dict(con.execute("SELECT url, duplicate_of FROM seen_urls").fetchall())
        outcomes = dict(con.execute("SELECT url, outcome FROM seen_urls").fetchall())
        originals = con.execute("SELECT url FROM articles WHERE duplicate_of IS NULL").fetchall()
    assert originals == [(pair.first.url,)]
    assert outcomes[pair.first.url] == "stored" and seen[pair.first.url] is None
    assert seen[pair.second.url] == pair.first.article_id
    assert outcomes[pair.second.url] == ("duplicate" if pair.label == "exact" else "near_duplicate")


def test_real_reporting_on_one_topic_is_neither_copied_nor_misread_as_another_language() -> None:
    """The development set of real articles (../shared/eval/realdev): many outlets on one story,
    none a copy of another, each in the language it is labelled with."""
    import itertools
    import json

    from pipeline.ingest.pages import detect_language
    from tests.conftest import SHARED_DIR, require_path

    realdev = require_path(SHARED_DIR / "eval" / "realdev", "real-reporting development set")
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(realdev.glob("*.json")) if p.stem != "labels"]
    texts = {d["id"]: "\n\n".join(d["paragraphs"]) for d in docs}
    assert len(texts) >= 20
    prints = {k: fingerprint(t) for k, t in texts.items()}
    highest = max(similarity(prints[a].signature, prints[b].signature) for a, b in itertools.combinations(prints, 2))
    print(f"\nhighest similarity between two real articles: {highest:.2f}")
    assert highest < DEFAULT_NEAR_SIMILARITY - 0.2
    wrong = [(d["id"], d.get("language"), detect_language(texts[d["id"]])) for d in docs]
    assert [w for w in wrong if w[2] not in (None, w[1])] == []
