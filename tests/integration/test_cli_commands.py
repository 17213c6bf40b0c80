"""The quick subcommands: eval, reprocess, migrate, query, restore, --help."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from pipeline.app.evaluation import SCORE_KEYS
from pipeline.records import Batch
from pipeline.settings import SQL_DIR
from pipeline.store.batches import load_batch
from pipeline.store.session import open_store, publish_snapshot
from tests.integration.helpers import run_cli
from tests.unit.factories import make_article

SUBCOMMANDS = [
    "run", "demo", "eval", "reprocess", "migrate", "query", "alerts list", "alerts ack", "alerts resolve", "restore",
]  # fmt: skip


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help_and_db(command: str) -> None:
    result = run_cli([*command.split(), "--help"], {}, timeout=60)
    assert result.returncode == 0
    assert "--db" in result.stdout


def test_eval_json_reports_every_key_above_the_bar(eval_seeds_dir: Path) -> None:
    result = run_cli(
        ["eval", "--corpus", str(eval_seeds_dir), "--labels", str(eval_seeds_dir / "labels.json"), "--json"],
        {},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    for key in SCORE_KEYS:
        assert 0.0 <= report[key] <= 1.0, key
    assert report["claim_precision"] >= 0.95 and report["claim_recall"] >= 0.90
    assert report["hedge_accuracy"] >= 0.95 and report["attribution_accuracy"] >= 0.85


def test_eval_reads_the_corpus_labels_and_says_when_there_are_none(eval_seeds_dir: Path, tmp_path: Path) -> None:
    found = run_cli(["eval", "--corpus", str(eval_seeds_dir), "--json"], {}, timeout=300)
    assert found.returncode == 0, found.stderr[-2000:]
    assert json.loads(found.stdout)["contradictions_labelled"] >= 1
    (tmp_path / "one.json").write_text((next(eval_seeds_dir.glob("0*.json"))).read_text(encoding="utf-8"))
    missing = run_cli(["eval", "--corpus", str(tmp_path)], {}, timeout=300)
    assert missing.returncode == 2 and "pass --labels FILE" in missing.stderr, missing.stderr[-2000:]


def test_reprocess_reparses_stored_articles_without_fetching(
    tmp_path: Path, kursk_topic, kursk_topic_file: Path
) -> None:  # type: ignore[no-untyped-def]
    """The topic's feeds are never contacted: the run would fail on them (no network here)."""
    from pipeline.claims import EXTRACTOR_VERSION, extract_claims

    text = (
        "Ukraine's defence intelligence said about 11,000 North Korean troops had been sent to the Kursk "
        "region. Officials in Seoul said more than 3,000 of them were killed or wounded. "
    ) * 3
    article = make_article(1, text=text)
    db = tmp_path / "c.duckdb"
    claims = extract_claims(article, kursk_topic)
    assert claims, "the extractor finds the figures in the test article"
    stale = [replace(c, extractor_version="old-0") for c in claims]
    with open_store(db) as con:
        load_batch(con, Batch(kursk_topic.name, [article], stale), "r1")
        con.execute("DELETE FROM claims WHERE claim_id = ?", [stale[0].claim_id])  # a figure the old version missed

    result = run_cli(["reprocess", "--topic", str(kursk_topic_file), "--db", str(db)], {}, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"extractor {EXTRACTOR_VERSION}" in result.stdout and "1 new" in result.stdout
    con = duckdb.connect(str(db), read_only=True)
    versions = con.execute("SELECT DISTINCT extractor_version FROM claims").fetchall()
    count = con.execute("SELECT count(*) FROM claims").fetchone()
    con.close()
    assert versions == [(EXTRACTOR_VERSION,)] and count == (len(claims),)


def test_migrate_then_query(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    first = run_cli(["migrate", "--db", str(db)], {}, timeout=120)
    assert first.returncode == 0 and "applied migrations 0001" in first.stdout
    assert "schema is current" in run_cli(["migrate", "--db", str(db)], {}, timeout=120).stdout
    publish_snapshot(db)
    out = run_cli(["query", "--db", str(db), "SELECT count(*) AS n FROM claims_with_source"], {}, timeout=120)
    assert out.returncode == 0 and "0" in out.stdout
    missing = run_cli(["query", "--db", str(tmp_path / "none.duckdb"), "SELECT 1"], {}, timeout=120)
    assert missing.returncode == 2 and "no database" in missing.stderr


@pytest.fixture(scope="module")
def analyst_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("query") / "c.duckdb"
    with open_store(db) as con:
        load_batch(con, Batch(topic="kursk", articles=[make_article(1)]), "r1")
    publish_snapshot(db)
    return db


@pytest.mark.parametrize(
    ("args", "sql"),
    [
        ([], "COPY (FROM articles) TO '{out}/articles.csv'"),
        (["--live"], "COPY articles TO '{out}/articles.csv'"),
        ([], "SELECT * FROM read_text('/etc/passwd')"),
        ([], "SELECT * FROM read_csv('/etc/passwd')"),
        ([], "SELECT * FROM glob('/etc/*')"),
        ([], "INSTALL httpfs"),
        ([], "SELECT 1; COPY (SELECT 1) TO '{out}/second.csv'"),
        ([], "SELEC count(*) FROM articles"),
    ],
)
def test_query_refuses_what_does_not_only_read(analyst_db: Path, tmp_path: Path, args: list[str], sql: str) -> None:
    """Refused with exit 2 and one line on stderr; nothing written anywhere, no traceback."""
    out = tmp_path / "out"
    out.mkdir()
    before = sorted(p.name for p in analyst_db.parent.iterdir())
    result = run_cli(["query", *args, "--db", str(analyst_db), sql.format(out=out)], {}, timeout=120, cwd=out)
    assert result.returncode == 2, result.stdout[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("claimwatch: error: "), result.stderr[-2000:]
    assert "root:" not in result.stdout + result.stderr
    assert list(out.iterdir()) == [] and sorted(p.name for p in analyst_db.parent.iterdir()) == before


def test_query_reads_the_views_of_the_snapshot(analyst_db: Path) -> None:
    sql = "SELECT 'figures: ' || count(*) AS n FROM claims_with_source"
    result = run_cli(["query", "--db", str(analyst_db), sql], {}, timeout=120)
    assert result.returncode == 0 and "figures: 0" in result.stdout, result.stderr[-2000:]
    live = run_cli(["query", "--live", "--db", str(analyst_db), "FROM articles SELECT url"], {}, timeout=120)
    assert live.returncode == 0 and make_article(1).url in live.stdout, live.stderr[-2000:]


def _stored(db: Path) -> Path:
    """A database after a run: an article stored and the snapshot published; returns the snapshot."""
    with open_store(db) as con:
        load_batch(con, Batch("kursk", [make_article(1)]), "r1")
    return publish_snapshot(db)


def _newest_migration() -> str:
    return max(p.name.split("_", 1)[0] for p in (SQL_DIR / "migrations").glob("*.sql"))


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_migrate_refuses_a_newer_schema_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    _stored(db)
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO schema_migrations VALUES ('9999', '9999_from_a_later_version', now())")
    before = _digest(db)
    result = run_cli(["migrate", "--db", str(db)], {}, timeout=120)
    assert result.returncode == 2 and "schema is current" not in result.stdout
    [line] = result.stderr.splitlines()
    assert (
        line.startswith("claimwatch: error: ")
        and "9999" in line
        and f"newest migration is {_newest_migration()}" in line
    )
    assert _digest(db) == before and not db.with_name(db.name + ".wal").exists()


def test_a_truncated_database_is_refused_by_migrate_and_alerts_list_naming_the_snapshot(tmp_path: Path) -> None:
    from pipeline.store.db import data_end

    db = tmp_path / "c.duckdb"
    snap = _stored(db)
    with duckdb.connect(str(db), read_only=True) as con:
        end = data_end(con)
    with db.open("r+b") as fh:  # one byte short: the catalog is whole, so DuckDB opens the file
        fh.truncate(end - 1)
    for command in (["migrate"], ["alerts", "list"]):
        result = run_cli([*command, "--db", str(db)], {}, timeout=120)
        assert result.returncode == 2, (command, result.stdout)
        [line] = result.stderr.splitlines()
        assert "is damaged (truncated" in line and str(snap) in line and f"claimwatch restore --db {db}" in line


def test_restore_brings_a_deleted_database_back_and_refuses_to_replace_a_healthy_one(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    snap = _stored(db)
    db.unlink()
    listed = run_cli(["alerts", "list", "--db", str(db)], {}, timeout=120)
    assert listed.returncode == 2 and str(snap) in listed.stderr and "claimwatch restore" in listed.stderr
    assert not db.exists()
    restored = run_cli(["restore", "--db", str(db)], {}, timeout=120)
    assert restored.returncode == 0, restored.stderr
    assert f"restored from {snap}" in restored.stdout and "1 articles" in restored.stdout
    assert run_cli(["alerts", "list", "--db", str(db)], {}, timeout=120).returncode == 0
    again = run_cli(["restore", "--db", str(db)], {}, timeout=120)
    assert again.returncode == 2 and "is healthy" in again.stderr and "--force" in again.stderr
