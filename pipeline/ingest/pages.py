"""Pages that are not articles: error pages, cookie walls, paywall teasers, galleries, stubs
and pages in a language the topic does not read.

Each of these passes the fetch (HTTP 200, HTML) and often passes boilerplate
removal too, and then its few sentences become claims: a gallery caption's
"1 of 8" is a figure, a Spanish "14.000" is fourteen.  So a page is classified
before it is stored, and what is refused is recorded with the reason instead.
The rules are deliberately conservative: each asks for a marker *and* thin
text, because a long article that merely mentions cookies or photos is an article.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

PageKind = Literal["error_page", "cookie_wall", "skipped_language", "paywall", "gallery", "stub"]
NOT_ARTICLE_KINDS: tuple[str, ...] = ("error_page", "cookie_wall", "skipped_language", "paywall", "gallery", "stub")

MIN_TEXT_CHARS = 200  # below this no page is an article
THIN_TEXT_CHARS = 1_500  # a teaser, a consent notice or a caption list is at most this long
GALLERY_TEXT_CHARS = 2_500  # eight captions and an intro stay under this
ERROR_TEXT_CHARS = 1_000

_ERROR_TITLE = re.compile(
    r"\b(?:404|410|page not found|not found|error\s*404|no longer (?:available|exists?)"
    r"|(?:page|article|story) (?:does not|doesn't|did not|could not be) (?:exist|found)"
    r"|can(?:no|')t (?:be )?find (?:that|the|this) page|something went wrong|page unavailable)\b",
    re.IGNORECASE,
)
_COOKIE = re.compile(
    r"\b(?:we use cookies|use of cookies|cookie (?:settings|preferences|policy|consent)|accept all"
    r"|reject all|manage (?:your )?(?:cookie )?(?:preferences|choices|settings)|your privacy choices"
    r"|consent to (?:the use|our use|cookies)|before you continue)\b",
    re.IGNORECASE,
)
_PAYWALL_MARKUP = re.compile(
    r"""["']isAccessibleForFree["']\s*:\s*["']?false|content_tier["'][^>]*content=["'](?:locked|metered)"""
    r"""|class=["'][^"']*\bpaywall""",
    re.IGNORECASE,
)
_PAYWALL_TEXT = re.compile(
    r"\b(?:subscribe (?:now )?to (?:continue|keep) reading|to continue reading|(?:for|only for) subscribers"
    r"|subscribers only|already a subscriber|subscribe to read|sign in to (?:read|continue)"
    r"|register to continue|to read the (?:full|rest of the|whole) (?:article|story)|unlock this (?:article|story)"
    r"|this (?:article|story|content) is (?:reserved|available) (?:for|to|only to) (?:subscribers|members))\b",
    re.IGNORECASE,
)
_GALLERY_SEGMENTS = frozenset(
    {"gallery", "galleries", "photos", "pictures", "in-pictures", "slideshow", "photo-gallery"}
)
_COUNTER_LINE = re.compile(r"^\s*(?:(?:photo|image|picture|slide)\s*)?(\d{1,3})\s*(?:of|/)\s*(\d{1,3})\s*$", re.I)
_COUNTER_PHRASE = re.compile(
    r"\b(?:photo|image|picture|slide)s?\s+(\d{1,3})\s*(?:of|/)\s*(\d{1,3})\b"
    r"|\b(\d{1,3})\s+of\s+(\d{1,3})\s+(?:photos|images|pictures|slides)\b",
    re.IGNORECASE,
)


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Words that make up a large share of running text in each language: enough to tell
# the languages a news feed mixes apart, without a model.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words("the of and to in that is was for on with as by said have has from were are which it"),
    "de": _words("der die das und ist nicht mit den von zu sich auf für dem des ein eine im wurde sind"),
    "es": _words("el la los las de que y en un una por con para del se según fue son al más"),
    "fr": _words("le la les des du et est une dans que pour qui sur par pas au ont été selon"),
    "it": _words("il lo gli della di che e è per una del con sono alla dei nel secondo stato"),
    "pt": _words("o os da do das dos que e em um uma para com não por foram segundo pelo"),
    "nl": _words("de het een en van in is dat op te zijn met voor niet werd door bij"),
}
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
)
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class PageView:
    """What classification looks at: the page as served and the main text extracted from it."""

    url: str
    html: str
    text: str
    title: str | None = None
    declared_language: str | None = None


@dataclass(frozen=True, slots=True)
class PageVerdict:
    """Why a page is not an article: ``kind`` is recorded as the page's outcome."""

    kind: PageKind
    reason: str


