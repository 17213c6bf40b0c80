"""The migrated store: migrations applied once and atomically, and the analysts' snapshot."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.errors import PermanentError
from pipeline.records import Batch
from pipeline.settings import SQL_DIR
from pipeline.store.batches import load_batch
from pipeline.store.db import (
    DatabaseDamagedError,
    DatabaseLockedError,
    DatabaseMissingError,
    SchemaTooNewError,
    StoreError,
    connect,
    data_end,
    snapshot_path,
)
from pipeline.store.session import (
    known_versions,
    migrate,
    migrate_store,
    open_store,
    publish_snapshot,
    restore_snapshot,
    table_counts,
)
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


def _stored_and_published(db: Path) -> Path:
    """A database that has been through a run: rows stored and the snapshot published."""
    with open_store(db) as con:
        load_batch(con, make_batch(2), "r1")
    return publish_snapshot(db)


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_database_with_a_newer_schema_is_refused_before_anything_is_written(db_path: Path) -> None:
    with open_store(db_path) as con:
        con.execute("INSERT INTO schema_migrations VALUES ('9999', '9999_from_a_later_version', now())")
    before = _digest(db_path)
    newest = known_versions()[-1]
    for attempt in (lambda: open_store(db_path).__enter__(), lambda: migrate_store(db_path)):
        with pytest.raises(SchemaTooNewError) as refused:
            attempt()
        message = str(refused.value)
        assert "9999" in message and f"newest migration is {newest}" in message and str(db_path) in message
    assert isinstance(refused.value, StoreError) and isinstance(refused.value, PermanentError)
    assert _digest(db_path) == before and not db_path.with_name(db_path.name + ".wal").exists()


def test_a_deleted_database_is_not_recreated_while_its_snapshot_shows_earlier_runs(db_path: Path) -> None:
    snap = _stored_and_published(db_path)
    db_path.unlink()
    with pytest.raises(DatabaseMissingError) as refused, open_store(db_path):
        pass
    message = str(refused.value)
    assert str(snap) in message and f"claimwatch restore --db {db_path}" in message and "--start-over" in message
    assert not db_path.exists()
    with pytest.raises(DatabaseMissingError):
        migrate_store(db_path)
    assert not db_path.exists()
    assert migrate_store(db_path, start_over=True) == known_versions()  # on purpose: a new, empty database
    with open_store(db_path) as con:
        assert table_counts(con)["articles"] == 0


def test_a_deleted_database_in_a_data_directory_with_an_archive_is_refused(tmp_path: Path) -> None:
    """No snapshot (deleted too), but the raw archive next to it shows that pages were fetched into it."""
    db = tmp_path / "data" / "claimwatch.duckdb"
    (tmp_path / "data" / "archive" / "ab").mkdir(parents=True)
    (tmp_path / "data" / "archive" / "ab" / ("ab" + "0" * 62 + ".gz")).write_bytes(b"page")
    with pytest.raises(DatabaseMissingError, match="raw archive .*There is no snapshot"), open_store(db):
        pass
    assert not db.exists()


def test_a_fresh_directory_starts_from_nothing(tmp_path: Path) -> None:
    db = tmp_path / "data" / "claimwatch.duckdb"
    (tmp_path / "data" / "staging").mkdir(parents=True)  # a run stages its entries before it opens the store
    with open_store(db) as con:
        assert table_counts(con)["alerts"] == 0


def _data_end(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return data_end(con)


# Where the file is cut: nothing left, inside the headers, halfway, one byte short of the data's end
# (the catalog intact: DuckDB opens it and the schema looks current).
CUTS = {
    "empty": lambda end: 0,
    "headers": lambda end: 5000,
    "half": lambda end: end // 2,
    "last byte": lambda end: end - 1,
}


@pytest.mark.parametrize("cut", CUTS)
def test_a_truncated_database_is_refused_naming_the_snapshot(db_path: Path, cut: str) -> None:
    snap = _stored_and_published(db_path)
    with db_path.open("r+b") as fh:
        fh.truncate(CUTS[cut](_data_end(db_path)))
    with pytest.raises(DatabaseDamagedError) as refused, open_store(db_path):
        pass
    message = str(refused.value)
    assert "damaged" in message and str(snap) in message and f"claimwatch restore --db {db_path}" in message
    with pytest.raises(DatabaseDamagedError):
        migrate_store(db_path)
    with pytest.raises(DatabaseDamagedError):
        publish_snapshot(db_path)  # a damaged file never replaces the good snapshot
    assert _digest(snap) == _digest(snapshot_path(db_path))


def test_free_blocks_never_written_at_the_end_are_not_damage(db_path: Path) -> None:
    """The header counts blocks that may never have been written: only a cut into used ones is damage."""
    with open_store(db_path) as con:
        con.execute("CREATE TABLE scratch AS SELECT i, repeat('x', 300) AS s FROM range(100000) t(i)")
    with open_store(db_path) as con:
        con.execute("DROP TABLE scratch")
    end = _data_end(db_path)
    assert db_path.stat().st_size > end  # the dropped table's blocks are free now
    with db_path.open("r+b") as fh:
        fh.truncate(end)
    with open_store(db_path) as con:
        assert table_counts(con)["articles"] == 0


def test_a_damaged_block_met_while_reading_names_the_snapshot(db_path: Path) -> None:
    with open_store(db_path) as con:
        con.execute("CREATE TABLE filler AS SELECT i, repeat('x', 200) AS s FROM range(200000) t(i)")
    publish_snapshot(db_path)
    with db_path.open("r+b") as fh:  # overwrite the middle of the table's data
        fh.seek(db_path.stat().st_size // 2)
        fh.write(b"\xff" * 8192)
    damaged = pytest.raises(DatabaseDamagedError, match="Corrupt database file.*claimwatch restore")
    with damaged, open_store(db_path) as con:
        con.execute("SELECT max(s) FROM filler").fetchall()


_CRASHING_WRITER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
con.execute("SET checkpoint_threshold = '10GB'")  # everything stays in the write-ahead log
for _ in range(20):
    con.execute("CREATE OR REPLACE TABLE big AS SELECT i, repeat('y', 300) AS s FROM range(20000) t(i)")
print("ok", flush=True)
time.sleep(60)
"""


