"""Task bodies: the I/O edge that binds the pure stages to staging files and DuckDB.

Each Airflow task calls one function here with a ``Job`` and returns the same
``Job``; the data itself travels through files under the job's staging
directory, because article HTML is too large for XCom.  Any function can be
re-run on the same job: staging files are rewritten whole, and the load and the
contradiction check key every row by content, so a retry or a repeated run
stores nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pipeline.config import TopicConfig, load_topic
from pipeline.records import Article, Claim, FeedEntry, FetchedPage, from_json, to_json
from pipeline.store import Batch, FeedPoll, LoadResult, Skipped

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Job:
    """One topic's share of one DAG run: what to read, where to write."""

    topic_file: str
    db: str
    data_dir: str
    run_id: str

    @property
    def stage_dir(self) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.run_id)
        return Path(self.data_dir) / "staging" / Path(self.topic_file).stem / safe

    def topic(self) -> TopicConfig:
        return load_topic(self.topic_file)


def plan(topic_files: Sequence[str | Path], db: str | Path, data_dir: str | Path, run_id: str) -> list[Job]:
    """One job per topic file; a second topic is a second YAML file."""
    jobs = []
    for path in topic_files:
        load_topic(path)  # fail the run here, with the file and field named, not halfway through
        jobs.append(Job(str(Path(path).resolve()), str(Path(db).resolve()), str(Path(data_dir).resolve()), run_id))
    if not jobs:
        raise ValueError("no topic files to run: add a topics/*.yaml file or pass a topic")
    return jobs


def topic_files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("."))


def errors_file(data_dir: str | Path, run_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)
    return Path(data_dir) / "errors" / f"{safe}.jsonl"


def record_error(job: Job, task_id: str, map_index: int, exc: BaseException) -> None:
    """Append a task failure to the run's error ledger (one JSON object per line)."""
    path = errors_file(job.data_dir, job.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "task_id": task_id,
        "map_index": map_index,
        "topic_file": job.topic_file,
        "error": f"{type(exc).__name__}: {exc}",
        "at": datetime.now(UTC).isoformat(),
    }
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


# --- staging files -------------------------------------------------------------------


def _write_json(path: Path, data: Any) -> None:
    """Write atomically so a crash leaves the previous file or none, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _records(cls: type[T], items: Sequence[dict[str, Any]]) -> list[T]:
    return [from_json(cls, item) for item in items]


def save_batch(path: Path, batch: Batch) -> None:
    _write_json(
        path,
        {
            "topic": batch.topic,
            "articles": [to_json(a) for a in batch.articles],
            "claims": [to_json(c) for c in batch.claims],
            "skipped": [to_json(s) for s in batch.skipped],
            "polls": [to_json(p) for p in batch.polls],
        },
    )


def read_batch(path: Path) -> Batch:
    raw = _read_json(path)
    return Batch(
        topic=raw["topic"],
        articles=_records(Article, raw["articles"]),
        claims=_records(Claim, raw["claims"]),
        skipped=_records(Skipped, raw["skipped"]),
        polls=_records(FeedPoll, raw["polls"]),
    )


# --- ingest ---------------------------------------------------------------------------


def discover(job: Job) -> Job:
    """Read the topic's feeds and keep the entries this topic has not handled yet."""
    from pipeline import fetch, store

    topic = job.topic()
    with store.open_store(job.db) as con:
        seen = store.seen_urls(con, topic.name)
    entries: list[FeedEntry] = []
    polls: list[FeedPoll] = []
    for feed in topic.feeds:
        try:
            found = fetch.read_feed(feed.url, topic.fetch, allow_private_hosts=topic.allow_private_hosts)
        except fetch.FetchError as exc:
            log.warning("feed %s failed: %s", feed.url, exc)
            polls.append(FeedPoll(feed.url, f"error: {exc}", 0))
            continue
        polls.append(FeedPoll(feed.url, "ok", len(found)))
        entries.extend(found)
    if polls and all(p.status != "ok" for p in polls):
        raise fetch.FetchError(f"every feed of topic {topic.name!r} failed: " + "; ".join(p.status for p in polls))
    fresh: dict[str, FeedEntry] = {}
    for entry in entries:
        if entry.url not in seen and entry.url not in fresh:
            fresh[entry.url] = entry
    chosen = list(fresh.values())[: topic.fetch.max_articles_per_run]
    log.info("topic %s: %d feed entries, %d new, %d taken this run", topic.name, len(entries), len(fresh), len(chosen))
    _write_json(
        job.stage_dir / "entries.json",
        {
            "entries": [to_json(e) for e in chosen],
            "polls": [to_json(p) for p in polls],
        },
    )
    return job


