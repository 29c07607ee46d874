"""Time in a query: the dates it names, resolved against the time it is asked ("last week",
"in May 2023", "yesterday", "on 3 June, 2023") into a span of memory times, and what search
does with one: a soft preference for the candidates stored inside it, and an optional
recency prior. Phrases that could mean several spans are left alone (docs/quality.md)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

DAY = 86400.0
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_OF = (
    {m: i + 1 for i, m in enumerate(_MONTHS)}
    | {m[:3]: i + 1 for i, m in enumerate(_MONTHS) if m != "may"}
    | {"sept": 9}
)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.44, "year": 365.25}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

_M = r"(?P<month>" + "|".join(sorted(_MONTH_OF, key=len, reverse=True)) + r")\.?"
_D = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_Y = r"(?P<year>(?:19|20)\d\d)"
_PREP = r"(?P<prep>in|during|on|of|from|between|since|after|before|until|till|by)\s+(?:the\s+)?"
# One pattern per kind of phrase, tried in this order; the first that matches a stretch of
# the query wins it. Months need a year, a day or a preposition: "may" and "march" are words.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")),
    ("day_month_year", re.compile(rf"\b{_D}\s+(?:of\s+)?{_M},?\s+{_Y}\b", re.I)),
    ("month_day_year", re.compile(rf"\b{_M}\s+{_D},?\s+{_Y}\b", re.I)),
    ("month_year", re.compile(rf"(?:\b{_PREP})?\b{_M},?\s+{_Y}\b", re.I)),
    ("month_day", re.compile(rf"\b{_PREP}{_M}\s+{_D}\b(?![%.:]\d|%)", re.I)),
    ("month", re.compile(rf"\b{_PREP}{_M}(?!\s*\d)\b", re.I)),
    ("year", re.compile(rf"\b{_PREP}{_Y}\b(?![-./]\d)", re.I)),
    ("yesterday", re.compile(r"\b(?P<word>yesterday|today|this morning|tonight)\b", re.I)),
    (
        "ago",
        re.compile(
            r"\b(?P<count>\d+|a|an|one|two|three|four|five|six)\s+"
            r"(?P<unit>day|week|month|year)s?\s+ago\b",
            re.I,
        ),
    ),
    (
        "last",
        re.compile(
            r"\b(?P<which>last|this|past)\s+(?P<unit>week|weekend|month|year|"
            + "|".join(_WEEKDAYS)
            + r")\b",
            re.I,
        ),
    ),
]


@dataclass(frozen=True)
class Span:
    """Memory times a query names: [start, end) in epoch seconds, and the words it came from."""

    start: float
    end: float
    phrase: str

    def holds(self, stamp: float, slack: float = 0.0) -> bool:
        """Inside the span, or up to `slack` seconds after it (a thing done on a day is often
        told a few days later)."""
        return self.start <= stamp < self.end + slack


def parse_stamp(value: str) -> float | None:
    """A dataset's document time: LoCoMo's "1:56 pm on 8 May, 2023", or ISO; UTC."""
    text = " ".join(value.split())
    for form in ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y"):
        try:
            return datetime.strptime(text, form).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def _day(year: int, month: int, day: int) -> datetime | None:
    try:
        return datetime(year, month, day, tzinfo=timezone.utc)
    except ValueError:
        return None


def _month_span(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def _latest_year(now: datetime, month: int, day: int = 1) -> int:
    """The year of the latest such date not after `now` (chat about the past)."""
    return now.year if (month, day) <= (now.month, now.day) else now.year - 1


def _span(
    kind: str, g: Mapping[str, str | None], now: datetime
) -> tuple[datetime, datetime] | None:
    month = _MONTH_OF.get((g.get("month") or "").lower()) if kind != "iso" else None
    if kind == "iso":
        start = _day(int(g["year"] or 0), int(g["month"] or 0), int(g["day"] or 0))
        return (start, start + timedelta(days=1)) if start else None
    if kind in ("day_month_year", "month_day_year") and month:
        start = _day(int(g["year"] or 0), month, int(g["day"] or 0))
        return (start, start + timedelta(days=1)) if start else None
    if kind == "month_year" and month:
        return _month_span(int(g["year"] or 0), month)
    if kind == "month_day" and month:
        day = int(g["day"] or 0)
        start = _day(_latest_year(now, month, day), month, day)
        return (start, start + timedelta(days=1)) if start else None
    if kind == "month" and month:
        return _month_span(_latest_year(now, month), month)
    if kind == "year":
        year = int(g["year"] or 0)
        return datetime(year, 1, 1, tzinfo=timezone.utc), datetime(
            year + 1, 1, 1, tzinfo=timezone.utc
        )
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "yesterday":
        back = 1 if (g.get("word") or "").lower() == "yesterday" else 0
        return today - timedelta(days=back), today - timedelta(days=back - 1)
    if kind == "ago":
        count = g.get("count") or "1"
        amount = _NUMBERS.get(count.lower()) or int(count)
        unit = _UNIT_DAYS[(g.get("unit") or "day").lower()]
        centre = now - timedelta(days=amount * unit)
        half = timedelta(days=max(0.5, unit / 2))
        return centre - half, centre + half
    if kind == "last":
        return _last(g, now, today)
    return None


def _last(g: Mapping[str, str | None], now: datetime, today: datetime) -> tuple[datetime, datetime]:
    which, unit = (g.get("which") or "").lower(), (g.get("unit") or "").lower()
    week = today - timedelta(days=today.weekday())
    if unit in _WEEKDAYS:  # last friday: the latest one before today
        back = (today.weekday() - _WEEKDAYS.index(unit) - 1) % 7 + 1
        start = today - timedelta(days=back)
        return start, start + timedelta(days=1)
    if unit == "weekend":
        saturday = week - timedelta(days=2) if which == "last" else week + timedelta(days=5)
        return saturday, saturday + timedelta(days=2)
    if which == "past":  # the past week: the seven days up to now
        length = {"week": 7, "month": 31, "year": 366}[unit]
        return now - timedelta(days=length), now
    if unit == "week":
        return (week - timedelta(days=7), week) if which == "last" else (week, now)
    if unit == "month":
        first = today.replace(day=1)
        if which == "this":
            return first, now
        previous = (first - timedelta(days=1)).replace(day=1)
        return previous, first
    first = today.replace(month=1, day=1)
    return (first.replace(year=first.year - 1), first) if which == "last" else (first, now)


def resolve(query: str, now: float) -> Span | None:
    """The span of memory times a query names, asked at `now`, or None when it names none
    or only words that could mean several ("may", "on Friday", "next week", "recently").
    Several phrases ("between 11 August and 15 August 2023") give the span covering them;
    "since" and "after" run to now, "before" and "until" from the beginning of time."""
    asked = _utc(now)
    spans: list[tuple[float, float, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(query):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            found = _span(kind, match.groupdict(), asked)
            if found is None or found[0].timestamp() > now:
                continue  # a date after the question: plans, not memories
            start, end = found[0].timestamp(), min(found[1].timestamp(), now + DAY)
            prep = (match.groupdict().get("prep") or "").lower()
            if prep in ("since", "after"):
                start, end = (end if prep == "after" else start), now + DAY
            elif prep in ("before", "until", "till", "by"):
                start, end = 0.0, (start if prep == "before" else end)
            taken.append((match.start(), match.end()))
            spans.append((start, end, match.group(0).strip()))
    if not spans:
        return None
    phrase = ", ".join(p for _, _, p in spans)
    return Span(min(s for s, _, _ in spans), max(e for _, e, _ in spans), phrase)


@dataclass(frozen=True)
class TimeParams:
    """How search uses time, in units of the spread of the fused head's scores."""

    boost: float = 2.0  # added to a candidate stored inside the query's span
    slack_days: float = 7.0  # a candidate told up to this long after the span still counts
    recency: float = 0.0  # weight of the recency prior (0: off)
    half_life_days: float = 30.0  # age at which the recency prior is half its weight
    head: int = 40  # fused candidates adjusted (the ones the answer is taken from)


