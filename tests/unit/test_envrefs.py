"""${VAR} references: expanded from the environment given, redacted from everything derived."""

from __future__ import annotations

import logging

import pytest

from pipeline.envrefs import MissingVariableError, escape, expand, redact, redacted_logs, references


def test_expand_fills_references_and_remembers_the_secrets() -> None:
    got = expand("https://feeds.example/rss?key=${FEED_KEY}&u=${USER_ID}", {"FEED_KEY": "k/1 2", "USER_ID": "7"})
    assert got.text == "https://feeds.example/rss?key=k/1 2&u=7"
    assert got.secrets == {"FEED_KEY": "k/1 2", "USER_ID": "7"}


def test_text_without_references_is_unchanged() -> None:
    got = expand("https://feeds.example/rss", {})
    assert (got.text, got.secrets) == ("https://feeds.example/rss", {})


def test_a_missing_variable_is_named_and_nothing_else() -> None:
    with pytest.raises(MissingVariableError, match="FEED_KEY is not set \\(needed by feed X\\)"):
        expand("https://feeds.example/rss?key=${FEED_KEY}", {"OTHER": "v"}, what="feed X")


@pytest.mark.parametrize(
    "leaked",
    [
        "GET https://feeds.example/rss?key=k/1 2 failed",
        "GET https://feeds.example/rss?key=k%2F1%202 failed",
        "GET https://feeds.example/rss?key=k/1%202 failed",
    ],
)
def test_redact_replaces_the_value_as_written_or_percent_encoded(leaked: str) -> None:
    assert redact(leaked, {"FEED_KEY": "k/1 2"}) == "GET https://feeds.example/rss?key=${FEED_KEY} failed"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_redacted_logs_cleans_http_library_records_only_inside_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    http_log = logging.getLogger("httpx")
    monkeypatch.setattr(http_log, "disabled", False)
    level, disabled_below = http_log.level, logging.root.manager.disable
    logging.disable(logging.NOTSET)  # another test may have silenced logging process-wide
    http_log.setLevel(logging.INFO)  # setLevel, not an attribute: it also clears the logger's level cache
    collect = _Collect()
    http_log.addHandler(collect)
    try:
        with redacted_logs({"FEED_KEY": "s3cret"}):
            http_log.info("HTTP Request: GET %s", "https://feeds.example/rss?key=s3cret")
        http_log.info("after: %s", "s3cret")
    finally:
        http_log.removeHandler(collect)
        http_log.setLevel(level)
        logging.disable(disabled_below)
    assert collect.messages == ["HTTP Request: GET https://feeds.example/rss?key=${FEED_KEY}", "after: s3cret"]


def test_a_reference_written_outside_the_configuration_is_escaped_and_never_expanded() -> None:
    hostile = escape("https://evil.example/${AWS_SECRET_ACCESS_KEY}/x")
    assert hostile == "https://evil.example/$%7BAWS_SECRET_ACCESS_KEY}/x"
    assert references(hostile) == set()
    assert expand(hostile, {"AWS_SECRET_ACCESS_KEY": "v"}).text == hostile
    assert references("https://f.example/${A}/${B}?k=${A}") == {"A", "B"}
