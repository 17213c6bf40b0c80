"""Task ``discover``: poll each feed of the topic (``poll_feed``), then choose the entries this run
fetches (``choose``).

Each feed is read on its own: one that fails is recorded in ``feed_state`` and
the others go on; links that can never be fetched are recorded as
quarantined.  Only when every feed fails does the task fail.  Polls are
conditional (the validators of the last good poll are sent back), and an
unchanged feed is not parsed.  Query services are paced as they ask (GDELT:
one request per 5 s); Google News redirect links are resolved to the
publisher's URL where they redirect, else de-duplicated by title and outlet.
Feeds are polled least recently polled first, and past the task's budget no
further feed is polled: the rest are recorded as ``not polled`` (neither an
answer nor a failure) and, their last poll being the oldest, come first next run.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipeline.ingest import feeds, http
from pipeline.ingest.feeds import choose_entries, forget_validators
from pipeline.records import NOT_POLLED, FeedEntry, FeedPoll, Skipped, to_json
from pipeline.steps import pageledger
from pipeline.steps.job import Job
from pipeline.steps.staging import remove_stale_staging, write_json
from pipeline.topics import FeedSpec, TopicConfig

if TYPE_CHECKING:
    from pipeline.envrefs import Expanded
    from pipeline.ingest.polite import HostGate

log = logging.getLogger(__name__)

# Wall-clock budget of one discover task: inside its 30-minute execution timeout
# (pipeline.orchestration.edge.default_args), with room for the feed being polled when it runs
# out (at most timeout_seconds x (retries + 1) plus backoff) and for its redirect resolution.
DISCOVER_BUDGET_SECONDS = 15 * 60.0


@dataclass(frozen=True, slots=True)
class KnownUrls:
    """What the store already knows of a topic's URLs and feeds: all a poll and the choice read."""

    seen: set[str]
    schedule: Mapping[str, datetime]  # URL -> when its retry is due
    validators: Mapping[str, tuple[str | None, str | None, str | None]]
    stories: set[str]  # title/outlet keys of stored articles
    polled_at: Mapping[str, datetime] = field(default_factory=dict)  # feed label -> its last poll


@dataclass(slots=True)
class FeedOutcome:
    """One feed's poll: the poll record, the entries it lists, and the links it could not use."""

    poll: FeedPoll
    entries: list[FeedEntry] = field(default_factory=list)
    unresolved: list[FeedEntry] = field(default_factory=list)  # redirect links not resolved to a publisher
    skipped: list[Skipped] = field(default_factory=list)


