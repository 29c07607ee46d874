"""Checks on single values every operation's input shares: texts, names, tags, times.

Each raises ValueError with a sentence that says what is allowed; the input models in
`amber.inputs` turn those into InvalidInput (exit 2). Front ends never check values themselves.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone

from amber.redact import redact_name

MAX_QUERY_CHARS = 8000
SUMMARISE = "summarise the task in a few sentences (a query is matched by meaning, not read whole)"
MAX_TAGS = 64
MAX_TAG_CHARS = 64
MAX_NAME_CHARS = 200
MAX_DAYS = 36_500.0  # a hundred years: longer is "never"


TEXT_SPACE = "\n\r\t\v\f"  # what free text may hold below 0x20: source files carry \f and \v
_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?)")


def _control(value: str, allowed: str = "\n\r\t") -> str | None:
    bad = next((c for c in value if ord(c) < 32 and c not in allowed), None)
    return None if bad is None else f"{ord(bad):#04x}"


def control_problem(value: str, what: str) -> str | None:
    """Why free text is refused for its control bytes, with how to fix it, or None. Terminal
    colour and title codes (ESC [ ... m, ESC ] ... BEL) get their own advice: they are what a
    tool's coloured output leaves in text captured with $(...)."""
    bad = _control(value, TEXT_SPACE)
    if bad is None:
        return None
    if _ESCAPE.search(value):
        return (
            f"{what} contains terminal colour codes (ESC [ ... m); run the tool with NO_COLOR=1 "
            "or --color=never, or strip them with sed 's/\\x1b\\[[0-9;]*m//g'"
        )
    return f"{what} contains control characters (first: {bad}); strip NUL and other control bytes"


# Characters that show nothing yet make a name another name: zero-width spaces and joiners,
# the word joiner, the byte order mark, and the bidirectional marks, embeddings, overrides and
# isolates that make text read other than it is stored ("Trojan Source").
_HIDDEN = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u061c"
    + "".join(map(chr, range(0x202A, 0x202F)))
    + "".join(map(chr, range(0x2066, 0x206A)))
)


def _hidden(value: str, what: str) -> None:
    """Refuse a name or tag holding a zero-width or bidi control, naming the code point (never
    the value: it may hold a secret)."""
    bad = next((c for c in value if c in _HIDDEN), None)
    if bad is not None:
        raise ValueError(
            f"{what} holds U+{ord(bad):04X} ({unicodedata.name(bad)}), an invisible character "
            "that would make it a different name from the one shown; type it again without it"
        )


