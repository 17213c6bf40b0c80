"""Task ``extract``: main text, relevance and claims of each staged page."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.records import (
    Article,
    Batch,
    Claim,
    Failure,
    FeedPoll,
    FetchedPage,
    Skipped,
)
from pipeline.steps import pageledger
from pipeline.steps.job import Job
from pipeline.steps.staging import iter_pages, read_json, records_of, save_batch
from pipeline.topics import TopicConfig

if TYPE_CHECKING:
    from pipeline.claims import Catalogue, Deadline, OverBudget

log = logging.getLogger(__name__)


def run(job: Job, clock: Callable[[], float] = time.monotonic) -> Job:
    """Main text, relevance and claims per staged page, one page at a time; pages that are not articles are recorded.

    A page whose extraction fails (for whatever reason: the page is untrusted
    input), whose main text is longer than ``extract.max_text_chars`` or whose
    reading takes longer than ``extract.page_seconds`` is quarantined with the
    reason; the other pages go on.  Each page's outcome is written to the run's
    page ledger as soon as it is known, so a page the task dies on is skipped
    by the next try and the next run (``pipeline.steps.pageledger``).
    Duplicates within the run are set aside here; those of earlier runs are
    recognised at load time, against the whole history, inside its transaction.
    """
    from pipeline.claims import Catalogue
    from pipeline.ingest.dedup import split_exact_copies

    topic = job.topic()
    raw = read_json(job.stage_dir / "fetched.json")
    skipped = records_of(Skipped, raw["skipped"])
    catalogue = Catalogue.of(topic)
    stopped = pageledger.poisoned(job.stage_dir)  # what an earlier try of this run never finished
    read: list[tuple[Article, list[Claim]]] = []
    for page in iter_pages(job.stage_dir):
        url = page.entry.url
        if url in stopped:
            log.warning("page %s not read again: %s", url, stopped[url].reason)
            skipped.append(stopped[url])
            continue
        pageledger.started(job.stage_dir, url)
        outcome = _read(page, topic, catalogue, _deadline(topic, clock))
        pageledger.finished(job.stage_dir, url, outcome if isinstance(outcome, Skipped) else None)
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        else:
            read.append(outcome)
    # Keyed by what settling ids never changes: a page whose id moves takes its claims along, renamed.
    read_claims = {(article.url, article.content_hash): (article.article_id, claims) for article, claims in read}
    articles, copies = split_exact_copies([article for article, _ in read], topic.dedup.near_duplicate_similarity)
    skipped += [
        Skipped(c.url, "duplicate", "same page or text as another article in this run", "dedup", o.article_id)
        for c, o in copies
    ]
    claims = [claim for article in articles for claim in _claims_for(article, read_claims)]
    log.info("topic %s: %d articles kept, %d claims, %d skipped", topic.name, len(articles), len(claims), len(skipped))
    save_batch(
        job.stage_dir / "batch.json",
        Batch(
            topic.name,
            articles,
            claims,
            skipped,
            records_of(FeedPoll, raw["polls"]),
            records_of(Failure, raw["failures"]),
        ),
    )
    return job


def _claims_for(article: Article, read: dict[tuple[str, str], tuple[str, list[Claim]]]) -> list[Claim]:
    from pipeline.ingest.dedup import claims_of

    read_as, claims = read[(article.url, article.content_hash)]
    return claims if read_as == article.article_id else claims_of(article, claims)


def _deadline(topic: TopicConfig, clock: Callable[[], float]) -> Deadline:
    from pipeline.claims import Deadline

    return Deadline.start(topic.extract.page_seconds, clock)


def _read(
    page: FetchedPage, topic: TopicConfig, catalogue: Catalogue, deadline: Deadline
) -> tuple[Article, list[Claim]] | Skipped:
    """One page's article and claims, or why it was skipped."""
    from pipeline.claims import OverBudget, extract_claims
    from pipeline.ingest.article import ExtractionError, NotAnArticle, extract_article
    from pipeline.ingest.relevance import is_relevant

    url = page.entry.url
    try:
        article = extract_article(page, topic.languages, topic.dedup.canonical_hosts)
        deadline.check()
    except NotAnArticle as exc:
        return Skipped(url, exc.verdict.kind, exc.verdict.reason, "classify")
    except ExtractionError as exc:
        return Skipped(url, "quarantined", str(exc), "extract")
    except OverBudget as exc:
        return _over_budget(url, "the main text extraction", exc)
    except Exception as exc:  # a parser choking on hostile HTML is this page's problem
        log.warning("extraction failed on %s: %s: %s", url, type(exc).__name__, exc)
        return Skipped(url, "quarantined", f"extraction failed ({type(exc).__name__}: {exc})", "extract")
    if not is_relevant(article, topic.relevance):
        return Skipped(url, "off_topic", "no relevance terms matched", "relevance", article.article_id)
    if len(article.text) > topic.extract.max_text_chars:
        reason = (
            f"main text of {len(article.text):,} characters is longer than the claim reader reads "
            f"(extract.max_text_chars: {topic.extract.max_text_chars:,})"
        )
        log.warning("page %s quarantined: %s", article.url, reason)
        return Skipped(article.url, "quarantined", reason, "claims")
    try:
        return article, extract_claims(article, topic, catalogue, deadline)
    except OverBudget as exc:
        return _over_budget(article.url, "the claim reader", exc)
    except Exception as exc:  # one article's text must not cost the batch
        log.warning("claim extraction failed on %s: %s: %s", article.url, type(exc).__name__, exc)
        return Skipped(article.url, "quarantined", f"claim extraction failed ({type(exc).__name__}: {exc})", "claims")


def _over_budget(url: str, what: str, exc: OverBudget) -> Skipped:
    reason = (
        f"reading the page took longer than its budget (extract.page_seconds: {exc.seconds:g}): "
        f"stopped after {exc.spent:.1f} s, in {what}"
    )
    log.warning("page %s quarantined: %s", url, reason)
    return Skipped(url, "quarantined", reason, "extract")
