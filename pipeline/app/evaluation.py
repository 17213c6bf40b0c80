"""Score the claim extractor and the contradiction rules against labelled articles.

``claimwatch eval`` runs exactly the code the DAG runs (``extract_claims`` and
``find_contradictions``) on a folder of article records, so a number printed
here is a number the pipeline earns.  Matching rules (README "Evaluation"):
a predicted claim matches a labelled one in the same article with the same
metric and stated numbers within 0.5% (vague amounts: same metric and hedge);
attribution is right when most words of the shorter name appear in the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.records import Article, Claim, DatePrecision, SourcedClaim
from pipeline.topics import TopicConfig

_STOPWORDS = {"the", "and", "of", "to", "a", "an", "in", "on", "for", "from", "with", "via", "by", "s"}
_TOLERANCE = 0.005
_GENERIC = {"some", "several", "many", "sources", "source", "reports", "report", "outlet", "agency", "officials",
            "media", "government", "other", "multiple", "newspaper", "channel"}  # fmt: skip


# The scores `claimwatch eval --json` always prints.
SCORE_KEYS = (
    "claim_precision",
    "claim_recall",
    "claim_f1",
    "hedge_accuracy",
    "attribution_accuracy",
    "contradiction_precision",
    "contradiction_recall",
)


class EvaluationError(ValueError):
    """A corpus or label file that cannot be scored, naming the file."""


@dataclass(frozen=True, slots=True)
class LabelledClaim:
    claim_id: str
    article_id: str
    metric: str
    hedge: str
    stated_low: float | None
    stated_high: float | None
    surface: str
    attributed_to: str | None
    unverified: bool | None = None
    attribution_key: str | None = None  # the source family the labeller gave


@dataclass
class EvalReport:
    """Scores plus the mismatches behind them, so a drop can be traced to an article."""

    articles: int = 0
    predicted: int = 0
    labelled: int = 0
    matched: int = 0
    hedge_correct: int = 0
    attribution_correct: int = 0
    unverified_compared: int = 0
    unverified_correct: int = 0
    family_compared: int = 0
    family_correct: int = 0
    contradictions_predicted: int = 0
    contradictions_labelled: int = 0
    contradictions_correct: int = 0
    non_contradictions_flagged: int = 0
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)
    wrong_hedge: list[str] = field(default_factory=list)
    wrong_attribution: list[str] = field(default_factory=list)
    wrong_family: list[str] = field(default_factory=list)
    wrong_contradictions: list[str] = field(default_factory=list)
    missed_contradictions: list[str] = field(default_factory=list)

    @property
    def claim_precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def claim_recall(self) -> float:
        return self.matched / self.labelled if self.labelled else 1.0

    @property
    def claim_f1(self) -> float:
        p, r = self.claim_precision, self.claim_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def hedge_accuracy(self) -> float:
        return self.hedge_correct / self.matched if self.matched else 0.0

    @property
    def attribution_accuracy(self) -> float:
        return self.attribution_correct / self.matched if self.matched else 0.0

    @property
    def unverified_accuracy(self) -> float:
        return self.unverified_correct / self.unverified_compared if self.unverified_compared else 1.0

    @property
    def source_family_accuracy(self) -> float:
        """Matched claims whose label names a family (``attribution_key``) and whose family agrees."""
        return self.family_correct / self.family_compared if self.family_compared else 1.0

    @property
    def contradiction_precision(self) -> float:
        if not self.contradictions_predicted:
            return 1.0 if not self.contradictions_labelled else 0.0
        return self.contradictions_correct / self.contradictions_predicted

    @property
    def contradiction_recall(self) -> float:
        return self.contradictions_correct / self.contradictions_labelled if self.contradictions_labelled else 1.0

    def to_dict(self) -> dict[str, Any]:
        extra = ("unverified_accuracy", "source_family_accuracy")
        scores = {name: round(getattr(self, name), 4) for name in (*SCORE_KEYS, *extra)}
        counts = {
            name: getattr(self, name)
            for name in (
                "articles",
                "predicted",
                "labelled",
                "matched",
                "contradictions_predicted",
                "contradictions_labelled",
                "contradictions_correct",
                "non_contradictions_flagged",
                "family_compared",
            )
        }
        details = {
            name: getattr(self, name)
            for name in (
                "missed",
                "spurious",
                "wrong_hedge",
                "wrong_attribution",
                "wrong_family",
                "wrong_contradictions",
                "missed_contradictions",
            )
        }
        return {**scores, **counts, **details}


def load_corpus(corpus_dir: str | Path) -> list[Article]:
    """One Article per JSON record in the folder (labels file excluded), text = paragraphs joined."""
    from pipeline.ingest.article import content_hash

    articles = []
    for path in sorted(Path(corpus_dir).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise EvaluationError(f"{path}: not readable JSON: {exc}") from None
        if not isinstance(record, dict) or "paragraphs" not in record:
            continue  # the labels file, or another non-article record
        missing = [k for k in ("id", "url", "paragraphs") if k not in record]
        if missing:
            raise EvaluationError(f"{path}: article record lacks {', '.join(missing)}")
        text = "\n".join(p.strip() for p in record["paragraphs"] if p and p.strip())
        published, precision = _date(record.get("published"), path)
        articles.append(
            Article(
                article_id=str(record["id"]),
                url=str(record["url"]),
                canonical_url=str(record["url"]),
                title=record.get("title"),
                outlet=record.get("outlet"),
                published_at=published,
                fetched_at=published or datetime(1970, 1, 1, tzinfo=UTC),
                language=record.get("language"),
                text=text,
                content_hash=content_hash(text),
                published_precision=precision,
            )
        )
    if not articles:
        raise EvaluationError(f"{corpus_dir}: no article records (*.json with 'paragraphs')")
    return articles


def _date(value: object, path: Path) -> tuple[datetime | None, DatePrecision]:
    """Month precision ("2025-06") is dated to the month's first day, the earliest it can be."""
    from pipeline.ingest.article import parse_date

    if not value:
        return None, "none"
    parsed = parse_date(str(value))
    if parsed is None:
        raise EvaluationError(f"{path}: published {value!r} is not an ISO date (YYYY-MM-DD, YYYY-MM or YYYY)")
    return parsed


