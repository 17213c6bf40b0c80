"""Main text and metadata of an article page, without the page's clutter.

Figures in menus, ads, widgets and reader comments would become false
claims, so extraction favours precision: a paragraph lost costs less than a
comment's number stored as if the article said it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from datetime import UTC, datetime
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from pipeline.ingest.pages import MIN_TEXT_CHARS, PageVerdict, PageView, classify_page
from pipeline.ingest.urls import canonical_url as normalise_url
from pipeline.ingest.urls import page_canonical
from pipeline.records import FUTURE_DATE_SKEW, Article, DatePrecision, FetchedPage, stable_id

_BLOCK_TAGS = ("p", "head", "list", "item", "quote", "table", "row", "cell", "code")


class ExtractionError(Exception):
    """A page with no usable main text; the page is quarantined, not retried."""


class NotAnArticle(ExtractionError):
    """A page that is not an article (error page, paywall teaser, gallery...): recorded with its kind."""

    def __init__(self, url: str, verdict: PageVerdict) -> None:
        super().__init__(f"{url}: {verdict.reason}")
        self.verdict = verdict


def extract_article(
    page: FetchedPage, languages: Collection[str] | None = None, canonical_hosts: Collection[str] = ()
) -> Article:
    """The article on a page; ``NotAnArticle`` when the page is none (``languages``: the topic's).

    Its id comes from its canonical URL: the one it declares when it may speak for it (its own
    registrable domain, or a host in ``canonical_hosts``), else the address it was fetched from.
    """
    extracted = trafilatura.bare_extraction(
        page.html,
        url=page.final_url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    doc = None if extracted is None or isinstance(extracted, dict) else extracted
    meta = _page_meta(page.html)
    title = _clean(doc.title) if doc is not None else None
    text = _main_text(doc, title) if doc is not None else ""
    declared = (doc.language if doc is not None else None) or meta.get("lang")
    verdict = classify_page(PageView(page.final_url, page.html, text, title, declared), languages)
    if verdict is not None:
        raise NotAnArticle(page.final_url, verdict)
    if doc is None:
        raise ExtractionError(f"{page.final_url}: no main text found")
    if len(text) < MIN_TEXT_CHARS:  # classify_page calls it a stub first; kept as the invariant
        raise ExtractionError(f"{page.final_url}: main text too short ({len(text)} < {MIN_TEXT_CHARS} characters)")
    canonical = page_canonical(
        page.final_url, meta.get("canonical"), meta.get("og_url"), doc.url, trusted_hosts=canonical_hosts
    )
    published_at, precision = _published_at(meta.get("published_time"), doc.date, page)
    published_at, note = bounded_by_fetch(published_at, page.fetched_at)
    return Article(
        article_id=stable_id(canonical),
        url=page.url,
        canonical_url=canonical,
        title=title,
        outlet=_outlet(doc, page.final_url),
        published_at=published_at,
        fetched_at=page.fetched_at,
        language=_language(doc.language or meta.get("lang")),
        text=text,
        content_hash=content_hash(text),
        published_precision=precision,
        published_corrected=note is not None,
        published_note=note,
    )


def content_hash(text: str) -> str:
    """Hash of the text up to case and spacing: a re-published copy hashes the same."""
    normalised = " ".join(text.casefold().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _main_text(doc: trafilatura.settings.Document, title: str | None) -> str:
    """Paragraphs joined by blank lines, the headline left out (it is stored as the title)."""
    blocks: list[str] = []
    body = doc.body
    if body is not None:
        for element in body.iter(*_BLOCK_TAGS):
            if any(ancestor.tag in _BLOCK_TAGS for ancestor in element.iterancestors()):
                continue
            block = " ".join("".join(element.itertext()).split())
            if block:
                blocks.append(block)
    if not blocks and doc.text:
        blocks = [" ".join(line.split()) for line in doc.text.splitlines() if line.strip()]
    if title and blocks and blocks[0].casefold() == title.casefold():
        blocks = blocks[1:]
    return "\n\n".join(blocks)


def _page_meta(html: str) -> dict[str, str]:
    """What trafilatura does not return exactly: the full publication timestamp, canonical link, language."""
    try:
        tree = lxml_html.document_fromstring(html.encode("utf-8"))
    except (ValueError, etree.ParserError):
        return {}
    meta: dict[str, str] = {}
    for value in tree.xpath("//meta[@property='article:published_time']/@content"):
        meta.setdefault("published_time", str(value).strip())
    for value in tree.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href"):
        meta.setdefault("canonical", str(value).strip())
    for value in tree.xpath("//meta[@property='og:url']/@content"):
        meta.setdefault("og_url", str(value).strip())
    lang = tree.get("lang")
    if lang:
        meta["lang"] = lang
    return meta


def _outlet(doc: trafilatura.settings.Document, url: str) -> str | None:
    """The site's own name, else its host name (without port: the port is not part of an outlet's name)."""
    netloc = urlsplit(url).netloc.lower()
    for name in (_clean(doc.sitename), _clean(doc.hostname)):
        if name and name.lower() != netloc:
            return name
    return urlsplit(url).hostname


def _published_at(
    meta_time: str | None, doc_date: str | None, page: FetchedPage
) -> tuple[datetime | None, DatePrecision]:
    """The page's own timestamp, else the feed's, else the day the page names; with how precise it is.

    A page dated only to a month ("2025-06") is kept, dated to the month's first day with
    precision "month", rather than refused or given the fetch time; a page with no date at
    all is kept with precision "none".
    """
    if meta_time:
        parsed = parse_date(meta_time)
        if parsed is not None:
            return parsed
    feed_time = page.entry.published_at
    if feed_time is not None:
        return (feed_time if feed_time.tzinfo else feed_time.replace(tzinfo=UTC)), "day"
    parsed = parse_date(doc_date) if doc_date else None
    return parsed if parsed is not None else (None, "none")


def bounded_by_fetch(published: datetime | None, fetched_at: datetime) -> tuple[datetime | None, str | None]:
    """A date later than the fetch (beyond ``FUTURE_DATE_SKEW``) cannot be when the page was
    published: the fetch time replaces it, with the reason (None when the date stands).  Old
    dates stay: an old report is real."""
    fetched = fetched_at if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
    if published is None or published <= fetched + FUTURE_DATE_SKEW:
        return published, None
    note = (
        f"the page or feed dated it {published.isoformat()}, after it was fetched ({fetched.isoformat()}):"
        " dated by the fetch time"
    )
    return fetched, note


def parse_date(value: str) -> tuple[datetime, DatePrecision] | None:
    """An ISO timestamp or date, or a month ("2025-06") or year ("2025") dated to its first day."""
    text = value.strip()
    precision: DatePrecision = "day"
    if re.fullmatch(r"\d{4}-\d{2}", text):
        text, precision = text + "-01", "month"
    elif re.fullmatch(r"\d{4}", text):
        text, precision = text + "-01-01", "year"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), precision


def _language(value: str | None) -> str | None:
    if not value:
        return None
    match = re.match(r"[A-Za-z]{2,3}", value.strip())
    return match.group(0).lower() if match else None


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None


__all__ = [
    "ExtractionError",
    "NotAnArticle",
    "bounded_by_fetch",
    "content_hash",
    "extract_article",
    "normalise_url",
    "parse_date",
]