def visible(value: str) -> bool:
    """Whether the text has a character that shows: not only spaces and invisible formats."""
    return any(not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc") for c in value)


def text(
    value: str,
    what: str,
    limit_bytes: int,
    too_long: str = "split it, or raise AMBER_MAX_CONTENT_BYTES",
) -> str:
    """Free text (content, query, response): something visible, no control bytes (line
    breaks, tabs, form feeds and vertical tabs are fine), bounded;
    `too_long` says what to do with text over the limit."""
    if not visible(value):
        raise ValueError(f"{what} is empty (or only spaces and invisible characters)")
    problem = control_problem(value, what)
    if problem:
        raise ValueError(problem)
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit_bytes:
        raise ValueError(f"{what} is {size} bytes, over the limit of {limit_bytes}: {too_long}")
    _encodable(value, what)
    return value


def _encodable(value: str, what: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{what} is not valid text: it holds an unpaired surrogate at {exc.start} "
            "(bytes that were not UTF-8)"
        ) from None


def _no_secret(value: str, what: str) -> None:
    found = redact_name(value)
    if found.count:
        raise ValueError(
            f"{what} looks like a credential ({', '.join(found.kinds)}); names, keys and tags "
            "are stored in the clear, so amber refuses secrets there"
        )


def is_memory_id(value: str) -> bool:
    """Whether the text reads as a memory id (a UUID); whether one is stored is the store's."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def name(value: str, what: str) -> str:
    """A project, key or agent name: one line, no control characters, no zero-width or bidi
    controls, short, no secret."""
    cleaned = value.strip()
    if "\n" in cleaned or "\r" in cleaned or _control(cleaned):
        raise ValueError(f"{what} must be one line without control characters")
    if len(cleaned) > MAX_NAME_CHARS:
        raise ValueError(f"{what} is {len(cleaned)} characters; the limit is {MAX_NAME_CHARS}")
    _encodable(cleaned, what)
    _hidden(cleaned, what)
    if cleaned and not visible(cleaned):
        raise ValueError(f"{what} is only invisible characters")
    if cleaned.startswith("-"):
        raise ValueError(
            f"{what} cannot start with '-': {cleaned!r} looks like an option, taken as the value "
            "of the option before it"
        )
    if cleaned.startswith("="):
        raise ValueError(
            f"{what} cannot start with '=': a short option takes its value after a space "
            f"(-p NAME), a long one after '=' (--project=NAME)"
        )
    _no_secret(cleaned, what)
    return cleaned


def tags(values: Iterable[str] | str | None) -> list[str]:
    """Tags as a list or one string, space- or comma-separated; trimmed, lower-cased, first-seen
    order; at most MAX_TAGS of at most MAX_TAG_CHARS, printable (no zero-width or bidi
    controls), no secret."""
    if values is not None and not isinstance(values, (str, list, tuple)):
        raise ValueError(
            f"tags must be a list of strings or one string, not {type(values).__name__}"
        )
    raw = [values] if isinstance(values, str) else list(values or [])
    seen: dict[str, str] = {}  # lower-cased tag -> as given (secrets are judged on that)
    for value in raw:
        if not isinstance(value, str):
            raise ValueError(f"a tag must be text, not {type(value).__name__}")
        # normalise before splitting: NFKC can turn a character into a space or a comma
        for given in re.split(r"[,\s]+", unicodedata.normalize("NFKC", value)):
            if given:
                seen.setdefault(given.lower(), given)
        if len(seen) > MAX_TAGS:
            break
    found = list(seen)
    if len(found) > MAX_TAGS:
        raise ValueError(
            f"more than {MAX_TAGS} tags given; the limit is {MAX_TAGS}: keep the few that "
            "name the skill and the topic"
        )
    for number, tag in enumerate(found, 1):
        if len(tag) > MAX_TAG_CHARS:
            raise ValueError(f"tag {number} is {len(tag)} characters; the limit is {MAX_TAG_CHARS}")
        _hidden(tag, f"tag {number}")
        if _control(tag) or not visible(tag):
            raise ValueError(f"tag {number} holds control or invisible characters")
        if tag.startswith("="):
            raise ValueError(
                f"tag {number} starts with '=': -t takes its value after a space (-t NAME), "
                "--tags after '=' (--tags=NAME)"
            )
        _encodable(tag, "a tag")
        _no_secret(seen[tag], f"tag {number}")  # named by position: never echo a secret
    return found


def days(value: float | None, what: str) -> float | None:
    """A number of days: finite, positive, at most a hundred years."""
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0 or value > MAX_DAYS:
        raise ValueError(f"{what} must be a number of days above 0 and at most {MAX_DAYS:g}")
    return float(value)


_MINUTE, _HOUR, _DAY = 60.0, 3600.0, 86400.0
# Seconds per unit of a relative age, by every spelling accepted. `m` is minutes, as in `30m`
# for half an hour: a month needs `mo` or the word, so nobody asks for 30 months by accident.
_UNIT_SECONDS = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), _MINUTE),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * _DAY),
    **dict.fromkeys(("mo", "mos", "month", "months"), 30.44 * _DAY),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 365.25 * _DAY),
}
_UNITS = "|".join(sorted(_UNIT_SECONDS, key=len, reverse=True))
_RELATIVE = re.compile(rf"(?i)^\s*(\d+(?:\.\d+)?)\s*({_UNITS})\s*(?:ago)?\s*$")
AGES = "30m, 2h, 7d, 2w, 3mo or '1 year'"  # how help texts and errors show a relative age


def moment(
    value: str | float | None, what: str, now: float | None = None, end: bool = False
) -> float | None:
    """A point in time as epoch seconds, from an ISO date or datetime (UTC unless it says
    otherwise), a relative age such as `30m`, `2h`, `7d`, `2 weeks` or `3 months ago`, or
    epoch seconds. With `end` (an --until), a date alone means the end of that day."""
    if value is None:
        return None
    now = time.time() if now is None else now
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0 or value > 1e11:
            raise ValueError(f"{what} must be a date, not {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a date such as 2026-11-30 or an age such as 7d")
    text_value = value.strip()
    if not text_value:
        raise ValueError(f"{what} is empty: give a date such as 2026-11-30 or an age such as 7d")
    if text_value.lower() in ("today", "yesterday"):
        start = datetime.fromtimestamp(now, timezone.utc).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        day = start.timestamp() - (86400 if text_value.lower() == "yesterday" else 0)
        return day + (86400 if end else 0)
    relative = _RELATIVE.match(text_value)
    if relative and relative.group(2) == "M":
        raise ValueError(
            f"{what} {text_value!r} is ambiguous: write {relative.group(1)}mo for months "
            f"or {relative.group(1)}m for minutes"
        )
    if relative:
        amount = float(relative.group(1))
        return now - amount * _UNIT_SECONDS[relative.group(2).lower()]
    try:
        parsed = datetime.fromisoformat(text_value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{what} {text_value[:40]!r} is not a date: use 2026-11-30, 2026-11-30T14:00, "
            f"or an age such as {AGES} (m is minutes, mo months)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    whole_day = end and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text_value) is not None
    return parsed.timestamp() + (86400 if whole_day else 0)  # --until 2026-12-03: all of it


def time_range(since: float | None, until: float | None) -> None:
    """A --since/--until pair that leaves room for a memory: since must come before until."""
    if since is None or until is None or since < until - 0.5:  # two reads of one "1h"
        return
    shown = [
        datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")
        for t in (since, until)
    ]
    raise ValueError(
        f"since ({shown[0]}) is not before until ({shown[1]}), so no memory can match: "
        "since is the earlier end of the range; swap the two, or drop one"
    )
