"""The scoring rules of `claimwatch eval`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.app.evaluation import (
    EvaluationError,
    LabelledClaim,
    attribution_matches,
    claim_matches,
    evaluate,
    format_report,
    load_corpus,
)
from pipeline.topics import TopicConfig
from tests.unit.factories import make_article, make_claim


@pytest.mark.parametrize(
    ("predicted", "label", "ok"),
    [
        ("Ukrainian President Volodymyr Zelensky", "Volodymyr Zelensky", True),
        ("Kursk Governor Alexander Hinstein", "Alexander Hinstein (Khinshtein), Kursk governor", True),
        (None, "unattributed (key points)", True),
        ("Seoul", "unattributed", False),
        (None, "Red Star", False),
        ("outlet", "Krasnaya Zvezda (Russian military outlet)", False),
        ("some sources", "some sources", True),
        ("Kremlin spokesman Dmitry Peskov", "South Korean, Ukrainian and Western sources", False),
    ],
)
def test_attribution_matching(predicted: str | None, label: str, ok: bool) -> None:
    assert attribution_matches(predicted, label) is ok


def _label(**kw: object) -> LabelledClaim:
    base = {"claim_id": "x#1", "article_id": "x", "metric": "troops_deployed", "hedge": "about",
            "stated_low": 14000.0, "stated_high": 14000.0, "surface": "about 14,000",
            "attributed_to": None}  # fmt: skip
    return LabelledClaim(**{**base, **kw})  # type: ignore[arg-type]


def test_claim_matching_tolerates_half_a_percent_only() -> None:
    claim = make_claim(make_article(1), stated_low=14050, stated_high=14050)
    assert claim_matches(claim, _label())
    assert not claim_matches(make_claim(make_article(1), stated_low=14100, stated_high=14100), _label())
    assert not claim_matches(claim, _label(metric="troops_killed"))
    vague = make_claim(make_article(1), hedge="vague", stated_low=None, stated_high=None)
    assert claim_matches(vague, _label(hedge="vague", stated_low=None, stated_high=None))


def test_a_corpus_with_nothing_in_it_is_a_clear_error(tmp_path: Path, kursk_topic: TopicConfig) -> None:
    (tmp_path / "labels.json").write_text('{"claims": []}', encoding="utf-8")
    with pytest.raises(EvaluationError, match="no article records"):
        evaluate(tmp_path, tmp_path / "labels.json", kursk_topic)
    (tmp_path / "001.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(EvaluationError, match="001.json"):
        evaluate(tmp_path, tmp_path / "labels.json", kursk_topic)


def test_scores_drop_when_labels_disagree(tmp_path: Path, kursk_topic: TopicConfig) -> None:
    record = {"id": "t:1", "url": "https://t.invalid/1", "outlet": "T", "published": "2025-11-14",
              "title": "T", "paragraphs": ["Seoul said about 14,000 troops were sent to Kursk."]}  # fmt: skip
    (tmp_path / "001.json").write_text(json.dumps(record), encoding="utf-8")
    labels = {"claims": [
        {"article_id": "t:1", "metric": "troops_deployed", "hedge": "up_to", "stated_low": 14000,
         "stated_high": 14000, "surface": "about 14,000", "attributed_to": "Kyiv"},
        {"article_id": "t:1", "metric": "troops_killed", "hedge": "exact", "stated_low": 500,
         "stated_high": 500, "surface": "500", "attributed_to": "Kyiv"},
    ]}  # fmt: skip
    (tmp_path / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
    report = evaluate(tmp_path, tmp_path / "labels.json", kursk_topic)
    assert (report.claim_precision, report.claim_recall) == (1.0, 0.5)
    assert report.hedge_accuracy == 0.0 and report.attribution_accuracy == 0.0
    text = format_report(report)
    assert "missed:" in text and "wrong hedge:" in text and "t:1#2" in text


def _one_article(tmp_path: Path, published: str, paragraph: str, labels: list[dict[str, object]]) -> None:
    record = {"id": "t:1", "url": "https://t.invalid/1", "outlet": "T", "published": published,
              "title": "T", "paragraphs": [paragraph]}  # fmt: skip
    (tmp_path / "001.json").write_text(json.dumps(record), encoding="utf-8")
    (tmp_path / "labels.json").write_text(json.dumps({"claims": labels}), encoding="utf-8")


def test_source_family_accuracy_is_scored_apart_from_attribution(tmp_path: Path, kursk_topic: TopicConfig) -> None:
    label = {"article_id": "t:1", "metric": "troops_deployed", "hedge": "about", "stated_low": 14000,
             "stated_high": 14000, "surface": "about 14,000", "attributed_to": "Seoul"}  # fmt: skip
    paragraph = "Seoul said about 14,000 troops were sent to Kursk."
    _one_article(tmp_path, "2025-11-14", paragraph, [{**label, "attribution_key": "kr_nis"}])
    right = evaluate(tmp_path, tmp_path / "labels.json", kursk_topic)
    _one_article(tmp_path, "2025-11-14", paragraph, [{**label, "attribution_key": "ua_president"}])
    wrong = evaluate(tmp_path, tmp_path / "labels.json", kursk_topic)
    assert (right.source_family_accuracy, right.family_compared) == (1.0, 1)
    assert wrong.source_family_accuracy == 0.0 and wrong.wrong_family
    assert right.attribution_accuracy == wrong.attribution_accuracy == 1.0  # attribution scoring is unchanged
    assert "source_family_accuracy" in wrong.to_dict() and "wrong source family" in format_report(wrong)


@pytest.mark.parametrize(("published", "precision"), [("2025-06", "month"), ("2025-06-14", "day"), ("", "none")])
def test_records_keep_their_date_precision(tmp_path: Path, published: str, precision: str) -> None:
    _one_article(tmp_path, published, "Seoul said about 14,000 troops were sent to Kursk.", [])
    (article,) = load_corpus(tmp_path)
    assert article.published_precision == precision
    if precision == "month":
        assert article.published_at is not None and article.published_at.day == 1
