"""extract_claims on whole articles: metric, modality, attribution, caveats, provenance, determinism."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.app.evaluation import _match, load_corpus, load_labels
from pipeline.claims import EXTRACTOR_VERSION, extract_claims
from pipeline.records import Article, Claim
from pipeline.topics import TopicConfig
from tests.unit.factories import make_article


def _claims(text: str, topic: TopicConfig, published: datetime | None = None) -> list[Claim]:
    article = make_article(1, text=text, published_at=published or datetime(2025, 11, 14, tzinfo=UTC))
    return extract_claims(article, topic)


def _by_surface(claims: list[Claim]) -> dict[str, Claim]:
    return {c.surface: c for c in claims}


def test_deminers_and_military_engineers_are_two_planned_parts(kursk_topic: TopicConfig) -> None:
    text = (
        "Russian Security Council Secretary Sergei Shoigu in June confirmed plans for Pyongyang to dispatch "
        "1000 mine clearance experts and 5000 military engineers to support reconstruction in Kursk."
    )
    claims = _claims(text, kursk_topic)
    assert [(c.metric, c.stated_low, c.modality) for c in claims] == [
        ("deminers_deployed", 1000, "planned"),
        ("builders_deployed", 5000, "planned"),
    ]
    assert {c.attributed_to for c in claims} == {"Russian Security Council Secretary Sergei Shoigu"}
    assert {c.refers_to for c in claims} == {"2025-06"}


def test_six_thousand_engineers_is_the_umbrella_metric(kursk_topic: TopicConfig) -> None:
    [claim] = _claims("Budanov has also said North Korea sent 6,000 engineers to Russia.", kursk_topic)
    assert (claim.metric, claim.stated_low, claim.hedge) == ("engineers_deployed", 6000, "exact")


def test_a_population_noun_followed_by_a_casualty_verb_counts_the_casualty(kursk_topic: TopicConfig) -> None:
    claims = _claims(
        "Sources told Reuters that about 14,000 troops were sent and that more than 6,000 of those soldiers "
        "were killed, while their losses are more than 4,000 by another count.",
        kursk_topic,
    )
    assert [(c.metric, c.hedge) for c in claims] == [
        ("troops_deployed", "about"),
        ("troops_killed", "more_than"),
        ("troops_casualties", "more_than"),
    ]
    assert {c.relayed_by for c in claims[:2]} == {"Reuters"}


def test_figures_outside_the_catalogue_are_other_never_forced(kursk_topic: TopicConfig) -> None:
    claims = _claims(
        "At least six Russian Army artillery units sourced between 50 and 100 percent of munitions abroad, "
        "and hundreds of different types of explosive devices were found.",
        kursk_topic,
    )
    assert [c.metric for c in claims] == ["other", "other", "other"]


def test_security_duty_is_a_separate_role(kursk_topic: TopicConfig) -> None:
    [claim] = _claims(
        "South Korea's intelligence agency reported earlier this month that about 10,000 North Korean troops "
        "were relocated to perform public security duties.",
        kursk_topic,
    )
    assert (claim.metric, claim.role, claim.refers_to) == ("troops_deployed", "security", "2025-11")
    assert claim.attributed_to == "South Korea's intelligence agency"


def test_two_sentence_quote_keeps_its_speaker(kursk_topic: TopicConfig) -> None:
    text = (
        'Ukrainian President Volodymyr Zelensky said that out of up to 12,000 North Koreans sent, "their '
        'losses are more than 4,000. I think two-thirds have died." Officials could not independently '
        "confirm casualty figures."
    )
    claims = _claims(text, kursk_topic)
    assert [c.hedge for c in claims] == ["up_to", "more_than", "ratio"]
    assert {c.attributed_to for c in claims} == {"Ukrainian President Volodymyr Zelensky"}
    assert all(c.unverified for c in claims)


def test_pronouns_and_anaphors_resolve_to_the_named_source(kursk_topic: TopicConfig) -> None:
    text = (
        "Major General Vadym Skibitsky told Reuters that production was rising.\n"
        "He also estimated that North Korea has supplied about 6.5 million artillery shells since 2023.\n"
        "Russian military outlet Krasnaya Zvezda reported heavy mining.\n"
        "According to the outlet, 37 of the 64 settlements in the district remain closed to civilians."
    )
    claims = _by_surface(_claims(text, kursk_topic))
    assert claims["about 6.5 million"].attributed_to == "Major General Vadym Skibitsky"
    assert claims["about 6.5 million"].refers_to == "2023/2025-11-14"
    assert claims["37"].attributed_to == "Russian military outlet Krasnaya Zvezda"
    assert (claims["37"].metric, claims["64"].metric) == ("settlements_closed", "other")


def test_unattributed_narrative_stays_unattributed(kursk_topic: TopicConfig) -> None:
    [claim] = _claims(
        "In August 2024 Ukrainian forces carried out an incursion, prompting roughly 200,000 civilians to flee.",
        kursk_topic,
    )
    assert claim.attributed_to is None and claim.metric == "civilians_displaced" and claim.refers_to == "2024-08"


def test_caveat_scope(kursk_topic: TopicConfig) -> None:
    text = (
        "Seoul said about 14,000 troops were sent. The battlefield casualty numbers could not be verified.\n"
        "Kyiv said 1,000 deminers arrived.\n"
        "The report said 37 settlements remain closed, which Reuters was unable to confirm."
    )
    claims = _by_surface(_claims(text, kursk_topic))
    assert claims["about 14,000"].unverified  # a standalone caveat covers its paragraph
    assert not claims["1,000"].unverified  # but not the next one
    assert claims["37"].unverified  # a caveat in the figure's own sentence


def test_caveat_naming_a_metric_covers_it_article_wide(kursk_topic: TopicConfig) -> None:
    text = (
        "Officials said more than 6,000 soldiers were killed.\n"
        "Seoul said 1,000 deminers arrived.\n"
        "Independent verification of casualty figures remains limited."
    )
    claims = _by_surface(_claims(text, kursk_topic))
    assert claims["more than 6,000"].unverified and not claims["1,000"].unverified


def test_provenance_points_into_the_article_text(kursk_topic: TopicConfig) -> None:
    text = "Intro line.\nSeoul said roughly 14,000 troops were sent to Kursk last year."
    [claim] = _claims(text, kursk_topic)
    article_text = text
    assert article_text[claim.char_start : claim.char_end] == claim.surface == "roughly 14,000"
    assert claim.sentence in article_text and claim.extractor_version == EXTRACTOR_VERSION
    assert (claim.value_low, claim.value_high) == pytest.approx((11_200, 16_800))


def test_repeated_captions_and_bylines_give_no_claims(kursk_topic: TopicConfig) -> None:
    caption = "Soldiers train near Kursk, in this image released on November 14, 2025, showing 40 sappers."
    text = "\n".join(
        [caption, caption, "By Jane Doe | 3 min read", "Jane Doe is the senior editor of the paper since 2011."]
    )
    claims = _claims(text, kursk_topic)
    assert [c.stated_low for c in claims] == [40]


def test_extraction_is_deterministic(eval_seeds_dir: Path, kursk_topic: TopicConfig) -> None:
    articles = load_corpus(eval_seeds_dir)
    first = [extract_claims(a, kursk_topic) for a in articles]
    second = [extract_claims(a, kursk_topic) for a in reversed(articles)]
    assert first == list(reversed(second))
    ids = [c.claim_id for claims in first for c in claims]
    assert len(ids) == len(set(ids))


_NEVER = re.compile(
    r"Uran-6|Stalker(?:-IB)?|O?VR-2-02|Saiga-12K|RPK-74|AK-74M|KN-23|63\.7 F"
    r"|(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"(?:\s+\d{1,2},)?\s+\d{4}|\b(?:19|20)\d{2}\b"
)


def test_no_designator_year_date_or_weather_in_the_seeds_becomes_a_claim(
    eval_seeds_dir: Path, kursk_topic: TopicConfig
) -> None:
    checked = 0
    for path in sorted(eval_seeds_dir.glob("0*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        # The weather widget and dateline are page text in the real pages: keep them in.
        text = "\n".join([record["title"], *record["paragraphs"]])
        article = make_article(1, text=text, published_at=datetime.fromisoformat(record["published"]))
        claims = extract_claims(article, kursk_topic)
        for m in _NEVER.finditer(text):
            checked += 1
            overlapping = [c.surface for c in claims if c.char_start < m.end() and m.start() < c.char_end]
            assert not overlapping, f"{path.name}: {m.group(0)!r} became {overlapping}"
    assert checked > 20


def test_unverified_flags_match_the_seed_labels(eval_seeds_dir: Path, kursk_topic: TopicConfig) -> None:
    raw = json.loads((eval_seeds_dir / "labels.json").read_text(encoding="utf-8"))
    expected = {c["claim_id"]: c["unverified"] for c in raw["claims"]}
    labels, _, _ = load_labels(eval_seeds_dir / "labels.json")
    compared = 0
    for article in load_corpus(eval_seeds_dir):
        matched = _match(
            extract_claims(article, kursk_topic), [x for x in labels if x.article_id == article.article_id]
        )
        for label_id, claim in matched.items():
            assert claim.unverified == expected[label_id], (label_id, claim.surface)
            compared += 1
    assert compared >= 25


def test_article_without_publication_date_leaves_relative_times_unresolved(kursk_topic: TopicConfig) -> None:
    article: Article = make_article(1, text="Seoul said 14,000 troops were sent last year.", published_at=None)
    [claim] = extract_claims(article, kursk_topic)
    assert claim.refers_to is None and claim.period_start is None


def test_wire_copy_attribution_after_the_figure(kursk_topic: TopicConfig) -> None:
    text = (
        "North Korea has moved about 3,000 soldiers into Russia so far this month and could send as many as "
        "10,000 by the end of December, South Korea's National Intelligence Service told lawmakers on Wednesday.\n"
        "Since July alone, some 1.2m rounds had crossed the border by rail, it said.\n"
        "Seoul's tally is well below the more than 4,000 dead claimed by Ukraine's military intelligence."
    )
    claims = _by_surface(_claims(text, kursk_topic))
    nis = "South Korea's National Intelligence Service"
    assert claims["about 3,000"].attributed_to == nis and claims["as many as 10,000"].attributed_to == nis
    assert claims["as many as 10,000"].metric == "other"  # a forecast is not the deployed total
    assert claims["as many as 10,000"].metric_rule == "scope.planned"
    assert (claims["about 3,000"].modality, claims["as many as 10,000"].modality) == ("actual", "planned")
    assert claims["some 1.2m"].attributed_to == nis  # "it" is the agency named before
    assert claims["more than 4,000"].attributed_to == "Ukraine's military intelligence"
    assert claims["more than 4,000"].metric == "troops_killed"


def test_event_context_and_other_populations_keep_figures_out_of_a_metric(kursk_topic: TopicConfig) -> None:
    text = (
        "Two residents of Gornal were killed when their car struck a mine.\n"
        "More than 150,000 residents who fled the fighting have yet to return.\n"
        "Some 1,000 North Korean deminers work alongside several hundred Russian engineering troops.\n"
        "Dozens of villages were reduced to rubble, while 41 villages remain off-limits to civilians."
    )
    claims = {c.surface: c.metric for c in _claims(text, kursk_topic)}
    assert claims == {  # "Two residents": a small number word outside the catalogue is incidental
        "More than 150,000": "civilians_displaced",
        "Some 1,000": "deminers_deployed",
        "several hundred": "other",
        "Dozens": "other",
        "41": "settlements_closed",
    }


def test_a_linking_verb_takes_the_subject_as_what_is_counted(kursk_topic: TopicConfig) -> None:
    text = "Total casualties, including the wounded, stand at around 4,000, the report said."
    [claim] = _claims(text, kursk_topic)
    assert (claim.metric, claim.hedge) == ("troops_casualties", "about")


def test_pledge_and_arrival_in_one_sentence_are_told_apart(kursk_topic: TopicConfig) -> None:
    text = (
        "The governor said Pyongyang had agreed to send 2,000 builders as the first phase of the "
        "5,000-strong construction contingent pledged in June, and that some 1,500 had already arrived."
    )
    claims = _claims(text, kursk_topic)
    assert [(c.stated_low, c.metric, c.modality) for c in claims] == [
        (2000, "builders_deployed", "planned"),
        (5000, "builders_deployed", "planned"),
        (1500, "builders_deployed", "actual"),
    ]


def test_time_belongs_to_the_figure_it_stands_next_to(kursk_topic: TopicConfig) -> None:
    text = (
        "Close to 2,500 troops were killed, up from the roughly 2,000 deaths officials cited in February.\n"
        "More than 4,000 soldiers have been killed since the contingent went into combat in December."
    )
    claims = _by_surface(_claims(text, kursk_topic))
    assert claims["Close to 2,500"].refers_to is None
    assert claims["roughly 2,000"].refers_to == "2025-02"
    assert claims["More than 4,000"].refers_to == "2024-12/2025-11-14"


def test_fact_box_lines_rates_and_nouns_before_of(kursk_topic: TopicConfig) -> None:
    text = (
        "By the numbers\n"
        "About 14,000 — North Korean soldiers sent to Russia, according to Seoul.\n"
        "Two — North Korean soldiers held as prisoners of war by Ukraine.\n"
        "Russian guns fire 12k rounds a day along the front, a small share for an army of 1.2 million.\n"
        "Weather in Kursk today: 19C, wind 4 metres per second."
    )
    claims = {c.surface: (c.metric, c.attributed_to) for c in _claims(text, kursk_topic)}
    assert claims == {
        "About 14,000": ("troops_deployed", "Seoul"),
        "Two": ("troops_captured", None),
        "12k": ("other", None),
        "1.2 million": ("other", None),
    }


def test_datelines_inverted_verbs_and_words_of(kursk_topic: TopicConfig) -> None:
    text = (
        "SEOUL, Dec 19 (Meridian Wire) - South Korea's spy agency said some 11,000 soldiers had been sent.\n"
        "Over 41,000 explosive objects were made harmless, reports the newspaper.\n"
        "'The best part of 190,000 people' fled in August 2024, in the words of the spokeswoman, Olga Zimina."
    )
    claims = _by_surface(_claims(text, kursk_topic))
    assert claims["some 11,000"].attributed_to == "South Korea's spy agency"
    assert claims["Over 41,000"].attributed_to == "the newspaper"
    assert claims["The best part of 190,000"].attributed_to == "the spokeswoman, Olga Zimina"
    assert claims["The best part of 190,000"].metric == "civilians_displaced"


def test_caveat_scopes_beyond_the_sentence(kursk_topic: TopicConfig) -> None:
    text = (
        "Seoul said at least 100 soldiers had been killed and 2,000 deminers had arrived.\n"
        "It gave no details of the casualty figures, which the agency could not independently verify.\n"
        "Bloggers claim that as many as 4,000 builders are at work; we cannot confirm that. Officials said "
        "1,000 deminers had arrived.\n"
        "Moscow has sent a reported 1,000 deminers.\n"
        "Note: figures are given as published; the monitoring service has not checked them independently."
    )
    claims = [(c.surface, c.unverified) for c in _claims(text, kursk_topic)]
    assert claims == [
        ("at least 100", True),  # casualty figures, named by a caveat in a relative clause
        ("2,000", True),  # the closing note covers every figure
        ("as many as 4,000", True),
        ("1,000", True),
        ("a reported 1,000", True),
    ]
    without_note = text.rsplit("\n", 1)[0]
    assert [(c.surface, c.unverified) for c in _claims(without_note, kursk_topic)] == [
        ("at least 100", True),
        ("2,000", False),
        ("as many as 4,000", True),
        ("1,000", False),  # "we cannot confirm that" covers the bloggers' figure only
        ("a reported 1,000", True),
    ]


def test_interview_answers_belong_to_the_interviewee(kursk_topic: TopicConfig) -> None:
    text = (
        "Colonel Oksana Hrytsenko heads the team that follows North Korean units.\n"
        "Q: How many soldiers are in Kursk now? A: Right now, between 2,000 and 3,000 are deployed there."
    )
    [claim] = _claims(text, kursk_topic)
    assert (claim.attributed_to, claim.metric) == ("Colonel Oksana Hrytsenko", "troops_deployed")


def test_a_sentence_opening_with_citing_credits_the_cited_body(kursk_topic: TopicConfig) -> None:
    text = "Citing the Institute for Peninsula Security, I would put deliveries at north of 9 million shells."
    [claim] = _claims(text, kursk_topic)
    assert claim.attributed_to == "Institute for Peninsula Security"
    assert (claim.metric, claim.hedge, claim.modality) == ("artillery_shells_supplied", "more_than", "actual")


def test_two_topics_reading_one_article_get_claims_with_their_own_ids(kursk_topic: TopicConfig) -> None:
    article = make_article(1, text="Seoul said 14,000 North Korean troops were sent to Kursk.")
    other = kursk_topic.model_copy(update={"name": "korea_watch"})
    mine, theirs = extract_claims(article, kursk_topic), extract_claims(article, other)
    assert mine and [c.surface for c in mine] == [c.surface for c in theirs]
    assert {c.claim_id for c in mine}.isdisjoint(c.claim_id for c in theirs)
    assert {c.topic for c in theirs} == {"korea_watch"}
