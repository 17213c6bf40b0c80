"""Topic configuration: one YAML file per topic, validated once and passed in.

A second topic is a second YAML file.  Errors name the file, the field and
what is wrong, so an operator can fix a typo without reading code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import PermanentError
from pipeline.records import SEVERITIES, Severity


class TopicConfigError(PermanentError, ValueError):
    """A topic file that cannot be used, with the file and field at fault."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


FeedKind = Literal["rss", "gdelt", "google_news"]


class FeedSpec(_Strict):
    """One feed of a topic.  ``kind`` ``rss`` (the default) reads ``url`` as an RSS/Atom feed; the
    query kinds (``gdelt``, ``google_news``) build the request from ``query`` and read ``url`` as
    the service's base address (the public one when left out; a test or a mirror sets its own).
    ``url`` may hold ``${VAR}`` references (a token in the query): expanded when the feed is read."""

    url: str | None = None
    name: str | None = None
    kind: FeedKind = "rss"
    query: str | None = None  # the search, in the service's own syntax
    language: str = "en"  # google_news: hl, and the language half of ceid
    country: str = "US"  # google_news: gl, and the country half of ceid
    timespan: str | None = None  # gdelt: e.g. "1d", "12h"; the service's default (3 months) when unset

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str | None) -> str | None:
        if url is not None and not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"feed url must be http(s), got {url!r}")
        return url

    @model_validator(mode="after")
    def _kind_fields(self) -> FeedSpec:
        if self.kind == "rss":
            if self.url is None:
                raise ValueError("an rss feed needs a url")
            if self.query is not None:
                raise ValueError("query is for the gdelt and google_news kinds; an rss feed has only a url")
        elif not (self.query and self.query.strip()):
            raise ValueError(f"a {self.kind} feed needs a query")
        return self


class MetricSpec(_Strict):
    """One catalogue metric: an event applied to a population ("North Korean troops" x "killed").

    ``cues`` are the nouns that name the population counted ("troops", "shells"); ``events`` the
    words that say what happened to it ("killed", "death toll", "wounded").  When both are in a
    figure's clause the event outranks the noun, so "soldiers killed" is a toll, not a deployment.
    ``context``, when set, names words one of which must be in the sentence too ("residents" count
    as displaced only where they fled).  ``tasks`` are purpose phrases that make the parent's
    generic noun this part ("engineers to clear mines" are deminers).  ``planned`` says what a
    plan or forecast of this metric becomes: the metric (with modality ``planned``) or ``other``.
    """

    description: str
    unit: str
    cumulative: bool
    population: str | None = None  # who or what is counted; defaults to the metric's own name
    event: str = "counted"  # what happened to the population: sent, killed, supplied, ...
    cues: list[str] = []
    events: list[str] = []
    context: list[str] = []
    tasks: list[str] = []
    parent: str | None = None
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.10
    role: str = "unspecified"
    max_monthly_growth: Annotated[float, Field(gt=0)] | None = None  # a steady flow's fastest pace
    planned: Literal["metric", "other"] = "metric"
    # The largest figure the metric can plausibly take: a claim above it is quarantined by the quality
    # gate (a misread unit or a stray digit), not loaded.  None: no upper bound is checked.
    plausible_max: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _has_cues(self) -> MetricSpec:
        if not self.cues and not self.events:
            raise ValueError("a metric needs at least one entry in cues (nouns) or events (what happened)")
        blank = [c for c in [*self.cues, *self.events, *self.tasks, *self.context] if not c.strip()]
        if blank:
            raise ValueError("cues, events, tasks and context entries must not be empty")
        return self


class RelevanceRule(_Strict):
    """One way of being on topic: ``min_matches`` distinct terms of ``required`` and ``terms``
    together, at least one of them from ``required``."""

    description: str | None = None
    required: Annotated[list[str], Field(min_length=1)]
    terms: list[str] = []
    min_matches: Annotated[int, Field(ge=1)] = 1


