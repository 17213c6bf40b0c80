"""pipeline.ingest.dedup: exact duplicates by text hash or id, within a batch and against the store."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.ingest.dedup import (
    BANDS,
    NUM_PERM,
    Match,
    best_match,
    claims_of,
    copy_action,
    drop_duplicates,
    fingerprint,
    own_identity,
    precedence,
    same_page_action,
    shingles,
    similarity,
    split_exact_copies,
)
from pipeline.records import Article, stable_id
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


# --- originals, fingerprints ------------------------------------------------------------

WIRE = (
    "North Korea has sent roughly 11,000 soldiers to Russia, most of them to the Kursk region, the spy agency said. "
    "The troops travelled in several groups by sea and by air between October and December. "
    "Analysts said a second rotation could follow if losses continued at the current pace."
)


def test_precedence_puts_the_earliest_then_the_cleanest_address_first() -> None:
    early = make_article(1, url="https://partner.example/copy?src=feed")
    clean = replace(early, url="https://news.example/story", published_at=early.published_at)
    tracked = replace(clean, url="https://news.example/story?utm_source=rss")
    mobile = replace(clean, url="https://m.news.example/story")
    undated = replace(clean, published_at=None)
    later = replace(clean, published_at=datetime(2026, 1, 1, tzinfo=UTC))
    ordered = sorted([undated, later, tracked, mobile, early, clean], key=precedence)
    assert ordered[0] == clean  # same moment as the partner copy, but no query string
    assert ordered[1] == early
    assert set(ordered[2:4]) == {tracked, mobile}
    assert ordered[4:] == [later, undated]


def test_split_exact_copies_keeps_the_original_whatever_the_feed_order() -> None:
    original = make_article(1, url="https://news.example/story")
    tracked = replace(original, url="https://news.example/story?fbclid=1")  # same id: same canonical page
    partner = replace(make_article(2, text=original.text), content_hash=original.content_hash,
                      published_at=original.published_at + timedelta(hours=1))  # fmt: skip
    other = make_article(3, text="A different text entirely about the weather in Oslo. " * 5)
    kept, copies = split_exact_copies([partner, tracked, other, original])
    assert kept == [original, other]
    assert copies == [(tracked, original), (partner, original)]


def test_fingerprints_are_stable_and_similarity_tracks_shared_text() -> None:
    a = fingerprint(WIRE)
    assert a == fingerprint(WIRE) and len(a.band_keys) == BANDS and len(a.signature) == NUM_PERM * 4
    assert all(-(2**63) <= k < 2**63 for k in a.band_keys)
    edited = fingerprint(WIRE + " Moscow and Pyongyang have not confirmed the numbers.")
    unrelated = fingerprint("Norway's central bank raised its policy rate by a quarter point on Thursday. " * 2)
    assert similarity(a.signature, a.signature) == 1.0
    assert 0.5 < similarity(a.signature, edited.signature) < 1.0
    assert similarity(a.signature, unrelated.signature) < 0.1
    assert shingles("North Korea, north KOREA!") == {"north korea north", "korea north korea"}
    with pytest.raises(ValueError, match="different lengths"):
        similarity(a.signature, a.signature[:8])


def test_best_match_prefers_an_exact_copy_then_the_most_similar() -> None:
    a, edited = fingerprint(WIRE), fingerprint(WIRE + " One more sentence.")
    candidates = [("near", "h-near", edited.signature), ("same", "h-same", a.signature)]
    assert best_match("h-same", a.signature, candidates, 0.5) == Match("same", 1.0, "exact")
    near = best_match("h-new", a.signature, candidates, 0.5)
    assert near is not None and near.original_id == "same" and near.kind == "near"  # identical signature wins
    assert best_match("h-new", a.signature, candidates[:1], 0.99) is None


# --- which copy is the original: the pure rules the load applies ------------------------


def _dated(article: Article, day: int, url: str | None = None) -> Article:
    return replace(article, published_at=datetime(2025, 3, day, tzinfo=UTC), url=url or article.url)


def test_a_cleaner_address_of_a_stored_page_names_the_article() -> None:
    stored = _dated(make_article(1), 5, url="https://example.org/a?utm_source=feed")
    clean = _dated(stored, 5, url="https://example.org/a")
    assert same_page_action(clean, stored, topic_has_it=True, near_similarity=0.5) == "readdress"
    assert same_page_action(stored, clean, topic_has_it=True, near_similarity=0.5) == "another_address"
    assert same_page_action(stored, clean, topic_has_it=False, near_similarity=0.5) == "adopt"


def test_a_page_with_a_stored_article_s_id_but_not_its_text_is_another_page() -> None:
    """A declared canonical is only a claim: the address alone never makes a page a copy."""
    real = _dated(make_article(1), 5, url="https://example.org/a")
    impostor = replace(_dated(make_article(2), 1, url="https://example.org/b"), article_id=real.article_id,
                       canonical_url=real.canonical_url)  # fmt: skip
    for topic_has_it in (True, False):
        assert same_page_action(impostor, real, topic_has_it, near_similarity=0.5) == "another_page"
    edited = replace(real, url="https://example.org/a?ref=x", text=real.text + " One more line.", content_hash="h")
    assert same_page_action(edited, real, topic_has_it=True, near_similarity=0.5) == "another_address"


def test_own_identity_takes_the_page_s_own_address_then_its_address_and_text() -> None:
    real = make_article(1, url="https://example.org/a")
    impostor = replace(make_article(2, url="https://example.org/b?utm_source=x"), article_id=real.article_id,
                       canonical_url=real.canonical_url)  # fmt: skip
    moved = own_identity(impostor)
    assert (moved.article_id, moved.canonical_url) == (stable_id("https://example.org/b"), "https://example.org/b")
    again = own_identity(moved)  # its own address is taken too: the address and the text name it
    assert again.article_id == stable_id("https://example.org/b", moved.content_hash) != moved.article_id
    assert again.canonical_url == moved.canonical_url and again.url == impostor.url


def test_claims_follow_their_article_to_its_new_id_under_the_claim_reader_s_naming(kursk_topic: object) -> None:
    from pipeline.claims import extract_claims

    article = make_article(1, text="Seoul said about 14,000 North Korean troops had been sent to Kursk. " * 3)
    claims = extract_claims(article, kursk_topic)  # type: ignore[arg-type]
    assert claims
    moved = own_identity(replace(article, canonical_url="https://example.org/declared"))
    renamed = claims_of(moved, claims)
    assert [c.article_id for c in renamed] == [moved.article_id] * len(claims)
    # Named exactly as the claim reader names the claims of an article with that id.
    assert [c.claim_id for c in renamed] == [c.claim_id for c in extract_claims(moved, kursk_topic)]  # type: ignore[arg-type]


def _at(n: int, url: str) -> Article:
    return make_article(n, url=url, canonical_url=url, article_id=stable_id(url))


def test_in_a_batch_the_page_at_the_address_holds_the_id_and_the_impostor_takes_its_own() -> None:
    real = _dated(_at(1, "https://example.org/a"), 5)
    impostor = replace(_dated(_at(2, "https://example.org/b"), 1), article_id=real.article_id,
                       canonical_url=real.canonical_url)  # fmt: skip
    tracked = replace(real, url="https://example.org/a?utm_source=rss")  # same page, same text
    kept, copies = split_exact_copies([impostor, tracked, real])
    assert kept == [own_identity(impostor), real]
    assert copies == [(tracked, real)]


def test_an_earlier_copy_supersedes_the_stored_original_and_a_later_one_is_a_copy() -> None:
    stored = _dated(make_article(1), 5)
    earlier, later = _dated(make_article(2), 1), _dated(make_article(3), 9)
    exact, near = Match(stored.article_id, 1.0, "exact"), Match(stored.article_id, 0.8, "near")
    assert copy_action(earlier, near, stored) == "supersede"
    assert copy_action(earlier, exact, stored) == "supersede"
    assert copy_action(later, exact, stored) == "exact_copy"
    assert copy_action(later, near, stored) == "near_copy"
    assert copy_action(later, None, None) == "original"
    assert copy_action(earlier, near, None) == "near_copy"  # an original no longer stored is not replaced
