"""Task ``fetch``: fetch the chosen pages politely into staging and the raw archive."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline import envrefs
from pipeline.ingest import archive, http
from pipeline.ingest.feeds import feed_address, forget_validators
from pipeline.ingest.polite import HostGate, RobotsCache, RobotsDisallowed, interleave_by_host
from pipeline.records import (
    ArchivedPage,
    Failure,
    FeedEntry,
    FeedPoll,
    Skipped,
    to_json,
)
from pipeline.steps.job import Job
from pipeline.steps.staging import PAGES_DIR, read_json, records_of, write_json
from pipeline.topics import TopicConfig

log = logging.getLogger(__name__)


# Wall-clock budget of one fetch task: well inside its 30-minute execution timeout
# (pipeline.orchestration.edge.default_args), with room for the staging writes.
FETCH_BUDGET_SECONDS = 20 * 60.0


def run(
    job: Job,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    budget_seconds: float = FETCH_BUDGET_SECONDS,
    environ: Mapping[str, str] | None = None,
) -> Job:
    """Fetch the chosen pages, several at a time, into their own staging files and the raw archive.

    Politeness: at most ``per_host_concurrency`` requests in flight per host,
    starts to one host ``per_host_delay_seconds`` apart (or its robots.txt
    Crawl-delay), and a page robots.txt disallows is recorded with the
    outcome ``robots``, never requested.  A page that can never be used (bad
    URL, 404/410, not HTML, refused address, broken encoding) is quarantined;
    one that may work later (timeout, 5xx, connection refused, robots.txt
    unreachable) is kept for a retry with backoff.  Past ``budget_seconds`` no
    new page is started: the rest stay unseen and are picked first by the
    next run, so slow servers cannot push the task past its execution timeout.

    A page URL derived from a feed whose URL holds a ``${VAR}`` keeps the
    reference: it is expanded here, for the request only, and what the
    request returns (final URL, errors, log lines) is redacted again.
    """
    topic = job.topic()
    spec = topic.fetch
    raw = read_json(job.stage_dir / "entries.json")
    entries = interleave_by_host(records_of(FeedEntry, raw["entries"]))
    pages_dir = job.stage_dir / PAGES_DIR
    shutil.rmtree(pages_dir, ignore_errors=True)  # a retried task starts from the entries again
    pages_dir.mkdir(parents=True)
    skipped = records_of(Skipped, raw.get("skipped", []))
    gate = HostGate(spec.per_host_concurrency, spec.per_host_delay_seconds)
    robots = (
        RobotsCache(spec, allow_private_hosts=topic.allow_private_hosts, gate=gate) if spec.respect_robots else None
    )
    deadline = time.monotonic() + budget_seconds
    secrets = feed_secrets(topic, os.environ if environ is None else environ)

    def work(entry: FeedEntry) -> tuple[http.RawPage | Exception | None, datetime | None]:
        try:
            target = envrefs.expand(entry.url, secrets, what=f"page {entry.url}")
        except envrefs.MissingVariableError as exc:
            return http.FetchError(entry.url, str(exc), transient=True), None
        try:
            if robots is not None:
                robots.check(target.text)
            with gate.slot(target.text):
                if time.monotonic() > deadline:  # checked when its turn comes: waiting counts too
                    return None, None  # left for the next run
                page = dataclasses.replace(entry, url=target.text)
                raw = http.fetch_raw_page(page, spec, allow_private_hosts=topic.allow_private_hosts)
                return dataclasses.replace(raw, final_url=target.redact(raw.final_url)), now()
        except http.FetchError as exc:
            return http.FetchError(target.redact(exc.url), target.redact(exc.reason), transient=exc.transient), None
        except RobotsDisallowed as exc:
            return exc, None

    tally = _Tally(skipped=skipped)
    with (
        envrefs.redacted_logs(secrets),
        ThreadPoolExecutor(max_workers=spec.concurrency, thread_name_prefix="fetch") as pool,
    ):
        futures = {pool.submit(work, entry): (i, entry) for i, entry in enumerate(entries, 1)}
        for done, future in enumerate(as_completed(futures), 1):
            i, entry = futures[future]
            result, fetched_at = future.result()
            tally.add(job, i, entry, result, fetched_at)
            del result
            if done % 10 == 0 or done == len(entries):
                log.info("fetched %d/%d pages (%d staged)", done, len(entries), tally.fetched)
    unstarted = tally.unstarted
    if unstarted:
        log.warning(
            "fetch budget of %g s spent: %d of %d pages left for the next run",
            budget_seconds,
            unstarted,
            len(entries),
        )
    write_json(
        job.stage_dir / "fetched.json",
        {
            "skipped": [to_json(s) for s in tally.skipped],
            "failures": [to_json(f) for f in tally.failures],
            "polls": [to_json(p) for p in forget_validators(records_of(FeedPoll, raw["polls"]), tally.left)],
            "archived": [to_json(a) for a in tally.archived],
        },
    )
    return job


def feed_secrets(topic: TopicConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """The values of the variables the topic's feed URLs refer to: the only ones a page URL may
    name (a feed's links cannot make another variable's value be sent anywhere)."""
    names = {name for feed in topic.feeds for name in envrefs.references(feed_address(feed))}
    return {name: environ[name] for name in sorted(names) if environ.get(name)}


@dataclass(slots=True)
class _Tally:
    """Where each page's outcome goes: a staged page, a skip, a failure to retry, or left for the next run."""

    skipped: list[Skipped]
    failures: list[Failure] = field(default_factory=list)
    archived: list[ArchivedPage] = field(default_factory=list)
    left: set[str] = field(default_factory=set)  # feeds with pages left for the next run
    fetched: int = 0
    unstarted: int = 0

    def add(
        self, job: Job, i: int, entry: FeedEntry, result: http.RawPage | Exception | None, fetched_at: datetime | None
    ) -> None:
        if result is None:
            self.left.add(entry.feed_url)
            self.unstarted += 1
        elif isinstance(result, RobotsDisallowed):
            log.info("page %s not fetched: %s", entry.url, result)
            self.skipped.append(Skipped(entry.url, "robots", str(result), "fetch"))
        elif isinstance(result, http.FetchError):
            reason = http.printable(result.reason or str(result))
            if result.transient:
                log.warning("page %s failed for now, will retry on a later run: %s", entry.url, reason)
                self.failures.append(Failure(entry.url, "fetch", reason))
            else:
                log.warning("page %s quarantined: %s", entry.url, reason)
                self.skipped.append(Skipped(entry.url, "quarantined", _with_url(result, entry.url, reason), "fetch"))
        elif isinstance(result, http.RawPage) and fetched_at is not None:
            digest = archive.put(job.data_dir, result.body)
            self.archived.append(
                ArchivedPage(entry.url, result.final_url, digest, result.content_type, result.status, fetched_at, entry)
            )
            page = http.decode_page(entry, result, fetched_at)
            write_json(job.stage_dir / PAGES_DIR / f"{i:06d}.json", to_json(page))
            self.fetched += 1


def _with_url(exc: Exception, url: str, reason: str) -> str:
    """The reason, naming the hop that failed when a redirect led somewhere else."""
    from pipeline.ingest.http import printable

    failed_at = getattr(exc, "url", url)
    return reason if failed_at == url else f"{printable(failed_at)}: {reason}"
