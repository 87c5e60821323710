"""Meeting times in a club's time zone: parsing `when`, repeats that keep the wall-clock time, reminder times."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

RepeatKind = Literal["none", "weekly", "biweekly", "monthly"]
REPEAT_LABELS: dict[str, str] = {
    "none": "does not repeat",
    "weekly": "weekly",
    "biweekly": "every 2 weeks",
    "monthly": "monthly",
}
# A meeting's scheduled end, which Discord needs for a meeting at a place and which ends each occurrence.
MEETING_LENGTH = timedelta(hours=2)
HOUR_BEFORE = timedelta(hours=1)

_WHEN = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})$")


class WhenError(ValueError):
    """A `when` that is malformed, in the past, or does not exist on the club's clock; the message says which."""


def resolve(local: datetime, timezone: str) -> datetime:
    """A naive wall-clock time in the zone as a UTC instant; the first of two at a fall-back, later in a gap."""
    return local.replace(tzinfo=ZoneInfo(timezone), fold=0).astimezone(UTC)


def exists(local: datetime, timezone: str) -> bool:
    """Whether the clocks in the zone ever show this time (not in a spring-forward gap)."""
    zone = ZoneInfo(timezone)
    return resolve(local, timezone).astimezone(zone).replace(tzinfo=None) == local


def local_time(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def parse_when(text: str, timezone: str, now: datetime) -> datetime:
    """`YYYY-MM-DD HH:MM` on the club's clock as a UTC instant after `now`."""
    found = _WHEN.match(" ".join(text.split()))
    if found is None:
        raise WhenError("`when` must look like 2026-03-26 19:30 (year-month-day hour:minute).")
    year, month, day, hour, minute = (int(part) for part in found.groups())
    try:
        local = datetime(year, month, day, hour, minute)
    except ValueError:
        raise WhenError(f"{text.strip()} is not a real date and time.") from None
    if not exists(local, timezone):
        raise WhenError(f"{local:%Y-%m-%d %H:%M} does not exist in {timezone}: the clocks skip that hour. "
                        "Pick a time an hour later.")
    moment = resolve(local, timezone)
    if moment <= now:
        raise WhenError(f"{local:%Y-%m-%d %H:%M} ({timezone}) has already passed.")
    return moment


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def next_occurrence(starts_at: datetime, timezone: str, repeat: RepeatKind) -> datetime | None:
    """The next meeting of a series at the same wall-clock time in the club's zone, across DST changes."""
    local = local_time(starts_at, timezone).replace(tzinfo=None)
    if repeat == "weekly":
        following = local + timedelta(days=7)
    elif repeat == "biweekly":
        following = local + timedelta(days=14)
    elif repeat == "monthly":
        following = datetime.combine(add_months(local.date(), 1), local.time())
    else:
        return None
    return resolve(following, timezone)


def day_before(starts_at: datetime, timezone: str) -> datetime:
    """The same wall-clock time on the previous day: 19:00 the evening before a 19:00 meeting, DST or not."""
    local = local_time(starts_at, timezone).replace(tzinfo=None)
    return resolve(local - timedelta(days=1), timezone)


def reminder_times(starts_at: datetime, timezone: str) -> dict[Literal["day", "hour"], datetime]:
    """When each reminder is due: the day before on the club's clock, and one real hour before."""
    return {"day": day_before(starts_at, timezone), "hour": starts_at - HOUR_BEFORE}
