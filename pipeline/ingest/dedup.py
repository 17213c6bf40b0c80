"""Duplicates and near-duplicates, and which copy is the original.

An exact copy (same text under another URL) is not stored again.  A
near-duplicate (a syndicated wire story with a new headline, a sentence added
or cut) is stored, linked to its original, because an edit may change a
figure and that change is news; but its claims are marked as relayed copies
so they never count as a second, independent source.

Two pages share an id when they declare the same canonical URL, but a
declaration is only a claim: a page is taken for another address of an
article only when its text matches that article's (the same text, or a near
copy of it).  A page whose text does not match keeps an identity of its own
(``own_identity``), so no page can suppress another by naming its URL.

Near-duplicates are found with MinHash signatures over word 3-shingles
(datasketch), whose agreement estimates the Jaccard similarity of two texts.
The history is searched through locality-sensitive hashing: the signature is
cut into ``BANDS`` bands of ``ROWS`` values and each band hashed to a bucket
key stored in DuckDB, so a lookup reads only the articles sharing a bucket,
never the whole history.  With 32 bands of 4 a pair of similarity s becomes a
candidate with probability 1 - (1 - s^4)^32: 0.87 at s = 0.5, 0.99 at 0.6,
while unrelated texts (s < 0.1) almost never share a bucket.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from pipeline.ingest.urls import canonical_url, is_variant
from pipeline.records import Article, Claim, claim_key, stable_id

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SHINGLE_WORDS = 3
MINHASH_SEED = 1  # part of the stored format: changing it invalidates every stored signature
DEFAULT_NEAR_SIMILARITY = 0.5  # see tests/unit/test_dedup_labelled.py for the labelled pairs behind it

DuplicateKind = Literal["exact", "near"]
_WORD = re.compile(r"\w+", re.UNICODE)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
_MEANINGFUL = 4  # precedence fields that say which copy is the original (the rest only make the order total)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A text's MinHash signature (``NUM_PERM`` 32-bit values) and its LSH bucket keys."""

    signature: bytes
    band_keys: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """An article's stored original: its id, how alike the two texts are, exact or near."""

    original_id: str
    similarity: float
    kind: DuplicateKind


def split_exact_copies(
    articles: Sequence[Article], near_similarity: float = DEFAULT_NEAR_SIMILARITY
) -> tuple[list[Article], list[tuple[Article, Article]]]:
    """(originals, [(copy, its original)]) of one batch: same page id or same normalised text.

    Ids are settled first (``settle_ids``), so a page sharing another's id carries its text.
    Articles are then taken in ``precedence`` order, so the earliest published, cleanest
    address is the one kept, whatever order the feed listed them in.
    """
    by_key: dict[str, Article] = {}
    kept: list[Article] = []
    copies: list[tuple[Article, Article]] = []
    for article in sorted(settle_ids(articles, near_similarity), key=precedence):
        original = by_key.get(article.article_id) or by_key.get(article.content_hash)
        if original is not None:
            copies.append((article, original))
            continue
        by_key[article.article_id] = by_key[article.content_hash] = article
        kept.append(article)
    return kept, copies


def settle_ids(articles: Sequence[Article], near_similarity: float) -> list[Article]:
    """The batch with every id held by pages of one text: a page whose text does not match the
    page holding its id takes its own identity.  The page whose own address is the id holds it,
    before any page that only declared it."""
    holders: dict[str, Article] = {}
    settled: list[Article] = []
    for article in sorted(articles, key=lambda a: (not names_itself(a), precedence(a))):
        for _ in range(3):  # declared id, own address's, own address and text's (held by this text only)
            holder = holders.setdefault(article.article_id, article)
            if holder is article or same_text(article, holder, near_similarity):
                break
            article = own_identity(article)
        settled.append(article)
    return settled


def names_itself(article: Article) -> bool:
    """Whether the article's id comes from its own address, not from a canonical it declared."""
    return article.canonical_url == canonical_url(article.url)


def same_text(a: Article, b: Article, near_similarity: float) -> bool:
    """Whether two pages carry one article's text: the same normalised text, or a near copy."""
    if a.content_hash == b.content_hash:
        return True
    return similarity(fingerprint(a.text).signature, fingerprint(b.text).signature) >= near_similarity


def own_identity(article: Article) -> Article:
    """The article under an id its own address gives it, for a page whose declared canonical names
    a stored article with another text: first its own address's id, and when that is taken too
    (the page's own address is the canonical another page declared), its address and text."""
    own = canonical_url(article.url)
    if article.canonical_url != own:
        return dataclasses.replace(article, article_id=stable_id(own), canonical_url=own)
    return dataclasses.replace(article, article_id=stable_id(own, article.content_hash))


def claims_of(article: Article, claims: Sequence[Claim]) -> list[Claim]:
    """Claims read from an article's text, renamed for the article's (new) id."""
    return [
        dataclasses.replace(
            c,
            article_id=article.article_id,
            claim_id=claim_key(c.topic, article.article_id, c.char_start, c.char_end, c.metric),
        )
        for c in claims
    ]


