"""The contradiction engine: new figures against the state of their metric, grouped into incidents.

Comparing every new claim with every stored one made one outlier stored early
contradict everything after it, and ten outlets relaying one estimate ten
pairs.  Here a new claim is first placed in its source family's history
(``histories``):

- a repeat of the family's current figure adds evidence to the incidents that
  figure is already part of, and is compared with nothing else;
- a repeat of a figure the family has since replaced is a stale re-report: at
  most a note, never an incident;
- a new figure is compared with the metric's state at its own date: the latest
  figure of every other family, and the family's own earlier figures (a
  cumulative count one source lowers is high).  A conflict with one family's
  figure is dropped when another independent family's figure at least as
  recent agrees with the new one: the new figure sides with the newer state.

Conflicting figures form incidents: one per metric and conflict, joined by
every later figure that conflicts with one of its figures while it is open.
An incident pages once, and again only when its severity rises.

No date the engine keeps is later than the time of the check (``now``): a
claim published "in the future", or a figure describing a period to come, is
dated when it was checked, so no incident stays "alive" until a date to come.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from pipeline.detection.histories import HistoryEntry, MetricHistory, as_of, family_of, figure_key, is_named, new_figure
from pipeline.detection.pairs import SAME_MOMENT_DAYS, Verdict, compare, scope_of, shift_severity
from pipeline.records import OTHER_METRIC, Alert, Contradiction, SourcedClaim, severity_rank, stable_id
from pipeline.topics import AlertRoute, TopicConfig

INCIDENT_OPEN_DAYS = 60  # an incident quiet this long is over: a later conflict opens a new one
STALE_AFTER_DAYS = 90  # a conflict with a figure this much older is one level less severe
_JOINABLE = ("open", "acked")


@dataclass(slots=True)
class Incident:
    """Figures of one metric that conflict with each other: the unit an on-call person handles."""

    incident_id: str
    topic: str
    metric: str
    severity: str
    status: str  # open | acked | resolved
    opened_on: date
    last_evidence_on: date
    alerted_severity: str | None = None
    edges: set[tuple[str, str]] = field(default_factory=set)  # pairs of figure node ids, sorted
    nodes: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.nodes |= {n for edge in self.edges for n in edge}

    def link(self, a: str, b: str) -> None:
        self.edges.add((a, b) if a <= b else (b, a))
        self.nodes.update((a, b))

    def open_at(self, when: date) -> bool:
        return self.status in _JOINABLE and (when - self.last_evidence_on).days <= INCIDENT_OPEN_DAYS

    def needs_alert(self) -> bool:
        """A new incident, or one whose severity rose since it last paged."""
        if self.status != "open":
            return False  # acked and resolved incidents are not re-sent
        return self.alerted_severity is None or severity_rank(self.severity) > severity_rank(self.alerted_severity)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One conflicting pair of mentions, with the figures they are mentions of."""

    contradiction: Contradiction
    new: SourcedClaim
    other: SourcedClaim
    node: str
    other_node: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """A new figure against one figure of the state; ``incident`` when it joins a known dispute."""

    other: HistoryEntry
    verdict: Verdict
    incident: Incident | None = None


@dataclass(slots=True)
class Detection:
    """What one run found: evidence (incl. notes), incidents touched, figures added or re-mentioned."""

    evidence: list[Evidence] = field(default_factory=list)
    incidents: dict[str, Incident] = field(default_factory=dict)
    figures: dict[str, HistoryEntry] = field(default_factory=dict)

    @property
    def contradictions(self) -> list[Contradiction]:
        return [e.contradiction for e in self.evidence]


