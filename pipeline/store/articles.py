"""Article rows and their fingerprints, with the original-vs-copy rules of
``pipeline.ingest.dedup`` applied inside the load's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.ingest.dedup import (
    BANDS,
    Fingerprint,
    Match,
    best_match,
    claims_of,
    copy_action,
    fingerprint,
    own_identity,
    same_page_action,
)
from pipeline.records import (
    Article,
    Claim,
)
from pipeline.store.claims import insert_claims
from pipeline.store.seen import mark_seen

if TYPE_CHECKING:
    import duckdb


_ARTICLE_INSERT = (
    "INSERT INTO articles (article_id, url, canonical_url, title, outlet, published_at, fetched_at, language,"
    " text, content_hash, run_id, loaded_at, duplicate_of, duplicate_kind, similarity, published_precision,"
    " published_corrected, published_note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"
)


# One statement for all bands; DuckDB answers an IN list on the indexed bucket key with
# index lookups (no row group is scanned), so the cost does not grow with the history
# (bench/bench_dedup.py measures it).
_BAND_LOOKUP = "SELECT DISTINCT article_id FROM fingerprint_bands WHERE band_key IN (" + ", ".join(["?"] * BANDS) + ")"


def store_fingerprint(con: duckdb.DuckDBPyConnection, article_id: str, print_: Fingerprint) -> None:
    """Index one article's text for near-duplicate lookups (idempotent)."""
    inserted = con.execute(
        "INSERT INTO article_fingerprints VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING article_id",
        [article_id, print_.signature],
    ).fetchall()
    if inserted:
        con.executemany("INSERT INTO fingerprint_bands VALUES (?, ?)", [[key, article_id] for key in print_.band_keys])


def find_copy_of(
    con: duckdb.DuckDBPyConnection, content_hash: str, print_: Fingerprint, near_similarity: float
) -> Match | None:
    """The stored article this text copies, exactly (same normalised text) or nearly, if any.

    Reads the articles with the same text hash (indexed) and those sharing an LSH
    bucket with the text, never the whole history.
    """
    same_text = con.execute("SELECT article_id FROM articles WHERE content_hash = ? LIMIT 1", [content_hash])
    exact = same_text.fetchone()
    if exact is not None:
        return Match(original_of(con, str(exact[0])), 1.0, "exact")
    ids = sorted({str(r[0]) for r in con.execute(_BAND_LOOKUP, list(print_.band_keys)).fetchall()})
    rows = [
        (article_id, "", row[0])
        for article_id in ids
        if (
            row := con.execute(
                "SELECT signature FROM article_fingerprints WHERE article_id = ?", [article_id]
            ).fetchone()
        )
    ]
    found = best_match(content_hash, print_.signature, rows, near_similarity)
    return None if found is None else Match(original_of(con, found.original_id), found.similarity, found.kind)


def original_of(con: duckdb.DuckDBPyConnection, article_id: str) -> str:
    """The original an article id stands for: a stored article's own original (or itself), else the
    original recorded for that id when it was found to be an exact copy."""
    found = (
        con.execute(
            "SELECT coalesce(duplicate_of, article_id) FROM articles WHERE article_id = ?", [article_id]
        ).fetchone()
        or con.execute(
            "SELECT duplicate_of FROM seen_urls WHERE article_id = ? AND duplicate_of IS NOT NULL LIMIT 1", [article_id]
        ).fetchone()
    )
    return str(found[0]) if found else article_id


def stored_article(con: duckdb.DuckDBPyConnection, article_id: str) -> Article | None:
    row = con.execute(
        "SELECT article_id, url, canonical_url, title, outlet, published_at, fetched_at, language, text,"
        " content_hash, published_precision FROM articles WHERE article_id = ?",
        [article_id],
    ).fetchone()
    return None if row is None else Article(*row)


