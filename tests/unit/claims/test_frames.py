"""A figure's frame: each rule family on sentences written for these tests, in wordings of their own.

Every test names the family it exercises (pipeline/claims/README.md) and checks the metric, the
scope and the rule the extractor reports, so a change in which rule decides shows up here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.claims import extract_claims
from pipeline.records import Claim
from pipeline.topics import TopicConfig
from tests.unit.factories import make_article


def _frames(text: str, topic: TopicConfig) -> dict[str, Claim]:
    article = make_article(1, text=text, published_at=datetime(2025, 6, 1, tzinfo=UTC))
    return {c.surface: c for c in extract_claims(article, topic)}


def _one(text: str, topic: TopicConfig) -> Claim:
    claims = list(_frames(text, topic).values())
    assert len(claims) == 1, claims
    return claims[0]


# --- head noun ---------------------------------------------------------------------------


def test_head_noun_names_the_population(kursk_topic: TopicConfig) -> None:
    claim = _one("Pyongyang has by now shipped roughly 9,000 servicemen across the border.", kursk_topic)
    assert (claim.metric, claim.population, claim.event) == ("troops_deployed", "north_korean_troops", "sent")
    assert claim.metric_rule == "head_noun.cue"


def test_measure_noun_counts_the_container_not_its_contents(kursk_topic: TopicConfig) -> None:
    claim = _one("Satellite photos showed 2,300 wagons of rockets and shells leaving the port.", kursk_topic)
    assert (claim.metric, claim.metric_rule) == ("other", "head_noun.measure")


# --- events outrank nouns ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "rule"),
    [
        ("Roughly 700 North Korean infantrymen and soldiers posted to the salient have since died.",
         "troops_killed", "event.predicate"),
        ("Of the men sent, 250 soldiers were later taken prisoner by Ukrainian units.",
         "troops_captured", "event.predicate"),
        ("Moscow's ally has lost some 5,000 servicemen, killed or injured, over the winter.",
         "troops_casualties", "event.apposed"),
        ("Ukrainian marines captured 3 North Korean soldiers near the village.", "troops_captured",
         "event.verb_before"),
    ],
)  # fmt: skip
def test_the_event_governing_the_noun_decides(kursk_topic: TopicConfig, text: str, metric: str, rule: str) -> None:
    claim = _one(text, kursk_topic)
    assert (claim.metric, claim.metric_rule) == (metric, rule)
    assert claim.population == "north_korean_troops"


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("A Western estimate puts the tally of North Korean troops who died at roughly 1,400.", "troops_killed"),
        ("The death toll among the Korean battalions is now put at 900.", "troops_killed"),
        ("Seoul puts the number of North Korean dead and injured at about 5,200.", "troops_casualties"),
        ("Their casualties, the ministry says, have climbed to 2,600.", "troops_casualties"),
    ],
)
def test_a_linked_subject_names_the_figure_and_its_event_wins(kursk_topic: TopicConfig, text: str, metric: str) -> None:
    claim = _one(text, kursk_topic)
    assert claim.metric == metric


def test_coordinated_events_name_their_whole(kursk_topic: TopicConfig) -> None:
    claim = _one("Analysts reckon 4,400 North Koreans are dead or injured.", kursk_topic)
    assert (claim.metric, claim.event) == ("troops_casualties", "killed_or_wounded")


def test_a_pronoun_subject_takes_the_metric_of_the_sentence_before(kursk_topic: TopicConfig) -> None:
    text = "Kyiv put North Korean casualties at 5,000. Seoul had put them at 3,500 a week earlier."
    claims = _frames(text, kursk_topic)
    assert claims["5,000"].metric == claims["3,500"].metric == "troops_casualties"
    assert claims["3,500"].metric_rule == "bare.anaphor"


# --- other populations and other events ---------------------------------------------------


def test_another_event_makes_the_figure_other(kursk_topic: TopicConfig) -> None:
    claim = _one("About 900 injured North Korean soldiers were flown back to Pyongyang in March.", kursk_topic)
    assert (claim.metric, claim.metric_rule, claim.event) == ("other", "event.other", "wounded")


def test_trained_but_not_sent_is_not_a_deployment(kursk_topic: TopicConfig) -> None:
    claim = _one("Some 2,000 soldiers had been trained near Wonsan and could be moved later.", kursk_topic)
    assert claim.metric == "other"


# --- parts: tasks, umbrellas and denominators ----------------------------------------------


def test_a_task_names_the_part(kursk_topic: TopicConfig) -> None:
    claims = _frames(
        "Pyongyang will dispatch 800 engineers to remove mines near Sudzha. "
        "A further team of 400 engineers is to help rebuild bridges.",
        kursk_topic,
    )
    assert claims["800"].metric == "deminers_deployed" and claims["800"].metric_rule == "task.purpose"
    assert claims["800"].modality == "planned"  # engineers keep their plans (planned: metric)


def test_sappers_and_combat_engineers_are_deminers(kursk_topic: TopicConfig) -> None:
    claims = _frames("Officials counted 700 sappers and, separately, 300 combat engineers.", kursk_topic)
    assert {c.metric for c in claims.values()} == {"deminers_deployed"}


def test_a_whole_listing_its_parts_is_their_parent(kursk_topic: TopicConfig) -> None:
    text = "The deal covers 4,000 personnel, 1,500 deminers and 2,500 construction workers among them."
    claims = _frames(text, kursk_topic)
    assert claims["4,000"].metric == "engineers_deployed" and claims["4,000"].metric_rule == "umbrella.listed_parts"
    assert (claims["1,500"].metric, claims["2,500"].metric) == ("deminers_deployed", "builders_deployed")


def test_a_denominator_is_the_population_the_part_comes_from(kursk_topic: TopicConfig) -> None:
    claims = _frames("Kyiv says 2,100 of the 13,000 North Korean soldiers in Kursk have died.", kursk_topic)
    assert (claims["2,100"].metric, claims["13,000"].metric) == ("troops_killed", "troops_deployed")
    assert claims["13,000"].metric_rule == "denominator.whole"


def test_a_denominator_of_the_same_population_is_other(kursk_topic: TopicConfig) -> None:
    claims = _frames("Officials said 12 of 30 villages in the district remain off-limits.", kursk_topic)
    assert (claims["12"].metric, claims["30"].metric) == ("settlements_closed", "other")


# --- scope: increments, windows, plans, current levels -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Pyongyang is readying 4,000 more troops for the front.",
        "Officials expect a fresh batch of 2,500 soldiers in spring.",
        "A second wave of roughly 5,000 soldiers was sent in March.",
        "Seoul believes 1,200 troops have been added since January.",
    ],
)
def test_an_increment_is_never_the_running_total(kursk_topic: TopicConfig, text: str) -> None:
    claim = _one(text, kursk_topic)
    assert (claim.metric, claim.scope, claim.metric_rule) == ("other", "increment", "scope.increment")
    assert claim.population == "north_korean_troops"  # the frame survives: an increment of deployed troops


@pytest.mark.parametrize(
    "text",
    [
        "Ukrainian drones killed 70 North Korean soldiers over two days.",
        "Kyiv reported 400 North Korean casualties within a single week.",
        "During one assault on the village, 90 North Koreans were killed.",
    ],
)
def test_a_window_of_days_is_never_the_running_total(kursk_topic: TopicConfig, text: str) -> None:
    claim = _one(text, kursk_topic)
    assert (claim.metric, claim.scope) == ("other", "window")


def test_months_are_a_period_not_a_window(kursk_topic: TopicConfig) -> None:
    claim = _one("North Korea shipped some 2 million shells over the past ten months.", kursk_topic)
    assert (claim.metric, claim.scope) == ("artillery_shells_supplied", "total")


def test_a_plan_the_catalogue_keeps_apart_is_other(kursk_topic: TopicConfig) -> None:
    claims = _frames(
        "Pyongyang has pledged 8,000 soldiers for the spring. It has agreed to send 600 builders.", kursk_topic
    )
    assert (claims["8,000"].metric, claims["8,000"].modality, claims["8,000"].metric_rule) == (
        "other",
        "planned",
        "scope.planned",
    )
    assert (claims["600"].metric, claims["600"].modality) == ("builders_deployed", "planned")


def test_what_already_happened_is_not_a_plan(kursk_topic: TopicConfig) -> None:
    text = "The builders would join the 9,000 troops Pyongyang had already sent."
    assert _one(text, kursk_topic).metric == "troops_deployed"


def test_a_current_level_keeps_its_metric(kursk_topic: TopicConfig) -> None:
    claim = _one("About 7,000 North Korean troops are currently stationed along the border.", kursk_topic)
    assert (claim.metric, claim.scope) == ("troops_deployed", "current")


def test_more_people_of_another_event_are_not_an_increment(kursk_topic: TopicConfig) -> None:
    claims = _frames("Some 150 were killed in the fighting. Roughly 600 more have been wounded.", kursk_topic)
    assert claims["Roughly 600"].metric == "troops_wounded"


# --- incidental numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Three patrol boats and two cargo planes left the harbour.",
        "The talks between the two governments lasted eight hours.",
        "Production is up more than five times on last year.",
        "One officer who refused was later demoted.",
    ],
)
def test_incidental_numbers_are_not_claims(kursk_topic: TopicConfig, text: str) -> None:
    assert _frames(text, kursk_topic) == {}


def test_a_definite_small_number_counts_only_an_event(kursk_topic: TopicConfig) -> None:
    claims = _frames(
        "Kyiv says the three North Korean soldiers its marines captured are being questioned.", kursk_topic
    )
    assert [c.metric for c in claims.values()] == ["troops_captured"]


def test_a_shared_scale_applies_to_both_ends_of_a_range(kursk_topic: TopicConfig) -> None:
    claim = _one("The estimate runs from 2 to 3 million shells.", kursk_topic)
    assert (claim.stated_low, claim.stated_high, claim.hedge) == (2_000_000, 3_000_000, "between")


def test_an_ordinal_fraction_is_not_a_share(kursk_topic: TopicConfig) -> None:
    assert _frames("A fourth rotation is being prepared; a third battalion is already there.", kursk_topic) == {}


def test_another_population_named_before_of_is_other(kursk_topic: TopicConfig) -> None:
    claim = _one("A Ukrainian brigade of 2,000 troops held the bridgehead.", kursk_topic)
    assert (claim.metric, claim.metric_rule) == ("other", "population.other")


def test_a_generic_noun_with_an_apposed_event_is_that_event(kursk_topic: TopicConfig) -> None:
    claim = _one("The corps lost 3,000 men, killed or injured, over the winter.", kursk_topic)
    assert (claim.metric, claim.metric_rule) == ("troops_casualties", "event.apposed")


def test_a_subject_owned_by_another_population_is_other(kursk_topic: TopicConfig) -> None:
    claim = _one("Ukraine's General Staff says Russia's losses have climbed to 650,000.", kursk_topic)
    assert (claim.metric, claim.metric_rule) == ("other", "population.other")


def test_one_strike_is_a_window(kursk_topic: TopicConfig) -> None:
    claim = _one("About 45 North Korean soldiers were killed in a single missile strike.", kursk_topic)
    assert (claim.metric, claim.scope, claim.event) == ("other", "window", "killed")


def test_a_combined_force_with_another_population_is_other(kursk_topic: TopicConfig) -> None:
    claim = _one("A joint Russian and North Korean force of roughly 45,000 gathered south of the town.", kursk_topic)
    assert (claim.metric, claim.metric_rule) == ("other", "population.other")


def test_now_before_a_reporting_verb_is_not_a_current_level(kursk_topic: TopicConfig) -> None:
    claim = _one("Seoul now estimates some 2,500 North Korean troops have died.", kursk_topic)
    assert (claim.metric, claim.scope) == ("troops_killed", "total")


def test_an_event_of_another_population_is_other(kursk_topic: TopicConfig) -> None:
    claim = _one("Nearly 400 civilians were killed while the evacuation was under way.", kursk_topic)
    assert (claim.metric, claim.metric_rule) == ("other", "event.other_population")


def test_a_capacity_is_not_a_plan(kursk_topic: TopicConfig) -> None:
    claim = _one("The wagons could carry up to 3 million shells, analysts said.", kursk_topic)
    assert (claim.metric, claim.modality) == ("artillery_shells_supplied", "actual")