def shingles(text: str) -> set[str]:
    """Word 3-grams of the text up to case and punctuation (the words alone for a very short text)."""
    words = [w.casefold() for w in _WORD.findall(text)]
    if len(words) < SHINGLE_WORDS:
        return set(words)
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def fingerprint(text: str) -> Fingerprint:
    """The MinHash signature of a text and its band keys (signed 64-bit, DuckDB BIGINT)."""
    import numpy as np  # heavy: imported when a text is hashed, not when a DAG file is parsed
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED)
    minhash.update_batch([s.encode("utf-8") for s in sorted(shingles(text))])
    values = np.asarray(minhash.hashvalues, dtype="<u8").astype("<u4")  # datasketch keeps them below 2**32
    signature = values.tobytes()
    return Fingerprint(signature, band_keys(signature))


def band_keys(signature: bytes) -> tuple[int, ...]:
    """One bucket key per band: a hash of the band's number and values."""
    width = ROWS * 4
    keys = []
    for band in range(BANDS):
        chunk = band.to_bytes(2, "big") + signature[band * width : (band + 1) * width]
        keys.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "big", signed=True))
    return tuple(keys)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two texts' shingle sets: the share of equal signature values."""
    import numpy as np

    left = np.frombuffer(a, dtype="<u4")
    right = np.frombuffer(b, dtype="<u4")
    if left.shape != right.shape:
        raise ValueError("signatures of different lengths cannot be compared")
    return float(np.count_nonzero(left == right)) / len(left)


def best_match(
    content_hash: str,
    signature: bytes,
    candidates: Sequence[tuple[str, str, bytes]],
    near_similarity: float,
) -> Match | None:
    """The closest candidate (article id, content hash, signature) that makes this text a copy, if any.

    Same normalised text is an exact copy; otherwise the most similar candidate
    at or above ``near_similarity`` is a near copy.
    """
    best: Match | None = None
    for article_id, other_hash, other_signature in candidates:
        if other_hash == content_hash:
            return Match(article_id, 1.0, "exact")
        score = similarity(signature, other_signature)
        if score >= near_similarity and (best is None or score > best.similarity):
            best = Match(article_id, score, "near")
    return best


def precedence(article: Article) -> tuple[object, ...]:
    """Sort key of the copies of one text: the first is the original.

    The earliest published copy is the original (an unknown date never wins
    over a known one); among copies published at the same moment, the page
    whose address is its own canonical spelling (no tracking, not a mobile or
    AMP variant), then the one with the plainest address.
    """
    published = article.published_at or _FAR_FUTURE
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    query_items = len(parse_qsl(urlsplit(article.url).query))
    return (
        article.published_at is None,
        published,
        is_variant(article.url),
        query_items,
        len(article.url),
        article.url,
    )


def outranks(article: Article, stored: Article) -> bool:
    """True when ``article`` should replace ``stored`` as the original: published earlier, or as early
    from a cleaner address.  The last tie-breaks of ``precedence`` (address length and spelling) only
    order a batch; between runs a tie keeps the stored original, so re-runs never swap originals."""
    return precedence(article)[:_MEANINGFUL] < precedence(stored)[:_MEANINGFUL]


# What the load does with a new article, decided from what the store already holds.
SamePageAction = Literal["readdress", "adopt", "another_address", "another_page"]
CopyAction = Literal["supersede", "exact_copy", "near_copy", "original"]


def same_page_action(new: Article, stored: Article, topic_has_it: bool, near_similarity: float) -> SamePageAction:
    """A new article with the id of a stored one (another spelling of its address: tracked, mobile,
    AMP, or a declared canonical).

    ``another_page``: the texts do not match, so the id was only claimed: the new page is an
    article of its own (``own_identity``), never linked on the address alone;
    ``readdress``: the new address is the cleaner one and names the article from now on;
    ``adopt``: another topic stored it, and this topic records it and gets its own claims;
    ``another_address``: this topic has it already, so the address is a duplicate.
    """
    if not same_text(new, stored, near_similarity):
        return "another_page"
    if outranks(new, stored):
        return "readdress"
    return "another_address" if topic_has_it else "adopt"


def copy_action(new: Article, match: Match | None, original: Article | None) -> CopyAction:
    """A new article whose text may copy a stored one (``match``, its ``original``).

    ``supersede``: the new one is the earlier (or cleaner) copy and becomes the original, the stored
    one is demoted; ``exact_copy``: the same text, not stored again; ``near_copy``: stored, linked to
    its original; ``original``: no copy of anything stored.
    """
    if match is None:
        return "original"
    if original is not None and outranks(new, original):
        return "supersede"
    return "exact_copy" if match.kind == "exact" else "near_copy"


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


__all__ = [
    "BANDS",
    "DEFAULT_NEAR_SIMILARITY",
    "NUM_PERM",
    "DuplicateKind",
    "Fingerprint",
    "Match",
    "band_keys",
    "best_match",
    "claims_of",
    "drop_duplicates",
    "fingerprint",
    "names_itself",
    "outranks",
    "own_identity",
    "precedence",
    "same_page_action",
    "same_text",
    "settle_ids",
    "shingles",
    "similarity",
    "split_exact_copies",
]