class Engine:
    """HistoryEntry histories and open incidents of one topic, fed claims in publication order."""

    def __init__(
        self,
        topic: TopicConfig,
        figures: Iterable[HistoryEntry] = (),
        incidents: Iterable[Incident] = (),
        now: datetime | None = None,
    ):
        self.topic = topic
        self.now = now  # the time of the check: no date kept is later (None: replays of past data)
        self.today = today = now.date() if now is not None else None
        self.histories: dict[str, MetricHistory] = {}
        self.incidents: dict[str, Incident] = {i.incident_id: i for i in incidents}
        self._seq = 0
        if today is not None:  # state stored before dates were bounded: brought back to the present
            for incident in self.incidents.values():
                incident.opened_on = min(incident.opened_on, today)
                incident.last_evidence_on = min(incident.last_evidence_on, today)
        for figure in figures:
            if today is not None:
                figure.first_seen, figure.last_seen = min(figure.first_seen, today), min(figure.last_seen, today)
            self._history(figure.key.metric).add(figure)
            self._seq = max(self._seq, figure.seq + 1)

    # --- feeding ---------------------------------------------------------------------

    def _bounded(self, s: SourcedClaim) -> SourcedClaim:
        """The claim dated no later than the check."""
        if self.now is None or s.published_at is None:
            return s
        published = s.published_at if s.published_at.tzinfo else s.published_at.replace(tzinfo=UTC)
        return replace(s, published_at=self.now) if published > self.now else s

    def _as_of(self, s: SourcedClaim) -> date:
        """The day a figure describes, never later than the check."""
        when = as_of(s)
        return when if self.today is None else min(when, self.today)

    def _published(self, s: SourcedClaim) -> date | None:
        published = _published(s)
        return published if published is None or self.today is None else min(published, self.today)

    def observe(self, s: SourcedClaim, out: Detection | None = None) -> HistoryEntry | None:
        """Put a claim in its family's history without comparing it (rebuilding the state)."""
        placed = self._place(self._bounded(s))
        if placed is None:
            return None
        figure, _ = placed
        if out is not None:
            out.figures[figure.figure_id] = figure
        return figure

    def process(self, claims: Sequence[SourcedClaim]) -> Detection:
        """Check new claims, oldest publication first, each against the state at its own date."""
        out = Detection()
        for s in sorted((self._bounded(c) for c in claims), key=_publication_order):
            self._check(s, out)
        return out

    # --- one claim -------------------------------------------------------------------

    def _comparable(self, s: SourcedClaim) -> str | None:
        c = s.claim
        if c.metric == OTHER_METRIC or c.metric not in self.topic.metrics or c.hedge == "ratio":
            return None
        scope = scope_of(c)
        # Only running totals and current levels enter the state: increments, windows and rates
        # never compare with totals.
        return scope if scope in ("total", "current") else None

    def _history(self, metric: str) -> MetricHistory:
        if metric not in self.histories:
            spec = self.topic.metrics.get(metric)
            self.histories[metric] = MetricHistory(cumulative=bool(spec and spec.cumulative))
        return self.histories[metric]

    def _place(self, s: SourcedClaim) -> tuple[HistoryEntry, HistoryEntry | None] | None:
        """(the figure this claim is a mention of, the figure it repeats or None when it is new)."""
        scope = self._comparable(s)
        if scope is None:
            return None
        key, family, when = figure_key(s.claim, scope), family_of(s), self._as_of(s)
        history = self._history(s.claim.metric)
        known = history.find(family, key)
        if (known is None or known.first_seen > when) and (not is_named(family) or s.copy_of):
            known = history.first_with(key, when) or known  # a relay repeats whoever gave the figure first
        if known is not None and known.first_seen <= when:
            known.mention(s, when)
            return known, known
        if known is not None:  # an older article with a figure we had dated later: it is older than we knew
            history.redate(known, s, when)
            return known, None
        figure = new_figure(self.topic.name, family, key, s, when, self._seq)
        self._seq += 1
        history.add(figure)
        return figure, None

    def _check(self, s: SourcedClaim, out: Detection) -> None:
        placed = self._place(s)
        if placed is None:
            return
        figure, repeated = placed
        out.figures[figure.figure_id] = figure
        if s.claim.hedge == "vague":
            return  # "thousands of" is too loose to raise anything
        when = self._as_of(s)
        history = self._history(s.claim.metric)
        if repeated is not None:
            current = history.latest(repeated.family, when)
            if current is not None and current is not repeated and current.key != repeated.key:
                self._note_stale(s, repeated, current, out)
                return
            self._join(s, repeated, when, out)
            if not _sharper(s, repeated.first):
                return
            repeated.first = s  # "3,000" after "about 3,000": the figure is as precise as its sharpest wording
        for conflict in self._conflicts(s, figure, when):
            if conflict.incident is not None:
                self._add(conflict.incident, s, figure, conflict.other, conflict.verdict, when, out)
            else:
                self._record(s, figure, conflict.other, conflict.verdict, when, out)

    def _conflicts(self, s: SourcedClaim, figure: HistoryEntry, when: date) -> list[Conflict]:
        """Everything the new figure conflicts with: the metric's state, the family's own earlier
        words (a cumulative count lowered), and the state of related metrics (parts and wholes)."""
        history = self._history(s.claim.metric)
        found = self._state_conflicts(s, figure, when, history)
        if is_named(figure.family) and history.cumulative:
            for own in history.earlier_words(figure, when):
                verdict = _regression(s, figure, own)
                if verdict is not None:
                    found.append(Conflict(own, verdict))
        return found + self._related_conflicts(s, figure, when)

    def _state_conflicts(
        self, s: SourcedClaim, figure: HistoryEntry, when: date, history: MetricHistory
    ) -> list[Conflict]:
        state = self._state(history, figure.family, when)
        found: list[Conflict] = []
        for other in state:
            verdict = compare(s, other.first, self.topic)
            if verdict is None:
                continue
            ally, incident = self._sides_with_newer(s, figure, other, state)
            if ally is not None and incident is None:
                continue  # the state moved on without dispute: the new figure agrees with it
            if ally is not None:
                verdict = _corroboration(s, ally, other)
            elif (when - other.first_seen).days > STALE_AFTER_DAYS:
                verdict = replace(verdict, severity=shift_severity(verdict.severity, -1))
            found.append(Conflict(other, verdict, incident))
        return found

    def _related_conflicts(self, s: SourcedClaim, figure: HistoryEntry, when: date) -> list[Conflict]:
        found: list[Conflict] = []
        parent = self.topic.metrics[s.claim.metric].parent
        for metric in self._related(s.claim.metric):
            related = self._history(metric).latest(figure.family, when)
            if related is None or not is_named(figure.family):
                continue
            if metric == parent and (when - related.first_seen).days > SAME_MOMENT_DAYS:
                continue  # a part now above the whole as it stood months ago: the whole has grown since
            verdict = compare(s, related.first, self.topic)
            if verdict is not None:
                found.append(Conflict(related, verdict))
        return found

    @staticmethod
    def _state(history: MetricHistory, family: str, when: date) -> list[HistoryEntry]:
        """The other families' figures at ``when``, and each family's figures stored since: an article
        that arrives late still meets what was said after the moment it describes."""
        state = [f for f in history.state(when) if f.family != family]
        seen = {f.figure_id for f in state}
        return state + [f for f in history.state(date.max) if f.family != family and f.figure_id not in seen]

    def _sides_with_newer(
        self, s: SourcedClaim, figure: HistoryEntry, other: HistoryEntry, state: Sequence[HistoryEntry]
    ) -> tuple[HistoryEntry | None, Incident | None]:
        """Another family's figure, at least as recent as ``other``, that agrees with the new one.

        When that figure is already in an open incident against ``other``, the new one
        takes a side in a known dispute: it joins that incident as corroborating evidence.
        When that incident has gone quiet, the new figure revives the dispute: no ally.
        """
        ally: HistoryEntry | None = None
        known = [i for i in sorted(self.incidents.values(), key=lambda i: (i.opened_on, i.incident_id))
                 if i.status != "resolved"]  # fmt: skip
        for third in state:
            if third.family in (figure.family, other.family) or third.first_seen < other.first_seen:
                continue
            if third.key.scope != figure.key.scope or not _agree(s, third.first, self.topic):
                continue
            ally = ally or third
            edge = tuple(sorted((third.node_id, other.node_id)))
            for incident in known:
                if edge not in incident.edges:
                    continue
                if incident.open_at(self._published(s) or self._as_of(s)):
                    return third, incident
                return None, None  # a dispute gone quiet: the new figure revives it, it takes no side
        return ally, None

    def _related(self, metric: str) -> list[str]:
        """Parent and child metrics: a part must not exceed its whole within one family."""
        spec = self.topic.metrics[metric]
        children = [m for m, other in self.topic.metrics.items() if other.parent == metric]
        return ([spec.parent] if spec.parent else []) + children

    def _note_stale(self, s: SourcedClaim, repeated: HistoryEntry, current: HistoryEntry, out: Detection) -> None:
        verdict = compare(s, current.first, self.topic)
        if verdict is None and _regression(s, repeated, current) is None:
            return
        reason = (
            f"{s.claim.surface!r} repeats a figure first given on {repeated.first_seen.isoformat()}, since replaced by "
            f"{current.first.claim.surface!r} ({current.first_seen.isoformat()}): a stale re-report."
        )
        note = Contradiction(
            contradiction_id=stable_id("note", self.topic.name, s.claim.claim_id, current.figure_id),
            claim_id=s.claim.claim_id,
            other_claim_id=current.last.claim.claim_id,
            topic=self.topic.name,
            metric=s.claim.metric,
            severity="note",
            rule="stale_repeat",
            reason=reason,
        )
        out.evidence.append(Evidence(note, s, current.last, repeated.node_id, current.node_id))

    def _join(self, s: SourcedClaim, repeated: HistoryEntry, when: date, out: Detection) -> None:
        """A repeat of a current figure: more evidence for the incidents it is part of, nothing new."""
        node = repeated.node_id
        states: dict[str, list[HistoryEntry]] = {}  # per incident metric, built once per repeat
        for incident in sorted(self.incidents.values(), key=lambda i: (i.opened_on, i.incident_id)):
            if not incident.open_at(when) or node not in incident.nodes:
                continue
            for edge in sorted(incident.edges):
                if node not in edge:
                    continue
                other_node = edge[1] if edge[0] == node else edge[0]
                other = self._mentions_of(incident.metric, other_node, when)
                if other is None:
                    continue
                verdict = compare(s, other.first, self.topic)
                if verdict is None:
                    continue
                if incident.metric not in states:
                    states[incident.metric] = self._state(self._history(incident.metric), repeated.family, when)
                ally, disputed = self._sides_with_newer(s, repeated, other, states[incident.metric])
                if ally is not None and disputed is not None:
                    verdict = _corroboration(s, ally, other)
                self._add(incident, s, repeated, other, verdict, when, out)

    def _mentions_of(self, metric: str, node: str, when: date) -> HistoryEntry | None:
        """The most recently mentioned figure with this node id (any family), for evidence."""
        candidates = [
            f
            for m in (metric, *self._related(metric))
            for f in self._history(m).by_node_id.get(node, ())
            if f.first_seen <= when
        ]
        return max(candidates, key=lambda f: (f.last_seen, f.seq)) if candidates else None

    def _record(
        self, s: SourcedClaim, figure: HistoryEntry, other: HistoryEntry, verdict: Verdict, when: date, out: Detection
    ) -> None:
        nodes = {figure.node_id, other.node_id}
        joinable = [
            i for i in self.incidents.values() if i.metric == s.claim.metric and i.open_at(when) and nodes & i.nodes
        ]
        if joinable:
            incident = min(joinable, key=lambda i: (i.opened_on, i.incident_id))
        else:
            incident_id = stable_id("incident", self.topic.name, s.claim.metric, *sorted(nodes), when.isoformat())
            incident = self.incidents.get(incident_id) or Incident(
                incident_id, self.topic.name, s.claim.metric, verdict.severity, "open", when, when
            )
            self.incidents[incident_id] = incident
        self._add(incident, s, figure, other, verdict, when, out)

    def _add(
        self,
        incident: Incident,
        s: SourcedClaim,
        figure: HistoryEntry,
        other: HistoryEntry,
        verdict: Verdict,
        when: date,
        out: Detection,
    ) -> None:
        a, b = sorted((figure.node_id, other.node_id))
        incident.link(a, b)
        # An incident is alive while evidence keeps arriving: dated by publication, not by the period
        # a figure describes (a report in August about last year still revives the dispute).
        incident.last_evidence_on = max(incident.last_evidence_on, when, self._published(s) or when)
        if severity_rank(verdict.severity) > severity_rank(incident.severity):
            incident.severity = verdict.severity
        found = Contradiction(
            contradiction_id=stable_id("contradiction", self.topic.name, a, b, s.claim.claim_id),
            claim_id=s.claim.claim_id,
            other_claim_id=other.last.claim.claim_id,
            topic=self.topic.name,
            metric=s.claim.metric,
            severity=verdict.severity,  # type: ignore[arg-type]
            rule=verdict.rule,
            reason=verdict.reason,
            incident_id=incident.incident_id,
        )
        out.evidence.append(Evidence(found, s, other.last, figure.node_id, other.node_id))
        out.incidents[incident.incident_id] = incident


