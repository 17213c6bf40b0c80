"""The migrated store: migrations applied once and atomically, and the analysts' snapshot."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.records import Batch
from pipeline.settings import SQL_DIR
from pipeline.store.batches import load_batch
from pipeline.store.db import (
    DatabaseLockedError,
    StoreError,
    connect,
    snapshot_path,
)
from pipeline.store.session import migrate, open_store, publish_snapshot
from tests.unit.factories import make_article, make_batch, make_claim

HOSTILE_NAMES = [  # DuckDB names the catalog after the file name up to its first dot
    "memory\" TO claimwatch_snapshot; COPY (SELECT 42) TO 'injected'; --.duckdb",
    "system\" TO claimwatch_snapshot; COPY (SELECT 'x') TO 'injected2' (FORMAT csv); --.duckdb",
    "it's \"quoted\"'); COPY (SELECT 1) TO 'injected3'; --.duckdb",
]


def test_migrations_apply_once_and_record_versions(db_path: Path) -> None:
    versions = sorted(p.name.split("_", 1)[0] for p in (SQL_DIR / "migrations").glob("*.sql"))
    assert versions[0] == "0001"
    con = connect(db_path)
    assert migrate(con) == versions
    assert migrate(con) == []
    assert [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()] == versions
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"claims_with_source", "source_claims_over_time", "disagreements", "alert_log"} <= views
    con.close()


def test_failed_migration_rolls_back_and_names_the_file(tmp_path: Path, db_path: Path) -> None:
    sql = tmp_path / "sql"
    (sql / "migrations").mkdir(parents=True)
    (sql / "views").mkdir()
    (sql / "migrations" / "0001_ok.sql").write_text("CREATE TABLE t (x INTEGER);")
    (sql / "migrations" / "0002_bad.sql").write_text("CREATE TABLE u (y INTEGER); SELEC nonsense;")
    con = connect(db_path)
    with pytest.raises(StoreError, match="0002_bad.sql"):
        migrate(con, sql)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "t" in tables and "u" not in tables
    assert [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()] == ["0001"]


def test_publish_snapshot_fails_as_fast_when_the_live_file_is_held(
    db_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(DatabaseLockedError, match=f"process {lock_holder.pid} "):
        publish_snapshot(db_path, lock_timeout=1.0)
    assert time.monotonic() - started < 5
    assert not snapshot_path(db_path).exists()


def test_snapshot_is_a_full_copy_analysts_can_hold_open(db_path: Path) -> None:
    with open_store(db_path) as con:
        load_batch(con, make_batch(1), "r1")
    snap = publish_snapshot(db_path)
    analyst = duckdb.connect(str(snap), read_only=True)
    try:
        assert analyst.execute("SELECT count(*) FROM claims_with_source").fetchone() == (1,)
        with open_store(db_path) as con:  # the pipeline writes while the analyst's session is open
            load_batch(con, Batch("kursk", [make_article(9)], [make_claim(make_article(9))]), "r2")
        publish_snapshot(db_path)
        assert analyst.execute("SELECT count(*) FROM claims").fetchone() == (1,)  # still the copy it opened
    finally:
        analyst.close()
    fresh = duckdb.connect(str(snap), read_only=True)
    assert fresh.execute("SELECT count(*) FROM claims").fetchone() == (2,)
    fresh.close()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_database_name_writes_nothing_but_the_database_and_its_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The file name reaches SQL only as a bound parameter: no statement hidden in it runs."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # where a relative COPY ... TO would land
    db = work / name
    with open_store(db) as con:
        load_batch(con, make_batch(1), "r1")
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["work", name])
    snap = publish_snapshot(db)
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["work", name, snap.name])
    con = duckdb.connect(str(snap), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM claims_with_source").fetchone() == (1,)
    finally:
        con.close()


def test_migration_0006_indexes_the_articles_stored_before_it(db_path: Path, tmp_path: Path) -> None:
    """A database created before near-duplicate detection gets fingerprints for its articles on upgrade."""
    import shutil

    old_sql = tmp_path / "sql-0001"
    (old_sql / "migrations").mkdir(parents=True)
    shutil.copy(SQL_DIR / "migrations" / "0001_initial.sql", old_sql / "migrations")
    (old_sql / "views").mkdir()  # today's views name columns that 0001 does not have
    a = make_article(1)
    with open_store(db_path, sql_dir=old_sql) as con:
        con.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [a.article_id, a.url, a.canonical_url, a.title, a.outlet, a.published_at, a.fetched_at, a.language,
             a.text, a.content_hash, "r0", a.fetched_at],
        )  # fmt: skip
    with open_store(db_path) as con:
        prints = con.execute("SELECT count(*) FROM article_fingerprints").fetchone()
        bands = con.execute("SELECT count(DISTINCT band_key) FROM fingerprint_bands").fetchone()
        copy = make_article(2, text=a.text + " One sentence more.")
        result = load_batch(con, Batch("kursk", [copy]), "r1")
        linked = con.execute("SELECT duplicate_of FROM articles WHERE article_id = ?", [copy.article_id]).fetchone()
    assert prints == (1,) and bands is not None and bands[0] > 1
    assert result.near_duplicates == 1 and linked == (a.article_id,)
