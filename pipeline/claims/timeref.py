"""Resolve the time a figure refers to against the article's publication date.

News keeps recycling old figures ("14,000 sent last year"), so a claim carries the
period it refers to, not the day it was fetched.  Relative expressions need the
publication date; without one they are left unresolved rather than guessed.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_QUARTERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in (
        ("half", r"\b(?:in|during|over)?\s*(?:the\s+)?(?P<h>first|second)\s+half\s+of\s+(?P<y>(?:19|20)\d{2})\b"),
        ("quarter", r"\b(?P<prep>by|in|during|as of)?\s*(?:the\s+)?(?P<q>first|second|third|fourth|1st|2nd|3rd|4th)"
         r"\s+quarter\s+of\s+(?P<y>(?:19|20)\d{2})\b"),
        ("since", rf"\bsince\s+(?:the\s+(?:start|beginning|end|middle|spring|summer|autumn|fall|winter)\s+of\s+)?"
                  rf"(?:(?P<m>{_MONTH})\s+)?(?P<y>(?:19|20)\d{{2}})\b"),
        ("since_month", rf"\bsince\s+(?:last\s+)?(?P<m>{_MONTH})(?!\s+\d)\b"),
        ("since_event", rf"\bsince\s+(?!the\s+(?:start|beginning|end|middle|spring|summer|autumn|fall|winter)\b)"
                        rf"[^,.;]{{3,60}}?\bin\s+(?P<m>{_MONTH})(?:\s+(?P<y>(?:19|20)\d{{2}}))?\b"),
        ("day", rf"\b(?P<m>{_MONTH})\s+(?P<d>\d{{1,2}}),?\s+(?P<y>(?:19|20)\d{{2}})\b"),
        ("month_year", rf"\b(?:(?P<part>early|mid|late)[\s-]+)?(?P<m>{_MONTH})\s+(?P<y>(?:19|20)\d{{2}})\b"),
        ("mid_year", r"\b(?:by\s+)?(?:the\s+)?(?:middle\s+of\s+the\s+year|mid-year|midyear)\b"),
        ("mid_y", r"\bmid-(?P<y>(?:19|20)\d{2})\b"),
        ("season", r"\b(?P<rel>last|this|in\s+the|in)\s+(?P<season>spring|summer|autumn|fall|winter)"
                   r"(?:\s+(?:of\s+)?(?P<y>(?:19|20)\d{2}))?\b"),
        ("year", r"\b(?P<prep>in|during|by|through|throughout|of|since)\s+(?P<y>(?:19|20)\d{2})\b"),
        ("earlier_this_month", r"\b(?:earlier|later)\s+this\s+month\b|\bthis\s+month\b"),
        ("last_month", r"\blast\s+month\b"),
        ("this_year", r"\b(?:earlier\s+|later\s+)?this\s+year\b"),
        ("last_year", r"\blast\s+year(?:'s|’s)?\b"),
        ("bare_month", rf"\b(?:in|since|by|during|until|from|early|late|last|mid-?)\s+(?P<m>{_MONTH})(?!\s+\d)\b"),
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimeRef:
    """A resolved period: ``label`` is what analysts read ("2024", "2025-06", "2023/2025-11-14")."""

    label: str
    start: date | None
    end: date | None
    span: tuple[int, int]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _last_occurrence(month: int, anchor: date) -> int:
    """The year of the most recent past occurrence of a bare month (news speaks of the past)."""
    return anchor.year if month <= anchor.month else anchor.year - 1


def _resolve(name: str, m: re.Match[str], anchor: date | None) -> tuple[str, date | None, date | None] | None:
    g = m.groupdict()
    year = int(g["y"]) if g.get("y") else None
    month = _MONTHS[g["m"].lower().rstrip(".")] if g.get("m") else None
    if name == "quarter" and year:
        q = _QUARTERS[g["q"].lower()]
        start, end = date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
        if (g.get("prep") or "").lower() in ("by", "as of"):
            return f"by {year}-Q{q}", None, end
        return f"{year}-Q{q}", start, end
    if name == "half" and year:
        h = 1 if g["h"].lower() == "first" else 2
        return f"{year}-H{h}", date(year, 6 * h - 5, 1), _month_end(year, 6 * h)
    if name == "since" and year:
        start = date(year, month or 1, 1)
        end_label = anchor.isoformat() if anchor else ""
        return f"{start.isoformat()[: 7 if month else 4]}/{end_label}", start, anchor
    if name == "since_month" and month and anchor:
        y = _last_occurrence(month, anchor)
        if y == anchor.year and month == anchor.month and "last" in m.group(0).lower():
            y -= 1
        start = date(y, month, 1)
        return f"{start.isoformat()[:7]}/{anchor.isoformat()}", start, anchor
    if name == "since_event" and month and (year or anchor):
        y = year or _last_occurrence(month, anchor)  # type: ignore[arg-type]
        start = date(y, month, 1)
        return f"{start.isoformat()[:7]}/{anchor.isoformat() if anchor else ''}", start, anchor
    if name == "day" and year and month:
        try:
            day = date(year, month, int(g["d"]))
        except ValueError:
            return None
        return day.isoformat(), day, day
    if name == "month_year" and year and month:
        return f"{year}-{month:02d}", date(year, month, 1), _month_end(year, month)
    if name == "mid_y" and year:
        return f"mid-{year}", date(year, 5, 1), date(year, 7, 31)
    if name == "year" and year:
        if (g.get("prep") or "").lower() == "since":
            return f"{year}/{anchor.isoformat() if anchor else ''}", date(year, 1, 1), anchor
        return str(year), date(year, 1, 1), date(year, 12, 31)
    if name == "season":
        return _season(g["season"].lower(), year, (g.get("rel") or "").lower(), anchor)
    if anchor is None:
        return None
    if name == "mid_year":
        return f"mid-{anchor.year}", date(anchor.year, 5, 1), date(anchor.year, 7, 31)
    if name == "earlier_this_month":
        return f"{anchor.year}-{anchor.month:02d}", anchor.replace(day=1), anchor
    if name == "last_month":
        last = anchor.replace(day=1) - timedelta(days=1)
        return f"{last.year}-{last.month:02d}", last.replace(day=1), last
    if name == "this_year":
        return str(anchor.year), date(anchor.year, 1, 1), anchor
    if name == "last_year":
        y = anchor.year - 1
        return str(y), date(y, 1, 1), date(y, 12, 31)
    if name == "bare_month" and month:
        y = _last_occurrence(month, anchor)
        return f"{y}-{month:02d}", date(y, month, 1), _month_end(y, month)
    return None


_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


def _season(season: str, year: int | None, rel: str, anchor: date | None) -> tuple[str, date, date] | None:
    """Meteorological seasons; "last autumn" is the latest one already over at publication."""
    first = _SEASONS[season]

    def bounds(y: int) -> tuple[date, date]:
        return date(y, first, 1), _month_end(y + (1 if first == 12 else 0), (first + 1) % 12 + 1)

    if year is None:
        if anchor is None:
            return None
        year = anchor.year - (1 if first == 12 and anchor.month <= 2 else 0)
        while rel == "last" and bounds(year)[1] >= anchor:
            year -= 1
    start, end = bounds(year)
    return f"{year}-{'autumn' if season == 'fall' else season}", start, end


def find_times(text: str, anchor: date | None) -> list[TimeRef]:
    """Every resolvable time expression in ``text``, left to right, without overlaps."""
    found: list[TimeRef] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            resolved = _resolve(name, m, anchor)
            if resolved is None:
                continue
            taken.append((m.start(), m.end()))
            found.append(TimeRef(resolved[0], resolved[1], resolved[2], (m.start(), m.end())))
    return sorted(found, key=lambda t: t.span)


def nearest_time(text: str, position: int, anchor: date | None) -> TimeRef | None:
    """The time expression closest to a figure at ``position`` in the same clause."""
    times = find_times(text, anchor)
    if not times:
        return None
    return min(times, key=lambda t: min(abs(t.span[0] - position), abs(t.span[1] - position)))
