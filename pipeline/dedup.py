"""Exact duplicates: the same page under two URLs, or the same text re-published.

Only exact matches are dropped.  Near-duplicates (a re-edited wire story) are
kept on purpose: each edit may change a figure, and that change is the news.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pipeline.records import Article


def drop_duplicates(
    articles: Sequence[Article], seen_hashes: Collection[str], seen_ids: Collection[str]
) -> tuple[list[Article], list[Article]]:
    """(kept, dropped): an article is dropped when its text hash or id was seen before; the first one wins."""
    hashes = set(seen_hashes)
    ids = set(seen_ids)
    kept: list[Article] = []
    dropped: list[Article] = []
    for article in articles:
        if article.content_hash in hashes or article.article_id in ids:
            dropped.append(article)
            continue
        hashes.add(article.content_hash)
        ids.add(article.article_id)
        kept.append(article)
    return kept, dropped


__all__ = ["drop_duplicates"]
