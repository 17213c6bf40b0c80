"""Validation cost next to load cost, and Great Expectations' start-up measured apart.

Three numbers, each from the pipeline's own code:

* GX start-up: a fresh interpreter imports ``pipeline.quality.gate`` and validates one
  article (import, ephemeral context, suites built), as a fresh ``validate`` step process does.
* validation per 1,000 claims (250 articles with 4 claims each) with one warm ``Gate``,
  next to ``store.batches.load_batch`` of the same batch into a real DuckDB file.
* validate's marginal cost per article: the slope between a small and a large batch.

Usage: python bench/bench_validate.py [--articles 250] [--claims-per-article 4] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.quality.gate import Gate  # noqa: E402
from pipeline.records import Batch  # noqa: E402
from pipeline.store.batches import load_batch  # noqa: E402
from pipeline.store.session import open_store  # noqa: E402
from pipeline.topics import load_topic  # noqa: E402
from tests.unit.factories import make_article, make_claim  # noqa: E402

STARTUP = (
    "import time; t = time.perf_counter()\n"
    "from pipeline.quality.gate import Gate\n"
    "from tests.unit.factories import make_article\n"
    "assert Gate().validate_articles([make_article()]).success\n"
    "print(time.perf_counter() - t)\n"
)


def make(n_articles: int, per_article: int, offset: int = 0) -> Batch:
    articles = [make_article(offset + n) for n in range(1, n_articles + 1)]
    claims = [make_claim(a, 40 * i) for a in articles for i in range(per_article)]
    return Batch("kursk", articles, claims)


def validate(gate: Gate, batch: Batch, topic: object) -> float:
    started = time.perf_counter()
    reports = [gate.validate_articles(batch.articles, batch.claims), gate.validate_claims(batch.claims, topic)]  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert all(r.success for r in reports), [r.failures for r in reports]
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=250)
    parser.add_argument("--claims-per-article", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    topic = load_topic(REPO / "topics" / "kursk.yaml")
    startup = float(subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True,
                                   cwd=REPO).stdout.strip().splitlines()[-1])  # fmt: skip
    gate = Gate()
    validate(gate, make(2, 1), topic)  # warm: GX imported, context and suites built
    batch = make(args.articles, args.claims_per_article)
    small = make(10, args.claims_per_article)
    per_batch, per_small = [], []
    for _ in range(args.rounds):  # interleaved, and the fastest round of each: the machine's noise is one-sided
        per_small.append(validate(gate, small, topic))
        per_batch.append(validate(gate, batch, topic))
    loads = []
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "b.duckdb") as con:
            started = time.perf_counter()
            load_batch(con, batch, f"bench-{r}")
            loads.append(time.perf_counter() - started)
    claims = len(batch.claims)
    v, s, ld = min(per_batch), min(per_small), statistics.median(loads)
    marginal = (v - s) / (args.articles - len(small.articles))
    out = {
        "gx_startup_fresh_process_s": round(startup, 2),
        "articles": args.articles,
        "claims": claims,
        "validate_s": round(v, 3),
        "validate_per_1000_claims_s": round(v * 1000 / claims, 3),
        "load_per_1000_claims_s": round(ld * 1000 / claims, 3),
        "validate_fixed_per_batch_s": round(s - marginal * len(small.articles), 3),
        "validate_marginal_ms_per_article": round(marginal * 1000, 3),
    }
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:36} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