class RelevanceSpec(_Strict):
    """An article is on topic when it mentions at least ``min_matches`` distinct terms
    and, if ``required`` is set, at least one of those; or when it satisfies one of the
    ``alternatives`` (a catalogue metric reported without the topic's usual names, such as
    Kursk's displaced civilians in a report that never names North Korea)."""

    terms: Annotated[list[str], Field(min_length=1)]
    required: list[str] = []
    min_matches: Annotated[int, Field(ge=1)] = 1
    alternatives: list[RelevanceRule] = []


class SourceFamilySpec(_Strict):
    """A group of sources that speak with one voice (an agency and its officials, a government).

    ``names`` are words or phrases that, found in a claim's source, put it in the family.  A
    ``relay`` family (the media) passes on what others say: when its member cites a source, the
    cited source originates the figure and the member is stored as its relay.
    """

    description: str
    names: Annotated[list[str], Field(min_length=1)]
    relay: bool = False


class SourcesSpec(_Strict):
    """Source families of a topic.  ``mixed`` is the family of a source naming several families
    ("US and South Korean estimates"); ``unattributed`` the family of a figure nobody is credited
    with, or credited to vague words such as "some reports" (its ``names``, when it is listed in
    ``families``).  ``acronyms`` spell out an agency the article names only by its letters."""

    families: Annotated[dict[str, SourceFamilySpec], Field(min_length=1)]
    mixed: str | None = None
    unattributed: str = "unattributed"
    acronyms: dict[str, str] = {}

    @model_validator(mode="after")
    def _families_exist(self) -> SourcesSpec:
        for name in self.families:
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise ValueError(f"families.{name}: a family name is [a-z0-9_]+")
        if self.mixed is not None and self.mixed not in self.families:
            raise ValueError(f"mixed names unknown family {self.mixed!r}")
        for acronym in self.acronyms:
            if not re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", acronym):
                raise ValueError(f"acronyms.{acronym}: an acronym is 2-10 capital letters or digits")
        return self


# Every URL scheme the locked Apprise (2.3.0) sends to, written out so a topic loads without importing
# Apprise's 260 plugins (about 1.5 s in every step process); tests/unit/test_topics.py keeps it equal to the
# installed Apprise's own list, and a scheme missing here is still asked of Apprise before it is refused.
APPRISE_SCHEMES = frozenset(
    """
    46elks acs amqp amqps apprise apprises aprs atalk awswhatsapp azure bale bark barks betterstack blink1 bluesky
    brevo bsky bulksms bulkvs burstsms chanify clickatell clicksend cliq cm d7sms dapnet dbus deltachat deltachats
    dingtalk discord dot eight00com elks emby embys enigma2 enigma2s evolution evolutions exotel fcm feishu
    firehydrant flock flowtriq flowtriqs fluxer fluxers form forms freemobile gchat gio github glib gnome goalert
    goalerts gorush gorushs gotify gotifys groundmail groupme growl guilded gupshup hassio hassios httpsms humhub
    humhubs ifttt ilert incidentio infobip instagram irc ircs jellyfin jellyfins jira join json jsons kakao
    kakaotalk kaleyra kavenegar kde klr kodi kodis kook kudosity kumulos lametric lametrics lark lauther lfg line
    macosx mailersend mailgun mailto mailtos mastodon mastodons matrix matrixs misskey misskeys mmost mmosts
    mobilemessage mobilemsg mqtt mqtts msg91 msgbird ncloud nclouds nctalk nctalks nexmo nostr notica noticas
    notifiarr notifico notificos notifyapp notifyre ntfy ntfys o365 octopush onebot onebots onesignal opsgenie
    opsimate opsimates pagerduty pagertree parsep parseps pbul pinglet pinglets pingram pjet pjets plivo postmark
    pover prowl psafer psafers push pushdeer pushdeers pushed pushme pushplus pushward pushy qq qt reddit resend
    revolt ringc rocket rockets rsyslog ryver schan sendgrid sendpulse serwersms ses session sessions seven sfr
    signal signalgrid signals signl4 simplepush sinch slack smpp smpps smsc smseagle smseagles smsmanager smsmgr
    smstunnel smtp2go sns sogs sparkpost spike splunk spugpush spush squadcast stackfield strmlabs synology
    synologys syslog telesign telnyx tgram threema toot toots trigv trigvs tweet twilio twist twitter vapid viber
    victorops voipms vonage webex wechat wecom wecombot whapi whatsapp windows workflow workflows wpush wxpusher
    wxteams x xbmc xbmcs xmatters xml xmls xmpp xmpps youlmk zalo zcliq zohocliq zoom zulip
    """.split()  # noqa: SIM905 (262 names as a word list: 19 lines, not 262)
)

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


