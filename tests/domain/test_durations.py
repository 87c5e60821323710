"""Durations as moderators type them for `/poll start closes_in`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.durations import DURATION_HELP, MAX_DURATION, MIN_DURATION, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("36h", timedelta(hours=36)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1m", timedelta(minutes=1)),
        ("32d", timedelta(days=32)),
        (" 2D ", timedelta(days=2)),
        ("90 m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("1W2D", timedelta(days=9)),
    ],
)
def test_accepts_the_documented_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "90", "m", "2 days", "1.5h", "-5m", "0m", "33d", "5w", "1h1h", "3x", "abc", "1d 2", "99999999m"],
)
def test_rejects_everything_else_with_a_helpful_message(text: str) -> None:
    with pytest.raises(ValueError, match="like 90m, 36h, 2d or 1w") as excinfo:
        parse_duration(text)
    assert str(excinfo.value) == DURATION_HELP


@pytest.mark.parametrize(
    ("duration", "shown"),
    [
        (timedelta(days=2, hours=3), "2 days 3 hours"),
        (timedelta(minutes=90), "1 hour 30 minutes"),
        (timedelta(days=1), "1 day"),
        (timedelta(weeks=1), "7 days"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(days=1, minutes=5), "1 day 5 minutes"),
        (timedelta(seconds=30), "less than a minute"),
    ],
)
def test_format_reads_like_english(duration: timedelta, shown: str) -> None:
    assert format_duration(duration) == shown


@settings(deadline=None, max_examples=200)
@given(st.integers(min_value=1, max_value=32 * 24 * 60))
def test_any_minute_count_in_range_round_trips(minutes: int) -> None:
    duration = timedelta(minutes=minutes)
    assert parse_duration(f"{minutes}m") == duration
    assert MIN_DURATION <= duration <= MAX_DURATION
    assert format_duration(duration)[0].isdigit()


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=12))
def test_free_text_either_parses_in_range_or_raises_value_error(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValueError as error:
        assert str(error) == DURATION_HELP
    else:
        assert MIN_DURATION <= duration <= MAX_DURATION
