"""Durations typed by users (`90m`, `36h`, `2d`, `1w`, `1h30m`) and their friendly display."""

from __future__ import annotations

import re
from datetime import timedelta

MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=32)

DURATION_HELP = "Use a number and a unit, like 90m, 36h, 2d or 1w (1 minute to 32 days)."

_UNIT_MINUTES = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}
_PART = re.compile(r"(\d{1,6})\s*([wdhm])")
_WHOLE = re.compile(r"(?:\d{1,6}\s*[wdhm]\s*)+")


def parse_duration(text: str) -> timedelta:
    """Parse `90m`, `36h`, `2d`, `1w` or combinations such as `1h30m`, case and spaces ignored.

    Raises ValueError with a message meant for the user when the text is not a duration or
    lies outside 1 minute to 32 days.
    """
    compact = text.strip().lower()
    if not compact or _WHOLE.fullmatch(compact) is None:
        raise ValueError(DURATION_HELP)
    units_seen: set[str] = set()
    minutes = 0
    for number, unit in _PART.findall(compact):
        # "1h2h" is more likely a typo than a sum, so reject it rather than guess.
        if unit in units_seen:
            raise ValueError(DURATION_HELP)
        units_seen.add(unit)
        minutes += int(number) * _UNIT_MINUTES[unit]
    duration = timedelta(minutes=minutes)
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise ValueError(DURATION_HELP)
    return duration


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def format_duration(duration: timedelta) -> str:
    """Show a duration as words, largest units first: "2 days 3 hours", "1 hour 30 minutes".

    Seconds are dropped; anything under a minute reads "less than a minute".
    """
    total_minutes = int(duration.total_seconds()) // 60
    if total_minutes <= 0:
        return "less than a minute"
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [_plural(value, word) for value, word in ((days, "day"), (hours, "hour"), (minutes, "minute")) if value]
    return " ".join(parts)