def installed_apprise_schemes() -> frozenset[str]:
    """The schemes of the Apprise installed here (slow: loads every plugin); asked only about unknown ones."""
    try:
        from apprise import NotificationManager
    except ImportError:
        return frozenset()
    return frozenset(s.lower() for s in NotificationManager().schemas())


def route_scheme_problem(url: str) -> str | None:
    """Why ``url`` is no route an alert can be sent to, or None.  ``${VAR}`` references are not
    expanded (the variables may be unset where topics are validated), so the scheme must be
    written out; the message names the scheme at most, never the host, token or path."""
    if url[:5].lower() == "file:":
        return None
    written, sep, _ = url.partition("://")
    if not sep:
        return (
            "alert url needs a scheme: file:alerts.jsonl, file:///abs/path or an Apprise URL such as json://host/path"
        )
    scheme = written.lower()
    if not _SCHEME.fullmatch(scheme):
        return "alert url does not start with a URL scheme (write it out, e.g. json://; what follows may be ${VAR})"
    if scheme in APPRISE_SCHEMES or scheme in installed_apprise_schemes():
        return None
    hint = "; for a plain webhook use json:// or jsons://" if scheme in ("http", "https") else ""
    return f"alert route scheme {scheme!r} is neither file: nor one Apprise knows{hint}"


class AlertRoute(_Strict):
    """``timeout_seconds`` bounds one send; it must exceed the receiver's answer time, or a slow
    receiver that did get the alert is counted as a failure and sent it again (same idempotency key).
    The scheme is checked when the topic loads, so a mistyped route fails the run at once rather
    than after a whole ingest, with alerts queued for it that can never be sent."""

    url: str
    min_severity: Severity = "low"
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        problem = route_scheme_problem(url)
        if problem:
            raise ValueError(problem)
        return url


class FetchSpec(_Strict):
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 20.0
    max_bytes: Annotated[int, Field(gt=0)] = 5_000_000
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff_seconds: Annotated[float, Field(ge=0)] = 1.0
    max_articles_per_run: Annotated[int, Field(gt=0)] = 200
    user_agent: str = "claimwatch/0.1 (+https://github.com/claimwatch)"
    # A URL that fails for now is retried on later runs after this delay, doubling, then quarantined.
    url_retry_minutes: Annotated[float, Field(ge=0)] = 60.0
    max_url_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    # Politeness towards each site: pages fetched at most this many at a time per host, request
    # starts to one host spaced by at least the delay (longer when robots.txt asks for it).
    per_host_concurrency: Annotated[int, Field(ge=1, le=16)] = 2
    per_host_delay_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8  # pages in flight over all hosts
    respect_robots: bool = True


class ExtractSpec(_Strict):
    """What reading one fetched page may cost (README "One page never stalls a topic").

    ``max_text_chars``: a page whose main text is longer is not handed to the claim reader.
    ``page_seconds``: a page whose main text, relevance and claims take longer to read is
    stopped.  Either page is quarantined with the reason and never fetched again.
    """

    max_text_chars: Annotated[int, Field(gt=0)] = 200_000
    page_seconds: Annotated[float, Field(gt=0, le=1_200)] = 60.0


