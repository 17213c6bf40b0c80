"""Small builders of records for tests: valid defaults, override what the test is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pipeline.alerting.messages import build_alert
from pipeline.records import (
    Alert,
    Article,
    Batch,
    Claim,
    Contradiction,
    FeedPoll,
    Severity,
    Skipped,
    SourcedClaim,
    stable_id,
)
from pipeline.topics import AlertRoute


def make_article(n: int = 1, **overrides: Any) -> Article:
    url = f"https://news.example/{n}"
    # Numbered dispatches, so two default articles are distinct texts, not near copies of each other.
    text = overrides.pop(
        "text",
        f"Article {n}. " + " ".join(f"Dispatch {n}-{i}: North Korean troops were sent to Kursk." for i in range(10)),
    )
    base = Article(
        article_id=stable_id(url),
        url=url,
        canonical_url=url,
        title=f"Title {n}",
        outlet="Example News",
        published_at=datetime(2025, 11, n % 28 + 1, tzinfo=UTC),
        fetched_at=datetime(2025, 12, 1, tzinfo=UTC),
        language="en",
        text=text,
        content_hash=stable_id(text, length=64),
    )
    return replace(base, **overrides)


def make_claim(article: Article, start: int = 0, **overrides: Any) -> Claim:
    metric = overrides.get("metric", "troops_deployed")
    base = Claim(
        claim_id=stable_id(overrides.get("topic", "kursk"), article.article_id, start, start + 12, metric),
        article_id=article.article_id,
        topic="kursk",
        metric=metric,
        stated_low=14000,
        stated_high=14000,
        value_low=11200,
        value_high=16800,
        hedge="about",
        surface="about 14,000",
        sentence="About 14,000 troops were sent.",
        char_start=start,
        char_end=start + 12,
        attributed_to="Seoul",
        relayed_by=None,
        refers_to=None,
        period_start=None,
        period_end=None,
        unverified=False,
        modality="actual",
        role="combat",
        extractor_version="test-1",
    )
    return replace(base, **overrides)


# Zelensky's ceiling from the seeds, the usual other side of "about 14,000".
UP_TO_12K: dict[str, Any] = {
    "stated_low": 12000,
    "stated_high": 12000,
    "value_low": 0,
    "value_high": 12000,
    "hedge": "up_to",
    "surface": "up to 12,000",
    "attributed_to": "Volodymyr Zelensky",
}


def make_sourced(article: Article, outlet: str = "Example News", **claim_overrides: Any) -> SourcedClaim:
    """A claim with the article facts alerts and contradiction rules read."""
    start = claim_overrides.pop("start", 0)
    return SourcedClaim(make_claim(article, start, **claim_overrides), article.url, outlet, article.published_at)


def store_incident(db_path: Any, status: str = "open", source: str = "NIS") -> str:
    """A stored incident over two conflicting claims (one from ``source``); returns its id."""
    from datetime import date

    from pipeline.detection.engine import Incident
    from pipeline.records import Batch, Contradiction
    from pipeline.store.batches import load_batch
    from pipeline.store.checks import record_check
    from pipeline.store.session import open_store

    a, b = make_article(1), make_article(2)
    ca = make_claim(a, surface="about 14,000")
    cb = make_claim(b, surface="up to 12,000", hedge="up_to", attributed_to=source)
    incident = Incident("inc-1", "kursk", "troops_deployed", "medium", status, date(2025, 9, 4), date(2025, 11, 4))
    incident.link("n1", "n2")
    x = Contradiction(
        "x", cb.claim_id, ca.claim_id, "kursk", "troops_deployed", "medium", "r", "they differ", incident_id="inc-1"
    )
    with open_store(db_path) as con:
        load_batch(con, Batch("kursk", [a, b], [ca, cb]), "r")
        record_check(con, "kursk", [], [x], [], "r", incidents=[incident])
    return incident.incident_id


def make_batch(n_articles: int = 2) -> Batch:
    """Two articles with a claim each, one quarantined URL and one feed poll."""
    articles = [make_article(i) for i in range(1, n_articles + 1)]
    claims = [make_claim(a, start=5) for a in articles]
    return Batch(
        "kursk",
        articles,
        claims,
        skipped=[Skipped("https://news.example/bad", "quarantined", "HTTP 404", "fetch")],
        polls=[FeedPoll("https://news.example/feed", "ok", 3)],
    )


def make_alert_pair(**new_overrides: object) -> tuple[SourcedClaim, SourcedClaim]:
    old = make_sourced(make_article(1, published_at=datetime(2025, 11, 2, 8, 30, tzinfo=UTC)), "Yonhap")
    claim = {**UP_TO_12K, "stated_low": None, "relayed_by": "Reuters"}
    claim["sentence"] = "Up to 12,000 North Korean troops are in Kursk, Zelensky said."
    new = make_sourced(make_article(2), "Fox News", **{**claim, **new_overrides})
    return new, old


def make_contradiction(new: SourcedClaim, old: SourcedClaim, severity: Severity = "low") -> Contradiction:
    return Contradiction(
        contradiction_id=stable_id(new.claim.claim_id, old.claim.claim_id),
        claim_id=new.claim.claim_id,
        other_claim_id=old.claim.claim_id,
        topic="kursk",
        metric="troops_deployed",
        severity=severity,
        rule="disjoint_intervals",
        reason="[0, 12000] and [11200, 16800] barely overlap",
    )


def make_alert(url: str = "file:alerts.jsonl", severity: Severity = "low", **new_overrides: object) -> Alert:
    new, old = make_alert_pair(**new_overrides)
    return build_alert(make_contradiction(new, old, severity), new, old, AlertRoute(url=url, min_severity="note"))


def another_alert(alert: Alert, n: int) -> Alert:
    """The same alert under another id, as a second contradiction on the same route would be."""
    alert_id = f"{alert.alert_id}-{n}"
    return replace(alert, alert_id=alert_id, payload={**alert.payload, "alert_id": alert_id})