# --- pair rules the state adds --------------------------------------------------------


def _regression(s: SourcedClaim, figure: HistoryEntry, own: HistoryEntry) -> Verdict | None:
    """A family's new figure below one of its own earlier figures of a cumulative count.

    Judged on the figures' own numbers, not hedged intervals: one source lowering
    its own count by even 2% is a regression (low), and beyond rounding (the
    metric's tolerance) it is high.  A lower bound ("more than 3,000") restates
    less, it does not lower; a ceiling is not an estimate.
    """
    new, old = s.claim, own.first.claim
    if own.key == figure.key or own.key.scope != figure.key.scope or own.key.modality != figure.key.modality:
        return None
    if own.key.role != figure.key.role and "unspecified" not in (own.key.role, figure.key.role):
        return None  # guards are not the combat force
    if new.hedge in ("more_than", "at_least", "up_to", "at_most", "vague") or old.hedge in ("up_to", "at_most"):
        return None
    new_point, old_point = figure.point, own.point
    if old.hedge == "vague" or new_point is None or old_point is None or new_point >= old_point:
        return None
    new_top = new.stated_high if new.hedge == "between" and new.stated_high is not None else new_point
    if new_top >= old_point:
        return None
    g = (old_point - new_point) / old_point
    severity = "high" if g > 0.10 else "low"
    return Verdict(
        severity,
        "own_regression",
        f"{new.metric} is cumulative, yet {new.surface!r} is below the same source's earlier "
        f"{old.surface!r} ({own.first_seen.isoformat()}), {g:.0%} lower.",
    )