def test_a_database_reopened_after_a_crash_mid_write_is_whole(db_path: Path) -> None:
    """The size check never takes a healthy file for a truncated one: kill -9 with a big write in the WAL."""
    with open_store(db_path):
        pass
    writer = subprocess.Popen([sys.executable, "-c", _CRASHING_WRITER, str(db_path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ok"
    writer.kill()
    writer.wait()
    assert db_path.with_name(db_path.name + ".wal").exists()
    with open_store(db_path) as con:
        assert con.execute("SELECT count(*) FROM big").fetchone() == (20000,)


def test_restore_puts_the_snapshot_back_and_keeps_the_file_it_replaces(db_path: Path) -> None:
    snap = _stored_and_published(db_path)
    with pytest.raises(StoreError, match="is healthy.*--force"):
        restore_snapshot(db_path)
    size = db_path.stat().st_size
    with db_path.open("r+b") as fh:
        fh.truncate(size // 2)
    db_path.with_name(db_path.name + ".wal").write_bytes(b"a log of the damaged file")
    done = restore_snapshot(db_path)
    assert done.snapshot == snap and done.counts["articles"] == 2 and done.counts["claims"] == 2
    assert done.kept is not None and done.kept.stat().st_size == size // 2
    assert done.kept.with_name(done.kept.name + ".wal").read_bytes() == b"a log of the damaged file"
    assert not db_path.with_name(db_path.name + ".wal").exists()
    with open_store(db_path) as con:
        assert table_counts(con)["articles"] == 2
    db_path.unlink()
    assert restore_snapshot(db_path).kept is None
    with open_store(db_path) as con:  # healthy again: forced restores only
        load_batch(con, Batch("kursk", [make_article(7)], []), "r2")
    assert restore_snapshot(db_path, force=True).counts["articles"] == 2


def test_restore_refuses_a_missing_or_damaged_snapshot(db_path: Path) -> None:
    with pytest.raises(StoreError, match="no snapshot at"):
        restore_snapshot(db_path)
    snap = _stored_and_published(db_path)
    db_path.unlink()
    with snap.open("r+b") as fh:
        fh.truncate(100)
    with pytest.raises(StoreError, match="cannot be restored: it is damaged too"):
        restore_snapshot(db_path)
    assert not db_path.exists()


def test_restore_never_replaces_a_file_another_process_holds(db_path: Path, lock_holder: subprocess.Popen[str]) -> None:
    elsewhere = db_path.with_name("elsewhere.duckdb")
    _stored_and_published(elsewhere)
    snapshot_path(elsewhere).replace(snapshot_path(db_path))  # a good snapshot to restore from
    before = _digest(db_path)
    with pytest.raises(DatabaseLockedError, match=f"process {lock_holder.pid} "):
        restore_snapshot(db_path, force=True, lock_timeout=0.5)
    assert _digest(db_path) == before and not list(db_path.parent.glob("*.replaced-*"))