class DedupSpec(_Strict):
    """``near_duplicate_similarity``: estimated Jaccard similarity of word 3-shingles from which a
    text is a near copy of an earlier one (the default is justified by the labelled pairs in
    tests/unit/test_dedup_labelled.py; below 0.5 the LSH index would miss candidates).

    ``canonical_hosts``: hosts (and their subdomains) whose pages may declare a canonical URL on
    another domain, e.g. a syndication partner pointing at the original.  Any other page's
    canonical is followed only within its own registrable domain."""

    near_duplicate_similarity: Annotated[float, Field(ge=0.5, le=1.0)] = 0.5
    canonical_hosts: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")]] = []


class FeedHealthSpec(_Strict):
    """When a feed is worth an operations alert.

    ``failed_polls``: this many failed polls in a row make a feed ``broken``.
    ``silence_factor`` and ``min_intervals``: a feed that answers but has listed
    nothing new for more than ``silence_factor`` times its median interval between
    new items is ``silent``; judged only once ``min_intervals`` such intervals are
    known, so a young or irregular feed is not called silent on thin evidence.
    ``history_polls``: how many recent polls per feed the verdict reads.
    """

    failed_polls: Annotated[int, Field(ge=1, le=100)] = 3
    silence_factor: Annotated[float, Field(gt=1)] = 5.0
    min_intervals: Annotated[int, Field(ge=1)] = 3
    history_polls: Annotated[int, Field(ge=10, le=10_000)] = 500


class TopicConfig(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    title: str
    allow_private_hosts: bool = False
    feeds: Annotated[list[FeedSpec], Field(min_length=1)]
    relevance: RelevanceSpec
    metrics: Annotated[dict[str, MetricSpec], Field(min_length=1)]
    alerts: list[AlertRoute] = []
    # Operations alerts (a failed run, a broken or silent feed): never sent on the contradiction routes.
    ops_alerts: list[AlertRoute] = []
    feed_health: FeedHealthSpec = FeedHealthSpec()
    # Hours without a successful ingest after which the watchdog and `claimwatch health` page ops_alerts.
    freshness_hours: Annotated[float, Field(gt=0, le=24 * 60)] = 6.0
    fetch: FetchSpec = FetchSpec()
    extract: ExtractSpec = ExtractSpec()
    # ISO 639-1 codes of the languages the topic reads; a page in another one is skipped (empty: all).
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = []
    dedup: DedupSpec = DedupSpec()
    # Words in a counted noun phrase that put it in another population ("Russian engineering troops").
    other_populations: list[str] = []
    # Predicates that make a counted figure something else ("2,000 wounded sent home" are repatriated).
    other_events: list[str] = []

    # Source families (README "Configuring a topic"); without it every source is one family.
    sources: SourcesSpec | None = None

    @model_validator(mode="after")
    def _parents_exist(self) -> TopicConfig:
        for name, spec in self.metrics.items():
            if spec.parent is not None and spec.parent not in self.metrics:
                raise ValueError(f"metrics.{name}.parent names unknown metric {spec.parent!r}")
            if spec.tasks and spec.parent is None:
                raise ValueError(f"metrics.{name}.tasks: only a part (a metric with a parent) can have tasks")
        return self


def load_topic(path: str | Path) -> TopicConfig:
    """Read and validate one topic file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TopicConfigError(f"{path}: topic file not found") from None
    except yaml.YAMLError as exc:
        raise TopicConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TopicConfigError(f"{path}: expected a mapping at the top level")
    return parse_topic(raw, source=str(path))


def parse_topic(raw: dict[str, object], source: str = "<topic>") -> TopicConfig:
    try:
        return TopicConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise TopicConfigError(f"{source}: {problems}") from None


__all__ = [
    "SEVERITIES",
    "APPRISE_SCHEMES",
    "AlertRoute",
    "DedupSpec",
    "ExtractSpec",
    "FeedKind",
    "FeedHealthSpec",
    "FeedSpec",
    "FetchSpec",
    "MetricSpec",
    "RelevanceRule",
    "RelevanceSpec",
    "SourceFamilySpec",
    "SourcesSpec",
    "TopicConfig",
    "TopicConfigError",
    "installed_apprise_schemes",
    "load_topic",
    "parse_topic",
    "route_scheme_problem",
]
