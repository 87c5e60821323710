"""Meeting times on the club's clock: `when`, repeats and reminders across DST changes, and meeting questions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.meeting_answers import MeetingFacts, MeetingQuestion, answer_meeting, meeting_question
from bot.domain.meetings import WhenError, local_time, next_occurrence, parse_when, reminder_times

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"


def test_when_is_read_on_the_club_clock() -> None:
    assert parse_when("2026-03-26 19:30", BERLIN, NOW) == datetime(2026, 3, 26, 18, 30, tzinfo=UTC)
    assert parse_when(" 2026-04-02   19:30 ", BERLIN, NOW) == datetime(2026, 4, 2, 17, 30, tzinfo=UTC)
    assert parse_when("2026-03-26 19:30", "UTC", NOW) == datetime(2026, 3, 26, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(("text", "says"), [
    ("26/03/2026 19:30", "must look like"),
    ("2026-02-30 19:00", "not a real date"),
    ("2026-03-01 19:00", "already passed"),
    ("2026-03-29 02:30", "does not exist"),
])
def test_bad_when_says_why(text: str, says: str) -> None:
    with pytest.raises(WhenError, match=says):
        parse_when(text, BERLIN, NOW)


def test_repeats_keep_the_wall_clock_time_across_dst() -> None:
    first = datetime(2026, 3, 26, 18, 0, tzinfo=UTC)  # Thursday 19:00 in Berlin, winter time
    weekly = next_occurrence(first, BERLIN, "weekly")
    assert weekly == datetime(2026, 4, 2, 17, 0, tzinfo=UTC)
    assert weekly is not None
    assert local_time(weekly, BERLIN).hour == 19
    assert next_occurrence(first, BERLIN, "biweekly") == datetime(2026, 4, 9, 17, 0, tzinfo=UTC)
    assert next_occurrence(datetime(2026, 1, 31, 18, 0, tzinfo=UTC), BERLIN, "monthly") == datetime(
        2026, 2, 28, 18, 0, tzinfo=UTC)
    assert next_occurrence(first, BERLIN, "none") is None


def test_the_day_before_is_on_the_club_clock_and_the_hour_before_is_a_real_hour() -> None:
    meeting = datetime(2026, 3, 30, 17, 0, tzinfo=UTC)  # Monday 19:00 in Berlin, the day after clocks go forward
    times = reminder_times(meeting, BERLIN)
    assert times["day"] == datetime(2026, 3, 29, 17, 0, tzinfo=UTC)  # Sunday 19:00 Berlin: 23 real hours before
    assert times["hour"] == datetime(2026, 3, 30, 16, 0, tzinfo=UTC)


TODAY = date(2026, 3, 2)  # a Monday


@pytest.mark.parametrize(("question", "expected"), [
    ("When is the next meeting?", MeetingQuestion(None)),
    ("when do we meet", MeetingQuestion(None)),
    ("What do we discuss on Thursday?", MeetingQuestion(date(2026, 3, 5))),
    ("what are we talking about tomorrow", MeetingQuestion(date(2026, 3, 3))),
    ("Is there a meeting on Monday?", MeetingQuestion(date(2026, 3, 2))),
    ("have you read any other Ishiguro?", None),
    ("what did we read in March?", None),
    ("what should I read next?", None),
    ("have we read The Call of the Wild? what is next on the list", None),
])
def test_meeting_questions_are_recognised(question: str, expected: MeetingQuestion | None) -> None:
    assert meeting_question(question, TODAY) == expected


def test_answers_name_the_time_place_book_and_section() -> None:
    thursday = MeetingFacts(local_time(datetime(2026, 3, 5, 18, 0, tzinfo=UTC), BERLIN), "Library",
                            "Piranesi by Susanna Clarke", "Part 2")
    assert answer_meeting(MeetingQuestion(None), [thursday]) == (
        "The next meeting is Thursday 5 March 2026 at 19:00 (CET) in Library: **Piranesi by Susanna Clarke**, "
        "up to Part 2.")
    assert answer_meeting(MeetingQuestion(date(2026, 3, 5)), [thursday]) == (
        "On Thursday 5 March we meet at 19:00 (CET) in Library: **Piranesi by Susanna Clarke**, up to Part 2.")
    assert answer_meeting(MeetingQuestion(date(2026, 3, 4)), [thursday]).startswith(
        "There is no meeting on Wednesday 4 March. The next one after that is Thursday 5 March")
    assert "No meeting is scheduled" in answer_meeting(MeetingQuestion(None), [])
