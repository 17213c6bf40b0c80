"""Claim extraction cost per article, next to trafilatura's own extraction cost on the same pages.

Both are measured in the same run on the same machine, so the ratio is what
matters, not the absolute times.  Pages: the bundled sample site, plus the
seed articles in ../shared/seeds when present (rendered with the same
template).  Usage: python bench/bench_extraction.py [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.app.sample_site import SamplePage, load_sample_articles, page_url, render_page
from pipeline.claims import Catalogue, extract_claims
from pipeline.ingest.article import extract_article
from pipeline.records import FeedEntry, FetchedPage
from pipeline.topics import load_topic

REPO = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1:8737"


def seed_pages() -> list[SamplePage]:
    seeds = REPO.parent / "shared" / "seeds"
    pages = []
    for path in sorted(seeds.glob("*.txt")) if seeds.exists() else []:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        pages.append(
            SamplePage(
                slug=path.stem,
                title=lines[0][:150],
                outlet="Seed",
                author="Staff",
                published=datetime(2025, 11, 14, tzinfo=UTC),
                paragraphs=lines[1:],
            )
        )
    return pages


def fetched(page: SamplePage) -> FetchedPage:
    url = page_url(page, BASE)
    entry = FeedEntry(feed_url=f"{BASE}/feed.xml", url=url, title=page.title, published_at=page.published)
    return FetchedPage(url, url, 200, render_page(page, BASE), datetime.now(UTC), entry)


def per_call(fn: Callable[[], object], rounds: int) -> float:
    """Median seconds of one call over ``rounds`` timed repetitions (after one warm-up)."""
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    topic = load_topic(REPO / "topics" / "kursk.yaml")
    pages = [fetched(p) for p in [*load_sample_articles(), *seed_pages()]]
    articles = []
    for page in pages:
        try:
            articles.append(extract_article(page))
        except Exception:  # noqa: BLE001 - pages without main text are not part of the comparison
            continue
    pairs = [(p, a) for p, a in zip(pages, articles, strict=False)]
    trafilatura_s = per_call(lambda: [extract_article(p) for p, _ in pairs], args.rounds) / len(pairs)
    catalogue = Catalogue.of(topic)
    claims_s = per_call(lambda: [extract_claims(a, topic, catalogue) for _, a in pairs], args.rounds) / len(pairs)
    result = {
        "articles": len(pairs),
        "rounds": args.rounds,
        "trafilatura_ms_per_article": round(trafilatura_s * 1000, 3),
        "claims_ms_per_article": round(claims_s * 1000, 3),
        "claims_to_trafilatura_ratio": round(claims_s / trafilatura_s, 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['articles']} articles, median of {args.rounds} rounds:\n"
            f"  trafilatura extraction  {result['trafilatura_ms_per_article']:8.3f} ms/article (baseline)\n"
            f"  claim extraction        {result['claims_ms_per_article']:8.3f} ms/article\n"
            f"  ratio claims/trafilatura {result['claims_to_trafilatura_ratio']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
