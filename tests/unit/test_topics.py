"""Topic files: the Kursk catalogue, and errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.topics import TopicConfigError, load_topic, parse_topic

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


@pytest.mark.parametrize("field", ["alerts", "ops_alerts"])
def test_an_unknown_route_scheme_fails_the_topic_naming_the_field_and_the_scheme_only(
    tmp_path: Path, kursk_topic_file: Path, field: str
) -> None:
    raw = yaml.safe_load(kursk_topic_file.read_text())
    raw[field] = [{"url": "file:alerts.jsonl"}, {"url": "bogus://s3cr3t@hooks.example/t0ken-path"}]
    path = _write(tmp_path, raw)
    with pytest.raises(TopicConfigError) as err:
        load_topic(path)
    text = str(err.value)
    assert str(path) in text and f"{field}.1.url" in text and "'bogus'" in text and "Apprise" in text
    assert "s3cr3t" not in text and "hooks.example" not in text and "t0ken" not in text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://hooks.example/abc", "use json:// or jsons://"),
        ("${HOOK_SCHEME}://hooks.example/abc", "write it out"),
    ],
)
def test_route_schemes_that_cannot_be_sent_to(url: str, message: str) -> None:
    with pytest.raises(TopicConfigError, match=r"alerts\.0\.url") as err:
        parse_topic({"alerts": [{"url": url}]})
    assert message in str(err.value) and "hooks.example" not in str(err.value)


def test_known_schemes_load_without_their_variables_set(
    kursk_topic_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLAIMWATCH_TEST_UNSET", raising=False)
    raw = yaml.safe_load(kursk_topic_file.read_text())
    urls = [
        "file:alerts-${CLAIMWATCH_TEST_UNSET}.jsonl",
        "FILE:///var/alerts.jsonl",
        "json://127.0.0.1:8080/${CLAIMWATCH_TEST_UNSET}",
        "JSONS://hooks.example/x",
        "slack://${CLAIMWATCH_TEST_UNSET}",
        "mailto://${CLAIMWATCH_TEST_UNSET}@example.org",
        "tgram://${CLAIMWATCH_TEST_UNSET}/123",
    ]
    topic = parse_topic({**raw, "alerts": [{"url": u} for u in urls], "ops_alerts": [{"url": urls[2]}]})
    assert [r.url for r in topic.alerts] == urls


def test_the_written_out_schemes_are_the_installed_apprise_schemes() -> None:
    """The list topics are checked against is Apprise's own; an Apprise upgrade that changes it fails here."""
    from pipeline.topics import APPRISE_SCHEMES, installed_apprise_schemes

    assert installed_apprise_schemes() == APPRISE_SCHEMES


def test_loading_a_topic_does_not_import_apprise(tmp_path: Path, kursk_topic_file: Path) -> None:
    """Every step process loads its topic: Apprise's plugins (about 1.5 s) are loaded only by the ones that send."""
    import subprocess
    import sys

    raw = yaml.safe_load(kursk_topic_file.read_text())
    raw["alerts"] = [{"url": "json://127.0.0.1:9/hook"}, {"url": "slack://${CLAIMWATCH_TEST_UNSET}"}]
    path = _write(tmp_path, raw)
    code = (
        "import sys; from pipeline.topics import load_topic; load_topic(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'apprise'))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr[-2000:]
