"""The raw archive: pages kept compressed by content hash, and `claimwatch reprocess --since` re-extracting
text and claims from it with the network closed (the loopback site stopped before reprocessing)."""

from __future__ import annotations

import gzip
import hashlib
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pytest

from pipeline.steps import discover, extract, fetch, load, plan, validate
from tests.integration.helpers import hostile_site, run_cli, write_topic
from tests.integration.helpers import query_rows as _rows

SLUGS = ["north-korean-troops-reach-kursk", "seoul-raises-troop-estimate", "kursk-derby-snow"]
FAST = {"timeout_seconds": 2, "retries": 0, "backoff_seconds": 0, "per_host_delay_seconds": 0}


def _claims(db: Path) -> list[tuple[Any, ...]]:
    return _rows(db, "SELECT claim_id, article_id, metric, surface FROM claims ORDER BY claim_id")


def test_reprocess_since_re_extracts_from_the_archive_with_the_network_closed(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site:
        site.feed_items = [(slug, site.good(slug)) for slug in SLUGS]
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch=FAST)
        [job] = plan.run([topic], db, data, "run-1")
        for step in (discover.run, fetch.run, extract.run, validate.run):
            step(job)
        load.run(job)
        port = urlsplit(site.base).port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port or 0), timeout=1):
        pass  # the site is gone: nothing below can fetch

    archived = _rows(db, "SELECT url, sha256 FROM raw_pages ORDER BY url")
    assert len(archived) == len(SLUGS)  # the off-topic page too: reprocessing may judge it again
    for _url, digest in archived:
        body = gzip.decompress((data / "archive" / digest[:2] / f"{digest}.gz").read_bytes())
        assert hashlib.sha256(body).hexdigest() == digest
    texts = dict(_rows(db, "SELECT article_id, text FROM articles"))
    claims = _claims(db)
    assert len(texts) == 2 and claims

    with duckdb.connect(str(db)) as con:  # lose the extracted history: only the archive can restore it
        con.execute("UPDATE articles SET text = 'lost', content_hash = 'lost'")
        con.execute("DELETE FROM claims")

    result = run_cli(
        ["reprocess", "--topic", str(topic), "--db", str(db), "--since", "2000-01-01"],
        {"CLAIMWATCH_DATA_DIR": str(data)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "re-extracted 2 articles from 3 archived pages" in result.stdout
    assert "1 pages stored no article" in result.stdout
    assert dict(_rows(db, "SELECT article_id, text FROM articles")) == texts
    assert _claims(db) == claims


def test_reprocess_since_leaves_older_pages_alone(tmp_path: Path) -> None:
    db, data = tmp_path / "c.duckdb", tmp_path / "data"
    with hostile_site() as site:
        site.feed_items = [(SLUGS[0], site.good(SLUGS[0]))]
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/feed.xml", [], fetch=FAST)
        [job] = plan.run([topic], db, data, "run-1")
        for step in (discover.run, fetch.run, extract.run, validate.run):
            step(job)
        load.run(job)
    result = run_cli(
        ["reprocess", "--topic", str(topic), "--db", str(db), "--since", "2999-01-01"],
        {"CLAIMWATCH_DATA_DIR": str(data)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "re-extracted 0 articles from 0 archived pages" in result.stdout
