"""The right original and pages that are not articles, over real HTTP on loopback into a real DuckDB.

The ingest tasks run as the DAG runs them (discover, fetch, extract, validate
with Great Expectations, load), one run per feed state.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.ingest.urls import canonical_url
from pipeline.records import stable_id
from pipeline.steps import discover, extract, fetch, load, plan, validate
from tests.integration.helpers import query_rows as _rows
from tests.integration.helpers import write_topic
from tests.integration.loopback_site import Site, article_html, serve

T0 = datetime(2025, 1, 14, 6, 0, tzinfo=UTC)

TROOPS = [
    "SEOUL - North Korea has sent roughly 11,000 soldiers to Russia, most of them to the Kursk region, "
    "South Korea's spy agency told lawmakers on Tuesday.",
    "The National Intelligence Service said the troops travelled in several groups by sea and by air "
    "between October and December.",
    "Ukrainian commanders in Kursk reported that the North Korean units were first used in infantry assaults "
    "across open fields.",
    "Moscow and Pyongyang have not confirmed the numbers, and a Kremlin spokesman declined to comment.",
    "Analysts in Seoul said a second rotation could follow if losses continued at the current pace.",
]
LOSSES = [
    "SEOUL - About 4,000 North Korean soldiers have been killed or wounded in Russia's Kursk region, "
    "South Korea's intelligence service estimated on Thursday.",
    "The agency said the figure had roughly doubled since its previous estimate in January, when Ukrainian "
    "officials put the toll at 3,000.",
    "It said North Korean units had been pulled back from the front line in Kursk for several weeks, apparently "
    "to regroup after heavy losses.",
    "Neither Moscow nor Pyongyang has ever acknowledged any losses among the troops.",
    "Independent verification of casualty figures from the Kursk front has not been possible.",
]


def _run(topic: Path, db: Path, data_dir: Path, run_id: str) -> dict[str, int]:
    [job] = plan.run([topic], db, data_dir, run_id)
    for step in (discover.run, fetch.run, extract.run, validate.run):
        job = step(job)
    return load.run(job)


def _troops_id(site: Site) -> str:
    return stable_id(canonical_url(site.url("/world/nk-troops.html")))


@pytest.mark.slow
def test_copies_fetched_before_their_original_end_up_linked_to_it(tmp_path: Path) -> None:
    site = Site()
    tracked = "/world/nk-troops.html?utm_source=rss&fbclid=IwAR1x"
    site.pages = {
        # The page as any address serves it: no rel=canonical, so the address itself must be cleaned.
        tracked: (200, article_html("Seoul: 11,000 troops sent", TROOPS, published=T0)),
        "/world/nk-troops.html": (200, article_html("Seoul: 11,000 troops sent", TROOPS, published=T0)),
        # A partner republishes the same text an hour later under its own address.
        "/partner/wire-8812.html": (
            200,
            article_html("Wire: troops sent", TROOPS, published=T0 + timedelta(hours=1), outlet="Partner Post"),
        ),
        # A syndicated near copy of a second story, fetched a run before the original.
        "/partner/losses-4000.html": (
            200,
            article_html(
                "North Korean losses double",
                [*LOSSES[:3], "Partner Post readers can follow the war in our live blog.", *LOSSES[3:]],
                published=T0 + timedelta(days=44, hours=3),
                outlet="Partner Post",
            ),
        ),
        "/asia/losses.html": (200, article_html("Seoul: 4,000 casualties", LOSSES, published=T0 + timedelta(days=44))),
    }
    with serve(site):
        topic = write_topic(tmp_path / "topic.yaml", site.url("/feed.xml"), [])
        db, data = tmp_path / "c.duckdb", tmp_path / "data"
        site.feed = [
            (tracked, "Seoul: 11,000 troops sent", T0),
            ("/partner/wire-8812.html", "Wire: troops sent", T0 + timedelta(hours=1)),
            ("/partner/losses-4000.html", "North Korean losses double", T0 + timedelta(days=44, hours=3)),
        ]
        first = _run(topic, db, data, "run-1")
        troops_claims = _rows(db, "SELECT count(*) FROM claims WHERE article_id = ?", [_troops_id(site)])[0][0]
        site.feed = [
            ("/world/nk-troops.html", "Seoul: 11,000 troops sent", T0),
            ("/asia/losses.html", "Seoul: 4,000 casualties", T0 + timedelta(days=44)),
        ]
        second = _run(topic, db, data, "run-2")

    troops_id = _troops_id(site)
    losses_id = stable_id(canonical_url(site.url("/asia/losses.html")))
    partner_losses_id = stable_id(canonical_url(site.url("/partner/losses-4000.html")))
    assert (first["articles"], first["duplicates"]) == (2, 1)
    assert (second["articles"], second["duplicates"]) == (2, 0)

    originals = _rows(db, "SELECT url FROM articles WHERE duplicate_of IS NULL ORDER BY url")
    assert originals == sorted([(site.url("/asia/losses.html"),), (site.url("/world/nk-troops.html"),)])
    seen = {r[0]: r[1:] for r in _rows(db, "SELECT url, outcome, duplicate_of, duplicate_kind FROM seen_urls")}
    assert seen[site.url("/world/nk-troops.html")] == ("stored", None, None)
    assert seen[site.url(tracked)] == ("duplicate", troops_id, "exact")
    assert seen[site.url("/partner/wire-8812.html")] == ("duplicate", troops_id, "exact")
    assert seen[site.url("/asia/losses.html")] == ("stored", None, None)
    assert seen[site.url("/partner/losses-4000.html")][:2] == ("near_duplicate", losses_id)

    copy = _rows(db, "SELECT duplicate_of, duplicate_kind, similarity FROM articles WHERE article_id = ?",
                 [partner_losses_id])  # fmt: skip
    assert copy[0][:2] == (losses_id, "near") and 0.5 <= float(copy[0][2]) < 1.0  # type: ignore[arg-type]
    # The copy's claims are kept, marked as relayed from the original; the tracked copy added none.
    by_article = dict(_rows(db, "SELECT article_id, count(*) FROM claims GROUP BY 1"))
    assert by_article.get(troops_id, 0) > 0 and by_article.get(losses_id, 0) > 0
    copies = _rows(db, "SELECT DISTINCT copy_of_article FROM claims WHERE article_id = ?", [partner_losses_id])
    assert copies == [(losses_id,)]
    assert _rows(db, "SELECT count(*) FROM claims WHERE article_id = ?", [troops_id])[0][0] == troops_claims
    assert _rows(db, "SELECT count(*) FROM claims WHERE copy_of_article IS NOT NULL AND article_id <> ?",
                 [partner_losses_id])[0][0] == 0  # fmt: skip


NOT_ARTICLES = {
    "/world/paywalled.html": (
        "paywall",
        article_html(
            "Inside the North Korean deployment",
            [
                "North Korea has sent about 12,000 troops to Russia's Kursk region, officials told us.",
                "Subscribe to continue reading. Already a subscriber? Sign in.",
            ],
            published=T0,
            head='<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false}</script>',
        ),
    ),
    "/world/in-pictures.html": (
        "gallery",
        article_html(
            "In pictures: North Korean troops in Kursk",
            [],
            published=T0,
            body_extra="".join(
                f'<figure><img src="/img/{i}.jpg" alt=""><figcaption><span class="counter">{i} of 8</span>'
                f"<p>North Korean soldiers near Kursk, Russia, where about {i},000 troops were seen in photo {i}."
                "</p></figcaption></figure>"
                for i in range(1, 9)
            ),
        ),
    ),
    "/world/missing-story.html": (
        "error_page",
        article_html(
            "Page not found",
            [
                "Sorry, we can't find that page. It may have been moved or deleted.",
                "Try our latest coverage of North Korean troops in Russia and Ukraine's Kursk offensive, "
                "or return to the home page. 404",
            ],
            published=T0,
        ),
    ),
    "/world/consent.html": (
        "cookie_wall",
        article_html(
            "Before you continue",
            [
                "We use cookies and data to deliver our services about North Korea, Russia and Ukraine.",
                "Select Accept all to agree, Reject all to decline, or Manage preferences for more options.",
            ],
            published=T0,
        ),
    ),
    "/de/truppen.html": (
        "skipped_language",
        article_html(
            "Nordkorea schickt Truppen",
            [
                "Nordkorea hat nach Angaben des südkoreanischen Geheimdienstes rund 11.000 Soldaten nach Russland "
                "geschickt, die meisten von ihnen in die Region Kursk.",
                "Die Truppen seien in mehreren Gruppen auf dem See- und dem Luftweg zwischen Oktober und Dezember "
                "verlegt worden, sagte ein Abgeordneter nach einer Sitzung des Ausschusses.",
                "Die Ukraine meldet, dass die nordkoreanischen Einheiten bei Angriffen in der Region Kursk "
                "eingesetzt werden und dass bereits 3.000 von ihnen getötet oder verwundet worden sind.",
                "Moskau und Pjöngjang haben die Zahlen nicht bestätigt, und der Kreml wollte sich nicht äußern.",
            ],
            published=T0,
            lang="de",
        ),
    ),
}


@pytest.mark.slow
def test_pages_that_are_not_articles_are_recorded_with_the_reason_and_yield_no_claims(tmp_path: Path) -> None:
    site = Site()
    site.pages = {path: (200, body) for path, (_, body) in NOT_ARTICLES.items()}
    site.pages["/world/troops.html"] = (200, article_html("Seoul: 11,000 troops sent", TROOPS, published=T0))
    site.feed = [(path, path, T0) for path in site.pages]
    with serve(site):
        topic = write_topic(tmp_path / "topic.yaml", site.url("/feed.xml"), [])
        db = tmp_path / "c.duckdb"
        result = _run(topic, db, tmp_path / "data", "run-1")

    assert result["articles"] == 1
    seen = {r[0]: r[1:] for r in _rows(db, "SELECT url, outcome, reason, article_id FROM seen_urls")}
    for path, (kind, _) in NOT_ARTICLES.items():
        outcome, reason, article_id = seen[site.url(path)]
        assert (path, outcome) == (path, kind)
        assert reason and article_id is None
    stored = _rows(db, "SELECT url FROM articles")
    assert stored == [(site.url("/world/troops.html"),)]
    claim_urls = {r[0] for r in _rows(db, "SELECT DISTINCT a.url FROM claims c JOIN articles a USING (article_id)")}
    assert claim_urls == {site.url("/world/troops.html")}
    # Not quarantined: these pages are understood, not broken.
    assert _rows(db, "SELECT count(*) FROM quarantine")[0][0] == 0
    assert json.dumps(result)  # the load summary stays JSON for XCom


@pytest.mark.parametrize("kind", sorted({k for k, _ in NOT_ARTICLES.values()}))
def test_each_kind_of_page_is_recognised_by_itself(kind: str) -> None:
    from pipeline.ingest.article import NotAnArticle, extract_article
    from pipeline.records import FeedEntry, FetchedPage

    path, (_, body) = next((p, v) for p, v in NOT_ARTICLES.items() if v[0] == kind)
    url = f"https://news.example{path}"
    page = FetchedPage(url, url, 200, body, T0, FeedEntry("https://news.example/feed", url))
    with pytest.raises(NotAnArticle) as caught:
        extract_article(page, ["en"])
    assert caught.value.verdict.kind == kind


IMPOSTOR = [
    "KYIV - About 50,000 North Korean soldiers are now fighting in Russia's Kursk region, a blogger claimed "
    "on Monday, without giving a source.",
    "The post was shared widely on social media and repeated by several anonymous channels overnight.",
    "Officials in Seoul and Kyiv did not respond to requests for comment on the claim.",
    "The blogger has made similar claims in the past that were later shown to be exaggerated.",
    "Russia's defence ministry has never acknowledged the presence of foreign troops in Kursk.",
]
COPYCAT = [
    "PYONGYANG WATCH - As many as 30,000 North Korean troops may have reached Kursk, an unnamed commentator "
    "wrote in a newsletter on Tuesday.",
    "The newsletter gave no evidence for the number and said it relied on rumours from the border.",
    "Ukrainian officials have reported North Korean units in several villages near the front.",
    "South Korea's spy agency has given lower figures in its briefings to lawmakers.",
    "The Kremlin has declined to discuss the deployment.",
]


def test_a_page_cannot_suppress_a_real_article_by_declaring_its_url_as_canonical(tmp_path: Path) -> None:
    """Through ``claimwatch run``: a page on another host, and one on the same host with another
    text, both declare the real article's URL as their canonical a run before it is listed."""
    from tests.integration.helpers import run_cli

    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    site, other = Site(), Site()
    with serve(site), serve(other):
        other.base = other.base.replace("127.0.0.1", "localhost")  # another host, same loopback server
        real = site.url("/world/nk-troops.html")
        canonical = f'<link rel="canonical" href="{real}">'
        site.pages = {
            "/world/nk-troops.html": (200, article_html("Seoul: 11,000 troops sent", TROOPS, published=T0)),
            "/world/copycat.html": (200, article_html("30,000 troops?", COPYCAT, published=T0, head=canonical)),
        }
        other.pages = {"/fake.html": (200, article_html("50,000 troops", IMPOSTOR, published=T0, head=canonical))}
        topic = write_topic(
            tmp_path / "topic.yaml", site.url("/feed.xml"), [], extra_feed_urls=[other.url("/feed.xml")]
        )
        db = tmp_path / "c.duckdb"
        other.feed = [("/fake.html", "50,000 troops", T0 - timedelta(hours=2))]
        site.feed = [("/world/copycat.html", "30,000 troops?", T0 - timedelta(hours=1))]
        first = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert first.returncode == 0, first.stderr[-3000:]
        site.feed = [("/world/nk-troops.html", "Seoul: 11,000 troops sent", T0)]
        second = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert second.returncode == 0, second.stderr[-3000:]

    fake, copycat = other.url("/fake.html"), site.url("/world/copycat.html")
    seen = {r[0]: r[1:] for r in _rows(db, "SELECT url, outcome, duplicate_of, reason FROM seen_urls")}
    for url in (real, fake, copycat):
        assert seen[url][:2] == ("stored", None), (url, seen[url])  # each stored as itself, none linked
    articles = {r[0]: r[1:] for r in _rows(db, "SELECT url, article_id, canonical_url, duplicate_of FROM articles")}
    assert set(articles) == {real, fake, copycat}
    assert articles[fake][1:] == (canonical_url(fake), None)  # a canonical on another host is not followed
    assert len({a[0] for a in articles.values()}) == 3
    figures = {r[0]: r[1] for r in _rows(db, "SELECT a.url, max(c.stated_low) FROM claims c"
                                             " JOIN articles a USING (article_id) GROUP BY 1")}  # fmt: skip
    assert figures[real] == 11_000  # the real article stored, with its own figure
    assert (figures[fake], figures[copycat]) == (50_000, 30_000)
    relayed = _rows(db, "SELECT count(*) FROM claims WHERE copy_of_article IS NOT NULL")
    assert relayed == [(0,)]
