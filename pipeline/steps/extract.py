"""Task ``extract``: main text, relevance and claims of each staged page."""

from __future__ import annotations

import logging

from pipeline.records import (
    Article,
    Batch,
    Claim,
    Failure,
    FeedPoll,
    Skipped,
)
from pipeline.steps.job import Job
from pipeline.steps.staging import iter_pages, read_json, records_of, save_batch

log = logging.getLogger(__name__)


def run(job: Job) -> Job:
    """Main text, relevance and claims per staged page, one page at a time; pages that are not articles are recorded.

    A page whose extraction fails (for whatever reason: the page is untrusted
    input) is quarantined with the error; the other pages go on.  Duplicates
    are recognised at load time, against the whole history, inside its transaction.
    """
    from pipeline.claims import Catalogue, extract_claims
    from pipeline.ingest.article import ExtractionError, NotAnArticle, extract_article
    from pipeline.ingest.dedup import split_exact_copies
    from pipeline.ingest.relevance import is_relevant

    topic = job.topic()
    raw = read_json(job.stage_dir / "fetched.json")
    skipped = records_of(Skipped, raw["skipped"])
    articles: list[Article] = []
    for page in iter_pages(job.stage_dir):
        try:
            article = extract_article(page, topic.languages, topic.dedup.canonical_hosts)
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
    articles, copies = split_exact_copies(articles, topic.dedup.near_duplicate_similarity)
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
            records_of(FeedPoll, raw["polls"]),
            records_of(Failure, raw["failures"]),
        ),
    )
    return job
