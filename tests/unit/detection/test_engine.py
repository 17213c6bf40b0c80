"""The contradiction engine: figure histories, state comparison, incidents and their alerts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pipeline.detection.engine import Engine, incident_alerts
from pipeline.records import Article, Batch, Claim, SourcedClaim, stable_id
from pipeline.steps import detect
from pipeline.steps.job import Job
from pipeline.store.batches import load_batch
from pipeline.store.checks import detection_state, has_histories
from pipeline.store.session import open_store, table_counts
from pipeline.topics import AlertRoute, TopicConfig
from tests.unit.factories import make_article, make_claim

KILLED: dict[str, Any] = {"metric": "troops_killed", "role": "unspecified", "sentence": "They were killed."}


def _said(n: int, when: date, family: str, number: float, hedge: str = "about", **claim: Any) -> SourcedClaim:
    """Claim ``n``: ``family`` puts troops killed at ``number`` in an article published on ``when``."""
    published = datetime(when.year, when.month, when.day, tzinfo=UTC)
    article = make_article(n, published_at=published)
    outlet = claim.pop("outlet", f"Outlet {n}")
    fields = {**KILLED, "stated_low": number, "stated_high": number, "hedge": hedge, "surface": f"{number:,.0f}"}
    fields |= {"source_family": family, "attributed_to": family, **claim}
    c = make_claim(article, start=fields.pop("start", 0), **fields)
    return SourcedClaim(c, article.url, outlet, published)


def _raised(engine: Engine, *claims: SourcedClaim) -> list[str]:
    return [f"{e.contradiction.severity} {e.contradiction.rule}" for e in engine.process(claims).evidence]


def test_a_stale_repeat_is_a_note_and_opens_no_incident(kursk_topic: TopicConfig) -> None:
    engine = Engine(kursk_topic)
    assert _raised(engine, _said(1, date(2025, 4, 30), "kr_nis", 600), _said(2, date(2025, 9, 2), "kr_nis", 2000)) == []
    # Months later an outlet repeats the agency's superseded figure: not a new, lower count.
    assert _raised(engine, _said(3, date(2025, 11, 4), "kr_nis", 600, hedge="exact")) == ["note stale_repeat"]
    assert engine.incidents == {}


def test_a_source_lowering_its_own_cumulative_count_is_high(kursk_topic: TopicConfig) -> None:
    engine = Engine(kursk_topic)
    engine.process([_said(1, date(2025, 1, 14), "kr_nis", 300)])
    assert _raised(engine, _said(2, date(2025, 9, 2), "kr_nis", 200, hedge="exact")) == ["high own_regression"]
    # Rounding-level: 'about 4,000' after '4,100' from the same source is still a regression, but low.
    wounded = {"metric": "troops_wounded"}
    engine.process([_said(3, date(2025, 4, 30), "kr_nis", 4100, hedge="exact", **wounded)])
    assert _raised(engine, _said(4, date(2025, 10, 24), "kr_nis", 4000, **wounded)) == ["low own_regression"]
    # A lower bound restates less: 'more than 3,000' after 4,000 lowers nothing.
    assert _raised(engine, _said(5, date(2025, 10, 25), "kr_nis", 3000, hedge="more_than", **wounded)) == []


def test_a_figure_siding_with_the_newer_state_joins_the_dispute_or_raises_nothing(kursk_topic: TopicConfig) -> None:
    engine = Engine(kursk_topic)
    routes = [AlertRoute(url="file:a.jsonl", min_severity="low")]
    engine.process([_said(1, date(2025, 1, 22), "ua_president", 4000, hedge="exact")])
    opened = engine.process([_said(2, date(2025, 4, 30), "kr_nis", 600)])  # against the 4,000: one incident
    (incident,) = opened.incidents.values()
    incident_alerts(opened, routes)
    # A third source agreeing with the newer 600 while the dispute is live: corroborating evidence
    # for the same incident (a note, not a new contradiction), no new incident and no new page.
    joined = engine.process([_said(3, date(2025, 5, 20), "us_gov", 600)])
    assert set(joined.incidents) == {incident.incident_id} and len(engine.incidents) == 1
    assert [f"{e.contradiction.severity} {e.contradiction.rule}" for e in joined.evidence] == ["note joins_dispute"]
    assert incident_alerts(joined, routes) == []
    # Months after the dispute went quiet, a fourth source restating the 600 against the old 4,000
    # revives it: a contradiction again, in a new incident.
    revived = engine.process([_said(4, date(2025, 9, 1), "ru_gov", 600)])
    assert [e.contradiction.rule for e in revived.evidence] == ["cumulative_regression"]
    assert len(engine.incidents) == 2
    # Once both disputes are resolved, agreeing with the newer figure raises nothing at all.
    for known in engine.incidents.values():
        known.status = "resolved"
    assert _raised(engine, _said(5, date(2025, 9, 2), "jp_gov", 600)) == []
    assert len(engine.incidents) == 2


def test_a_bound_and_an_estimate_of_one_count_on_one_day_are_one_word(kursk_topic: TopicConfig) -> None:
    """'more than 4,100' and '4,100' in one report: a later 'about 4,000' lowers the estimate, once."""
    engine = Engine(kursk_topic)
    wounded = {"metric": "troops_wounded"}
    engine.process(
        [
            _said(1, date(2025, 4, 30), "kr_nis", 4100, hedge="more_than", **wounded),
            _said(1, date(2025, 4, 30), "kr_nis", 4100, hedge="exact", start=80, **wounded),
        ]
    )
    found = engine.process([_said(2, date(2025, 10, 24), "kr_nis", 4000, **wounded)]).evidence
    assert [(e.contradiction.rule, e.other.claim.hedge) for e in found] == [("own_regression", "exact")]


def test_relays_join_the_open_incident_and_page_only_when_severity_rises(kursk_topic: TopicConfig) -> None:
    engine = Engine(kursk_topic)
    routes = [AlertRoute(url="file:a.jsonl", min_severity="low")]
    first = engine.process(
        [_said(1, date(2025, 1, 14), "kr_nis", 300), _said(2, date(2025, 1, 22), "ua_president", 1000)]
    )
    (incident,) = first.incidents.values()
    alerts = incident_alerts(first, routes)
    assert len(alerts) == 1 and alerts[0].payload["incident_id"] == incident.incident_id
    # Ten outlets relaying the 1,000: evidence for the same incident, no new incident, no new page.
    relays = [_said(10 + i, date(2025, 1, 23), "media", 1000, outlet=f"Relay {i}") for i in range(10)]
    again = engine.process(relays)
    assert set(again.incidents) == {incident.incident_id} and len(again.evidence) == 10
    assert incident_alerts(again, routes) == []
    # The first source then lowers its own count: the incident's severity rises and it pages again.
    assert incident.severity != "high"
    worse = engine.process([_said(30, date(2025, 1, 24), "kr_nis", 100, hedge="exact")])
    assert set(worse.incidents) == {incident.incident_id} and incident.severity == "high"
    (page,) = incident_alerts(worse, routes)
    assert page.alert_id != alerts[0].alert_id and page.severity == "high"


def test_no_figure_or_incident_is_dated_after_the_day_of_the_check(kursk_topic: TopicConfig) -> None:
    """A report dated 2099 (or describing a period to come) is dated the day it was checked, so its
    incident goes quiet like any other and a later report joins it, or not, by real dates."""
    today = date(2025, 11, 4)
    engine = Engine(kursk_topic, now=datetime(2025, 11, 4, 12, tzinfo=UTC))
    found = engine.process(
        [_said(1, date(2025, 11, 1), "kr_nis", 300), _said(2, date(2099, 1, 1), "ua_president", 1000)]
    )
    (incident,) = found.incidents.values()
    assert (incident.opened_on, incident.last_evidence_on) == (today, today)
    assert all(f.first_seen <= today and f.last_seen <= today for f in found.figures.values())
    assert all(e.new.published_at <= datetime(2025, 11, 4, 12, tzinfo=UTC) for e in found.evidence)  # type: ignore[operator]
    # State stored before dates were bounded is brought back to the day of the check.
    poisoned = replace(incident, opened_on=date(2099, 1, 1), last_evidence_on=date(2099, 1, 1))
    figures = [replace(f, first_seen=date(2099, 1, 1), last_seen=date(2099, 1, 1)) for f in found.figures.values()]
    later = Engine(kursk_topic, figures, [poisoned], now=datetime(2026, 3, 1, tzinfo=UTC))
    (restored,) = later.incidents.values()
    assert restored.last_evidence_on == date(2026, 3, 1) and restored.opened_on == date(2026, 3, 1)
    assert all(
        f.first_seen == date(2026, 3, 1) for h in later.histories.values() for fs in h.by_family.values() for f in fs
    )


def test_a_copy_is_not_an_independent_source(kursk_topic: TopicConfig) -> None:
    engine = Engine(kursk_topic)
    engine.process([_said(1, date(2025, 1, 14), "kr_nis", 300), _said(2, date(2025, 1, 22), "ua_president", 1000)])
    # A copy of the 1,000 published under another source's name repeats it: no new figure, no new conflict.
    copy = _said(3, date(2025, 1, 23), "us_gov", 1000)
    copy = replace(copy, copy_of="some-claim")
    found = engine.process([copy])
    assert [e.other.claim.stated_low for e in found.evidence] == [300]
    assert len(engine.incidents) == 1 and all(f.family != "us_gov" for f in found.figures.values())


def test_a_casualty_count_above_the_troops_sent_is_high(kursk_topic: TopicConfig) -> None:
    engine = Engine(kursk_topic)
    deployed = {"metric": "troops_deployed", "role": "unspecified", "sentence": "They were sent."}
    engine.process([_said(1, date(2025, 1, 10), "ua_intel", 12000, **deployed)])
    casualties = {"metric": "troops_casualties", "sentence": "Their losses are 20,000."}
    assert _raised(engine, _said(2, date(2025, 1, 12), "ua_intel", 20000, hedge="exact", **casualties)) == [
        "high part_exceeds_whole"
    ]


def _load(db: Path, claims: list[SourcedClaim], run_id: str) -> None:
    articles = {
        s.claim.article_id: make_article(0, article_id=s.claim.article_id, url=s.url, canonical_url=s.url,
                                         published_at=s.published_at, outlet=s.outlet, text=f"Text of {s.url}. " * 5)
        for s in claims
    }  # fmt: skip
    with open_store(db) as con:
        load_batch(con, Batch("kursk", list(articles.values()), [s.claim for s in claims]), run_id)


def test_detect_is_incremental_and_rerunning_it_adds_nothing(tmp_path: Path, kursk_topic_file: Path) -> None:
    db = tmp_path / "cw.duckdb"
    job = Job(str(kursk_topic_file), str(db), str(tmp_path), "run-1")
    _load(db, [_said(1, date(2025, 1, 14), "kr_nis", 300), _said(2, date(2025, 1, 22), "ua_president", 1000)], "l1")
    first = detect.run(job)
    assert first["checked"] == 2 and first["incidents"] == 1 and first["alerts_queued"] >= 1
    with open_store(db) as con:
        counts = table_counts(con)
        histories = con.execute("SELECT count(*) FROM figure_history").fetchone()
    assert histories == (2,)
    # The same claims again (a retry, or the check state reset): nothing new is stored or queued.
    assert detect.run(job) == {"checked": 0, "incidents": 0, "contradictions": 0, "alerts_queued": 0}
    with open_store(db) as con:
        con.execute("UPDATE claims SET checked_at = NULL")
        con.execute("DELETE FROM figure_history")
    again = detect.run(job)
    assert (again["contradictions"], again["alerts_queued"]) == (0, 0)
    # A relay in a later run joins the stored incident from the stored state: evidence, no page.
    _load(db, [_said(3, date(2025, 1, 25), "media", 1000, outlet="Relay", attributed_to=None)], "l2")
    later = detect.run(job)
    assert (later["checked"], later["incidents"], later["contradictions"], later["alerts_queued"]) == (1, 1, 1, 0)
    with open_store(db) as con:
        assert table_counts(con)["alerts"] == counts["alerts"]
        row = con.execute("SELECT count(*), count(DISTINCT incident_id) FROM contradictions").fetchone()
        payloads = [json.loads(r[0]) for r in con.execute("SELECT payload FROM alerts").fetchall()]
    assert row == (counts["contradictions"] + 1, 1)
    assert {p["incident_id"] for p in payloads} == {p["incident_id"] for p in payloads[:1]}


def test_detection_reads_only_the_metrics_it_touches(tmp_path: Path, kursk_topic_file: Path) -> None:
    db = tmp_path / "cw.duckdb"
    job = Job(str(kursk_topic_file), str(db), str(tmp_path), "run-1")
    shells = {"metric": "artillery_shells_supplied", "sentence": "Shells were sent."}
    _load(db, [_said(1, date(2025, 1, 14), "kr_nis", 300), _said(2, date(2025, 1, 15), "ua_intel", 4e6, **shells)], "l")
    detect.run(job)
    with open_store(db) as con:
        figures, _ = detection_state(con, "kursk", ["artillery_shells_supplied"])
    assert [f.key.metric for f in figures] == ["artillery_shells_supplied"]


def test_a_late_article_meets_the_figures_given_after_the_moment_it_describes(kursk_topic: TopicConfig) -> None:
    engine = Engine(kursk_topic)
    engine.process([_said(1, date(2025, 12, 11), "ua_intel", 6000, hedge="more_than")])
    # Published later, but describing the end of November: 2,000 is far below a count given days after.
    late = _said(2, date(2026, 1, 20), "kr_nis", 2000, period_end=date(2025, 11, 30))
    assert [r.split()[1] for r in _raised(engine, late)] == ["hard_conflict"]
    # An older mention of a known figure re-dates it, and the family's history stays in time order.
    older = _said(3, date(2025, 10, 1), "ua_intel", 6000, hedge="more_than")
    engine.process([older])
    history = engine.histories["troops_killed"]
    assert [f.first_seen for f in history.by_family["ua_intel"]] == [date(2025, 10, 1)]


def test_a_database_checked_before_histories_rebuilds_them_once_raising_nothing(
    tmp_path: Path, kursk_topic_file: Path
) -> None:
    db = tmp_path / "cw.duckdb"
    _load(db, [_said(1, date(2025, 1, 14), "kr_nis", 300), _said(2, date(2025, 1, 22), "ua_president", 1000)], "l1")
    with open_store(db) as con:
        assert has_histories(con, "kursk")  # nothing checked yet: nothing to rebuild
        con.execute("UPDATE claims SET checked_at = now()")  # checked by an engine without histories
        assert not has_histories(con, "kursk")
    result = detect.run(Job(str(kursk_topic_file), str(db), str(tmp_path), "run-1"))
    assert result == {"checked": 0, "incidents": 0, "contradictions": 0, "alerts_queued": 0}
    with open_store(db) as con:
        assert has_histories(con, "kursk")
        assert con.execute("SELECT count(*) FROM figure_history").fetchone() == (2,)


def test_a_figure_keeps_its_id_whether_its_number_is_an_int_or_the_float_duckdb_returns() -> None:
    """Incident edges link figure ids across runs; a figure reloaded from DuckDB must get the same id."""
    from pipeline.detection.histories import figure_key
    from tests.unit.factories import make_article, make_claim

    as_int = make_claim(make_article(1), stated_low=4000, stated_high=4000)
    as_float = replace(as_int, stated_low=4000.0, stated_high=4000.0)
    assert figure_key(as_int, "total").node_id("kursk") == figure_key(as_float, "total").node_id("kursk")


# An early 4,000 killed, then one day's two reports of the agency's 2,000 and the other side's 350: one
# report gives them exactly, the other hedged.  Which report the engine meets first decides which wording
# each figure is first given in, so it must not depend on where the reports were fetched from.
_ONE_DAY = (
    (1, date(2025, 1, 22), ((0, "ua_president", 4000, "exact"),)),
    (2, date(2025, 9, 2), ((0, "kr_nis", 2000, "exact"), (50, "dprk_gov", 350, "exact"))),
    (3, date(2025, 9, 2), ((0, "kr_nis", 2000, "about"), (50, "dprk_gov", 350, "about"))),
)


def _reports_at(host: str) -> list[tuple[Article, list[Claim]]]:
    """The reports of ``_ONE_DAY`` served from ``host``: same texts and dates, ids from the addresses."""
    reports = []
    for n, day, figures in _ONE_DAY:
        url = f"https://{host}/report-{n}"
        published = datetime(day.year, day.month, day.day, tzinfo=UTC)
        article = make_article(n, url=url, canonical_url=url, article_id=stable_id(url), published_at=published)
        claims = [
            make_claim(article, start, **KILLED, stated_low=number, stated_high=number, hedge=hedge,
                       surface=f"{number:,}", source_family=family, attributed_to=family)
            for start, family, number, hedge in figures
        ]  # fmt: skip
        reports.append((article, claims))
    return reports


def _stored_outcome(tmp_path: Path, topic_file: Path, host: str, reverse: bool) -> dict[str, Any]:
    """Load the reports in two runs (the one-day pair in either order), detect after each, and read
    back what was stored in terms of report and position, not ids."""
    reports = _reports_at(host)
    where = {c.claim_id: (a.url.rsplit("-", 1)[1], c.char_start) for a, claims in reports for c in claims}
    db = tmp_path / f"{stable_id(host)}.duckdb"
    job = Job(str(topic_file), str(db), str(tmp_path), "run-1")
    for run, wave in enumerate((reports[:1], reports[1:][::-1] if reverse else reports[1:])):
        with open_store(db) as con:
            batch = Batch("kursk", [a for a, _ in wave], [c for _, claims in wave for c in claims])
            loaded = load_batch(con, batch, f"load-{run}")
            assert (loaded.articles, loaded.near_duplicates) == (len(wave), 0)
        detect.run(job)
    with open_store(db) as con:
        pairs = con.execute("SELECT claim_id, other_claim_id, rule, severity, incident_id FROM contradictions")
        contradictions = pairs.fetchall()
        figures = con.execute(
            "SELECT family, stated_low, first_seen, mentions, seq, first_mention->>'$.claim.claim_id',"
            " last_mention->>'$.claim.claim_id' FROM figure_history"
        ).fetchall()
        incidents = con.execute("SELECT severity, status, opened_on, last_evidence_on, edges FROM incidents").fetchall()
    named: dict[str, Any] = {}  # an incident by the earliest mention in its evidence
    for a, b, *_, incident in contradictions:
        named[incident] = min(named.get(incident, where[a]), where[a], where[b])
    return {
        "contradictions": sorted((where[a], where[b], rule, sev, named[i]) for a, b, rule, sev, i in contradictions),
        "figures": sorted((*f[:5], where[f[5]], where[f[6]]) for f in figures),
        "incidents": sorted((*i[:4], len(json.loads(i[4]))) for i in incidents),
    }


def test_the_same_reports_from_other_addresses_store_the_same_findings(tmp_path: Path, kursk_topic_file: Path) -> None:
    """Two reports published at the same moment meet in the order of what they say: served from another
    host (so other ids) and loaded in another order, they store the same contradictions and histories."""

    def first_of_the_day(host: str) -> bool:
        return stable_id(f"https://{host}/report-2") < stable_id(f"https://{host}/report-3")

    here = "news.example"
    there = next(
        h
        for h in (f"news.example:{port}" for port in range(8000, 8100))
        if first_of_the_day(h) != first_of_the_day(here)
    )
    one = _stored_outcome(tmp_path, kursk_topic_file, here, reverse=False)
    other = _stored_outcome(tmp_path, kursk_topic_file, there, reverse=True)
    assert len(one["contradictions"]) >= 3 and one["incidents"]
    assert other == one
