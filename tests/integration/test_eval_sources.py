"""Attribution and source families on real reporting (../shared/eval/realdev), with floors that fail the build.

The realdev corpus is labelled real reporting: each label names the source as the text gives it
(``attributed_to``) and the family it belongs to (``attribution_key``).  A held-out half of the same
kind judges the product, so the floors sit below what the development half scores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.app.evaluation import evaluate, format_report
from pipeline.topics import TopicConfig
from tests.conftest import SHARED_DIR, require_path

REALDEV_FLOORS = {"attribution_accuracy": 0.85, "source_family_accuracy": 0.85}


@pytest.fixture(scope="module")
def realdev_dir() -> Path:
    return require_path(SHARED_DIR / "eval" / "realdev", "labelled real-reporting corpus")


def test_attribution_and_source_families_on_real_reporting(realdev_dir: Path, kursk_topic: TopicConfig) -> None:
    report = evaluate(realdev_dir, realdev_dir / "labels.json", kursk_topic)
    scores = report.to_dict()
    assert report.family_compared >= 0.5 * report.matched, "labels without families: nothing was scored"
    low = {k: scores[k] for k, floor in REALDEV_FLOORS.items() if scores[k] < floor}
    assert not low, f"realdev: below the floor {low}\n{format_report(report)}"


def test_seed_attributions_stay_exact(eval_seeds_dir: Path, kursk_topic: TopicConfig) -> None:
    report = evaluate(eval_seeds_dir, eval_seeds_dir / "labels.json", kursk_topic)
    assert report.attribution_accuracy == 1.0, format_report(report)
