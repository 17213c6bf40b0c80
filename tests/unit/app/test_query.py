"""The analyst query connection: read-only, no files or network beyond its own database, one reading statement."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.app.query import QueryError, one_line, open_sandboxed, the_statement
from pipeline.store.session import open_store


@pytest.fixture
def database(tmp_path: Path) -> Path:
    db = tmp_path / "c.duckdb"
    with open_store(db):
        pass
    return db


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1 AS a) TO '{out}/copied.csv'",
        "EXPORT DATABASE '{out}/exported'",
        "SELECT * FROM read_text('{secret}')",
        "SELECT * FROM read_csv('{secret}')",
        "SELECT * FROM glob('{out}/*')",
        "ATTACH '{out}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET autoload_known_extensions = true",
    ],
)
def test_the_connection_itself_refuses_files_extensions_and_settings(database: Path, tmp_path: Path, sql: str) -> None:
    """Executed directly, past the statement check: the sandbox alone holds."""
    out = tmp_path / "out"
    out.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("a,b\n1,2\n", encoding="utf-8")
    con = open_sandboxed(database)
    try:
        with pytest.raises(duckdb.Error):
            con.execute(sql.format(out=out, secret=secret)).fetchall()
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
    finally:
        con.close()
    assert list(out.iterdir()) == []


def test_the_views_still_answer(database: Path) -> None:
    con = open_sandboxed(database)
    try:
        for view in ("claims_with_source", "disagreements", "incident_log", "alert_log", "metric_ranges_by_month"):
            assert con.execute(f"SELECT count(*) FROM {view}").fetchone() == (0,), view
    finally:
        con.close()


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1; SELECT 2", "one SQL statement per query, got 2"),
        ("SELECT 1; COPY claims TO 'x.csv'", "one SQL statement per query, got 2"),
        ("  ;  ", "one SQL statement per query, got none"),
        ("COPY claims TO 'x.csv'", "not COPY"),
        ("INSTALL httpfs", "not INSTALL or LOAD"),
        ("CREATE TABLE t (a INT)", "not CREATE"),
        ("SELEC 1", 'Parser Error: syntax error at or near "SELEC"'),
    ],
)
def test_one_reading_statement_or_a_one_line_refusal(database: Path, sql: str, message: str) -> None:
    con = open_sandboxed(database)
    try:
        with pytest.raises(QueryError) as info:
            the_statement(con, sql)
    finally:
        con.close()
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "sql", ["FROM disagreements", "SELECT 1;", "SHOW TABLES", "DESCRIBE claims", "EXPLAIN FROM claims"]
)
def test_reading_statements_pass(database: Path, sql: str) -> None:
    con = open_sandboxed(database)
    try:
        con.execute(the_statement(con, sql)).fetchall()
    finally:
        con.close()


def test_a_duckdb_error_becomes_one_line_without_the_caret_diagram() -> None:
    error = duckdb.ConversionException(
        "Conversion Error: Could not convert string 'x' to INT32\n\nLINE 1: select a from t where a = 'x'\n   ^^^"
    )
    assert one_line(error) == "Conversion Error: Could not convert string 'x' to INT32"
    binder = duckdb.BinderException('Binder Error: column "x" not found!\nCandidate bindings: "a"')
    assert one_line(binder) == 'Binder Error: column "x" not found! Candidate bindings: "a"'
