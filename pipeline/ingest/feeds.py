"""Feed kinds: plain RSS/Atom feeds and the query services (GDELT DOC 2.0, Google News search).

A query feed is configured by its search, not its address: the request URL
is built here from the topic's ``query`` and the service's base URL (the
public one by default; tests and mirrors set their own).  Both services
answer in RSS, so the same hardened reader parses them; what differs is
handled here: GDELT's pace and result cap, and Google News' redirect links.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote, urlencode, urlsplit

from pipeline.records import FeedEntry, FeedPoll, stable_id
from pipeline.topics import FeedKind, FeedSpec, FetchSpec

GDELT_BASE_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
GOOGLE_NEWS_BASE_URL = "https://news.google.com/rss/search"
# GDELT DOC 2.0 returns at most 250 articles per request and asks for one request every 5 seconds.
GDELT_MAX_RECORDS = 250
MIN_INTERVAL_SECONDS: Mapping[FeedKind, float] = {"gdelt": 5.0, "google_news": 1.0, "rss": 0.0}


def feed_address(feed: FeedSpec) -> str:
    """The URL to request for a feed, as configured: ``${VAR}`` references in the base URL stay unexpanded
    (they are expanded when the feed is read) and this form is what logs and ``feed_state`` show."""
    if feed.kind == "rss":
        assert feed.url is not None  # FeedSpec requires it for rss
        return feed.url
    query = (feed.query or "").strip()
    if feed.kind == "gdelt":
        params = {"query": query, "mode": "ArtList", "format": "rss", "maxrecords": str(GDELT_MAX_RECORDS)}
        params["sort"] = "DateDesc"
        if feed.timespan:
            params["timespan"] = feed.timespan
        base = feed.url or GDELT_BASE_URL
    else:
        lang, country = feed.language, feed.country.upper()
        params = {"q": query, "hl": f"{lang}-{country}" if "-" not in lang else lang, "gl": country}
        params["ceid"] = f"{country}:{lang.split('-', 1)[0]}"
        base = feed.url or GOOGLE_NEWS_BASE_URL
    joiner = "&" if urlsplit(base).query else "?"
    return base + joiner + urlencode(params, quote_via=quote)


def min_interval(feed: FeedSpec) -> float:
    """Seconds to leave between two requests to this kind's service within one run."""
    return MIN_INTERVAL_SECONDS[feed.kind]


def cap_note(feed: FeedSpec, items: int) -> str | None:
    """A warning for feed_state when a query hit the service's result cap (older matches were cut)."""
    if feed.kind == "gdelt" and items >= GDELT_MAX_RECORDS:
        return f"result cap of {GDELT_MAX_RECORDS} reached: narrow the query or poll more often"
    return None


# --- Google News: redirect links ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resolution:
    """What became of an aggregator's link: the publisher URL, or None when it could not be found."""

    link: str
    publisher_url: str | None
    reason: str


def resolve_redirect(
    link: str,
    spec: FetchSpec,
    *,
    allow_private_hosts: bool,
) -> Resolution:
    """Follow an aggregator link through the hardened fetch until it leaves the aggregator's host.

    The publisher's page itself is not requested here (the fetch step does
    that): the walk stops at the first redirect to another host.  A link
    that answers with a page of its own (Google News often serves a script
    instead of a redirect) or fails is unresolved, and the caller falls back
    to title+outlet de-duplication.
    """
    from pipeline.ingest.http import FetchError, get

    aggregator = urlsplit(link).netloc.lower()

    def leaves(location: str) -> bool:
        return urlsplit(location).netloc.lower() != aggregator

    try:
        response = get(link, spec, allow_private_hosts=allow_private_hosts, stop_at_redirect=leaves)
    except FetchError as exc:
        return Resolution(link, None, f"redirect not followed ({exc.reason or exc})")
    if response.status in (301, 302, 303, 307, 308):
        from urllib.parse import urljoin

        from pipeline.ingest.http import entry_url

        location = urljoin(response.final_url, response.headers.get("location", ""))
        try:
            return Resolution(link, entry_url(response.final_url, location), "resolved")
        except FetchError as exc:
            return Resolution(link, None, f"redirect to an unusable link ({exc.reason})")
    return Resolution(link, None, f"no redirect (HTTP {response.status} page)")


def resolve_entries(
    entries: Iterable[FeedEntry],
    resolve: Callable[[str], Resolution],
    skip: Callable[[str], bool],
) -> tuple[list[FeedEntry], list[Resolution]]:
    """Entries with their publisher URL where the redirect resolves (the link kept in ``via``);
    entries ``skip`` says are known already are left as they are, unrequested."""
    out, resolutions = [], []
    for entry in entries:
        if skip(entry.url):
            out.append(entry)
            continue
        found = resolve(entry.url)
        resolutions.append(found)
        out.append(replace(entry, url=found.publisher_url, via=entry.url) if found.publisher_url else entry)
    return out, resolutions


_WORDS = re.compile(r"[^\w]+")


def title_outlet_key(title: str | None, outlet: str | None) -> str | None:
    """A key for "the same story from the same outlet" when the URL is unknown: the headline (without
    the " - Outlet" suffix Google News adds) and the outlet, case, accents and punctuation folded."""
    if not title or not outlet:
        return None
    headline = title.strip()
    suffix = f" - {outlet.strip()}"
    if headline.lower().endswith(suffix.lower()):
        headline = headline[: -len(suffix)]

    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKD", text.casefold())
        text = "".join(c for c in text if not unicodedata.combining(c))
        return " ".join(_WORDS.sub(" ", text).split())

    folded_title, folded_outlet = fold(headline), fold(outlet)
    if not folded_title or not folded_outlet:
        return None
    return stable_id("title+outlet", folded_title, folded_outlet)


def drop_known_stories(
    unresolved: Iterable[FeedEntry], others: Iterable[FeedEntry], known_keys: set[str]
) -> tuple[list[FeedEntry], list[tuple[FeedEntry, str]]]:
    """Aggregator entries whose publisher URL stayed unknown, split into those to fetch and those that
    repeat a story already known by title and outlet: stored (``known_keys``), listed with a real URL
    in this run (``others``), or listed twice by the aggregator under different redirect links."""
    keys = set(known_keys)
    listed: dict[str, FeedEntry] = {}
    for entry in others:
        key = title_outlet_key(entry.title, entry.outlet)
        if key:
            listed.setdefault(key, entry)
    kept, duplicates = [], []
    for entry in unresolved:
        key = title_outlet_key(entry.title, entry.outlet)
        if key is None:
            kept.append(entry)
        elif key in keys:
            duplicates.append((entry, "same title and outlet as an article already stored"))
        elif key in listed:
            duplicates.append((entry, f"same title and outlet as {listed[key].url}"))
        else:
            kept.append(entry)
            listed[key] = entry
    return kept, duplicates


__all__ = [
    "GDELT_BASE_URL",
    "GDELT_MAX_RECORDS",
    "GOOGLE_NEWS_BASE_URL",
    "Resolution",
    "cap_note",
    "drop_known_stories",
    "feed_address",
    "min_interval",
    "resolve_entries",
    "resolve_redirect",
    "title_outlet_key",
]


def forget_validators(polls: Sequence[FeedPoll], feed_urls: set[str]) -> list[FeedPoll]:
    """Polls of feeds with entries left for a later run lose their validators, so the next poll reads
    the feed in full instead of taking "unchanged" for "nothing left to do"."""
    return [
        dataclasses.replace(p, etag=None, last_modified=None, body_sha256=None) if p.feed_url in feed_urls else p
        for p in polls
    ]


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