def _published(s: SourcedClaim) -> date | None:
    return s.published_at.date() if s.published_at else None


def _corroboration(s: SourcedClaim, ally: HistoryEntry, other: HistoryEntry) -> Verdict:
    """One more voice for a side of a known dispute: evidence for the incident, not a new contradiction."""
    return Verdict(
        "note",
        "joins_dispute",
        f"{s.claim.surface!r} agrees with {ally.first.claim.surface!r} ({ally.family}) against "
        f"{other.first.claim.surface!r} ({other.family}), already in dispute.",
    )


def _sharper(s: SourcedClaim, than: SourcedClaim) -> bool:
    """An exact wording, in the same article, of a figure first given with "about" or "nearly"."""
    same_article = s.claim.article_id == than.claim.article_id
    return same_article and s.claim.hedge == "exact" and than.claim.hedge in ("about", "nearly")


def _agree(s: SourcedClaim, other: SourcedClaim, topic: TopicConfig) -> bool:
    """The two figures (of one scope) count the same thing and their plausible readings overlap."""
    from pipeline.claims.intervals import disjoint
    from pipeline.detection.pairs import reading

    a, b = s.claim, other.claim
    if a.metric != b.metric or "vague" in (a.hedge, b.hedge) or a.modality != b.modality:
        return False
    return not disjoint(reading(a, topic).soft, reading(b, topic).soft)


