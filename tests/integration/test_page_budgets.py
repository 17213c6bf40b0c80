"""One page never stalls its topic: `claimwatch run` end to end, on a real loopback site, into a real DuckDB.

A page holding one sentence of 10,000 words is read in seconds (the claim reader's time grows with
the text, not its square) and a page holding one paragraph of 490 KB is over the claim reader's size
cap: the run finishes, the good pages behind them are stored in the same run, the paragraph page is
recorded with its reason, and neither is fetched again.  A page the extract task dies on (killed
while reading it) is skipped by the next run with that reason, never read again.  The time budget of
a page is shown with a fake clock in tests/unit/steps/test_extract.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.helpers import CLAIMWATCH, query_rows, run_cli, write_topic
from tests.integration.loopback_site import Site, article_html, serve

pytestmark = pytest.mark.slow

PUBLISHED = datetime(2025, 11, 14, 9, 0, tzinfo=UTC)
INTRO = "North Korean troops are fighting alongside Russian forces in the Kursk region."
# One figure every 33 words: about 300 on the page, inside the quality gate's bound of claims per page.
CLAUSE = (
    "North Korean officials said about 14,000 troops arrived in Kursk in March while the regional governor"
    " told reporters that the roads near the border towns remained closed to civilian traffic for weeks and"
)
LONG_SENTENCE = " ".join((CLAUSE.split() * 1_000)[:10_000]) + "."
UNIT = "North Korea has sent about 14,000 troops to Kursk, officials said on Friday. "
LONG_PARAGRAPH = (UNIT * (490_000 // len(UNIT) + 1))[:490_000].rstrip()
GOOD = {
    "/world/troops.html": [
        "SEOUL - North Korea has sent roughly 11,000 soldiers to Russia, most of them to the Kursk region, "
        "South Korea's spy agency told lawmakers on Tuesday.",
        "The National Intelligence Service said the troops travelled in several groups by sea and by air.",
        "Moscow and Pyongyang have not confirmed the numbers, and a Kremlin spokesman declined to comment.",
    ],
    "/world/losses.html": [
        "KYIV - About 4,000 North Korean soldiers have been killed or wounded in Russia's Kursk region, "
        "Ukraine's military intelligence said on Thursday.",
        "The agency said North Korean units had been pulled back from the front line for several weeks.",
        "Neither Moscow nor Pyongyang has ever acknowledged any losses among the troops.",
    ],
}
SENTENCE_PAGE, PARAGRAPH_PAGE = "/world/one-long-sentence.html", "/world/one-long-paragraph.html"


def _site() -> Site:
    site = Site()
    pages = {SENTENCE_PAGE: [INTRO, LONG_SENTENCE], PARAGRAPH_PAGE: [INTRO, LONG_PARAGRAPH], **GOOD}
    for path, paragraphs in pages.items():
        site.pages[path] = (200, article_html(f"Troops {path}", paragraphs, published=PUBLISHED))
        site.feed.append((path, f"Troops {path}", PUBLISHED))
    return site


def _topic(tmp_path: Path, site: Site, extract: dict[str, Any]) -> Path:
    path = write_topic(tmp_path / "budgets.yaml", site.url("/feed.xml"), ["file:alerts.jsonl"], name="budgets")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if extract:
        raw["extract"] = extract
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    return {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}


def _quarantined(db: Path) -> dict[str, tuple[str, str]]:
    return {url: (stage, reason) for url, stage, reason in query_rows(db, "SELECT url, stage, reason FROM quarantine")}


def test_a_huge_sentence_is_read_a_huge_paragraph_refused_and_the_pages_behind_them_stored_in_one_run(
    tmp_path: Path,
) -> None:
    db = tmp_path / "c.duckdb"
    with serve(_site()) as site:
        topic = _topic(tmp_path, site, {})  # the defaults: 60 s per page, 200,000 characters of text
        started = time.monotonic()
        first = run_cli(["run", "--topic", str(topic), "--db", str(db)], _env(tmp_path), timeout=420)
        took = time.monotonic() - started
        assert first.returncode == 0, first.stderr[-3000:]
        stored = {url for (url,) in query_rows(db, "SELECT url FROM articles")}
        assert stored == {site.url(path) for path in [*GOOD, SENTENCE_PAGE]}
        surfaces = {s for (s,) in query_rows(db, "SELECT surface FROM claims")}
        assert {"roughly 11,000", "About 4,000"} <= surfaces
        [(figures, longest)] = query_rows(
            db,
            "SELECT count(*), max(length(c.sentence)) FROM claims c JOIN articles a USING (article_id)"
            " WHERE a.url = ? AND c.surface = 'about 14,000'",
            [site.url(SENTENCE_PAGE)],
        )
        assert figures == LONG_SENTENCE.count("about 14,000") and longest < 2_100  # the words around each
        [(stage, reason)] = [v for url, v in _quarantined(db).items() if url == site.url(PARAGRAPH_PAGE)]
        assert stage == "claims" and re.search(r"main text of 490,\d{3} characters", reason)
        assert "is longer than the claim reader reads (extract.max_text_chars: 200,000)" in reason
        seen = dict(query_rows(db, "SELECT url, outcome FROM seen_urls"))
        assert seen[site.url(PARAGRAPH_PAGE)] == "quarantined"

        second = run_cli(["run", "--topic", str(topic), "--db", str(db)], _env(tmp_path), timeout=420)
        assert second.returncode == 0, second.stderr[-3000:]
    assert site.requests.count(SENTENCE_PAGE) == site.requests.count(PARAGRAPH_PAGE) == 1  # never fetched again
    assert took < 300, f"the run took {took:.0f} s"


def test_a_page_the_extract_task_dies_on_is_not_read_again_by_the_next_run(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with serve(_site()) as site:
        del site.pages[SENTENCE_PAGE]
        site.feed = [item for item in site.feed if item[0] != SENTENCE_PAGE]
        # No cap and a long budget: the 490 KB paragraph is read for many seconds, and the run is
        # killed (as a task timeout or the kernel's out-of-memory killer would) while it is.
        topic = _topic(tmp_path, site, {"page_seconds": 1200, "max_text_chars": 1_000_000})
        args = [str(CLAIMWATCH), "run", "--topic", str(topic), "--db", str(db)]
        env = {**os.environ, **_env(tmp_path)}
        with subprocess.Popen(
            args, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ) as run:
            try:
                _wait_until_reading(data, site.url(PARAGRAPH_PAGE), run)
            finally:
                with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
                    os.killpg(run.pid, signal.SIGKILL)

        second = run_cli(["run", "--topic", str(topic), "--db", str(db)], _env(tmp_path), timeout=420)
        assert second.returncode == 0, second.stderr[-3000:]
    assert site.requests.count(PARAGRAPH_PAGE) == 1  # read once, when the task died on it: never again
    stored = {url for (url,) in query_rows(db, "SELECT url FROM articles")}
    assert stored == {site.url(path) for path in GOOD}
    stage, reason = _quarantined(db)[site.url(PARAGRAPH_PAGE)]
    assert stage == "extract" and "the extract task stopped while reading this page" in reason


def _wait_until_reading(data: Path, url: str, run: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Until the run's page ledger shows ``url`` started and not finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert run.poll() is None, "the run ended before it read the page"
        for ledger in data.glob("staging/*/*/ledger.jsonl"):
            events = [
                json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines() if line.endswith("}")
            ]
            if events and events[-1] == {"url": url, "event": "start"}:
                return
        time.sleep(0.05)
    raise AssertionError(f"{url} was not being read within {timeout} s")
