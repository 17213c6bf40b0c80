"""Claims: every figure in an article, what it counts, how sure the text is, who says it and when.

``extract_claims`` is the one entry point the DAG, ``claimwatch eval`` and
``claimwatch reprocess`` share.  It is deterministic: the same article and
topic always give the same claims with the same ids.  Bump
``EXTRACTOR_VERSION`` whenever a rule changes, so stored history says which
extractor produced each row.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass
from datetime import date

from pipeline.claims.attribution import Attribution, Discourse, Speakers, attribute, headline_source, sources_in
from pipeline.claims.budget import Deadline, OverBudget
from pipeline.claims.families import SourceFamilies
from pipeline.claims.figures import Figure, find_figures
from pipeline.claims.intervals import read_figure
from pipeline.claims.metrics import (
    Catalogue,
    Decision,
    actual_after,
    complement_sibling,
    decide_metric,
    head_metric,
    modality_for,
    role_for,
)
from pipeline.claims.scope import scope_of_figure, scope_opens_with_window
from pipeline.claims.sentences import Sentence, paragraphs_of, sentences_of
from pipeline.claims.timeref import TimeRef, find_times
from pipeline.claims.verification import Caveat, Caveats, caveat_in, is_unverified
from pipeline.claims.window import REACH, ahead, back
from pipeline.records import OTHER_METRIC, Article, Claim, stable_id
from pipeline.topics import TopicConfig

EXTRACTOR_VERSION = "rules-2.0"

__all__ = ["EXTRACTOR_VERSION", "Catalogue", "Deadline", "OverBudget", "Sentence", "extract_claims", "sentences_of"]

_REPORTED = re.compile(r"(?:a\s+reported|reportedly)\b", re.IGNORECASE)  # "a reported 1,000": unconfirmed
_QUESTION = re.compile(r"^\s*Q\s*[:.]\s")
_IN_ANSWER = re.compile(r"^\s*Q\s*[:.]\s.*?\bA\s*[:.]\s|^\s*A\s*[:.]\s")
_TITLED_NAME = re.compile(
    r"\b(?:Colonel|Col\.|General|Gen\.|Major|Maj\.|Lieutenant|Lt\.|Captain|Capt\.|Dr\.|Professor|Prof\.|"
    r"Minister|President|Governor|Ambassador|Mayor|Senator|Commander)(?:\s+[A-Z][\w'’.-]+){1,3}"
)
_QUOTES = re.compile(r"[\"“”]")


def _interviewee(paragraphs: list[str]) -> str | None:
    """In a Q&A, the first person named with a title before the questions start answers them."""
    questions = [i for i, p in enumerate(paragraphs) if _QUESTION.match(p)]
    if not questions:
        return None
    for paragraph in paragraphs[: questions[0]]:
        m = _TITLED_NAME.search(paragraph)
        if m:
            return m.group(0)
    return None


def _no_check() -> None:
    pass


def _answers(paragraphs: dict[int, str], paragraph: int, seen: dict[int, bool]) -> bool:
    """Whether a paragraph of a Q&A holds an answer, read once per paragraph."""
    if paragraph not in seen:
        seen[paragraph] = _IN_ANSWER.search(paragraphs[paragraph], 0) is not None
    return seen[paragraph]


def _clauses(sentence: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for m in re.finditer(r";\s+", sentence):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(sentence)))
    return bounds


def _open_quote(sentence: str) -> bool:
    return len(_QUOTES.findall(sentence)) % 2 == 1


@dataclass(frozen=True, slots=True)
class _Found:
    sentence: Sentence
    figure: Figure
    metric: str
    source: str | None
    relay: str | None
    context: _Context
    rule: str = ""
    frame_metric: str = OTHER_METRIC  # the metric whose population and event the figure counts


@dataclass(frozen=True, slots=True)
class _Context:
    """What the words around one figure (up to its neighbours) say about it."""

    modality: str
    role: str
    when: TimeRef | None
    scope: str = "total"
    governs: str = ""  # the words after the figure up to the next one: its predicate


def _contexts(
    text: str, figures: list[Figure], metrics: list[str], topic: TopicConfig, anchor: date | None
) -> list[_Context]:
    """Modality, role and time per figure, read from its own stretch of the sentence.

    A stretch runs from the previous figure to the next one, so "agreed to send 2,000 ... and that
    some 1,500 had already arrived" keeps the pledge and the arrival apart.  A figure coordinated
    with the one before ("5,000 construction workers and 1,000 demining specialists") shares its
    modality and time.
    """
    out: list[_Context] = []
    semicolons = [m.start() for m in re.finditer(";", text)] if figures else []
    opening = scope_opens_with_window(text) if figures else False
    for i, (figure, metric) in enumerate(zip(figures, metrics, strict=True)):
        at = bisect.bisect_left(semicolons, figure.number_start)
        clause_start = semicolons[at - 1] + 1 if at else 0
        at = bisect.bisect_left(semicolons, figure.end)
        clause_end = semicolons[at] if at < len(semicolons) else len(text)
        start = max(clause_start, figures[i - 1].end if i > 0 else 0)
        end = min(clause_end, figures[i + 1].start if i + 1 < len(figures) else len(text))
        before, after = text[start : figure.start], text[figure.end : end]
        coordinated = i > 0 and bool(re.fullmatch(r"(?:\s+[\w'’-]+){0,5}\s+and\s+", before))
        if coordinated:
            modality, when = out[-1].modality, out[-1].when
        else:
            own = re.split(r"[,;]\s|\bthat\b", before)[-1]  # the previous figure's verb is not this one's
            governs = re.split(r"[,;]\s|\s(?:and|but)\s", after)[0]
            modality = "actual" if actual_after(governs) else modality_for(own + " " + governs)
            times = [t for t in find_times(text[start:end], anchor)]
            if times:
                when = min(times, key=lambda t: abs(t.span[0] - (figure.number_start - start)))
            else:
                since = max(clause_start, back(text, figure.start))
                earlier = [t for t in find_times(text[since : figure.start], anchor)]
                when = earlier[-1] if earlier else None
        spec = topic.metrics.get(metric)
        scope = scope_of_figure(text[start : figure.start], text[figure.end : end], opening_window=opening)
        role = role_for(after, metric, spec.role if spec else "unspecified")
        out.append(_Context(modality, role, when, scope, after))
    return out


def _framed(decision: Decision, context: _Context, catalogue: Catalogue, anaphor: str | None) -> Decision:
    """Scope and modality can overrule the metric: an increment, a window of days, a plan the
    catalogue keeps apart, or another event ("sent home") never becomes the running total."""
    metric = decision.metric
    if metric == OTHER_METRIC:
        return decision
    if catalogue.other_events and catalogue.other_events.search(re.split(r"[,;]\s", context.governs)[0]):
        return Decision(OTHER_METRIC, "event.other")
    others = (
        decision.rule == "bare.predicate"
        and anaphor not in (None, metric)
        and catalogue.parents.get(anaphor or "") == catalogue.parents.get(metric)
    )  # "300 were killed. Nearly 1,000 more have been wounded": more people, another event
    if context.scope == "increment" and others:
        return decision
    if context.scope in ("increment", "window") and metric in catalogue.cumulative:
        return Decision(OTHER_METRIC, f"scope.{context.scope}")
    if context.modality == "planned" and metric in catalogue.planned_other:
        return Decision(OTHER_METRIC, "scope.planned")
    return decision


def extract_claims(
    article: Article, topic: TopicConfig, catalogue: Catalogue | None = None, deadline: Deadline | None = None
) -> list[Claim]:
    """All claims in one article, in text order.

    ``catalogue`` is the topic's compiled cue catalogue (``Catalogue.of(topic)``); pass it when
    extracting many articles so the cues are compiled once.  With a ``deadline``, reading stops
    with ``OverBudget`` once it has run out (checked sentence by sentence and figure by figure).
    """
    catalogue = catalogue or Catalogue.of(topic)
    check = deadline.check if deadline else _no_check
    sentences = sentences_of(article.text, check)
    anchor = article.published_at.date() if article.published_at else None
    families = SourceFamilies.of(topic.sources)
    discourse = Discourse(text=article.text, families=families)
    caveats: list[Caveat] = []
    found: list[_Found] = []
    speaker: str | None = None  # the speaker of a quotation still open
    pending_headline: list[int] = []  # where in ``found``
    anaphor: str | None = None  # the metric the previous sentence of the paragraph ended on
    last_paragraph = -1
    metric_names = list(topic.metrics)
    all_figures: list[list[Figure]] = []
    for sentence in sentences:
        check()
        all_figures.append(find_figures(sentence.text))
    paragraphs = dict(enumerate(line for _, line in paragraphs_of(article.text)))
    interviewee = _interviewee(list(paragraphs.values()))
    answers: dict[int, bool] = {}  # paragraph -> it holds an answer ("Q: ... A: ...")
    counted = {s.paragraph for s, figures in zip(sentences, all_figures, strict=True) if figures}
    for sentence, figures in zip(sentences, all_figures, strict=True):
        check()
        # A caveat paragraph with no figure of its own ("Note: figures are as published") covers them all.
        caveat = caveat_in(
            sentence.text,
            sentence.paragraph,
            sentence.index,
            [*metric_names, OTHER_METRIC],
            sentence.paragraph in counted,
        )
        if caveat:
            caveats.append(caveat)
        if sentence.paragraph != last_paragraph:
            anaphor, last_paragraph = None, sentence.paragraph
        decisions = _metrics(sentence.text, figures, catalogue, anaphor)
        contexts = _contexts(sentence.text, figures, [d.metric for d in decisions], topic, anchor)
        framed = [_framed(d, c, catalogue, anaphor) for d, c in zip(decisions, contexts, strict=True)]
        anaphor = next((d.metric for d in reversed(decisions) if d.metric != OTHER_METRIC), anaphor)
        named: list[str] = []
        sentence_attribution: Attribution | None = None  # a later clause ("...; 600 of them died") keeps it
        starts = [figure.number_start for figure in figures]
        for clause_start, clause_end in _clauses(sentence.text):
            clause = sentence.text[clause_start:clause_end]
            speakers = Speakers(clause)
            inherited = sentence_attribution
            first, last = bisect.bisect_left(starts, clause_start), bisect.bisect_left(starts, clause_end)
            for i in range(first, last):
                check()
                figure, candidate, decision, context = figures[i], decisions[i], framed[i], contexts[i]
                metric = decision.metric
                if _incidental(figure, metric, catalogue):
                    continue
                attribution = attribute(clause, figure.number_start - clause_start, discourse, speakers) or inherited
                sentence_attribution = attribution or sentence_attribution
                source = attribution.source if attribution else speaker
                if source is None and sentence.headline:
                    source = headline_source(sentence.text)
                if source is None and interviewee and _answers(paragraphs, sentence.paragraph, answers):
                    source = interviewee  # "Q: ... A: Right now, between 2,000 and 3,000 ..."
                relay = attribution.relay if attribution else None
                item = _Found(sentence, figure, metric, source, relay, context, decision.rule, candidate.metric)
                if source is None and sentence.headline:
                    pending_headline.append(len(found))
                found.append(item)
            clause_sources = sources_in(clause, discourse, speakers)
            for source in clause_sources:
                discourse.remember(source)
            named += clause_sources
        if named and pending_headline:
            for at in pending_headline:
                found[at] = dataclasses.replace(found[at], source=named[0])
            pending_headline = []
        if _open_quote(sentence.text):
            speaker = None if speaker else (named[-1] if named else (found[-1].source if found else None))
    index = Caveats.of(caveats)
    return [_claim(article, topic, f, index, catalogue, anchor, families) for f in found]


_DENOMINATOR_BEFORE = re.compile(r"\b(?:of(?:\s+the)?|out\s+of(?:\s+the)?)\s*$")
_DENOMINATOR_BETWEEN = re.compile(r"^\s*(?:of(?:\s+the)?|out\s+of(?:\s+the)?)\s*$")
_COORDINATED_FIGURE = re.compile(r"(?:\s+[\w'’-]+){0,5}\s+and\s+")


def _metrics(sentence: str, figures: list[Figure], catalogue: Catalogue, anaphor: str | None = None) -> list[Decision]:
    """The metric of every figure of a sentence, each with the rule that decided it."""
    out: list[Decision] = []
    for i, figure in enumerate(figures):
        if figure.kind == "share":
            out.append(Decision(OTHER_METRIC, "share"))
            continue
        lo = back(sentence, figure.start)
        before = sentence[lo : figure.start]
        if i > 0 and _DENOMINATOR_BEFORE.search(before) and figures[i - 1].end >= lo + len(before.rstrip()) - 12:
            out.append(_denominator(sentence, figure, out[-1].metric, catalogue))
            continue
        limit = len(sentence)
        for later in figures[i + 1 :]:
            if not _DENOMINATOR_BETWEEN.match(sentence[figure.end : later.start]):
                limit = later.start
                break
        end = figure.end
        nxt = figures[i + 1] if i + 1 < len(figures) else None
        if nxt is not None and nxt.start < limit and _DENOMINATOR_BETWEEN.match(sentence[figure.end : nxt.start]):
            end = nxt.end  # "600 of the 15,000 soldiers ... died": the noun follows the whole
        previous = out[-1].metric if out else None
        floor = figures[i - 1].end if i > 0 else 0
        out.append(decide_metric(sentence, figure.start, end, limit, catalogue, previous, floor, anaphor))
    # "1000 mine clearance experts and 5000 military engineers": the umbrella noun is the other part.
    for i in range(1, len(figures)):
        between = sentence[figures[i - 1].end : figures[i].start]
        if _COORDINATED_FIGURE.fullmatch(between) and not re.search(r"\bthat\b", between):
            for a, b in ((i, i - 1), (i - 1, i)):
                part = complement_sibling(out[a].metric, out[b].metric, catalogue)
                if part != out[a].metric:
                    out[a] = Decision(part, "umbrella.complement")
    # "6,000 personnel, 1,000 combat engineers and 5,000 builders among them": a whole listing its parts.
    for i in range(len(figures) - 2):
        listed = {catalogue.parents.get(d.metric) for d in out[i + 1 : i + 3]}
        whole = listed.pop() if len(listed) == 1 else None
        if (
            whole
            and out[i].metric not in (OTHER_METRIC, whole)
            and re.match(r"^[^;]{0,120}[,:]\s*$", sentence[figures[i].end : figures[i + 1].start])
        ):
            out[i] = Decision(whole, "umbrella.listed_parts")
    return out


def _quoted(sentence: str, figure: Figure) -> str:
    """The sentence a claim was read from; in one too long to store with each of its figures (a hostile
    page's one "sentence" of 10,000 words), the words read around the figure."""
    if len(sentence) <= 2 * REACH:
        return sentence.strip()
    return sentence[back(sentence, figure.start) : ahead(sentence, figure.end)].strip()


def _scope(found: _Found) -> str:
    if found.rule == "scope.rate":
        return "rate"
    if found.rule.startswith("denominator"):
        return "total"  # "3,800 of the 12,000 ... are now dead": "now" is the part's, not the whole's
    return found.context.scope


def _incidental(figure: Figure, metric: str, catalogue: Catalogue) -> bool:
    """Small number words count something only when they name a catalogue metric ("four ships" do
    not); a definite one ("the two soldiers ... captured") only when it names an event."""
    if not figure.weak:
        return False
    if metric == OTHER_METRIC:
        return True
    return figure.definite and catalogue.parents.get(metric) is None


def _denominator(sentence: str, figure: Figure, part: str, catalogue: Catalogue) -> Decision:
    """The whole in "4,000 of the 12,000 soldiers ... were killed" counts the population the part
    belongs to; in "37 of the 64 settlements are closed" it is not a metric at all."""
    noun, _, _ = head_metric(sentence, figure.end, len(sentence), catalogue)
    if noun is not None and noun in catalogue.ancestors(part):
        return Decision(noun, "denominator.whole")
    return Decision(OTHER_METRIC, "denominator")


def _claim(
    article: Article,
    topic: TopicConfig,
    found: _Found,
    caveats: Caveats,
    catalogue: Catalogue,
    anchor: object,
    families: SourceFamilies,
) -> Claim:
    sentence, figure, metric = found.sentence, found.figure, found.metric
    spec = topic.metrics.get(metric)
    frame = topic.metrics.get(found.frame_metric)
    tolerance = spec.tolerance if spec else 0.10
    vague = (figure.vague_low, figure.vague_high) if figure.vague_low is not None else None
    reading = read_figure(figure.hedge, figure.stated_low, figure.stated_high, tolerance, vague)
    when = found.context.when
    lineage = [metric, *catalogue.ancestors(metric)]
    char_start = sentence.start + figure.start
    char_end = sentence.start + figure.end
    return Claim(
        claim_id=stable_id(topic.name, article.article_id, char_start, char_end, metric),  # one per topic reading it
        article_id=article.article_id,
        topic=topic.name,
        metric=metric,
        stated_low=figure.stated_low,
        stated_high=figure.stated_high,
        value_low=reading.hard[0],
        value_high=reading.hard[1],
        hedge=figure.hedge,  # type: ignore[arg-type]
        surface=article.text[char_start:char_end],
        sentence=_quoted(sentence.text, figure),
        char_start=char_start,
        char_end=char_end,
        attributed_to=found.source,
        relayed_by=found.relay,
        refers_to=when.label if when else None,
        period_start=when.start if when else None,
        period_end=when.end if when else None,
        unverified=_REPORTED.match(article.text, char_start) is not None
        or is_unverified(sentence.paragraph, sentence.index, metric, lineage, True, caveats),
        modality=found.context.modality,  # type: ignore[arg-type]
        role=found.context.role,  # type: ignore[arg-type]
        extractor_version=EXTRACTOR_VERSION,
        population=frame.population or found.frame_metric if frame else None,
        event=frame.event if frame else None,
        scope=_scope(found),
        metric_rule=found.rule or None,
        source_family=families.family(found.source),
    )
