"""Contradiction check cost: 1,000 new claims against 10,000 and against 1,000,000 stored claims.

The check reads the figure histories and incidents of the metrics the new
claims touch, not the stored claims, so its cost should follow the state (how
many distinct figures each source family has given), not the history.  Both
databases hold the same state: a pool of figures checked through the
pipeline's own ``detect`` code (real DuckDB, real engine), then re-reported by
filler articles until the claims table holds 10,000 or 1,000,000 rows.  The
new claims (re-reports, new figures and conflicting ones, spread over every
metric) are the same in both.  Both are timed in the same run, from the same
prepared file copied fresh for each round; the ratio is what matters.

Usage: python bench/bench_detect.py [--small 10000] [--large 1000000] [--new 1000] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipeline.records import Article, Batch, Claim, stable_id
from pipeline.steps.detect import check_topic
from pipeline.store.batches import load_batch
from pipeline.store.session import open_store
from pipeline.topics import TopicConfig, load_topic

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ["kr_nis", "kr_jcs", "kr_dia", "ua_president", "ua_intel", "ua_military", "us_gov", "uk_mod",
            "western_officials", "ru_gov", "dprk_gov", "media", "unattributed", "mixed_sources"]  # fmt: skip
FIGURES_PER_FAMILY = 12
START = date(2024, 10, 1)


def _article(key: str, day: date, outlet: str) -> Article:
    url = f"https://bench.example/{key}"
    published = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    text = f"Report {key}."
    return Article(stable_id(url), url, url, key, outlet, published, published, "en", text, stable_id(text, length=64))


def _claim(article: Article, i: int, topic: TopicConfig, metric: str, family: str, number: float, hedge: str) -> Claim:
    surface = f"about {number:,.0f}" if hedge == "about" else f"{number:,.0f}"
    spread = 0.2 if hedge == "about" else 0.0
    return Claim(
        claim_id=stable_id(article.article_id, i, metric), article_id=article.article_id, topic=topic.name,
        metric=metric, stated_low=number, stated_high=number, value_low=number * (1 - spread),
        value_high=number * (1 + spread), hedge=hedge, surface=surface,
        sentence=f"{family} said {surface} {metric.replace('_', ' ')}.", char_start=i * 40, char_end=i * 40 + 12,
        attributed_to=family, relayed_by=None, refers_to=None, period_start=None, period_end=None, unverified=False,
        modality="actual", role="unspecified", extractor_version="bench", source_family=family,
    )  # fmt: skip


def _level(base: float, k: int) -> float:
    """Where a count stands in month ``k``: it grows 8% a month."""
    return base * 1.08**k


def _report(value: float, rng: random.Random) -> float:
    """A source's figure: the level within a few percent, two significant digits, now and then an outlier."""
    value *= rng.uniform(0.94, 1.06) * (rng.choice([0.4, 2.5]) if rng.random() < 0.03 else 1.0)
    return float(round(value, -max(0, len(str(int(value))) - 2)))


def _figures(
    topic: TopicConfig, rng: random.Random
) -> tuple[list[tuple[date, str, str, float, str]], dict[str, float]]:
    """Each family's monthly figures for each metric, around one common level (the metrics' bases too)."""
    out, bases = [], {}
    for metric in topic.metrics:
        bases[metric] = base = 10 ** rng.uniform(2, 6)
        for family in FAMILIES:
            for k in range(FIGURES_PER_FAMILY):
                day = START + timedelta(days=30 * k + rng.randint(0, 29))
                out.append((day, metric, family, _report(_level(base, k), rng), rng.choice(["about", "exact"])))
    return sorted(out), bases