def _publication_order(s: SourcedClaim) -> tuple[str, bool, str, str, int]:
    """Oldest first; of articles published at the same moment, originals before relayed copies, then
    by text: an article's id derives from its address, and the same reports fetched from other
    addresses must meet each other in the same order."""
    published = s.published_at.isoformat() if s.published_at else ""
    return (published, s.copy_of is not None, s.content_hash or "", s.claim.article_id, s.claim.char_start)


# --- alerts ---------------------------------------------------------------------------


def incident_alerts(detection: Detection, routes: Sequence[AlertRoute]) -> list[Alert]:
    """One alert per incident, severity reached and route: a retry or re-run rebuilds the same ids.

    Marks each paged incident's ``alerted_severity``, so the caller must store
    the incidents in the same transaction as the alerts.
    """
    from pipeline.alerting.messages import build_alert, routes_for

    alerts: list[Alert] = []
    for incident in sorted(detection.incidents.values(), key=lambda i: i.incident_id):
        if not incident.needs_alert():
            continue
        evidence = [e for e in detection.evidence if e.contradiction.incident_id == incident.incident_id]
        if not evidence:
            continue
        worst = max(evidence, key=lambda e: severity_rank(e.contradiction.severity))
        for route in routes_for(incident.severity, routes):
            alert_id = stable_id("incident-alert", incident.incident_id, incident.severity, route.url)
            alert = build_alert(replace(worst.contradiction, severity=incident.severity), worst.new, worst.other, route)  # type: ignore[arg-type]
            payload = {
                **alert.payload,
                "alert_id": alert_id,
                "incident_id": incident.incident_id,
                "evidence": len(evidence),
            }
            alerts.append(replace(alert, alert_id=alert_id, payload=payload))
        incident.alerted_severity = incident.severity
    return alerts