def load_labels(labels_file: str | Path) -> tuple[list[LabelledClaim], list[tuple[str, str]], list[tuple[str, str]]]:
    path = Path(labels_file)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        claims = [
            LabelledClaim(
                claim_id=str(c.get("claim_id") or f"{c['article_id']}#{i}"),
                article_id=str(c["article_id"]),
                metric=str(c["metric"]),
                hedge=str(c["hedge"]),
                stated_low=c.get("stated_low"),
                stated_high=c.get("stated_high"),
                surface=str(c.get("surface") or ""),
                attributed_to=c.get("attributed_to"),
                unverified=c.get("unverified"),
                attribution_key=c.get("attribution_key"),
            )
            for i, c in enumerate(raw["claims"], start=1)
        ]
        pairs = [(p["a"]["claim_id"], p["b"]["claim_id"]) for p in raw.get("contradictions", [])]
        non = [(p["a"]["claim_id"], p["b"]["claim_id"]) for p in raw.get("non_contradictions", [])]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EvaluationError(f"{path}: not a labels file ({type(exc).__name__}: {exc})") from None
    return claims, pairs, non


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return abs(x - y) <= _TOLERANCE * max(abs(x), abs(y), 1e-9)


def claim_matches(predicted: Claim, label: LabelledClaim) -> bool:
    if predicted.metric != label.metric:
        return False
    if label.hedge == "vague" or label.stated_low is None:
        return predicted.hedge == label.hedge and predicted.stated_low is None
    return _close(predicted.stated_low, label.stated_low) and _close(predicted.stated_high, label.stated_high)


def _words(text: str) -> set[str]:
    return {
        w for w in re.findall(r"[a-z0-9]+", text.lower().replace("’", "'").replace("'s", "")) if w not in _STOPWORDS
    }


def attribution_matches(predicted: str | None, label: str | None) -> bool:
    """Labels describe the source in prose ("Krasnaya Zvezda (Russian military outlet)"); compare by words."""
    if label is None or label.lower().startswith("unattributed"):
        return predicted is None
    if predicted is None:
        return False
    p, g = _words(predicted), _words(label)
    if not p or not g:
        return False
    if p <= _GENERIC:
        return p == g  # "the outlet" says nothing unless the label is as vague
    return len(p & g) / min(len(p), len(g)) >= 0.5


def _match(predicted: list[Claim], labels: list[LabelledClaim]) -> dict[str, Claim]:
    """Label id -> the predicted claim matched to it, one to one, nearest surface first."""
    taken: set[str] = set()
    out: dict[str, Claim] = {}
    for label in labels:
        candidates = [c for c in predicted if c.claim_id not in taken and claim_matches(c, label)]
        if not candidates:
            continue
        best = max(candidates, key=lambda c: (len(_words(c.surface) & _words(label.surface)), -c.char_start))
        taken.add(best.claim_id)
        out[label.claim_id] = best
    return out