def prepare(path: Path, topic_file: Path, stored: int, new: int, seed: int = 7) -> None:
    """A database with ``stored`` checked claims (a pool of figures and its re-reports) and ``new`` pending ones."""
    topic = load_topic(topic_file)
    rng = random.Random(seed)
    pool, bases = _figures(topic, rng)
    with open_store(path) as con:
        batch = Batch(topic.name)
        for n, (day, metric, family, number, hedge) in enumerate(pool):
            article = _article(f"pool-{n}", day, f"Outlet {n % 40}")
            batch.articles.append(article)
            batch.claims.append(_claim(article, 0, topic, metric, family, number, hedge))
        load_batch(con, batch, "bench-pool")
        check_topic(con, topic, "bench-pool")
        filler = stored - len(pool)
        if filler > 0:  # re-reports of pool figures by other outlets, already checked
            con.execute(
                "CREATE TEMP TABLE pool AS SELECT row_number() OVER (ORDER BY claim_id) - 1 AS k, * FROM claims"
            )
            size = len(pool)
            con.execute(
                "INSERT INTO articles (article_id, url, canonical_url, title, outlet, published_at, fetched_at,"
                " language, text, content_hash, run_id, loaded_at)"
                " SELECT md5('filler-' || i)[:16], 'https://bench.example/f/' || i,"
                " 'https://bench.example/f/' || i, NULL, 'Relay ' || (i % 200), p.loaded_at, p.loaded_at, 'en',"
                " 'Relay ' || i, md5('filler-text-' || i), 'bench-filler', now()"
                " FROM range(?) t(i) JOIN pool p ON p.k = i % ?",
                [filler, size],
            )
            con.execute(
                "INSERT INTO claims (claim_id, article_id, topic, metric, stated_low, stated_high, value_low,"
                " value_high, hedge, surface, sentence, char_start, char_end, attributed_to, relayed_by, refers_to,"
                " period_start, period_end, unverified, modality, role, extractor_version, run_id, loaded_at,"
                " checked_at, source_family, population, event, scope, metric_rule)"
                " SELECT md5('filler-claim-' || i)[:16], md5('filler-' || i)[:16], p.topic,"
                " p.metric, p.stated_low, p.stated_high, p.value_low, p.value_high, p.hedge, p.surface, p.sentence,"
                " p.char_start, p.char_end, p.attributed_to, p.relayed_by, p.refers_to, p.period_start,"
                " p.period_end, p.unverified, p.modality, p.role, p.extractor_version, 'bench-filler', now(), now(),"
                " p.source_family, p.population, p.event, p.scope, p.metric_rule"
                " FROM range(?) t(i) JOIN pool p ON p.k = i % ?",
                [filler, size],
            )
            con.execute("DROP TABLE pool")
        metrics = list(topic.metrics)
        batch = Batch(topic.name)
        last = START + timedelta(days=30 * FIGURES_PER_FAMILY + 30)
        for i in range(new):
            day, metric, family, number, hedge = pool[rng.randrange(len(pool))]
            if i % 3:  # two in three are new figures (a few of them outliers), one in three re-reports
                metric, family = rng.choice(metrics), rng.choice(FAMILIES)
                number = _report(_level(bases[metric], FIGURES_PER_FAMILY + 1), rng)
            article = _article(f"new-{i // 5}", last + timedelta(days=i // 50), f"Outlet {i % 40}")
            if not batch.articles or batch.articles[-1].article_id != article.article_id:
                batch.articles.append(article)
            batch.claims.append(_claim(article, i % 5, topic, metric, family, number, hedge))
        load_batch(con, batch, "bench-new")


def time_check(prepared: Path, topic_file: Path, rounds: int) -> tuple[float, dict[str, int]]:
    topic = load_topic(topic_file)
    times, result = [], {}
    for r in range(rounds):
        work = prepared.with_name(f"run-{r}-{prepared.name}")
        shutil.copyfile(prepared, work)
        with open_store(work) as con:
            start = time.perf_counter()
            result = check_topic(con, topic, f"bench-{r}")
            times.append(time.perf_counter() - start)
        work.unlink()
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--topic", type=Path, default=REPO / "topics" / "kursk.yaml")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-") as tmp:
        results = {}
        for label, stored in (("small", args.small), ("large", args.large)):
            path = Path(tmp) / f"{label}.duckdb"
            prepare(path, args.topic, stored, args.new)
            with open_store(path) as con:
                row = con.execute("SELECT count(*) FROM claims WHERE checked_at IS NOT NULL").fetchone()
            seconds, outcome = time_check(path, args.topic, args.rounds)
            results[label] = {"stored_claims": row[0] if row else 0, "seconds": round(seconds, 4), **outcome}
    ratio = results["large"]["seconds"] / results["small"]["seconds"]
    report = {**results, "ratio": round(ratio, 2), "limit": 5.0}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for label in ("small", "large"):
            r = results[label]
            print(f"{label:5}: {r['stored_claims']:>9,} stored claims, {args.new} new: {r['seconds']:.3f} s "
                  f"({r['incidents']} incidents touched, {r['alerts_queued']} alerts queued)")  # fmt: skip
        print(f"ratio large/small: {ratio:.2f} (at most 5)")
    return 0 if ratio <= 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
