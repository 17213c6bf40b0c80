"""One analyst query on a database file that it cannot change and that cannot reach anything else.

``claimwatch query`` runs SQL typed by a person against the snapshot (or, with
``--live``, the live file).  Read-only alone is not enough: DuckDB's ``COPY ... TO``
writes files, ``read_text``/``read_csv``/``glob`` read any file, ``INSTALL`` goes to
the network, and ``SET`` could undo all of it.  So the connection is opened with
external access off, extension auto-install and auto-load off, and its
configuration locked (set in the connect call, so there is no moment without
them); only one statement that reads runs, checked with DuckDB's own parser;
and every failure is one line.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.store.db import LOCK_WAIT_SECONDS, waiting_for_lock

# The settings the connection is opened with; `lock_configuration` last, so nothing can be SET back.
SANDBOX: dict[str, bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}

# Statement kinds that only read: SELECT (also FROM, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE),
# EXPLAIN, PRAGMA (show_tables, table_info; setting ones fail on the locked configuration), CALL.
READING_KINDS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL"})
KIND_WORDS = {"LOAD": "INSTALL or LOAD", "VARIABLE_SET": "SET", "MULTI": "a multi-statement form such as PIVOT"}


class QueryError(ValueError):
    """A query that was refused or failed; the message is one line."""


def one_line(exc: BaseException) -> str:
    """DuckDB's message without its caret diagram (``LINE 1: ...`` and ``^^^``), on one line."""
    text = str(exc).split("\n\nLINE ", 1)[0]
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def open_sandboxed(path: Path, lock_timeout: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """Open ``path`` read-only with ``SANDBOX``, waiting for the lock like the pipeline's own connections."""
    return waiting_for_lock(lambda: duckdb.connect(str(path), read_only=True, config=dict(SANDBOX)), path, lock_timeout)


def the_statement(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The one reading statement in ``sql``, as DuckDB parses it; QueryError for none, several or a writer."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(one_line(exc)) from None
    if len(statements) != 1:
        raise QueryError(f"one SQL statement per query, got {len(statements) or 'none'}")
    (statement,) = statements
    kind = statement.type.name
    if kind not in READING_KINDS:
        named = KIND_WORDS.get(kind, kind)
        raise QueryError(f"only a statement that reads runs here (SELECT, FROM, EXPLAIN, PRAGMA, CALL), not {named}")
    return str(statement.query)


def run_query(path: Path, sql: str, lock_timeout: float = LOCK_WAIT_SECONDS, max_rows: int = 200) -> None:
    """Print the result of one reading statement as a table; QueryError (one line) on any failure."""
    con = open_sandboxed(path, lock_timeout)
    try:
        statement = the_statement(con, sql)
        try:
            result = con.sql(statement)
            if result is not None:
                result.show(max_rows=max_rows, max_width=200)
        except duckdb.Error as exc:
            raise QueryError(one_line(exc)) from None
    finally:
        con.close()


__all__ = ["READING_KINDS", "SANDBOX", "QueryError", "one_line", "open_sandboxed", "run_query", "the_statement"]
