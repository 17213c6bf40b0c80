"""The extract step on staged pages: one page's size or time never costs the others, and a page the task
died on is not read again.

Real staging files, real trafilatura and the real claim reader; only the clock is fake.  It moves
on by a fixed step each time it is read, as if every check of the deadline found that much work
done, so a page with many sentences runs out of time and a short one does not, on any machine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

from pipeline.records import FeedEntry, FetchedPage, to_json
from pipeline.steps import extract, pageledger
from pipeline.steps.job import Job
from pipeline.steps.staging import PAGES_DIR, read_batch, write_json
from tests.conftest import REPO_ROOT

PUBLISHED = datetime(2025, 11, 14, tzinfo=UTC)
GOOD = [
    "North Korea has sent about 12,000 troops to Russia's Kursk region, South Korea's spy agency said.",
    "Ukrainian officials said at least 3,000 of them had been killed or wounded.",
    "The deployment, the first of its kind, has drawn condemnation from Seoul, Kyiv and Washington.",
]
OTHER = [
    "Pyongyang is preparing to send some 6,000 military engineers to Kursk, the Russian security council said.",
    "The builders and deminers are to help rebuild the region after months of fighting, officials said.",
]
# Many short sentences: every sentence checks the deadline, so this page costs many clock steps.
LONG = [f"In week {i} officials said about {1000 + i} North Korean troops reached Kursk." for i in range(300)]


def _page(url: str, paragraphs: list[str]) -> FetchedPage:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f'<html lang="en"><head><title>Troops in Kursk</title>'
        f'<meta property="article:published_time" content="{PUBLISHED.isoformat()}"></head>'
        f"<body><nav><a href='/'>Home</a></nav><article><h1>North Korean troops in Kursk</h1>{body}</article>"
        f"<footer>Loopback Times</footer></body></html>"
    )
    entry = FeedEntry(feed_url="http://news.test/feed.xml", url=url, title="Troops", published_at=PUBLISHED)
    return FetchedPage(url, url, 200, html, PUBLISHED, entry)


def _stage(tmp_path: Path, pages: list[FetchedPage], extract_spec: dict[str, float] | None = None) -> Job:
    topic = yaml.safe_load((REPO_ROOT / "topics" / "kursk.yaml").read_text(encoding="utf-8"))
    if extract_spec:
        topic["extract"] = extract_spec
    topic_file = tmp_path / "kursk.yaml"
    topic_file.write_text(yaml.safe_dump(topic), encoding="utf-8")
    job = Job(str(topic_file), str(tmp_path / "c.duckdb"), str(tmp_path / "data"), "run-1")
    write_json(job.stage_dir / "fetched.json", {"skipped": [], "failures": [], "polls": []})
    for i, page in enumerate(pages, 1):
        write_json(job.stage_dir / PAGES_DIR / f"{i:06d}.json", to_json(page))
    return job


def _stepping_clock(step: float) -> Callable[[], float]:
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


def _outcomes(job: Job) -> tuple[set[str], dict[str, str]]:
    batch = read_batch(job.stage_dir / "batch.json")
    return {a.url for a in batch.articles}, {s.url: s.reason for s in batch.skipped if s.outcome == "quarantined"}


def test_a_page_over_its_time_budget_is_quarantined_and_the_pages_behind_it_are_read(tmp_path: Path) -> None:
    pages = [
        _page("http://news.test/long", LONG),
        _page("http://news.test/a", GOOD),
        _page("http://news.test/b", OTHER),
    ]
    job = _stage(tmp_path, pages, {"page_seconds": 30})
    extract.run(job, clock=_stepping_clock(0.5))
    stored, quarantined = _outcomes(job)
    assert stored == {"http://news.test/a", "http://news.test/b"}
    assert "took longer than its budget (extract.page_seconds: 30)" in quarantined["http://news.test/long"]
    assert "in the claim reader" in quarantined["http://news.test/long"]
    claims = read_batch(job.stage_dir / "batch.json").claims
    assert {c.surface for c in claims} >= {"about 12,000", "at least 3,000"}
    # Each page's outcome is in the ledger, the quarantined one with its reason.
    assert pageledger.poisoned(job.stage_dir)["http://news.test/long"].reason == quarantined["http://news.test/long"]


def test_without_a_budget_to_spend_the_same_page_is_read(tmp_path: Path) -> None:
    job = _stage(tmp_path, [_page("http://news.test/long", LONG)], {"page_seconds": 1000})
    extract.run(job, clock=_stepping_clock(0.5))
    stored, quarantined = _outcomes(job)
    assert (stored, quarantined) == ({"http://news.test/long"}, {})
    claims = read_batch(job.stage_dir / "batch.json").claims
    assert len([c for c in claims if c.surface.startswith("about ")]) == len(LONG)


def test_a_text_over_the_size_cap_is_not_handed_to_the_claim_reader(tmp_path: Path) -> None:
    job = _stage(
        tmp_path, [_page("http://news.test/long", LONG), _page("http://news.test/a", GOOD)], {"max_text_chars": 5000}
    )
    extract.run(job)
    stored, quarantined = _outcomes(job)
    assert stored == {"http://news.test/a"}
    reason = quarantined["http://news.test/long"]
    assert "characters is longer than the claim reader reads (extract.max_text_chars: 5,000)" in reason


def test_a_page_an_earlier_try_died_on_is_skipped_with_the_reason(tmp_path: Path) -> None:
    job = _stage(tmp_path, [_page("http://news.test/poison", GOOD), _page("http://news.test/a", OTHER)])
    pageledger.started(job.stage_dir, "http://news.test/poison")  # what a killed try leaves behind
    extract.run(job)
    stored, quarantined = _outcomes(job)
    assert stored == {"http://news.test/a"}
    assert "the extract task stopped while reading this page (run run-1)" in quarantined["http://news.test/poison"]