def run(
    job: Job,
    environ: Mapping[str, str] | None = None,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    budget_seconds: float = DISCOVER_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Job:
    """Read the topic's feeds and stage the entries to fetch: unseen ones first, then retries that are due.

    Past ``budget_seconds`` no further feed is polled, so slow feeds cannot
    push the task past its execution timeout.
    """
    from pipeline.ingest.polite import HostGate

    topic = job.topic()
    env = os.environ if environ is None else environ
    at = (now or (lambda: datetime.now(UTC)))()
    deadline = clock() + budget_seconds
    unfinished = pageledger.earlier_runs(job)  # read before their staging goes
    remove_stale_staging(job, owner_pid=_run_owner())
    known, stopped = _not_read_again(job, _known_urls(job, topic), unfinished)
    pace = HostGate(1, 0.0, sleep=sleep)
    outcomes = []
    for feed in poll_order(topic.feeds, known.polled_at):
        if clock() > deadline:
            outcomes.append(_not_polled(feed, budget_seconds))
        else:
            outcomes.append(poll_feed(feed, topic, env, known, pace))
    polls = [o.poll for o in outcomes]
    if polls and all(p.polled and not p.status.startswith("ok") for p in polls):  # a feed not polled did not fail
        _record_total_failure(job, topic, polls, at)
        raise http.FetchError(f"every feed of topic {topic.name!r} failed: " + "; ".join(p.status for p in polls))
    chosen, polls, skipped = choose(outcomes, known, at, topic)
    skipped += stopped
    write_json(
        job.stage_dir / "entries.json",
        {
            "entries": [to_json(e) for e in chosen],
            "polls": [to_json(p) for p in polls],
            "skipped": [to_json(s) for s in skipped],
        },
    )
    return job


def poll_order(feeds_: Sequence[FeedSpec], polled_at: Mapping[str, datetime]) -> list[FeedSpec]:
    """Feeds never polled first, then the least recently polled (configured order among equals):
    a feed the budget left out last run has the oldest poll, so it goes first this time."""

    def last_poll(feed: FeedSpec) -> tuple[int, float]:
        at = polled_at.get(feeds.feed_address(feed))
        return (0, 0.0) if at is None else (1, at.timestamp())

    return sorted(feeds_, key=last_poll)


def _not_polled(feed: FeedSpec, budget_seconds: float) -> FeedOutcome:
    label = feeds.feed_address(feed)
    reason = f"{NOT_POLLED}: discover budget of {budget_seconds:g} s spent before its turn; polled first next run"
    log.warning("feed %s %s", label, reason)
    return FeedOutcome(FeedPoll(label, reason, None))


def _run_owner() -> int | None:
    """The process driving the whole run, where one does (``claimwatch run`` runs each step in a child
    of it); under a scheduler no process outlives a task, and a run is judged by its heartbeat."""
    from pipeline.settings import settings_from_env

    return os.getppid() if settings_from_env().fresh_step_process else None


def _known_urls(job: Job, topic: TopicConfig) -> KnownUrls:
    from pipeline.store.articles import stored_title_outlets
    from pipeline.store.polls import feed_poll_times, feed_validators
    from pipeline.store.seen import retry_schedule, seen_urls
    from pipeline.store.session import open_store

    with open_store(job.db) as con:
        return KnownUrls(
            seen=seen_urls(con, topic.name),
            schedule=retry_schedule(con, topic.name),
            validators=feed_validators(con, topic.name),
            stories={key for t, o in stored_title_outlets(con, topic.name) if (key := feeds.title_outlet_key(t, o))},
            polled_at=feed_poll_times(con, topic.name),
        )


def _not_read_again(job: Job, known: KnownUrls, unfinished: Mapping[str, Skipped]) -> tuple[KnownUrls, list[Skipped]]:
    """Pages an earlier run could not read (the extract task died on them) or quarantined without
    reaching its load: never fetched again, recorded with their reason (``pipeline.steps.pageledger``)."""
    stopped = [s for url, s in unfinished.items() if url not in known.seen]
    pageledger.carry(job.stage_dir, stopped)  # until this run's load stores them, they are this run's record
    for s in stopped:
        log.warning("page %s not fetched again: %s", s.url, s.reason)
    return dataclasses.replace(known, seen=known.seen | {s.url for s in stopped}), stopped


def _record_total_failure(job: Job, topic: TopicConfig, polls: Sequence[FeedPoll], at: datetime) -> None:
    """The run stops here, before its load: count these failures now, or "failed N polls in a row" never is."""
    from pipeline.store.polls import judge_feeds, record_poll_history, set_feed_health
    from pipeline.store.session import open_store

    with open_store(job.db) as con:
        record_poll_history(con, topic.name, polls, at, job.run_id)
        set_feed_health(con, topic.name, judge_feeds(con, topic, at))


def poll_feed(
    feed: FeedSpec, topic: TopicConfig, env: Mapping[str, str], known: KnownUrls, pace: HostGate
) -> FeedOutcome:
    """Poll one feed: never raises for the feed's own failures, which become an ``error:`` poll."""
    from pipeline.envrefs import MissingVariableError, expand, redacted_logs

    label = feeds.feed_address(feed)  # as configured: ${VAR} secrets unexpanded, safe to log and store
    try:
        url = expand(label, env, what=f"feed {label}")
    except MissingVariableError as exc:
        log.warning("feed %s not read: %s", label, exc)
        return FeedOutcome(FeedPoll(label, f"error: {exc}", 0))
    try:
        with redacted_logs(url.secrets), pace.slot(url.text, delay=feeds.min_interval(feed)):
            read = http.read_feed(
                url.text,
                topic.fetch,
                allow_private_hosts=topic.allow_private_hosts,
                label=label,
                validators=http.Validators(*known.validators[label]) if label in known.validators else None,
                secrets=url.secrets,
            )
    except http.FetchError as exc:
        reason = url.redact(http.printable(str(exc)))
        log.warning("feed %s failed: %s", label, reason)
        return FeedOutcome(FeedPoll(label, f"error: {reason}", 0))
    kept = read.validators
    if read.unchanged:
        log.info("feed %s unchanged (%s): not parsed", label, read.unchanged)
        status = f"ok (unchanged: {read.unchanged})"
        return FeedOutcome(FeedPoll(label, status, None, kept.etag, kept.last_modified, kept.body_sha256))
    out = FeedOutcome(FeedPoll(label, "ok", read.items), entries=list(read.entries))
    notes = _notes(feed, read, label)
    for item in read.rejected:
        if item.url not in known.seen:
            log.warning("feed %s: item not fetched: %s: %s", label, item.url, url.redact(item.reason))
            out.skipped.append(Skipped(url.redact(item.url), "quarantined", url.redact(item.reason), "discover"))
    if feed.kind == "google_news":
        listed, note = _resolve_redirects(out.entries, topic, known.seen, pace, out.skipped, url)
        notes.append(note)
        out.unresolved = [e for e in listed if e.via is None and e.url not in known.seen]
        out.entries = [e for e in listed if e.via is not None or e.url in known.seen]
    new = len({e.url for e in read.entries} - known.seen - known.schedule.keys())
    status = "ok" + (f" ({'; '.join(notes)})" if notes else "")
    out.poll = FeedPoll(label, status, read.items, kept.etag, kept.last_modified, kept.body_sha256, new_entries=new)
    return out


def _notes(feed: FeedSpec, read: http.FeedRead, label: str) -> list[str]:
    """What a successful poll's status says besides "ok"."""
    notes = []
    if read.rejected:
        notes.append(f"{len(read.rejected)} of {read.items} items not fetchable (see quarantine)")
    if read.repaired:
        notes.append(f"{read.repaired} invalid character reference(s) replaced")
    if cap := feeds.cap_note(feed, read.items):
        notes.append(cap)
        log.warning("feed %s: %s", label, cap)
    return notes


def choose(
    outcomes: Sequence[FeedOutcome], known: KnownUrls, at: datetime, topic: TopicConfig
) -> tuple[list[FeedEntry], list[FeedPoll], list[Skipped]]:
    """The entries this run fetches, the polls to store and the links skipped, from every feed's poll."""
    entries = [e for o in outcomes for e in o.entries]
    unresolved = [e for o in outcomes for e in o.unresolved]
    skipped = [s for o in outcomes for s in o.skipped]
    fetchable, repeats = feeds.drop_known_stories(unresolved, entries, known.stories)
    skipped += [Skipped(e.url, "duplicate", reason, "discover") for e, reason in repeats]
    entries += fetchable
    # A URL waiting for a retry is retried even when its feed no longer lists it (or was not parsed).
    listed_urls = {e.url for e in entries}
    entries += [FeedEntry(feed_url="url_failures", url=u) for u in known.schedule if u not in listed_urls]
    chosen = choose_entries(entries, known.seen, known.schedule, at, topic.fetch.max_articles_per_run)
    taken = {e.url for e in chosen}
    backlog = {
        e.feed_url for e in entries if e.url not in taken and e.url not in known.seen and e.url not in known.schedule
    }
    polls = forget_validators([o.poll for o in outcomes], backlog)
    fresh = sum(1 for e in chosen if e.url not in known.schedule)
    log.info(
        "topic %s: %d feed entries, %d taken this run (%d new, %d retries)",
        topic.name, len(entries), len(chosen), fresh, len(chosen) - fresh,
    )  # fmt: skip
    return chosen, polls, _unique(skipped)


def _resolve_redirects(
    entries: Sequence[FeedEntry],
    topic: TopicConfig,
    seen: set[str],
    pace: HostGate,
    skipped: list[Skipped],
    feed_url: Expanded,
) -> tuple[list[FeedEntry], str]:
    """Google News links resolved to the publisher where they redirect; each resolved link is recorded
    as seen (outcome ``redirect``) so it is not resolved again on the next poll.  Links keep the feed
    URL's ``${VAR}`` references: expanded for the request, written back in what it returns."""
    from pipeline.envrefs import MissingVariableError, expand

    def resolve(link: str) -> feeds.Resolution:
        try:
            target = expand(link, feed_url.secrets)
        except MissingVariableError as exc:  # a reference the feed's URL does not hold: never filled in
            return feeds.Resolution(link, None, str(exc))
        with pace.slot(target.text, delay=feeds.MIN_INTERVAL_SECONDS["google_news"]):
            found = feeds.resolve_redirect(target.text, topic.fetch, allow_private_hosts=topic.allow_private_hosts)
        publisher = target.redact(found.publisher_url) if found.publisher_url else None
        return feeds.Resolution(link, publisher, target.redact(found.reason))

    out, resolutions = feeds.resolve_entries(entries, resolve, skip=lambda link: link in seen)
    for entry in out:
        if entry.via is not None:
            skipped.append(Skipped(entry.via, "redirect", f"resolved to {entry.url}", "discover"))
    done = sum(1 for r in resolutions if r.publisher_url)
    for r in resolutions:
        if not r.publisher_url:
            log.info("link %s not resolved: %s", r.link, r.reason)
    return out, f"{done} of {len(resolutions)} new links resolved to the publisher"


def _unique(skipped: Sequence[Skipped]) -> list[Skipped]:
    """One record per URL (a link listed twice, or by two feeds, is one item)."""
    return list({s.url: s for s in skipped}.values())
