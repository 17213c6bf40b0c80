"""Topic files: the Kursk catalogue, and errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.topics import TopicConfigError, load_topic

CATALOGUE = {
    "troops_deployed",
    "troops_killed",
    "troops_wounded",
    "troops_casualties",
    "troops_captured",
    "engineers_deployed",
    "deminers_deployed",
    "builders_deployed",
    "artillery_shells_supplied",
    "civilians_displaced",
    "settlements_closed",
}


def test_kursk_topic_has_the_fixed_catalogue(kursk_topic_file: Path) -> None:
    topic = load_topic(kursk_topic_file)
    assert topic.name == "kursk"
    assert set(topic.metrics) == CATALOGUE
    for spec in topic.metrics.values():
        assert spec.description and spec.unit and (spec.cues or spec.events) and spec.population
    assert topic.feeds and all(f.url.startswith("https://") for f in topic.feeds)
    assert topic.alerts and topic.allow_private_hosts is False


def _write(tmp_path: Path, raw: object) -> Path:
    path = tmp_path / "topic.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda t: t.pop("feeds"), "feeds", "Field required"),
        (lambda t: t.update(feeds=[{"url": "file:///etc/passwd"}]), "feeds.0.url", "http(s)"),
        (lambda t: t.update(name="Kursk Topic"), "name", "pattern"),
        (lambda t: t["metrics"]["troops_killed"].update(parent="nope"), "parent", "unknown metric"),
        (lambda t: t["metrics"]["troops_killed"].update(tolerance=3), "metrics.troops_killed.tolerance", "less than"),
        (lambda t: t.update(alerts=[{"url": "somewhere"}]), "alerts.0.url", "scheme"),
        (
            lambda t: t.update(alerts=[{"url": "file:a.jsonl", "min_severity": "urgent"}]),
            "alerts.0.min_severity",
            "note",
        ),
        (lambda t: t.update(ops_alerts=[{"url": "nowhere"}]), "ops_alerts.0.url", "scheme"),
        (lambda t: t.update(feed_health={"failed_polls": 0}), "feed_health.failed_polls", "greater than"),
        (lambda t: t.update(feed_health={"silence_factor": 1}), "feed_health.silence_factor", "greater than"),
        (lambda t: t.update(colour="red"), "colour", "Extra inputs"),
    ],
)
def test_errors_name_file_field_and_problem(
    tmp_path: Path, kursk_topic_file: Path, change, field: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load(kursk_topic_file.read_text())
    change(raw)
    path = _write(tmp_path, raw)
    with pytest.raises(TopicConfigError) as err:
        load_topic(path)
    text = str(err.value)
    assert str(path) in text and field in text and message in text


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(TopicConfigError, match="not found"):
        load_topic(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(TopicConfigError, match="not valid YAML"):
        load_topic(bad)
    listy = _write(tmp_path, ["a", "b"])
    with pytest.raises(TopicConfigError, match="mapping"):
        load_topic(listy)


def test_a_second_topic_is_just_a_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "name": "harbour",
            "title": "Harbour strikes",
            "feeds": [{"url": "https://example.org/rss"}],
            "relevance": {"terms": ["harbour", "strike"]},
            "metrics": {
                "workers_striking": {
                    "description": "Dock workers on strike",
                    "unit": "persons",
                    "cumulative": False,
                    "cues": ["workers", "dockers"],
                }
            },
        },
    )
    topic = load_topic(path)
    assert topic.name == "harbour" and list(topic.metrics) == ["workers_striking"]


def test_languages_and_near_duplicate_threshold(kursk_topic_file: Path) -> None:
    import yaml

    from pipeline.topics import TopicConfigError, parse_topic

    raw = yaml.safe_load(kursk_topic_file.read_text(encoding="utf-8"))
    topic = parse_topic(raw)
    assert topic.languages == ["en"] and topic.dedup.near_duplicate_similarity == 0.5
    defaults = parse_topic({k: v for k, v in raw.items() if k not in ("languages", "dedup")})
    assert defaults.languages == [] and defaults.dedup.near_duplicate_similarity == 0.5
    with pytest.raises(TopicConfigError, match="dedup.near_duplicate_similarity"):
        parse_topic({**raw, "dedup": {"near_duplicate_similarity": 0.3}})
    with pytest.raises(TopicConfigError, match="languages"):
        parse_topic({**raw, "languages": ["English"]})