def stored_title_outlets(con: duckdb.DuckDBPyConnection, topic: str) -> list[tuple[str, str]]:
    """(title, outlet) of the topic's stored articles: the fallback identity of an unresolvable link."""
    rows = con.execute(
        "SELECT a.title, a.outlet FROM articles a JOIN seen_urls s ON s.article_id = a.article_id"
        " WHERE s.topic = ? AND s.outcome = 'stored' AND a.title IS NOT NULL AND a.outlet IS NOT NULL",
        [topic],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def update_article_text(con: duckdb.DuckDBPyConnection, article: Article) -> None:
    """Replace a stored article's extracted fields (same id) with a new extraction of its archived page."""
    con.execute(
        "UPDATE articles SET title = ?, outlet = ?, published_at = coalesce(?, published_at), language = ?,"
        " text = ?, content_hash = ?, published_corrected = ?, published_note = ? WHERE article_id = ?",
        [
            article.title,
            article.outlet,
            article.published_at,
            article.language,
            article.text,
            article.content_hash,
            article.published_corrected,
            article.published_note,
            article.article_id,
        ],
    )


def load_article(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    a: Article,
    claims: Sequence[Claim],
    near_similarity: float,
    now: datetime,
    run_id: str,
) -> str:
    """Store one article as an original, a near copy or not at all (exact copy); returns the outcome.

    The rules that decide which copy is the original are ``pipeline.ingest.dedup``'s; this applies them.
    A page holding a stored article's id with another text is stored under its own identity.
    """
    same_page = stored_article(con, a.article_id)
    for _ in range(3):  # declared id, own address's, own address and text's (held by this text only)
        if same_page is None:
            break
        placed = same_page_action(a, same_page, _topic_has(con, topic, a.article_id), near_similarity)
        if placed != "another_page":
            break
        a = own_identity(a)
        claims = claims_of(a, claims)
        same_page = stored_article(con, a.article_id)
    if same_page is not None:
        if placed == "readdress":
            if not _topic_has(con, topic, a.article_id):
                insert_claims(con, claims, run_id, now)
            con.execute("UPDATE articles SET url = ? WHERE article_id = ?", [a.url, a.article_id])
            _relink_url(con, same_page.url, a.article_id, a.article_id)
            mark_seen(con, topic, a.url, "stored", a.article_id, now, run_id)
            return "stored"
        if placed == "adopt":
            return _adopt(con, topic, a, claims, now, run_id)
        root = original_of(con, a.article_id)
        mark_seen(con, topic, a.url, "duplicate", a.article_id, now, run_id, duplicate_of=root, kind="exact",
                  similarity=1.0, reason="another address of a stored article")  # fmt: skip
        return "duplicate"
    print_ = fingerprint(a.text)
    match = find_copy_of(con, a.content_hash, print_, near_similarity)
    original = None if match is None else stored_article(con, match.original_id)
    action = copy_action(a, match, original)
    if action == "exact_copy" and match is not None:
        mark_seen(con, topic, a.url, "duplicate", a.article_id, now, run_id, duplicate_of=match.original_id,
                  kind="exact", similarity=1.0, reason="same text as a stored article")  # fmt: skip
        return "duplicate"
    _insert_article(con, a, match if action == "near_copy" else None, run_id, now)
    store_fingerprint(con, a.article_id, print_)
    insert_claims(con, claims, run_id, now)
    if action == "supersede" and match is not None and original is not None:
        _demote(con, original.article_id, a.article_id, match)
    if action != "near_copy" or match is None:
        mark_seen(con, topic, a.url, "stored", a.article_id, now, run_id)
        return "stored"
    reason = f"near copy ({match.similarity:.2f}) of a stored article"
    mark_seen(con, topic, a.url, "near_duplicate", a.article_id, now, run_id, duplicate_of=match.original_id,
              kind="near", similarity=match.similarity, reason=reason)  # fmt: skip
    return "near_duplicate"


def _topic_has(con: duckdb.DuckDBPyConnection, topic: str, article_id: str) -> bool:
    """Whether the topic already evaluated this stored article (under any of its addresses)."""
    return (
        con.execute(
            "SELECT 1 FROM seen_urls WHERE topic = ? AND article_id = ? AND outcome IN ('stored', 'near_duplicate')"
            " LIMIT 1",
            [topic, article_id],
        ).fetchone()
        is not None
    )


def _adopt(
    con: duckdb.DuckDBPyConnection, topic: str, a: Article, claims: Sequence[Claim], now: datetime, run_id: str
) -> str:
    """An article another topic stored: kept once, but this topic records it and gets its own claims.

    The article keeps its standing (original or near copy), so this topic's
    claims from a near copy are marked as relayed just as the first topic's are.
    """
    insert_claims(con, claims, run_id, now)
    row = con.execute(
        "SELECT duplicate_of, duplicate_kind, similarity FROM articles WHERE article_id = ?", [a.article_id]
    ).fetchone()
    if row is None or row[0] is None:
        mark_seen(con, topic, a.url, "stored", a.article_id, now, run_id)
        return "stored"
    outcome = "duplicate" if row[1] == "exact" else "near_duplicate"
    mark_seen(con, topic, a.url, outcome, a.article_id, now, run_id, duplicate_of=str(row[0]), kind=row[1],
               similarity=row[2], reason=f"{row[1]} copy of a stored article")  # fmt: skip
    return outcome


def _insert_article(
    con: duckdb.DuckDBPyConnection, a: Article, match: Match | None, run_id: str, now: datetime
) -> None:
    con.execute(
        _ARTICLE_INSERT,
        [
            a.article_id, a.url, a.canonical_url, a.title, a.outlet, a.published_at, a.fetched_at, a.language,
            a.text, a.content_hash, run_id, now,
            None if match is None else match.original_id,
            None if match is None else match.kind,
            None if match is None else match.similarity,
            a.published_precision or ("day" if a.published_at else "none"),
            a.published_corrected, a.published_note,
        ],
    )  # fmt: skip


def _demote(con: duckdb.DuckDBPyConnection, old: str, new: str, match: Match) -> None:
    """Make a stored original (and every copy of it) a copy of ``new``: articles, URLs and claims."""
    con.execute(
        "UPDATE articles SET duplicate_of = ?, duplicate_kind = ?, similarity = ? WHERE article_id = ?",
        [new, match.kind, match.similarity, old],
    )
    con.execute("UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ?", [new, old])
    con.execute(
        "UPDATE seen_urls SET outcome = CASE WHEN outcome = 'stored' THEN ? ELSE outcome END,"
        " duplicate_of = ?, duplicate_kind = coalesce(duplicate_kind, ?), similarity = coalesce(similarity, ?)"
        " WHERE article_id = ? OR duplicate_of = ?",
        ["duplicate" if match.kind == "exact" else "near_duplicate", new, match.kind, match.similarity, old, old],
    )
    con.execute("UPDATE claims SET copy_of_article = ? WHERE article_id = ? OR copy_of_article = ?", [new, old, old])


def _relink_url(con: duckdb.DuckDBPyConnection, url: str, article_id: str, original: str) -> None:
    """A stored address that turned out to be a variant of the article's clean one: now a linked duplicate."""
    con.execute(
        "UPDATE seen_urls SET outcome = 'duplicate', article_id = ?, duplicate_of = ?, duplicate_kind = 'exact',"
        " similarity = 1.0, reason = 'another address of a stored article' WHERE url = ? AND outcome = 'stored'",
        [article_id, original, url],
    )


def backfill_fingerprints(con: duckdb.DuckDBPyConnection) -> int:
    """Index the articles stored before near-duplicate detection existed (run once, by migration 0006)."""
    rows = con.execute(
        "SELECT article_id, text FROM articles WHERE article_id NOT IN (SELECT article_id FROM article_fingerprints)"
    ).fetchall()
    for article_id, text in rows:
        store_fingerprint(con, article_id, fingerprint(text))
    return len(rows)


def stored_articles(con: duckdb.DuckDBPyConnection, topic: str) -> list[Article]:
    """Articles that produced claims for a topic (or were stored under it): the input of reprocessing."""
    rows = con.execute(
        "SELECT a.article_id, a.url, a.canonical_url, a.title, a.outlet, a.published_at,"
        " a.fetched_at, a.language, a.text, a.content_hash, a.published_precision FROM articles a"
        " WHERE a.article_id IN (SELECT article_id FROM seen_urls WHERE topic = ?"
        " AND outcome IN ('stored', 'near_duplicate'))"
        " ORDER BY a.published_at NULLS FIRST, a.article_id",
        [topic],
    ).fetchall()
    return [Article(*r) for r in rows]
