"""pipeline.ingest.pages: what is not an article, and the long articles that merely look like one of those."""

from __future__ import annotations

import pytest

from pipeline.ingest.pages import PageView, classify_page, detect_language, normalise_language

ARTICLE = " ".join(
    [
        "North Korea has sent roughly 11,000 soldiers to Russia, most of them to the Kursk region, the agency said.",
        "The troops travelled in several groups by sea and by air between October and December.",
        "Ukrainian commanders reported that the units were first used in infantry assaults across open fields.",
        "Moscow and Pyongyang have not confirmed the numbers, and a Kremlin spokesman declined to comment.",
    ]
)


def _html(body: str = "", head: str = "", title: str = "Troops sent") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body><h1>{title}</h1>{body}</body></html>"


def _kind(text: str, html: str | None = None, url: str = "https://news.example/world/a", **kw: object) -> str | None:
    verdict = classify_page(PageView(url, html or _html(f"<p>{text}</p>"), text), **kw)  # type: ignore[arg-type]
    return None if verdict is None else verdict.kind


def test_an_article_is_an_article() -> None:
    assert _kind(ARTICLE, languages=["en"]) is None
    assert _kind(ARTICLE, languages=None) is None


@pytest.mark.parametrize(
    ("text", "html", "url", "kind"),
    [
        ("Too short.", None, "https://n.example/a", "stub"),
        ("", None, "https://n.example/a", "stub"),
        ("Sorry, this page does not exist. " * 3, _html(title="Page not found"), "https://n.example/a", "error_page"),
        ("Try our home page. " * 3, _html(title="404 | News"), "https://n.example/a", "error_page"),
        (
            "We use cookies to improve your experience. Accept all or manage your preferences.",
            None,
            "https://n.example/a",
            "cookie_wall",
        ),
        (ARTICLE[:300], _html(f"<p>{ARTICLE[:300]}</p><p>Subscribe to continue reading.</p>"), "https://n.example/a",
         "paywall"),
        (ARTICLE[:300], _html(head='<script>{"isAccessibleForFree": "False"}</script>'), "https://n.example/a",
         "paywall"),
        (ARTICLE[:300], _html("<span>3 of 12</span>"), "https://n.example/a", "gallery"),
        (ARTICLE[:300], _html("<p>Photo 2/9: soldiers in Kursk</p>"), "https://n.example/a", "gallery"),
        (ARTICLE[:300], None, "https://n.example/in-pictures/kursk", "gallery"),
    ],
    ids=["stub", "empty", "not-found", "404-title", "cookies", "paywall-text", "paywall-markup", "counter",
         "photo-phrase", "gallery-url"],
)  # fmt: skip
def test_pages_that_are_not_articles(text: str, html: str | None, url: str, kind: str) -> None:
    assert _kind(text, html, url) == kind


@pytest.mark.parametrize(
    "extra",
    [
        "<p>Readers can subscribe to continue reading our coverage.</p>",  # a long article with a paywall line
        "<span>1 of 8</span>",  # a carousel inside a long article
        "<p>We use cookies. Accept all.</p>",
        "<p>37 of the 64 soldiers were captured, 3 of 12 units were disbanded.</p>",  # figures, not counters
    ],
)
def test_long_articles_with_such_markers_are_still_articles(extra: str) -> None:
    long_text = " ".join([ARTICLE] * 7)
    html = _html(f"<p>{long_text}</p>{extra}")
    assert len(long_text) >= 2_500
    assert _kind(long_text, html) is None


def test_a_figure_like_37_of_64_in_a_short_article_is_not_a_gallery_counter() -> None:
    text = ARTICLE + " Of those sent, 37 of 64 were wounded."
    assert _kind(text, _html(f"<p>{text}</p>")) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (ARTICLE, "en"),
        ("Nordkorea hat nach Angaben des Geheimdienstes rund 11.000 Soldaten nach Russland geschickt, die meisten "
         "von ihnen in die Region Kursk. Die Truppen seien in mehreren Gruppen verlegt worden, und der Kreml wollte "
         "sich nicht dazu äußern, sagte ein Abgeordneter nach der Sitzung des Ausschusses für die Dienste.", "de"),
        ("Corea del Norte ha enviado unos 11.000 soldados a Rusia, la mayoría a la región de Kursk, según el servicio "
         "de inteligencia de Corea del Sur. Las tropas viajaron en varios grupos por mar y por aire, y el Kremlin no "
         "quiso hacer comentarios sobre las cifras que se publicaron en la prensa.", "es"),
        ("Северная Корея направила в Россию около 11 000 военнослужащих, сообщила разведка.", "ru"),
        ("Північна Корея направила до Росії близько 11 000 військових, повідомила розвідка.", "uk"),
        ("북한은 러시아에 약 1만1천 명의 병력을 파견했다고 정보기관이 밝혔다.", "ko"),
        ("Too short to tell.", None),
        ("", None),
    ],
    ids=["en", "de", "es", "ru", "uk", "ko", "short", "empty"],
)  # fmt: skip
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def test_a_page_in_another_language_is_skipped_even_when_it_declares_english() -> None:
    german = (
        "Nordkorea hat nach Angaben des Geheimdienstes rund 11.000 Soldaten nach Russland geschickt, die meisten "
        "von ihnen in die Region Kursk. Die Truppen seien in mehreren Gruppen verlegt worden, und der Kreml wollte "
        "sich nicht dazu äußern, sagte ein Abgeordneter nach der Sitzung des Ausschusses für die Dienste."
    )
    view = PageView("https://n.example/a", _html(f"<p>{german}</p>"), german, declared_language="en-GB")
    verdict = classify_page(view, ["en"])
    assert verdict is not None and verdict.kind == "skipped_language" and "'de'" in verdict.reason
    assert classify_page(view, ["en", "de"]) is None
    assert classify_page(view, []) is None  # a topic without languages reads every language


def test_the_declared_language_decides_when_the_text_does_not() -> None:
    text = "Kursk: 11,000. " * 20  # no running text to tell a language by
    assert classify_page(PageView("https://n.example/a", _html(), text, declared_language="fr"), ["en"]) is not None
    assert classify_page(PageView("https://n.example/a", _html(), text, declared_language="en-US"), ["en"]) is None


@pytest.mark.parametrize(("value", "code"), [("en-GB", "en"), ("EN_us", "en"), ("de", "de"), ("", None), (None, None)])
def test_normalise_language(value: str | None, code: str | None) -> None:
    assert normalise_language(value) == code