def check_pending(
    topic: TopicConfig,
    pending: Sequence[SourcedClaim],
    backlog: Sequence[SourcedClaim],
    load_state: Callable[[list[str]], tuple[list[HistoryEntry], list[Incident]]],
    now: datetime | None = None,
) -> tuple[Detection, list[Alert]]:
    """One detect run: load the state of the metrics the new claims touch, check them, build the alerts.

    ``backlog`` (claims checked before figure histories existed) is folded into
    the histories without raising anything.  ``now``: the time of the check,
    the latest date any claim, figure or incident is given.
    """
    metrics = sorted(metrics_to_load(topic, {s.claim.metric for s in [*pending, *backlog]}))
    figures, incidents = load_state(metrics)
    engine = Engine(topic, figures, incidents, now)
    seeded = Detection()
    for s in sorted(backlog, key=_publication_order):
        engine.observe(s, seeded)
    found = engine.process(pending)
    found.figures = {**seeded.figures, **found.figures}
    return found, incident_alerts(found, topic.alerts)


def metrics_to_load(topic: TopicConfig, metrics: Iterable[str]) -> set[str]:
    """The metrics a check of these reads: themselves, their parents and their children."""
    wanted = {m for m in metrics if m in topic.metrics}
    related = {topic.metrics[m].parent for m in wanted} | {
        m for m, spec in topic.metrics.items() if spec.parent in wanted
    }
    return wanted | {m for m in related if m}


def find_incidents(
    new: Sequence[SourcedClaim], stored: Sequence[SourcedClaim], topic: TopicConfig
) -> tuple[Detection, Engine]:
    """Replay stored claims through a fresh engine, then check the new ones (analysis and evaluation)."""
    engine = Engine(topic)
    engine.process(stored)
    return engine.process(new), engine


def find_contradictions(
    new: Sequence[SourcedClaim], stored: Sequence[SourcedClaim], topic: TopicConfig
) -> list[Contradiction]:
    """The pairs of figures, at low severity or above, that the new claims bring into incidents.

    Stored claims are replayed through the engine first , so the new ones
    meet the same state and open incidents the detect task would give them.
    """
    detection, _ = find_incidents(new, stored, topic)
    return [c for c in detection.contradictions if c.severity != "note"]