def classify_page(page: PageView, languages: Collection[str] | None = None) -> PageVerdict | None:
    """The reason a page is not an article, or None for an article.

    ``languages`` are the topic's languages (ISO 639-1); None or empty reads every language.
    """
    text = page.text.strip()
    size = len(text)
    tree = _tree(page.html)
    headings = " ".join(_headings(tree, page.title))
    if size < ERROR_TEXT_CHARS and _ERROR_TITLE.search(headings):
        return PageVerdict("error_page", f"error page served as 200 ({headings[:80]!r})")
    cookie_hits = len(set(m.group(0).lower() for m in _COOKIE.finditer(text)))
    if size < THIN_TEXT_CHARS and (cookie_hits >= 2 or (cookie_hits and size < MIN_TEXT_CHARS)):
        return PageVerdict("cookie_wall", "consent notice instead of the article")
    language = detect_language(text) or normalise_language(page.declared_language)
    if languages and language and language not in languages:
        return PageVerdict("skipped_language", f"page is in {language!r}; the topic reads {', '.join(languages)}")
    if size < THIN_TEXT_CHARS and (_PAYWALL_MARKUP.search(page.html) or _PAYWALL_TEXT.search(_page_text(tree))):
        return PageVerdict("paywall", f"subscriber-only page; only a {size}-character teaser is public")
    counters = _gallery_counters(tree)
    if size < GALLERY_TEXT_CHARS and (counters or _gallery_url(page.url)):
        evidence = f"photo counter {counters[0]}" if counters else "gallery address"
        return PageVerdict("gallery", f"photo gallery ({evidence}), captions rather than an article")
    if size < MIN_TEXT_CHARS:
        return PageVerdict("stub", f"main text too short ({size} < {MIN_TEXT_CHARS} characters)")
    return None


def detect_language(text: str) -> str | None:
    """The language of running text when the evidence is clear, else None.

    The script decides for non-Latin text; for Latin text, the language whose
    common words are at least twice as frequent as the next one's, given at least
    eight of them.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    sample = "".join(letters[:5000])
    for code, pattern in _SCRIPTS:
        if len(pattern.findall(sample)) > 0.3 * len(sample):
            if code == "ru" and _UKRAINIAN.search(sample):
                return "uk"
            return code
    words = [w.lower() for w in _WORD.findall(text[:20000])]
    scores = sorted(((sum(w in vocab for w in words), code) for code, vocab in _STOPWORDS.items()), reverse=True)
    (best, code), (second, _) = scores[0], scores[1]
    if best >= 8 and best >= 2 * second:
        return code
    return None


def normalise_language(value: str | None) -> str | None:
    """'en-GB', 'en_US', 'EN' -> 'en'."""
    if not value:
        return None
    match = re.match(r"[A-Za-z]{2,3}", value.strip())
    return match.group(0).lower() if match else None


def _tree(html: str) -> etree._Element | None:
    try:
        return lxml_html.document_fromstring(html.encode("utf-8"))
    except (ValueError, etree.ParserError):
        return None


def _headings(tree: etree._Element | None, title: str | None) -> list[str]:
    found = [title] if title else []
    if tree is not None:
        for node in tree.xpath("//title | //h1"):
            found.append(" ".join("".join(node.itertext()).split()))
    return [h for h in found if h]


def _page_text(tree: etree._Element | None) -> str:
    if tree is None:
        return ""
    for bad in tree.xpath("//script | //style | //noscript"):
        bad.text = None
    return " ".join(" ".join(tree.itertext()).split())


def _gallery_counters(tree: etree._Element | None) -> list[str]:
    """'1 of 8' / 'Photo 3/8' counters in the page (text nodes of their own, or phrases)."""
    if tree is None:
        return []
    found: list[str] = []
    for node in tree.iter():
        if not isinstance(node.tag, str) or node.tag in ("script", "style"):
            continue
        for chunk in (node.text, node.tail):
            if not chunk or not chunk.strip():
                continue
            for match in [_COUNTER_LINE.match(chunk), *_COUNTER_PHRASE.finditer(chunk)]:
                if match is None:
                    continue
                n, m = (int(g) for g in match.groups() if g is not None)
                if 1 <= n <= m and m >= 3:
                    found.append(f"{n} of {m}")
    return found


def _gallery_url(url: str) -> bool:
    segments = {s.lower() for s in urlsplit(url).path.split("/") if s}
    return bool(segments & _GALLERY_SEGMENTS)


__all__ = [
    "NOT_ARTICLE_KINDS",
    "PageKind",
    "PageVerdict",
    "PageView",
    "classify_page",
    "detect_language",
    "normalise_language",
]
