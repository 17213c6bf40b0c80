"""Claim extraction time against the length of one sentence, from 1,000 to 10,000 words: it must be linear.

One hostile page can hold one "sentence" of 10,000 words.  If reading a figure rescanned its
sentence, the time per word would grow with the sentence; read once per clause and looked up per
figure, it stays flat.  Each sentence repeats a clause with a figure and a speaker in it (the
densest case for the claim reader: every few words a figure, a noun, a speech verb, a time), in
three shapes: plain, with commas, and with bare figures that name no noun.  A paragraph of many
short sentences, up to the size cap, is timed too (the sentence splitter's share).  Every text is
below the claim reader's size cap, so the cap is not what keeps the time down.  Each length is
timed ``--rounds`` times and the fastest kept (the machine's other load only ever adds time).

Prints the time per word (per character for paragraphs) at each length and the ratio of the
longest to the shortest; exits 1 if a ratio exceeds ``--max-ratio`` (default 3: linear time gives
about 1).  Usage: python bench/bench_claims_linear.py [--rounds N] [--max-ratio R] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pipeline.claims import Catalogue, extract_claims
from pipeline.records import Article
from pipeline.topics import ExtractSpec, TopicConfig, load_topic

REPO = Path(__file__).resolve().parents[1]
WORDS = (1_000, 2_500, 5_000, 10_000)
SHAPES = {
    "speakers": "North Korean officials said about 14,000 troops arrived in Kursk in March and",
    "commas": "officials said, citing the NIS, that some 3,000 soldiers were killed, the ministry said, and",
    "bare figures": "and 14,000 arrived and up to 2,000 more",
}
PARAGRAPH_UNIT = "Officials said about 14,000 troops arrived in March, according to Lt. Gen. Kim of the U.S. Army. "
PARAGRAPH_CHARS = (25_000, 50_000, 100_000, 190_000)


def sentence(clause: str, words: int) -> str:
    return " ".join((clause.split() * (words // len(clause.split()) + 1))[:words]) + "."


def article(text: str) -> Article:
    at = datetime(2025, 11, 14, tzinfo=UTC)
    return Article("bench", "https://bench.example/a", "https://bench.example/a", "t", None, at, at, "en", text, "h")


def fastest(text: str, topic: TopicConfig, catalogue: Catalogue, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        extract_claims(article(text), topic, catalogue)
        best = min(best, time.perf_counter() - start)
    return best


def series(texts: dict[int, str], topic: TopicConfig, catalogue: Catalogue, rounds: int) -> dict[str, object]:
    """Microseconds per unit (word or character) at each length, and the last to first ratio."""
    cap = ExtractSpec().max_text_chars
    per_unit = {}
    for units, text in texts.items():
        assert len(text) < cap, f"{units}: {len(text)} characters is over the size cap of {cap}"
        per_unit[units] = fastest(text, topic, catalogue, rounds) / units * 1e6
    first, last = per_unit[min(per_unit)], per_unit[max(per_unit)]
    return {"us_per_unit": {str(k): round(v, 2) for k, v in per_unit.items()}, "ratio": round(last / first, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-ratio", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    topic = load_topic(REPO / "topics" / "kursk.yaml")
    catalogue = Catalogue.of(topic)
    extract_claims(article(sentence(SHAPES["speakers"], 200)), topic, catalogue)  # imports, compiled patterns
    results = {
        f"sentence, {shape}": series({n: sentence(clause, n) for n in WORDS}, topic, catalogue, args.rounds)
        for shape, clause in SHAPES.items()
    }
    paragraphs = {n: (PARAGRAPH_UNIT * (n // len(PARAGRAPH_UNIT) + 1))[:n] for n in PARAGRAPH_CHARS}
    results["paragraph of short sentences"] = series(paragraphs, topic, catalogue, args.rounds)
    worst = max(r["ratio"] for r in results.values())  # type: ignore[type-var]
    if args.json:
        print(json.dumps({"results": results, "max_ratio": args.max_ratio, "worst_ratio": worst}, indent=2))
    else:
        for name, result in results.items():
            unit = "char" if name.startswith("paragraph") else "word"
            times = "  ".join(f"{k:>7}: {v:7.2f}" for k, v in result["us_per_unit"].items())  # type: ignore[attr-defined]
            print(f"{name:<30} us/{unit} {times}   ratio longest/shortest {result['ratio']:.2f}")
        print(f"worst ratio {worst:.2f} (linear is about 1; fails above {args.max_ratio:g})")
    return 0 if worst <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
