"""A feed secret stays a ``${VAR}`` in everything derived from the feed, through ``claimwatch run``.

The feed's URL holds its token in the path and its items link relatively, so
every page URL is built on the token.  The pages must be fetched (the token
expanded for the request), a failing page retried on the next run, reprocess
must work, and the token's value must appear in no table or column of the
database or its snapshot, no file, no alert and no output.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb

from tests.integration.feed_servers import Reply, Request, recording_server
from tests.integration.helpers import query_rows as _rows
from tests.integration.helpers import run_cli, write_topic
from tests.integration.loopback_site import article_html
from tests.integration.test_future_dates import FUTURE, SEOUL

TOKEN = "tok-5Ecr3t-8d1f0c"
PRIVATE = f"/private/{TOKEN}"


def _feed(published: datetime) -> bytes:
    stamp = published.strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid><pubDate>{stamp}</pubDate></item>"
        for title, link in [("Seoul", "seoul.html"), ("Kyiv", "./kyiv.html"), ("Later", "later.html")]
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>{items}</channel></rss>'.encode()


def _secret_hits(db: Path) -> list[str]:
    """Every table and view column of a DuckDB file holding the token's value."""
    hits = []
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall()
        for table, column in columns:
            sql = f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?'
            row = con.execute(sql, [f"%{TOKEN}%"]).fetchone()
            if row and row[0]:
                hits.append(f"{table}.{column}")
    return hits


def _files_holding_the_token(root: Path) -> list[Path]:
    forms = {TOKEN.encode(), quote(TOKEN).encode()}
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data += gzip.decompress(data)
        if any(form in data for form in forms):
            found.append(path)
    return found


def test_the_value_of_a_feed_secret_is_stored_nowhere(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"CLAIMWATCH_DATA_DIR": str(data), "AIRFLOW_HOME": str(data / "airflow"), "FEED_TOKEN": TOKEN}
    db = data / "claimwatch.duckdb"
    published = datetime.now(UTC) - timedelta(hours=6)
    later_ok = False
    pages = {
        f"{PRIVATE}/seoul.html": article_html("Seoul: 11,000 troops sent", SEOUL, published=published),
        f"{PRIVATE}/kyiv.html": article_html("Kyiv: 50,000 troops", FUTURE, published=published),
        f"{PRIVATE}/later.html": article_html(
            "Kursk: more troops", [p.replace("50,000", "49,000") for p in FUTURE], published=published
        ),
    }

    def route(request: Request) -> Reply:
        if request.path == f"{PRIVATE}/feed.xml":
            return Reply(200, _feed(published), "application/rss+xml")
        if request.path == f"{PRIVATE}/later.html" and not later_ok:
            return Reply(503, b"try later", "text/plain")  # fails for now: retried on the next run
        if request.path in pages:
            return Reply(200, pages[request.path].encode("utf-8"))
        return Reply(404, b"not found", "text/plain")  # a request built without the token lands here

    with recording_server() as site:
        site.route = route
        fetch = {"url_retry_minutes": 0, "retries": 0}
        topic = write_topic(tmp_path / "t.yaml", f"{site.base}/private/${{FEED_TOKEN}}/feed.xml",
                            ["file:alerts.jsonl"], fetch=fetch)  # fmt: skip
        outputs = []
        first = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        outputs.append(first.stdout + first.stderr)
        assert first.returncode == 0, first.stderr[-3000:]
        later_ok = True
        second = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        outputs.append(second.stdout + second.stderr)
        assert second.returncode == 0, second.stderr[-3000:]
    since = (published - timedelta(days=1)).date().isoformat()
    again = run_cli(["reprocess", "--topic", str(topic), "--db", str(db), "--since", since], env)
    outputs.append(again.stdout + again.stderr)
    assert again.returncode == 0, again.stderr[-3000:]

    template = f"{site.base}/private/${{FEED_TOKEN}}"
    stored = {r[0] for r in _rows(db, "SELECT url FROM articles")}
    assert stored == {f"{template}/seoul.html", f"{template}/kyiv.html", f"{template}/later.html"}
    assert {p for p in (r.path for r in site.requests) if p.startswith(PRIVATE)} >= set(pages)  # fetched
    assert not [r for r in site.requests if "FEED_TOKEN" in r.path or r.path.startswith("/private/$")]
    assert len(site.hits(f"{PRIVATE}/later.html")) == 2  # the retry expanded its URL too
    assert _rows(db, "SELECT count(*) FROM url_failures") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM alerts") != [(0,)]  # there is an alert to leak into

    assert _secret_hits(db) == []
    assert _secret_hits(db.with_name("claimwatch.snapshot.duckdb")) == []
    assert _files_holding_the_token(tmp_path) == []
    payloads = [json.dumps(p) for (p,) in _rows(db, "SELECT payload FROM alerts")]
    assert payloads and not [p for p in payloads if TOKEN in p]
    assert "${FEED_TOKEN}" in (data / "alerts.jsonl").read_text(encoding="utf-8")
    assert not [out for out in outputs if TOKEN in out]
