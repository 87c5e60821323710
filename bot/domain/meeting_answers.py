"""Questions about meetings ("when is the next meeting?", "what do we discuss on Thursday?") and their answers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.text import md

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAY_NAMES) + r")s?\b")
_RELATIVE = re.compile(r"\b(today|tonight|tomorrow)\b")
_MEETING = re.compile(r"\b(meeting|meetings|meetup|meet|meets)\b")
_DISCUSS = re.compile(r"\b(discuss|discussing|discussed|talk|talking|cover|covering|read for|reading for)\b")
_WHEN = re.compile(r"\b(when|what time|next|upcoming|schedule|scheduled)\b")


@dataclass(frozen=True)
class MeetingQuestion:
    """A question about meetings: the next one, or the one on a given day of the club's calendar."""

    day: date | None = None


@dataclass(frozen=True)
class MeetingFacts:
    """What a member should know about one meeting, already in the club's time zone."""

    starts_at: datetime
    where: str
    book: str | None
    section: str | None


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in folded if not unicodedata.combining(char))


def meeting_question(text: str, today: date) -> MeetingQuestion | None:
    """The meeting a question asks about, or None when it is not about meetings (other answers take it)."""
    plain = _plain(text)
    about_meeting = _MEETING.search(plain) is not None
    about_discussion = _DISCUSS.search(plain) is not None
    weekday = _WEEKDAY.search(plain)
    relative = _RELATIVE.search(plain)
    day: date | None = None
    if weekday is not None:
        ahead = (WEEKDAY_NAMES.index(weekday.group(1)) - today.weekday()) % 7
        day = today + timedelta(days=ahead)
    elif relative is not None:
        day = today + timedelta(days=1 if relative.group(1) == "tomorrow" else 0)
    if about_meeting and (_WHEN.search(plain) or day is not None):
        return MeetingQuestion(day)
    if about_discussion and day is not None:
        return MeetingQuestion(day)
    return None


def describe(facts: MeetingFacts) -> str:
    """"Thursday 26 March 2026 at 19:30 in #voice: **Piranesi**, up to Part 2"."""
    line = f"{facts.starts_at:%A} {facts.starts_at.day} {facts.starts_at:%B %Y at %H:%M} ({facts.starts_at.tzname()}) "
    line += f"in {facts.where}"
    if facts.book:
        line += f": **{md(facts.book)}**"
        if facts.section:
            line += f", up to {md(facts.section)}"
    elif facts.section:
        line += f": up to {md(facts.section)}"
    return line


def answer_meeting(question: MeetingQuestion, meetings: list[MeetingFacts]) -> str:
    """The answer from the club's scheduled meetings, soonest first."""
    if question.day is None:
        if not meetings:
            return "No meeting is scheduled; moderators schedule one with `/meeting schedule`."
        first = meetings[0]
        text = f"The next meeting is {describe(first)}."
        if first.book and not first.section:
            text += f" Bring your thoughts on **{md(first.book)}**."
        return text
    on_day = [facts for facts in meetings if facts.starts_at.date() == question.day]
    named = f"{question.day:%A} {question.day.day} {question.day:%B}"
    if not on_day:
        later = [facts for facts in meetings if facts.starts_at.date() > question.day]
        text = f"There is no meeting on {named}."
        return text + (f" The next one after that is {describe(later[0])}." if later else "")
    lines = []
    for facts in on_day:
        line = f"On {named} we meet at {describe(facts).split(' at ', 1)[1]}"
        lines.append(line + ("." if facts.book or facts.section else "; no book is set for it."))
    return "\n".join(lines)
