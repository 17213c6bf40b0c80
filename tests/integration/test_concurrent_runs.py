"""Two `claimwatch run` of one topic at the same moment, on one data directory and database.

The first run is held in its fetch (the site keeps one page's answer until the test lets it go)
while the second starts: the second must stop with a clear message and leave the first run's
staging alone, and the first must then finish as if it had been alone.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.app.sample_site import load_sample_articles, render_page, respond, serve_on_loopback
from tests.integration.helpers import CLAIMWATCH, query_rows, write_topic

pytestmark = pytest.mark.slow

FREE = "north-korean-troops-reach-kursk"  # answered at once
HELD = "seoul-raises-troop-estimate"  # answered when the test opens the gate


@dataclass
class HeldSite:
    base: str = ""
    gate: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)  # set when the held page is asked for


@contextmanager
def held_site() -> Iterator[HeldSite]:
    pages = {p.slug: p for p in load_sample_articles()}
    site = HeldSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            slug = path.rsplit("/", 1)[-1].removesuffix(".html")
            if path == "/feed.xml":
                links = [f"{site.base}/articles/{FREE}.html", f"{site.base}/held/{HELD}.html"]
                items = "".join(f"<item><title>{i}</title><link>{link}</link></item>" for i, link in enumerate(links))
                body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>{items}</channel></rss>'
                respond(self, 200, "application/rss+xml", body)
            elif slug in pages and path.startswith(("/articles/", "/held/")):
                if path.startswith("/held/"):
                    site.held.set()
                    site.gate.wait(280)
                respond(self, 200, "text/html; charset=utf-8", render_page(pages[slug], site.base))
            else:
                respond(self, 404, "text/plain", "not found")

        def log_message(self, *args: object) -> None:
            pass

    with serve_on_loopback(Handler) as base:
        site.base = base
        yield site


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def _start(topic: Path, db: Path, env: dict[str, str], out: Path) -> subprocess.Popen[str]:
    """``claimwatch run`` in the background, its output to files (a pipe nobody reads would block it)."""
    with (out.with_suffix(".out")).open("w") as stdout, (out.with_suffix(".err")).open("w") as stderr:
        return subprocess.Popen(
            [str(CLAIMWATCH), "run", "--topic", str(topic), "--db", str(db)],
            env={**os.environ, **env},
            stdout=stdout,
            stderr=stderr,
            text=True,
        )


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_two_runs_of_one_topic_at_once_one_stops_with_a_clear_message_and_nothing_is_removed(tmp_path: Path) -> None:
    data, db = tmp_path / "data", tmp_path / "c.duckdb"
    env = {"CLAIMWATCH_DATA_DIR": str(data), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    staging = data / "staging" / "t"
    with held_site() as site:
        fetch = {"timeout_seconds": 300, "respect_robots": False, "retries": 0}
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", ["file:alerts.jsonl"], fetch=fetch)
        first = _start(topic, db, env, tmp_path / "first")
        second: subprocess.Popen[str] | None = None
        try:
            assert site.held.wait(300), "the first run never reached its fetch"
            # the free page is staged while the held one is still being fetched
            assert _wait_for(lambda: any(staging.glob("*/pages/*.json")), 60)
            [folder] = [f for f in staging.iterdir() if f.is_dir()]
            staged = _files(folder)
            second = _start(topic, db, env, tmp_path / "second")
            while second.poll() is None:  # watched while it runs: nothing of the first may go
                assert _files(folder) >= staged, "the second run removed files of the first"
                time.sleep(0.1)
            assert first.poll() is None, "the first run must still be in its fetch"
            assert _files(folder) >= staged, "the second run removed files of the first"
        finally:
            if second is not None and second.poll() is None:
                second.kill()
            site.gate.set()
            first.wait(timeout=300)
        assert second is not None
        second.wait(timeout=60)
    out, err = (tmp_path / "first.out").read_text(), (tmp_path / "first.err").read_text()
    second_err = (tmp_path / "second.err").read_text()
    assert second.returncode == 1, second_err[-3000:]
    [failed] = [line for line in second_err.splitlines() if "task claimwatch_ingest.discover" in line]
    assert "RunInProgressError" in failed and "is in progress" in failed and str(folder) in failed
    assert "FileNotFoundError" not in second_err
    assert first.returncode == 0, err[-3000:]
    assert "claimwatch_ingest: success" in out and "FileNotFoundError" not in err
    assert query_rows(db, "SELECT count(*) FROM articles") == [(2,)]
    assert not staging.exists() or [p for p in staging.iterdir() if p.is_dir()] == []
