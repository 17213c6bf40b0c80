"""Near-duplicate check cost per article with 1,000 and with 100,000 stored fingerprints, in one run.

The check (``pipeline.store.articles.find_copy_of``: the text-hash lookup plus one LSH bucket
lookup per band, then a similarity estimate for the few candidates) should
cost about the same whatever the size of the history: it never scans it.
One DuckDB file holds 1,000 articles, another 100,000, and measuring rounds
alternate between them so that load on the machine hits both alike; the
labelled wire stories of tests/data/dedup are stored too, so the probes (their
near copies, and texts seen nowhere) find what they should.  Stored histories
are random signatures: unrelated texts share no bucket, which is what makes a
real history's buckets small.  The ratio is what matters, not absolute times.
For contrast, the same question answered by reading every stored signature is
timed too (the baseline the index avoids).
Usage: python bench/bench_dedup.py [--sizes 1000 100000] [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.ingest.article import content_hash
from pipeline.ingest.dedup import DEFAULT_NEAR_SIMILARITY, NUM_PERM, Fingerprint, band_keys, fingerprint
from pipeline.records import stable_id
from pipeline.store.articles import find_copy_of, store_fingerprint
from pipeline.store.session import open_store

REPO = Path(__file__).resolve().parents[1]
STORIES = REPO / "tests" / "data" / "dedup" / "stories.yaml"
NOW = datetime(2025, 12, 1, tzinfo=UTC)


def _stories() -> dict[str, list[str]]:
    raw = yaml.safe_load(STORIES.read_text(encoding="utf-8"))
    return {name: story["paragraphs"] for name, story in raw["stories"].items()}


def _probes(stories: dict[str, list[str]], rng: np.random.Generator) -> list[tuple[str, str | None]]:
    """(text, id of the stored story it copies or None): each story with a sentence cut and a credit
    line added, and the same words shuffled into a text seen nowhere."""
    probes: list[tuple[str, str | None]] = []
    for name, paragraphs in stories.items():
        probes.append(("\n\n".join(paragraphs[:-1] + ["Reporting by the wire."]), stable_id("story", name)))
        words = " ".join(paragraphs).split()
        probes.append((" ".join(words[i] for i in rng.permutation(len(words))), None))
    return probes


def _grow(db: object, start: int, stop: int, rng: np.random.Generator) -> None:
    """Store random-signature articles start..stop-1 in bulk (the per-article insert path is not measured)."""
    con = db.cursor()  # type: ignore[attr-defined]  # a cursor of its own: register() needs no open result
    n = stop - start
    ids = [f"synthetic-{i}" for i in range(start, stop)]
    sigs = rng.integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint64).astype("<u4")
    blobs = [row.tobytes() for row in sigs]
    articles = pd.DataFrame(
        {
            "article_id": ids,
            "url": [f"https://history.example/{i}" for i in ids],
            "text": ids,
            "content_hash": [stable_id("hash", i, length=64) for i in ids],
        }
    )
    prints = pd.DataFrame({"article_id": ids, "signature": blobs})
    bands = pd.DataFrame(
        [(key, article_id) for article_id, blob in zip(ids, blobs, strict=True) for key in band_keys(blob)],
        columns=["band_key", "article_id"],
    )
    con.register("new_articles", articles)
    con.register("new_prints", prints)
    con.register("new_bands", bands)  # type: ignore[attr-defined]
    con.execute(  # type: ignore[attr-defined]
        "INSERT INTO articles (article_id, url, canonical_url, fetched_at, text, content_hash, loaded_at)"
        " SELECT article_id, url, url, ?, text, content_hash, ? FROM new_articles",
        [NOW, NOW],
    )
    con.execute("INSERT INTO article_fingerprints SELECT article_id, signature FROM new_prints")  # type: ignore[attr-defined]
    con.execute("INSERT INTO fingerprint_bands SELECT band_key, article_id FROM new_bands")  # type: ignore[attr-defined]
    con.close()


def _store_stories(con: object, stories: dict[str, list[str]]) -> None:
    for name, paragraphs in stories.items():
        text = "\n\n".join(paragraphs)
        article_id = stable_id("story", name)
        con.execute(  # type: ignore[attr-defined]
            "INSERT INTO articles (article_id, url, canonical_url, fetched_at, text, content_hash, loaded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [article_id, f"https://wire.example/{name}", f"https://wire.example/{name}", NOW, text,
             content_hash(text), NOW],
        ).fetchall()  # fmt: skip
        store_fingerprint(con, article_id, fingerprint(text))  # type: ignore[arg-type]


def _check_once(con: object, prepared: list[tuple[str, Fingerprint, str | None]]) -> tuple[float, int]:
    """Milliseconds per article of one pass over the probes, and how many found the right original."""
    correct = 0
    started = time.perf_counter()
    for hash_, print_, expected in prepared:
        match = find_copy_of(con, hash_, print_, DEFAULT_NEAR_SIMILARITY)  # type: ignore[arg-type]
        correct += (match.original_id if match else None) == expected
    return (time.perf_counter() - started) * 1000 / len(prepared), correct


def _scan_once(con: object, prepared: list[tuple[str, Fingerprint, str | None]]) -> float:
    """Baseline: the same question answered by reading every stored signature (ms per article)."""
    started = time.perf_counter()
    for _hash, print_, _expected in prepared:
        rows = con.execute("SELECT signature FROM article_fingerprints").fetchall()  # type: ignore[attr-defined]
        stored = np.frombuffer(b"".join(r[0] for r in rows), dtype="<u4").reshape(len(rows), NUM_PERM)
        probe = np.frombuffer(print_.signature, dtype="<u4")
        (stored == probe).mean(axis=1).max()
    return (time.perf_counter() - started) * 1000 / len(prepared)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    stories = _stories()
    rng = np.random.default_rng(7)
    probes = _probes(stories, rng)
    prepared = [(content_hash(text), fingerprint(text), expected) for text, expected in probes]
    sizes = sorted(args.sizes)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        cons = []
        for size in sizes:  # one database per size, so rounds can alternate between them
            con = stack.enter_context(open_store(Path(tmp) / f"bench-{size}.duckdb"))
            _store_stories(con, stories)
            _grow(con, len(stories), size, rng)
            cons.append(con)
        timings: list[list[float]] = [[] for _ in sizes]
        scans: list[list[float]] = [[] for _ in sizes]
        correct = [0 for _ in sizes]
        for r in range(args.rounds):  # alternating, so a busy moment on the machine hits every size alike
            for i in range(len(cons)) if r % 2 else reversed(range(len(cons))):
                ms, correct[i] = _check_once(cons[i], prepared)
                timings[i].append(ms)
                scans[i].append(_scan_once(cons[i], prepared[:4]))
    results = [
        {"stored": size, "ms_per_article": round(statistics.median(timings[i]), 3), "correct": correct[i],
         "probes": len(probes), "full_scan_ms_per_article": round(statistics.median(scans[i]), 3)}
        for i, size in enumerate(sizes)
    ]  # fmt: skip
    ratio = results[-1]["ms_per_article"] / results[0]["ms_per_article"]
    scan_ratio = results[-1]["full_scan_ms_per_article"] / results[0]["full_scan_ms_per_article"]
    summary = {
        "results": results,
        "ratio_largest_to_smallest": round(ratio, 2),
        "full_scan_ratio_largest_to_smallest": round(scan_ratio, 2),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for r in results:
            print(
                f"{r['stored']:>9,} stored fingerprints: {r['ms_per_article']:.2f} ms per article "
                f"({r['correct']}/{r['probes']} probes linked right); "
                f"baseline full scan {r['full_scan_ms_per_article']:.1f} ms"
            )
        print(f"ratio {results[-1]['stored']:,} / {results[0]['stored']:,}: {ratio:.2f} (full scan: {scan_ratio:.1f})")
    return 0 if all(r["correct"] == r["probes"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