def evaluate(corpus_dir: str | Path, labels_file: str | Path, topic: TopicConfig) -> EvalReport:
    """Extract, match, then replay the articles in publication order through the contradiction rules."""
    from pipeline.claims import Catalogue, extract_claims
    from pipeline.detection.engine import find_contradictions

    articles = load_corpus(corpus_dir)
    labels, pairs, non_pairs = load_labels(labels_file)
    report = EvalReport(articles=len(articles), labelled=len(labels))
    catalogue = Catalogue.of(topic)
    extracted: dict[str, list[Claim]] = {a.article_id: extract_claims(a, topic, catalogue) for a in articles}
    to_label: dict[str, str] = {}
    for article in articles:
        predicted = extracted[article.article_id]
        mine = [label for label in labels if label.article_id == article.article_id]
        matched = _match(predicted, mine)
        report.predicted += len(predicted)
        report.matched += len(matched)
        for label in mine:
            claim = matched.get(label.claim_id)
            if claim is None:
                report.missed.append(f"{label.claim_id} {label.metric} {label.surface!r}")
                continue
            to_label[claim.claim_id] = label.claim_id
            if claim.hedge == label.hedge:
                report.hedge_correct += 1
            else:
                report.wrong_hedge.append(f"{label.claim_id} {claim.surface!r}: {claim.hedge} != {label.hedge}")
            if label.unverified is not None:
                report.unverified_compared += 1
                report.unverified_correct += claim.unverified == label.unverified
            if label.attribution_key is not None:
                report.family_compared += 1
                if claim.source_family == label.attribution_key:
                    report.family_correct += 1
                else:
                    report.wrong_family.append(
                        f"{label.claim_id} {claim.attributed_to!r}: {claim.source_family} != {label.attribution_key}"
                    )
            if attribution_matches(claim.attributed_to, label.attributed_to):
                report.attribution_correct += 1
            else:
                report.wrong_attribution.append(
                    f"{label.claim_id} {claim.surface!r}: {claim.attributed_to!r} != {label.attributed_to!r}"
                )
        report.spurious += [
            f"{article.article_id} {c.metric} {c.surface!r}" for c in predicted if c.claim_id not in to_label
        ]
    _score_contradictions(report, articles, extracted, to_label, pairs, non_pairs, topic, find_contradictions)
    return report


def _score_contradictions(
    report: EvalReport,
    articles: Sequence[Article],
    extracted: dict[str, list[Claim]],
    to_label: dict[str, str],
    pairs: list[tuple[str, str]],
    non_pairs: list[tuple[str, str]],
    topic: TopicConfig,
    find: Any,
) -> None:
    """Compare pairs of figures, not pairs of mentions.

    The pipeline links one mention of each re-reported figure (``cluster_key``), so a predicted pair
    counts when it joins the same two figures a labelled pair joins, whichever mentions it picked.
    """
    from pipeline.detection.pairs import cluster_key

    claims = {c.claim_id: c for found in extracted.values() for c in found}
    by_label = {label: claims[cid] for cid, label in to_label.items()}

    def figure(claim_id: str) -> object:
        return cluster_key(claims[claim_id]) if claim_id in claims else claim_id

    def labelled(pair: tuple[str, str]) -> frozenset[object]:
        return frozenset(cluster_key(by_label[x]) if x in by_label else x for x in pair)

    gold = {labelled(p) for p in pairs}
    non = {labelled(p) for p in non_pairs}
    stored: list[SourcedClaim] = []
    predicted: dict[frozenset[object], str] = {}
    # The order the pipeline meets them in: oldest first, articles of one moment by their text.
    order = sorted(
        articles,
        key=lambda a: (a.published_at or datetime.min.replace(tzinfo=UTC), a.content_hash, a.article_id),
    )
    for article in order:
        new = [
            SourcedClaim(c, article.url, article.outlet, article.published_at, content_hash=article.content_hash)
            for c in extracted[article.article_id]
        ]
        for x in find(new, stored, topic):
            names = " vs ".join(sorted(to_label.get(i, f"{claims[i].article_id} {claims[i].surface!r}")
                                       for i in (x.claim_id, x.other_claim_id)))  # fmt: skip
            predicted[frozenset((figure(x.claim_id), figure(x.other_claim_id)))] = f"{names} ({x.severity} {x.rule})"
        stored.extend(new)
    report.contradictions_predicted = len(predicted)
    report.contradictions_labelled = len(gold)
    report.contradictions_correct = len(predicted.keys() & gold)
    report.non_contradictions_flagged = len(predicted.keys() & non)
    report.wrong_contradictions = sorted(name for key, name in predicted.items() if key not in gold)
    report.missed_contradictions = sorted(" vs ".join(pair) for pair in pairs if labelled(pair) not in predicted)


def format_report(report: EvalReport) -> str:
    lines = [
        f"articles {report.articles}: {report.predicted} claims predicted, {report.labelled} labelled, "
        f"{report.matched} matched",
        f"claim precision   {report.claim_precision:.3f}",
        f"claim recall      {report.claim_recall:.3f}",
        f"claim F1          {report.claim_f1:.3f}",
        f"hedge accuracy    {report.hedge_accuracy:.3f}",
        f"attribution acc.  {report.attribution_accuracy:.3f}",
        f"unverified acc.   {report.unverified_accuracy:.3f}",
        f"source family acc. {report.source_family_accuracy:.3f} ({report.family_compared} labelled with a family)",
        f"contradictions    precision {report.contradiction_precision:.3f}, recall {report.contradiction_recall:.3f} "
        f"({report.contradictions_correct}/{report.contradictions_predicted} predicted, "
        f"{report.contradictions_labelled} labelled; {report.non_contradictions_flagged} labelled non-contradictions "
        f"flagged)",
    ]
    for title, items in (
        ("missed", report.missed),
        ("spurious", report.spurious),
        ("wrong hedge", report.wrong_hedge),
        ("wrong attribution", report.wrong_attribution),
        ("wrong source family", report.wrong_family),
        ("unexpected contradictions", report.wrong_contradictions),
        ("missed contradictions", report.missed_contradictions),
    ):
        lines += [f"{title}:"] + [f"  {item}" for item in items] if items else []
    return "\n".join(lines)
