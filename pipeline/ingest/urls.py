"""One spelling per page: the canonical URL that names an article.

The same story reaches feeds as ``?utm_source=rss``, ``?fbclid=...``, on the
``m.`` or ``amp.`` host, under an ``/amp/`` path and on a default port.  Each
spelling must map to one id, or a tracked copy is stored as a second article
and its figures count twice.  Tracking parameters are courlan's list (the one
trafilatura uses); mobile and AMP variants are folded here because courlan
leaves hosts and paths alone.

A page's declared canonical (``rel=canonical``, ``og:url``) names the article
it is a spelling of, so it decides the article's id.  A page can declare any
URL, so the declaration is followed only within the page's own registrable
domain (``news.example.co.uk`` may speak for ``example.co.uk``) or from hosts
the topic trusts to point elsewhere: a page on another site cannot take a real
article's identity.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Host prefixes that serve the same page as the bare host: folding them is safe
# because a publisher never runs a different article under the same path there.
_VARIANT_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
# Query flags that only switch the AMP or mobile rendering.
_VARIANT_PARAMS = frozenset({"amp", "outputtype", "output", "mobile"})
_VARIANT_PARAM_VALUES = frozenset({"", "1", "true", "amp", "mobile"})
_AMP_SEGMENT = re.compile(r"(?:^|/)amp(?=/|$)", re.IGNORECASE)
_AMP_SUFFIX = re.compile(r"\.amp(?=(?:\.html?)?$)", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """The page's canonical spelling: lowercase scheme and host, no fragment, no tracking,
    no default port, no ``www.``/``m.``/``amp.`` host and no ``/amp`` path variant."""
    from courlan import normalize_url  # imported on use: DAG files import this module at parse time

    raw = url.strip()
    parts = urlsplit(raw)
    netloc = parts.netloc.rsplit("@", 1)[-1]  # credentials never name a page
    cleaned = normalize_url(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), strict=False)
    parts = urlsplit(cleaned)
    host = parts.hostname or ""
    for prefix in _VARIANT_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    path = _AMP_SEGMENT.sub("", parts.path)
    path = _AMP_SUFFIX.sub("", path) or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower() in _VARIANT_PARAMS and v.lower() in _VARIANT_PARAM_VALUES)
    ]
    return urlunsplit((parts.scheme, netloc, path, urlencode(query), ""))


def is_variant(url: str) -> bool:
    """True when ``url`` is not already its own canonical spelling (tracked, mobile, AMP...)."""
    return canonical_url(url) != _plain(url)


def _plain(url: str) -> str:
    """``url`` with only the differences that never make a variant removed (case, fragment, bare host)."""
    parts = urlsplit(url.strip())
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def page_canonical(final_url: str, *declared: str | None, trusted_hosts: Collection[str] = ()) -> str:
    """The canonical URL of a fetched page: its own ``rel=canonical`` or ``og:url`` when that is an
    http(s) URL the page may speak for (``may_declare``), else the URL it was fetched from;
    canonicalised either way."""
    for candidate in declared:
        if candidate:
            absolute = urljoin(final_url, candidate.strip())
            if urlsplit(absolute).scheme.lower() in ("http", "https") and may_declare(
                final_url, absolute, trusted_hosts
            ):
                return canonical_url(absolute)
    return canonical_url(final_url)


def may_declare(page_url: str, canonical: str, trusted_hosts: Collection[str] = ()) -> bool:
    """Whether a page at ``page_url`` may name ``canonical`` as its canonical: same registrable
    domain, or the page is on a host the topic trusts to point elsewhere (a syndication partner
    naming the original; the host itself or a subdomain of it)."""
    page_host = (urlsplit(page_url).hostname or "").lower().rstrip(".")
    if not page_host or not urlsplit(canonical).hostname:
        return False
    trusted = (t.lower().strip(".") for t in trusted_hosts)
    if any(page_host == h or page_host.endswith("." + h) for h in trusted if h):
        return True
    return registrable_domain(page_url) == registrable_domain(canonical)


def registrable_domain(url: str) -> str:
    """The domain a publisher registers (``bbc.co.uk`` for ``news.bbc.co.uk``), from the Public
    Suffix List courlan uses; under a suffix the list does not know, its last two labels (the
    list's default rule); an IP address is its own domain.  The port is not part of it."""
    from courlan import extract_domain

    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    if host.startswith("www."):  # courlan drops it too
        host = host[4:]
    return (extract_domain(f"http://{host}/") or ".".join(host.split(".")[-2:])).lower()


__all__ = ["canonical_url", "is_variant", "may_declare", "page_canonical", "registrable_domain"]
