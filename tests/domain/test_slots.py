"""Weekly review slots: the times moderators type, the zones they pick, and when the slot fires."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.slots import (
    COMMON_TIMEZONES,
    WEEKDAYS,
    is_valid_timezone,
    next_slot,
    parse_hhmm,
    timezone_choices,
)

SUNDAY = 6
THURSDAY = 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00", time(18, 0)),
        ("7:05", time(7, 5)),
        ("07:05", time(7, 5)),
        ("0:00", time(0, 0)),
        (" 23:59 ", time(23, 59)),
    ],
)
def test_parse_hhmm_accepts_24_hour_times(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", ["25:99", "24:00", "18:60", "18.00", "six", "", "18", "1800", "18:0", "6pm", "-1:00"])
def test_parse_hhmm_rejects_with_an_example_of_the_right_form(text: str) -> None:
    with pytest.raises(ValueError, match="like 18:00 or 7:05"):
        parse_hhmm(text)


def test_out_of_range_time_says_why() -> None:
    with pytest.raises(ValueError, match="hours 0–23, minutes 00–59"):
        parse_hhmm("25:99")


def test_weekdays_run_monday_to_sunday_like_datetime() -> None:
    assert WEEKDAYS[0] == "Monday"
    assert WEEKDAYS[6] == "Sunday"
    assert WEEKDAYS[date(2025, 6, 5).weekday()] == "Thursday"


def test_timezone_validity_is_exact() -> None:
    assert is_valid_timezone("Europe/London")
    assert is_valid_timezone("UTC")
    assert not is_valid_timezone("europe/london")
    assert not is_valid_timezone("Europe/Londn")
    assert not is_valid_timezone("")
    assert not is_valid_timezone("../../etc/passwd")


def test_empty_query_offers_common_zones_first() -> None:
    choices = timezone_choices("")
    assert choices[:3] == ["UTC", "Europe/London", "Europe/Dublin"]
    assert len(choices) == 25
    assert all(is_valid_timezone(name) for name in COMMON_TIMEZONES)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("lon", "Europe/London"),
        ("London", "Europe/London"),
        ("europe/lon", "Europe/London"),
        ("new y", "America/New_York"),
        ("york", "America/New_York"),
        ("Europe/Lodnon", "Europe/London"),
        ("tokio", "Asia/Tokyo"),
        ("utc", "UTC"),
    ],
)
def test_autocomplete_finds_the_zone_first(query: str, first: str) -> None:
    assert timezone_choices(query)[0] == first


def test_autocomplete_respects_the_limit_and_only_offers_real_zones() -> None:
    choices = timezone_choices("america", limit=10)
    assert len(choices) == 10
    assert all(name.startswith("America/") for name in choices)
    assert all(is_valid_timezone(name) for name in timezone_choices("e"))


def test_autocomplete_offers_nothing_for_nonsense() -> None:
    assert timezone_choices("qqqqzzzz") == []


def test_autocomplete_results_cannot_be_corrupted_by_the_caller() -> None:
    timezone_choices("paris").clear()
    assert timezone_choices("paris") == ["Europe/Paris"]


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_slot_later_the_same_day() -> None:
    # Thursday 5 June 2025, 10:00 UTC; London is on BST (UTC+1).
    assert next_slot(_utc(2025, 6, 5, 10), THURSDAY, time(18, 0), "Europe/London") == _utc(2025, 6, 5, 17)


def test_slot_already_passed_today_moves_to_next_week() -> None:
    assert next_slot(_utc(2025, 6, 5, 18), THURSDAY, time(18, 0), "Europe/London") == _utc(2025, 6, 12, 17)


def test_result_is_strictly_after() -> None:
    assert next_slot(_utc(2025, 6, 5, 17), THURSDAY, time(18, 0), "Europe/London") == _utc(2025, 6, 12, 17)


def test_after_may_be_given_in_any_zone() -> None:
    after = datetime(2025, 6, 5, 11, tzinfo=ZoneInfo("Europe/London"))
    assert next_slot(after, THURSDAY, time(18, 0), "Europe/London") == _utc(2025, 6, 5, 17)


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_slot(datetime(2025, 6, 5, 10), THURSDAY, time(18, 0), "UTC")


def test_bad_weekday_is_refused() -> None:
    with pytest.raises(ValueError, match="weekday"):
        next_slot(_utc(2025, 6, 5), 7, time(18, 0), "UTC")


def test_keeps_local_time_across_the_autumn_change() -> None:
    # Clocks go back in London on Sunday 26 October 2025.
    first = next_slot(_utc(2025, 10, 20), THURSDAY, time(18, 0), "Europe/London")
    second = next_slot(first, THURSDAY, time(18, 0), "Europe/London")
    assert first == _utc(2025, 10, 23, 17)
    assert second == _utc(2025, 10, 30, 18)


def test_keeps_local_time_across_the_spring_change() -> None:
    # Clocks go forward in London on Sunday 30 March 2025.
    first = next_slot(_utc(2025, 3, 24), THURSDAY, time(18, 0), "Europe/London")
    second = next_slot(first, THURSDAY, time(18, 0), "Europe/London")
    assert first == _utc(2025, 3, 27, 18)
    assert second == _utc(2025, 4, 3, 17)


def test_slot_in_the_spring_gap_fires_when_the_gap_ends() -> None:
    # London skips 01:00–02:00 on 30 March 2025: 01:30 never happens, so fire at 02:00 BST.
    assert next_slot(_utc(2025, 3, 29, 12), SUNDAY, time(1, 30), "Europe/London") == _utc(2025, 3, 30, 1)
    # Berlin skips 02:00–03:00 the same night: 02:30 fires at 03:00 CEST.
    assert next_slot(_utc(2025, 3, 29, 12), SUNDAY, time(2, 30), "Europe/Berlin") == _utc(2025, 3, 30, 1)
    # New York skips 02:00–03:00 on 9 March 2025.
    assert next_slot(_utc(2025, 3, 8, 12), SUNDAY, time(2, 30), "America/New_York") == _utc(2025, 3, 9, 7)


def test_half_past_two_in_london_exists_on_the_change_day() -> None:
    assert next_slot(_utc(2025, 3, 29, 12), SUNDAY, time(2, 30), "Europe/London") == _utc(2025, 3, 30, 1, 30)


def test_gap_slot_returns_to_normal_the_week_after() -> None:
    gap_day = next_slot(_utc(2025, 3, 29, 12), SUNDAY, time(1, 30), "Europe/London")
    assert next_slot(gap_day, SUNDAY, time(1, 30), "Europe/London") == _utc(2025, 4, 6, 0, 30)


def test_ambiguous_autumn_time_fires_once_at_the_first_occurrence() -> None:
    # London repeats 01:00–02:00 on 26 October 2025: 01:30 BST (00:30 UTC), then 01:30 GMT (01:30 UTC).
    first = next_slot(_utc(2025, 10, 25, 12), SUNDAY, time(1, 30), "Europe/London")
    assert first == _utc(2025, 10, 26, 0, 30)
    assert next_slot(first, SUNDAY, time(1, 30), "Europe/London") == _utc(2025, 11, 2, 1, 30)


def test_skipped_calendar_day_fires_at_the_start_of_the_next() -> None:
    # Samoa skipped Friday 30 December 2011 entirely, jumping from UTC-10 to UTC+14.
    fired = next_slot(_utc(2011, 12, 29, 12), 4, time(18, 0), "Pacific/Apia")
    assert fired == _utc(2011, 12, 30, 10)
    assert fired.astimezone(ZoneInfo("Pacific/Apia")) == datetime(2011, 12, 31, tzinfo=ZoneInfo("Pacific/Apia"))


def _local_time_exists(day: date, at: time, zone: ZoneInfo) -> bool:
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)


_MAINSTREAM_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
]
_instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC))
_times = st.times().map(lambda moment: moment.replace(microsecond=0))


def _assert_lands_on_the_slot(after: datetime, fired: datetime, weekday: int, at: time, zone: ZoneInfo) -> None:
    assert fired > after
    assert fired.tzinfo is UTC
    local = fired.astimezone(zone)
    if local.time() == at:
        assert local.weekday() == weekday
    else:
        # Only a wall time the clocks skipped may fire elsewhere, and then right at the gap's end.
        skipped_day = local.date() if local.time() > at else local.date() - timedelta(days=1)
        assert not _local_time_exists(skipped_day, at, zone)
        assert skipped_day.weekday() == weekday
        assert (fired - timedelta(seconds=1)).astimezone(zone).utcoffset() != local.utcoffset()


@settings(deadline=None, max_examples=300)
@given(
    after=_instants,
    weekday=st.integers(min_value=0, max_value=6),
    at=_times,
    tz=st.sampled_from(_MAINSTREAM_ZONES),
)
def test_property_next_slot_in_common_zones(after: datetime, weekday: int, at: time, tz: str) -> None:
    zone = ZoneInfo(tz)
    fired = next_slot(after, weekday, at, tz)
    assert fired - after <= timedelta(days=7, hours=1)
    _assert_lands_on_the_slot(after, fired, weekday, at, zone)


@settings(deadline=None, max_examples=300)
@given(
    after=_instants,
    weekday=st.integers(min_value=0, max_value=6),
    at=_times,
    tz=st.sampled_from(sorted(name for name in available_timezones() if name not in {"Factory", "localtime"})),
)
def test_property_next_slot_in_every_zone(after: datetime, weekday: int, at: time, tz: str) -> None:
    zone = ZoneInfo(tz)
    fired = next_slot(after, weekday, at, tz)
    # Some zones have moved their clocks by more than an hour at once (Samoa by a whole day).
    assert fired - after <= timedelta(days=8)
    _assert_lands_on_the_slot(after, fired, weekday, at, zone)
