"""pipeline.dedup: exact duplicates by text hash or id, within a batch and against the store."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import pytest

from pipeline.dedup import drop_duplicates
from pipeline.records import Article
from tests.unit.factories import make_article

A = make_article(1)
B = make_article(2)
A_AT_SECOND_URL = replace(make_article(3), content_hash=A.content_hash)  # same text, other URL
A_EDITED = replace(A, content_hash="edited-text-hash")  # same canonical URL, text changed


@pytest.mark.parametrize(
    ("batch", "seen_hashes", "seen_ids", "kept", "dropped"),
    [
        ([], set(), set(), [], []),
        ([A, B], set(), set(), [A, B], []),
        ([A, A], set(), set(), [A], [A]),
        ([A, A_AT_SECOND_URL, B], set(), set(), [A, B], [A_AT_SECOND_URL]),
        ([A_AT_SECOND_URL, A], set(), set(), [A_AT_SECOND_URL], [A]),
        ([A, A_EDITED], set(), set(), [A], [A_EDITED]),
        ([A, B], {A.content_hash}, set(), [B], [A]),
        ([A, B], set(), {B.article_id}, [A], [B]),
        ([A_AT_SECOND_URL, B], [A.content_hash], [], [B], [A_AT_SECOND_URL]),
        ([A, B], {"unrelated"}, {"unrelated"}, [A, B], []),
    ],
    ids=[
        "empty",
        "distinct",
        "same-twice",
        "same-text-other-url",
        "first-occurrence-wins",
        "same-id-new-text",
        "hash-already-stored",
        "id-already-stored",
        "lists-as-collections",
        "unrelated-stored",
    ],
)
def test_drop_duplicates(
    batch: list[Article],
    seen_hashes: Collection[str],
    seen_ids: Collection[str],
    kept: list[Article],
    dropped: list[Article],
) -> None:
    assert drop_duplicates(batch, seen_hashes, seen_ids) == (kept, dropped)


def test_inputs_are_not_mutated() -> None:
    hashes: set[str] = set()
    ids: set[str] = set()
    batch = [A, B]
    drop_duplicates(batch, hashes, ids)
    assert (hashes, ids, batch) == (set(), set(), [A, B])
