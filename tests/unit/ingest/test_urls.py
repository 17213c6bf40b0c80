"""Canonical URLs: every spelling of one page maps to one id."""

from __future__ import annotations

import pytest

from pipeline.ingest.article import normalise_url
from pipeline.ingest.urls import canonical_url, is_variant, may_declare, page_canonical, registrable_domain


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/a/B", "http://example.com/a/B"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&UTM_Medium=y&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com", "https://example.com/"),
        ("https://Example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com:443/x?fbclid=IwAR0abc", "https://example.com/x"),
        ("http://example.com:80/x?gclid=Cj0K&id=3", "http://example.com/x?id=3"),
        ("https://www.example.com/world/story-1", "https://example.com/world/story-1"),
        ("https://m.example.co.uk/world/story-1", "https://example.co.uk/world/story-1"),
        ("https://amp.example.com/world/story-1", "https://example.com/world/story-1"),
        ("https://example.com/amp/world/story-1", "https://example.com/world/story-1"),
        ("https://example.com/world/story-1/amp", "https://example.com/world/story-1"),
        ("https://example.com/world/story-1.amp.html", "https://example.com/world/story-1.html"),
        ("https://example.com/world/story-1?amp=1&outputType=amp", "https://example.com/world/story-1"),
        ("http://user:secret@example.com/a", "http://example.com/a"),
        # not variants: a path word that merely contains "amp", a two-label host, a real query
        ("https://example.com/sport/champions", "https://example.com/sport/champions"),
        ("https://m.com/a", "https://m.com/a"),
        ("https://example.com/story?id=7", "https://example.com/story?id=7"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected  # idempotent
    assert normalise_url(url) == expected  # the old name still answers


@pytest.mark.parametrize(
    ("url", "variant"),
    [
        ("https://example.com/a", False),
        ("https://example.com/a?utm_source=rss", True),
        ("https://example.com/a?fbclid=x", True),
        ("https://m.example.com/a", True),
        ("https://example.com/amp/a", True),
        ("https://example.com/a#comments", False),
    ],
)
def test_is_variant(url: str, variant: bool) -> None:
    assert is_variant(url) is variant


def test_page_canonical_prefers_the_declared_link_then_og_url_then_the_fetched_url() -> None:
    fetched = "https://m.example.com/amp/a?utm_source=x"
    assert page_canonical(fetched, "/world/a?ref=home", "https://example.com/og") == "https://example.com/world/a"
    assert page_canonical(fetched, None, "https://www.example.com/og?fbclid=1") == "https://example.com/og"
    assert page_canonical(fetched, "javascript:alert(1)", None) == "https://example.com/a"
    assert page_canonical(fetched) == "https://example.com/a"


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://news.bbc.co.uk/world/1", "bbc.co.uk"),
        ("https://www.Reuters.com/x", "reuters.com"),
        ("https://user.github.io/post", "user.github.io"),  # a public suffix of its own: one domain per user
        ("http://127.0.0.1:8080/a", "127.0.0.1"),
        ("http://[::1]:8080/a", "::1"),
        ("http://localhost:9/a", "localhost"),
    ],
)
def test_registrable_domain(url: str, domain: str) -> None:
    assert registrable_domain(url) == domain


def test_a_page_declares_a_canonical_only_within_its_registrable_domain_or_from_a_trusted_host() -> None:
    assert page_canonical("https://m.example.co.uk/a", "https://www.example.co.uk/story") == (
        "https://example.co.uk/story"
    )
    assert page_canonical("https://elsewhere.example/a", "https://example.co.uk/story") == "https://elsewhere.example/a"
    assert page_canonical("http://localhost:81/a", "http://127.0.0.1:80/story") == "http://localhost:81/a"
    assert not may_declare("https://alice.github.io/a", "https://bob.github.io/story")
    assert may_declare("https://wire.partner.example/a", "https://example.co.uk/s", ["partner.example"])
    assert not may_declare("https://notpartner.example/a", "https://example.co.uk/s", ["partner.example"])
    trusted = page_canonical("https://partner.example/a", "https://example.co.uk/s", trusted_hosts=["partner.example"])
    assert trusted == "https://example.co.uk/s"