def spread(scores: Sequence[float]) -> float:
    if len(scores) < 2:
        return 1.0
    mean = sum(scores) / len(scores)
    return math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores)) or 1.0


def adjust(
    fused: Sequence[tuple[str, float]],
    stamps: Mapping[str, float],
    span: Span | None,
    now: float,
    params: TimeParams,
) -> list[tuple[str, float]]:
    """The fused list with time applied to its head: + boost for a candidate inside the
    query's span, + recency * 2^(-age / half life) when the prior is on. Nothing is removed
    or pushed down, so an old memory that is the only match is still there; candidates
    without a time are left as they are."""
    if span is None and params.recency <= 0:
        return list(fused)
    head = list(fused[: params.head])
    unit = spread([s for _, s in head])
    slack = params.slack_days * DAY
    out = []
    for item, score in head:
        stamp = stamps.get(item)
        if stamp is not None:
            if span is not None and span.holds(stamp, slack):
                score += params.boost * unit
            if params.recency > 0:
                age = max(0.0, now - stamp) / DAY
                score += params.recency * unit * 0.5 ** (age / params.half_life_days)
        out.append((item, score))
    out.sort(key=lambda kv: -kv[1])
    floor = min((s for _, s in out), default=0.0)
    tail = list(fused[params.head :])
    if tail:  # the rest stays below the head, in its own order
        shift = floor - tail[0][1] - 1.0 if tail[0][1] >= floor else 0.0
        out.extend((i, s + shift) for i, s in tail)
    return out
