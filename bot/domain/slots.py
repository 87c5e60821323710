"""Weekly slots in a guild's IANA time zone: parsing `HH:MM`, time-zone choices, and the next firing instant."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from rapidfuzz import fuzz, process

from bot.domain.text import truncate

WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

HHMM_HELP = "Use a 24-hour time like 18:00 or 7:05."

# Offered first when the user has typed nothing yet: the zones most club members live in.
COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Africa/Johannesburg",
)

_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_ZONE_WORDS = re.compile(r"[/_-]")
# Present in some tz databases but not places anyone lives in.
_NOT_PLACES = frozenset({"Factory", "localtime"})


def parse_hhmm(text: str) -> time:
    """Parse a 24-hour `HH:MM` wall-clock time such as `18:00` or `7:05`.

    Raises ValueError with a message for the user on anything else (`25:99`, `18.00`, `six`).
    """
    cleaned = text.strip()
    found = _HHMM.fullmatch(cleaned)
    if found is None:
        shown = truncate(cleaned, 20)
        raise ValueError(f"“{shown}” is not a time. {HHMM_HELP}")
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"{cleaned} is not on a 24-hour clock (hours 0–23, minutes 00–59). {HHMM_HELP}")
    return time(hour, minute)


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(name for name in available_timezones() if name not in _NOT_PLACES))


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(_zone_names())


@cache
def _folded_zone_names() -> tuple[tuple[str, str], ...]:
    return tuple((name, name.casefold()) for name in _zone_names())


def _fold_zone_text(text: str) -> str:
    return "_".join(text.strip().split()).casefold()


def is_valid_timezone(name: str) -> bool:
    """Whether `name` is exactly an IANA zone name this machine knows (as stored in settings)."""
    return name in _zone_set()


def _commonness(name: str) -> tuple[int, str]:
    try:
        return (COMMON_TIMEZONES.index(name), name)
    except ValueError:
        return (len(COMMON_TIMEZONES), name)


def timezone_choices(query: str, limit: int = 25) -> list[str]:
    """Zone names for autocomplete: common zones for an empty query, else prefix, substring and fuzzy hits.

    Prefixes count on the full name and on each word of it, so "lon" offers Europe/London and
    "york" offers America/New_York; a typo ("Europe/Lodnon") still finds the zone by fuzzy matching.
    Within each tier the common zones come first.
    """
    return list(_ranked_zones(_fold_zone_text(query), limit)[:limit])


# Autocomplete asks again on every keystroke, often with the same prefix.
@lru_cache(maxsize=1024)
def _ranked_zones(folded: str, limit: int) -> tuple[str, ...]:
    if not folded:
        return COMMON_TIMEZONES
    folded_names = _folded_zone_names()
    tiers: list[list[str]] = [
        [name for name, low in folded_names if low == folded],
        [name for name, low in folded_names if low.startswith(folded)],
        [name for name, low in folded_names if any(word.startswith(folded) for word in _ZONE_WORDS.split(low))],
        [name for name, low in folded_names if folded in low],
    ]
    ranked = list(dict.fromkeys(name for tier in tiers for name in sorted(tier, key=_commonness)))
    if len(ranked) < limit and len(folded) >= 3:
        # Whole names catch "europe/lodnon"; city names alone catch "tokio", which is too short
        # a part of "asia/tokyo" to score well against the whole.
        scored: dict[int, float] = {}
        for choices, scorer in (([low for _, low in folded_names], fuzz.WRatio), (_cities(), fuzz.ratio)):
            for _, score, index in process.extract(folded, choices, scorer=scorer, score_cutoff=75, limit=limit):
                scored[index] = max(score, scored.get(index, 0.0))
        best_first = sorted(scored, key=lambda index: (-scored[index], folded_names[index][0]))
        ranked = list(dict.fromkeys([*ranked, *(folded_names[index][0] for index in best_first)]))
    return tuple(ranked)


@cache
def _cities() -> tuple[str, ...]:
    return tuple(low.rsplit("/", 1)[-1] for _, low in _folded_zone_names())


def _resolve_wall_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the clock in `zone` reads `at` on `day`.

    An ambiguous time (clocks going back) resolves to its first occurrence; a time that the
    clocks skip resolves to the first instant after the gap, so the slot is late, never lost.
    """
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of two occurrences
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # Inside a gap: fold=1 applies the offset after the change, fold=0 the one before, so the
    # transition lies between the two readings; find it to the second.
    low = local.replace(fold=1).astimezone(UTC)
    high = instant
    after_offset = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def next_slot(after: datetime, weekday: int, at: time, tz: str) -> datetime:
    """The next UTC instant strictly after `after` when the wall clock in `tz` reads `at` on `weekday` (0 = Monday).

    `after` must be timezone-aware. DST-safe: the slot keeps its local time across clock
    changes, fires once on the day clocks go back, and right after the gap on the day they
    go forward.
    """
    if after.tzinfo is None:
        raise ValueError("next_slot needs an aware datetime")
    if not 0 <= weekday <= 6:
        raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
    zone = ZoneInfo(tz)
    after_utc = after.astimezone(UTC)
    local_day = after_utc.astimezone(zone).date()
    at_wall = at.replace(tzinfo=None, fold=0)
    # Start a day early: a skipped time on yesterday's date can resolve to an instant today.
    for offset in range(-1, 9):
        day = local_day + timedelta(days=offset)
        if day.weekday() != weekday:
            continue
        candidate = _resolve_wall_time(day, at_wall, zone)
        if candidate > after_utc:
            return candidate
    raise AssertionError("a weekly slot always falls within the next eight days")
