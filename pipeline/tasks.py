"""Task bodies: the I/O edge that binds the pure stages to staging files and DuckDB.

Each Airflow task calls one function here with a ``Job`` and returns the same
``Job``; the data itself travels through files under the job's staging
directory, because article HTML is too large for XCom.  Pages are staged one
file per page and read back one at a time, so memory holds one page, not the
batch.  Any function can be re-run on the same job: staging files are
rewritten whole, and the load and the contradiction check key every row by
content, so a retry or a repeated run stores nothing twice.

One bad item (feed, feed entry, page) never fails a run: its error is
recorded against its URL (``seen_urls``/``quarantine`` when it can never
work, ``url_failures`` with a retry time when it may) and the rest goes on.
A run fails when nothing of a topic could be read, or on an error that is not
about one item.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.config import FetchSpec, TopicConfig, load_topic
from pipeline.records import Article, Claim, FeedEntry, FetchedPage, SourcedClaim, from_json, to_json
from pipeline.store import ArchivedPage, Batch, Failure, FeedPoll, LoadResult, RetryPolicy, Skipped

if TYPE_CHECKING:
    from pipeline.polite import HostGate

if TYPE_CHECKING:
    from pipeline.health import FeedHealth

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


def record_error(job: Job, task_id: str, map_index: int, exc: BaseException, *, final: bool = True) -> None:
    """Append a task failure to the run's error ledger (one JSON object per line).

    ``final`` is False for a try Airflow will retry: only final failures make
    an operations alert (a retry that then succeeds pages no one).

    Called while the task's own error propagates, so it never raises: a full
    disk or an unwritable ledger is logged, and the real error stays the one reported.
    """
    try:
        path = errors_file(job.data_dir, job.run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "task_id": task_id,
            "map_index": map_index,
            "topic_file": job.topic_file,
            "error": f"{type(exc).__name__}: {exc}",
            "final": final,
            "at": datetime.now(UTC).isoformat(),
        }
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
    except Exception as ledger_exc:
        log.error("could not record the failure of %s in the error ledger: %s", task_id, ledger_exc)


# --- staging files -------------------------------------------------------------------


def final_failures(data_dir: str | Path, run_id: str) -> list[dict[str, Any]]:
    """The ledger's last final failure of each task instance of a run, oldest first."""
    path = errors_file(data_dir, run_id)
    if not path.exists():
        return []
    last: dict[tuple[str, int], dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a torn line from a crash mid-write
        if isinstance(item, dict) and item.get("final", True):
            last[(item["task_id"], item["map_index"])] = item
    return sorted(last.values(), key=lambda i: str(i.get("at")))


def _write_json(path: Path, data: Any) -> None:
    """Write atomically and durably: a crash leaves the previous file or none, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (the directory entry is what a crash would lose)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
            "failures": [to_json(f) for f in batch.failures],
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
        failures=_records(Failure, raw.get("failures", [])),
    )


PAGES_DIR = "pages"
# Wall-clock budget of one fetch task: well inside its 30-minute execution timeout
# (pipeline.orchestration.default_args), with room for the staging writes.
FETCH_BUDGET_SECONDS = 20 * 60.0


def _page_files(stage_dir: Path) -> list[Path]:
    return sorted((stage_dir / PAGES_DIR).glob("*.json"))


def _iter_pages(stage_dir: Path) -> Iterator[FetchedPage]:
    """The staged pages, read one at a time."""
    for path in _page_files(stage_dir):
        yield from_json(FetchedPage, _read_json(path))


def remove_stale_staging(job: Job) -> list[Path]:
    """Delete staging left by earlier runs of this topic that crashed before their load.

    Runs of one DAG never overlap (``max_active_runs=1``), so any other run's
    folder here is left over; its batch, if it failed validation, was already
    copied to ``quarantine/``.
    """
    removed = []
    parent = job.stage_dir.parent
    for folder in parent.iterdir() if parent.is_dir() else ():
        if folder != job.stage_dir and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed stale staging from %d earlier run(s): %s", len(removed), ", ".join(p.name for p in removed))
    return removed


# --- ingest ---------------------------------------------------------------------------


def discover(
    job: Job,
    environ: Mapping[str, str] | None = None,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Job:
    """Read the topic's feeds and pick the entries to fetch: unseen ones first, then retries that are due.

    Each feed is read on its own: one that fails is recorded in ``feed_state``
    and the others go on; links that can never be fetched are recorded as
    quarantined.  Only when every feed fails does the task fail.  Polls are
    conditional (the validators of the last good poll are sent back), and an
    unchanged feed is not parsed.  Query services are paced as they ask
    (GDELT: one request per 5 s); Google News redirect links are resolved to
    the publisher's URL where they redirect, else de-duplicated by title and outlet.
    """
    from pipeline import feeds, fetch, store
    from pipeline.envrefs import MissingVariableError, expand, redacted_logs
    from pipeline.polite import HostGate

    topic = job.topic()
    env = os.environ if environ is None else environ
    at = (now or _utcnow)()
    remove_stale_staging(job)
    with store.open_store(job.db) as con:
        seen = store.seen_urls(con, topic.name)
        schedule = store.retry_schedule(con, topic.name)
        validators = store.feed_validators(con, topic.name)
        known_stories = {
            key for t, o in store.stored_title_outlets(con, topic.name) if (key := feeds.title_outlet_key(t, o))
        }
    pace = HostGate(1, 0.0, sleep=sleep)
    entries: list[FeedEntry] = []
    unresolved: list[FeedEntry] = []
    polls: list[FeedPoll] = []
    skipped: list[Skipped] = []
    for feed in topic.feeds:
        label = feeds.feed_address(feed)  # as configured: ${VAR} secrets unexpanded, safe to log and store
        try:
            url = expand(label, env, what=f"feed {label}")
        except MissingVariableError as exc:
            log.warning("feed %s not read: %s", label, exc)
            polls.append(FeedPoll(label, f"error: {exc}", 0))
            continue
        try:
            with redacted_logs(url.secrets), pace.slot(url.text, delay=feeds.min_interval(feed)):
                read = fetch.read_feed(
                    url.text,
                    topic.fetch,
                    allow_private_hosts=topic.allow_private_hosts,
                    label=label,
                    validators=fetch.Validators(*validators[label]) if label in validators else None,
                )
        except fetch.FetchError as exc:
            reason = url.redact(fetch.printable(str(exc)))
            log.warning("feed %s failed: %s", label, reason)
            polls.append(FeedPoll(label, f"error: {reason}", 0))
            continue
        kept = read.validators
        if read.unchanged:
            log.info("feed %s unchanged (%s): not parsed", label, read.unchanged)
            status = f"ok (unchanged: {read.unchanged})"
            polls.append(FeedPoll(label, status, None, kept.etag, kept.last_modified, kept.body_sha256))
            continue
        notes = []
        if read.rejected:
            notes.append(f"{len(read.rejected)} of {read.items} items not fetchable (see quarantine)")
        if read.repaired:
            notes.append(f"{read.repaired} invalid character reference(s) replaced")
        if cap := feeds.cap_note(feed, read.items):
            notes.append(cap)
            log.warning("feed %s: %s", label, cap)
        new = len({e.url for e in read.entries} - seen - schedule.keys())
        for item in read.rejected:
            if item.url not in seen:
                log.warning("feed %s: item not fetched: %s: %s", label, item.url, url.redact(item.reason))
                skipped.append(Skipped(url.redact(item.url), "quarantined", url.redact(item.reason), "discover"))
        listed = read.entries
        if feed.kind == "google_news":
            listed, note = _resolve_redirects(listed, topic, seen, pace, skipped)
            notes.append(note)
            unresolved += [e for e in listed if e.via is None and e.url not in seen]
            listed = [e for e in listed if e.via is not None or e.url in seen]
        polls.append(
            FeedPoll(
                label,
                "ok" + (f" ({'; '.join(notes)})" if notes else ""),
                read.items,
                kept.etag,
                kept.last_modified,
                kept.body_sha256,
                new_entries=new,
            )
        )
        entries.extend(listed)
    if polls and all(not p.status.startswith("ok") for p in polls):
        # The run stops here, before its load: count these failures now, or "failed N polls in a row" never is.
        with store.open_store(job.db) as con:
            store.record_poll_history(con, topic.name, polls, at, job.run_id)
            store.set_feed_health(con, topic.name, judge_feeds(con, topic, at))
        raise fetch.FetchError(f"every feed of topic {topic.name!r} failed: " + "; ".join(p.status for p in polls))
    fetchable, repeats = feeds.drop_known_stories(unresolved, entries, known_stories)
    skipped += [Skipped(e.url, "duplicate", reason, "discover") for e, reason in repeats]
    entries += fetchable
    # A URL waiting for a retry is retried even when its feed no longer lists it (or was not parsed).
    listed_urls = {e.url for e in entries}
    entries += [FeedEntry(feed_url="url_failures", url=u) for u in schedule if u not in listed_urls]
    chosen = choose_entries(entries, seen, schedule, at, topic.fetch.max_articles_per_run)
    taken = {e.url for e in chosen}
    backlog = {e.feed_url for e in entries if e.url not in taken and e.url not in seen and e.url not in schedule}
    polls = forget_validators(polls, backlog)
    fresh = sum(1 for e in chosen if e.url not in schedule)
    log.info(
        "topic %s: %d feed entries, %d taken this run (%d new, %d retries)",
        topic.name,
        len(entries),
        len(chosen),
        fresh,
        len(chosen) - fresh,
    )
    _write_json(
        job.stage_dir / "entries.json",
        {
            "entries": [to_json(e) for e in chosen],
            "polls": [to_json(p) for p in polls],
            "skipped": [to_json(s) for s in _unique(skipped)],
        },
    )
    return job


def forget_validators(polls: Sequence[FeedPoll], feed_urls: set[str]) -> list[FeedPoll]:
    """Polls of feeds with entries left for a later run lose their validators, so the next poll reads
    the feed in full instead of taking "unchanged" for "nothing left to do"."""
    return [
        dataclasses.replace(p, etag=None, last_modified=None, body_sha256=None) if p.feed_url in feed_urls else p
        for p in polls
    ]


def _resolve_redirects(
    entries: Sequence[FeedEntry], topic: TopicConfig, seen: set[str], pace: HostGate, skipped: list[Skipped]
) -> tuple[list[FeedEntry], str]:
    """Google News links resolved to the publisher where they redirect; each resolved link is recorded
    as seen (outcome ``redirect``) so it is not resolved again on the next poll."""
    from pipeline import feeds

    def resolve(link: str) -> feeds.Resolution:
        with pace.slot(link, delay=feeds.MIN_INTERVAL_SECONDS["google_news"]):
            return feeds.resolve_redirect(link, topic.fetch, allow_private_hosts=topic.allow_private_hosts)

    out, resolutions = feeds.resolve_entries(entries, resolve, skip=lambda link: link in seen)
    for entry in out:
        if entry.via is not None:
            skipped.append(Skipped(entry.via, "redirect", f"resolved to {entry.url}", "discover"))
    done = sum(1 for r in resolutions if r.publisher_url)
    for r in resolutions:
        if not r.publisher_url:
            log.info("link %s not resolved: %s", r.link, r.reason)
    return out, f"{done} of {len(resolutions)} new links resolved to the publisher"


def judge_feeds(con: Any, topic: TopicConfig, now: datetime) -> list[FeedHealth]:
    """The health verdict on each configured feed of a topic, from its recent polls."""
    from pipeline import feeds, store
    from pipeline.health import feed_health

    history = store.recent_polls(con, topic.name, topic.feed_health.history_polls)
    labels = [feeds.feed_address(f) for f in topic.feeds]  # the key polls are recorded under
    return [feed_health(label, history.get(label, []), now, topic.feed_health) for label in labels]


def watch_feeds(job: Job, now: Callable[[], datetime] | None = None) -> dict[str, int]:
    """Judge every feed of the topic, store the verdicts in ``feed_state``, and page the topic's
    operations route about feeds that are broken (failing N polls in a row) or silent (far past
    their usual interval between new items).  One alert per feed, condition and day."""
    from pipeline import ops, store

    topic = job.topic()
    at = (now or _utcnow)()
    with store.open_store(job.db) as con:
        verdicts = judge_feeds(con, topic, at)
        store.set_feed_health(con, topic.name, verdicts)
    for v in verdicts:
        log.info("topic %s: feed %s is %s: %s", topic.name, v.feed_url, v.state, v.detail)
    alerts = [ops.feed_condition(topic.name, v, at) for v in verdicts if v.alerting]
    sent = ops.send(alerts, topic.ops_alerts, Path(job.data_dir)) if alerts and topic.ops_alerts else []
    counts = {state: sum(1 for v in verdicts if v.state == state) for state in {v.state for v in verdicts}}
    return {**counts, "ops_alerts_sent": len(sent)}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _unique(skipped: Sequence[Skipped]) -> list[Skipped]:
    """One record per URL (a link listed twice, or by two feeds, is one item)."""
    return list({s.url: s for s in skipped}.values())


def choose_entries(
    entries: Sequence[FeedEntry],
    seen: set[str],
    schedule: Mapping[str, datetime],
    now: datetime,
    limit: int,
) -> list[FeedEntry]:
    """The entries this run fetches, at most ``limit``: never-tried URLs first, in feed order, then the
    failed ones whose retry is due, longest-waiting first.  A URL still backing off is left for a
    later run, so failing URLs cannot crowd out new ones, and every attempt counts against ``limit``."""
    fresh: dict[str, FeedEntry] = {}
    due: dict[str, FeedEntry] = {}
    for entry in entries:
        if entry.url in seen or entry.url in fresh or entry.url in due:
            continue
        retry_at = schedule.get(entry.url)
        if retry_at is None:
            fresh[entry.url] = entry
        elif retry_at <= now:
            due[entry.url] = entry
    retries = sorted(due.values(), key=lambda e: schedule[e.url])
    return [*fresh.values(), *retries][:limit]


def fetch_pages(
    job: Job,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    budget_seconds: float = FETCH_BUDGET_SECONDS,
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
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from pipeline import archive, fetch
    from pipeline.polite import HostGate, RobotsCache, RobotsDisallowed
    from pipeline.store import ArchivedPage

    topic = job.topic()
    spec = topic.fetch
    raw = _read_json(job.stage_dir / "entries.json")
    entries = interleave_by_host(_records(FeedEntry, raw["entries"]))
    pages_dir = job.stage_dir / PAGES_DIR
    shutil.rmtree(pages_dir, ignore_errors=True)  # a retried task starts from the entries again
    pages_dir.mkdir(parents=True)
    skipped = _records(Skipped, raw.get("skipped", []))
    failures: list[Failure] = []
    archived: list[ArchivedPage] = []
    gate = HostGate(spec.per_host_concurrency, spec.per_host_delay_seconds)
    robots = (
        RobotsCache(spec, allow_private_hosts=topic.allow_private_hosts, gate=gate) if spec.respect_robots else None
    )
    deadline = time.monotonic() + budget_seconds

    def work(entry: FeedEntry) -> tuple[fetch.RawPage | Exception | None, datetime | None]:
        try:
            if robots is not None:
                robots.check(entry.url)
            with gate.slot(entry.url):
                if time.monotonic() > deadline:  # checked when its turn comes: waiting counts too
                    return None, None  # left for the next run
                return fetch.fetch_raw_page(entry, spec, allow_private_hosts=topic.allow_private_hosts), now()
        except (fetch.FetchError, RobotsDisallowed) as exc:
            return exc, None

    fetched = done = unstarted = 0
    left: set[str] = set()  # feeds with pages left for the next run
    with ThreadPoolExecutor(max_workers=spec.concurrency, thread_name_prefix="fetch") as pool:
        futures = {pool.submit(work, entry): (i, entry) for i, entry in enumerate(entries, 1)}
        for future in as_completed(futures):
            i, entry = futures[future]
            result, fetched_at = future.result()
            done += 1
            if result is None:
                left.add(entry.feed_url)
                unstarted += 1
            elif isinstance(result, RobotsDisallowed):
                log.info("page %s not fetched: %s", entry.url, result)
                skipped.append(Skipped(entry.url, "robots", str(result), "fetch"))
            elif isinstance(result, fetch.FetchError):
                reason = fetch.printable(result.reason or str(result))
                if result.transient:
                    log.warning("page %s failed for now, will retry on a later run: %s", entry.url, reason)
                    failures.append(Failure(entry.url, "fetch", reason))
                else:
                    log.warning("page %s quarantined: %s", entry.url, reason)
                    skipped.append(Skipped(entry.url, "quarantined", _with_url(result, entry.url, reason), "fetch"))
            elif isinstance(result, fetch.RawPage) and fetched_at is not None:
                digest = archive.put(job.data_dir, result.body)
                archived.append(
                    ArchivedPage(
                        entry.url, result.final_url, digest, result.content_type, result.status, fetched_at, entry
                    )
                )
                _write_json(pages_dir / f"{i:06d}.json", to_json(fetch.decode_page(entry, result, fetched_at)))
                fetched += 1
            del result
            if done % 10 == 0 or done == len(entries):
                log.info("fetched %d/%d pages (%d staged)", done, len(entries), fetched)
    if unstarted:
        log.warning(
            "fetch budget of %g s spent: %d of %d pages left for the next run",
            budget_seconds,
            unstarted,
            len(entries),
        )
    _write_json(
        job.stage_dir / "fetched.json",
        {
            "skipped": [to_json(s) for s in skipped],
            "failures": [to_json(f) for f in failures],
            "polls": [to_json(p) for p in forget_validators(_records(FeedPoll, raw["polls"]), left)],
            "archived": [to_json(a) for a in archived],
        },
    )
    return job


def interleave_by_host(entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """Round-robin over hosts (feed order kept within a host), so workers waiting on one busy host's
    limit do not hold up every other host."""
    from itertools import chain, zip_longest

    from pipeline.polite import host_of

    by_host: dict[str, list[FeedEntry]] = {}
    for entry in entries:
        by_host.setdefault(host_of(entry.url), []).append(entry)
    return [e for e in chain.from_iterable(zip_longest(*by_host.values())) if e is not None]


def _with_url(exc: Exception, url: str, reason: str) -> str:
    """The reason, naming the hop that failed when a redirect led somewhere else."""
    from pipeline.fetch import printable

    failed_at = getattr(exc, "url", url)
    return reason if failed_at == url else f"{printable(failed_at)}: {reason}"


def extract(job: Job) -> Job:
    """Main text, relevance and claims per staged page, one page at a time; pages that are not articles are recorded.

    A page whose extraction fails (for whatever reason: the page is untrusted
    input) is quarantined with the error; the other pages go on.  Duplicates
    are recognised at load time, against the whole history, inside its transaction.
    """
    from pipeline.claims import Catalogue, extract_claims
    from pipeline.dedup import split_exact_copies
    from pipeline.extract import ExtractionError, NotAnArticle, extract_article
    from pipeline.relevance import is_relevant

    topic = job.topic()
    raw = _read_json(job.stage_dir / "fetched.json")
    skipped = _records(Skipped, raw["skipped"])
    articles: list[Article] = []
    for page in _iter_pages(job.stage_dir):
        try:
            article = extract_article(page, topic.languages)
        except NotAnArticle as exc:
            skipped.append(Skipped(page.entry.url, exc.verdict.kind, exc.verdict.reason, "classify"))
            continue
        except ExtractionError as exc:
            skipped.append(Skipped(page.entry.url, "quarantined", str(exc), "extract"))
            continue
        except Exception as exc:  # a parser choking on hostile HTML is this page's problem
            log.warning("extraction failed on %s: %s: %s", page.entry.url, type(exc).__name__, exc)
            skipped.append(
                Skipped(page.entry.url, "quarantined", f"extraction failed ({type(exc).__name__}: {exc})", "extract")
            )
            continue
        if not is_relevant(article, topic.relevance):
            skipped.append(
                Skipped(page.entry.url, "off_topic", "no relevance terms matched", "relevance", article.article_id)
            )
            continue
        articles.append(article)
    articles, copies = split_exact_copies(articles)
    skipped += [
        Skipped(c.url, "duplicate", "same page or text as another article in this run", "dedup", o.article_id)
        for c, o in copies
    ]
    claims: list[Claim] = []
    catalogue = Catalogue.of(topic)
    usable: list[Article] = []
    for article in articles:
        try:
            claims.extend(extract_claims(article, topic, catalogue))
        except Exception as exc:  # one article's text must not cost the batch
            log.warning("claim extraction failed on %s: %s: %s", article.url, type(exc).__name__, exc)
            skipped.append(
                Skipped(article.url, "quarantined", f"claim extraction failed ({type(exc).__name__}: {exc})", "claims")
            )
            continue
        usable.append(article)
    log.info("topic %s: %d articles kept, %d claims, %d skipped", topic.name, len(usable), len(claims), len(skipped))
    save_batch(
        job.stage_dir / "batch.json",
        Batch(
            topic.name,
            usable,
            claims,
            skipped,
            _records(FeedPoll, raw["polls"]),
            _records(Failure, raw["failures"]),
        ),
    )
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

    topic = job.topic()
    batch = read_batch(job.stage_dir / "batch.json")
    near_similarity = job.topic().dedup.near_duplicate_similarity
    fetched = _read_json(job.stage_dir / "fetched.json")
    batch = dataclasses.replace(batch, archived=_records(ArchivedPage, fetched.get("archived", [])))
    with store.open_store(job.db) as con:
        result: LoadResult = store.load_batch(
            con, batch, job.run_id, policy=retry_policy(topic.fetch), near_similarity=near_similarity
        )
    store.publish_snapshot(job.db)
    shutil.rmtree(job.stage_dir, ignore_errors=True)
    log.info("stored %s", result)
    return {
        "articles": result.articles,
        "claims": result.claims,
        "duplicates": result.duplicates,
        "near_duplicates": result.near_duplicates,
        "skipped": result.skipped,
        "retrying": result.retrying,
        "given_up": result.given_up,
    }


def retry_policy(spec: FetchSpec) -> RetryPolicy:
    return RetryPolicy(first_delay=timedelta(minutes=spec.url_retry_minutes), max_attempts=spec.max_url_attempts)


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

    pending = store.pending_claims(con, topic.name)
    # A database checked before figure histories existed: rebuild them once from what was checked.
    backlog = [] if store.has_histories(con, topic.name) else store.topic_claims(con, topic.name)[1]
    return check_claims(con, topic, pending, backlog, run_id)


def check_claims(
    con: Any, topic: TopicConfig, pending: Sequence[SourcedClaim], backlog: Sequence[SourcedClaim], run_id: str
) -> dict[str, int]:
    """Check these claims against the state of their metrics; store the outcome and its alerts in one transaction."""
    from pipeline import store
    from pipeline.incidents import check_pending

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
    """Send every pending alert: claim, send, mark, one alert at a time.

    The claim (status 'sending', attempt counted) is committed before the send
    and the mark right after it, so a crash leaves at most the one alert in
    flight unmarked; the next run resends it under the same idempotency key,
    and a file route sees its line and does not write it again.  An alert that
    fails, or that another sender holds, stays pending and the task fails so
    Airflow retries it.
    """
    from pipeline import store
    from pipeline.alerts import DEFAULT_TIMEOUT_SECONDS, AlertDeliveryError, claim_lease_seconds
    from pipeline.alerts import deliver as send

    topic = job.topic()
    timeouts = {r.url: r.timeout_seconds for r in topic.alerts}
    with store.open_store(job.db) as con:
        pending = store.pending_alerts(con, topic.name)
    delivered, errors = 0, []
    for alert in pending:
        timeout = timeouts.get(alert.route_url, DEFAULT_TIMEOUT_SECONDS)
        with store.open_store(job.db) as con:
            claimed = store.claim_alert(con, alert.alert_id, claim_lease_seconds(timeout))
        if not claimed:
            errors.append(f"{alert.alert_id}: being sent by another run (its claim has not expired)")
            continue
        try:
            send(alert, Path(job.data_dir), timeout)
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
    log.info("topic %s: %d alerts delivered, %d not", topic.name, delivered, len(errors))
    if errors:
        raise AlertDeliveryError(
            f"{len(errors)} of {len(pending)} alerts not delivered (kept pending): " + "; ".join(errors)
        )
    return {"delivered": delivered}