def fetch_pages(job: Job, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Job:
    """Fetch each new article page; a page that can never be used is quarantined, not dropped."""
    from pipeline import fetch

    topic = job.topic()
    raw = _read_json(job.stage_dir / "entries.json")
    entries = _records(FeedEntry, raw["entries"])
    pages: list[FetchedPage] = []
    skipped: list[Skipped] = []
    for i, entry in enumerate(entries, 1):
        try:
            pages.append(fetch.fetch_page(entry, topic.fetch, allow_private_hosts=topic.allow_private_hosts, now=now))
        except fetch.FetchError as exc:
            if getattr(exc, "transient", False):
                log.warning("page %s failed for now, will retry next run: %s", entry.url, exc)
                continue
            skipped.append(Skipped(entry.url, "quarantined", str(exc), "fetch"))
        if i % 10 == 0 or i == len(entries):
            log.info("fetched %d/%d pages", i, len(entries))
    _write_json(
        job.stage_dir / "pages.json",
        {
            "pages": [to_json(p) for p in pages],
            "skipped": [to_json(s) for s in skipped],
            "polls": raw["polls"],
        },
    )
    return job


def extract(job: Job) -> Job:
    """Main text, exact-duplicate removal, relevance and claims for each fetched page."""
    from pipeline.claims import Catalogue, extract_claims
    from pipeline.dedup import drop_duplicates
    from pipeline.extract import ExtractionError, extract_article
    from pipeline.relevance import is_relevant

    topic = job.topic()
    raw = _read_json(job.stage_dir / "pages.json")
    skipped = _records(Skipped, raw["skipped"])
    articles: list[Article] = []
    for page in _records(FetchedPage, raw["pages"]):
        try:
            article = extract_article(page)
        except ExtractionError as exc:
            skipped.append(Skipped(page.entry.url, "quarantined", str(exc), "extract"))
            continue
        if not is_relevant(article, topic.relevance):
            skipped.append(
                Skipped(page.entry.url, "off_topic", "no relevance terms matched", "relevance", article.article_id)
            )
            continue
        articles.append(article)
    kept, dropped = drop_duplicates(articles, (), ())
    skipped += [
        Skipped(a.url, "duplicate", "same text as another article in this run", "dedup", a.article_id) for a in dropped
    ]
    claims: list[Claim] = []
    catalogue = Catalogue.of(topic)
    for article in kept:
        claims.extend(extract_claims(article, topic, catalogue))
    log.info("topic %s: %d articles kept, %d claims, %d skipped", topic.name, len(kept), len(claims), len(skipped))
    save_batch(job.stage_dir / "batch.json", Batch(topic.name, kept, claims, skipped, _records(FeedPoll, raw["polls"])))
    return job


def validate(job: Job) -> Job:
    """Check the batch with Great Expectations; a failing batch is quarantined whole."""
    from pipeline import quality

    topic = job.topic()
    batch = read_batch(job.stage_dir / "batch.json")
    reports = [quality.validate_articles(batch.articles), quality.validate_claims(batch.claims, topic)]
    for report in reports:
        if not report.success:
            target = Path(job.data_dir) / "quarantine" / topic.name / f"{job.stage_dir.name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(job.stage_dir / "batch.json", target)
            log.error("batch failed %s; kept for inspection at %s", report.suite, target)
            quality.require(report)
    return job


def load(job: Job) -> dict[str, int]:
    """Store the batch in one transaction, then clear the staging files."""
    from pipeline import store

    batch = read_batch(job.stage_dir / "batch.json")
    with store.open_store(job.db) as con:
        result: LoadResult = store.load_batch(con, batch, job.run_id)
    store.publish_snapshot(job.db)
    shutil.rmtree(job.stage_dir, ignore_errors=True)
    log.info("stored %s", result)
    return {
        "articles": result.articles,
        "claims": result.claims,
        "duplicates": result.duplicates,
        "skipped": result.skipped,
    }


# --- contradictions and alerts --------------------------------------------------------


def detect(job: Job) -> dict[str, int]:
    """Check claims not yet checked against their metrics' state; record incidents and queue their alerts."""
    from pipeline import store

    topic = job.topic()
    with store.open_store(job.db) as con:
        result = check_topic(con, topic, job.run_id)
    store.publish_snapshot(job.db)
    log.info(
        "topic %s: %d claims checked, %d incidents touched, %d new contradictions, %d alerts queued",
        topic.name, result["checked"], result["incidents"], result["contradictions"], result["alerts_queued"],
    )  # fmt: skip
    return result


def check_topic(con: Any, topic: TopicConfig, run_id: str) -> dict[str, int]:
    """The check itself, on an open connection: read pending claims and the state they touch, record the outcome."""
    from pipeline import store
    from pipeline.incidents import check_pending

    pending = store.pending_claims(con, topic.name)
    # A database checked before figure histories existed: rebuild them once from what was checked.
    backlog = [] if store.has_histories(con, topic.name) else store.topic_claims(con, topic.name)[1]
    found, alerts = check_pending(
        topic, pending, backlog, lambda metrics: store.detection_state(con, topic.name, metrics)
    )
    new_x, new_a = store.record_check(
        con,
        topic.name,
        [s.claim.claim_id for s in pending],
        found.contradictions,
        alerts,
        run_id,
        figures=list(found.figures.values()),
        incidents=list(found.incidents.values()),
    )
    return {"checked": len(pending), "incidents": len(found.incidents), "contradictions": new_x, "alerts_queued": new_a}


def deliver(job: Job) -> dict[str, int]:
    """Send every pending alert; one that fails stays pending and the task fails so it is retried."""
    from pipeline import store
    from pipeline.alerts import AlertDeliveryError
    from pipeline.alerts import deliver as send

    topic = job.topic()
    with store.open_store(job.db) as con:
        pending = store.pending_alerts(con, topic.name)
    delivered, errors = 0, []
    for alert in pending:
        try:
            send(alert, Path(job.data_dir))
        except AlertDeliveryError as exc:
            errors.append(f"{alert.alert_id}: {exc}")
            with store.open_store(job.db) as con:
                store.mark_failed(con, alert.alert_id, str(exc))
            continue
        with store.open_store(job.db) as con:
            store.mark_delivered(con, alert.alert_id)
        delivered += 1
    if pending:
        store.publish_snapshot(job.db)
    log.info("topic %s: %d alerts delivered, %d failed", topic.name, delivered, len(errors))
    if errors:
        raise AlertDeliveryError(
            f"{len(errors)} of {len(pending)} alerts not delivered (kept pending): " + "; ".join(errors)
        )
    return {"delivered": delivered}
