"""Meetings as Discord scheduled events: scheduling, reminders (exactly once), repeats, cancelling, and following
what moderators change in Discord itself, which is the source of truth for an event's time and place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from bot.app.posts import Post, PostsPort
from bot.app.reading_now import ReadingNowService, timestamp, where
from bot.clock import Clock
from bot.domain.books import Book
from bot.domain.meetings import (
    MEETING_LENGTH,
    REPEAT_LABELS,
    RepeatKind,
    local_time,
    next_occurrence,
    parse_when,
    reminder_times,
)
from bot.domain.shards import Shards
from bot.domain.text import clip, md, picked_book, truncate
from bot.errors import NotConfigured, UserError
from bot.jobs import MeetingEnd, MeetingReminder, Run, Schedules
from bot.scheduler import PermanentJobError
from bot.store import Store
from bot.store.config import GuildConfig
from bot.store.meetings import Meeting, ReminderKind

log = logging.getLogger(__name__)

# Discord's limits for a scheduled event's location, name and description.
MAX_LOCATION = 100
EVENT_NAME_LIMIT = 100
EVENT_DESCRIPTION_LIMIT = 1000
EventStatus = Literal["scheduled", "active", "completed", "cancelled"]


@dataclass(frozen=True)
class EventSpec:
    """The scheduled event Discord shows for a meeting: in a voice/stage channel, or at a place."""

    name: str
    description: str
    starts_at: datetime
    ends_at: datetime
    channel_id: int | None
    location: str | None


@dataclass(frozen=True)
class EventState:
    """An event as Discord reports it after a change (a moderator may move or end it in Discord)."""

    event_id: int
    starts_at: datetime
    ends_at: datetime | None
    channel_id: int | None
    location: str | None
    status: EventStatus


class EventsPort(Protocol):
    async def create_event(self, guild_id: int, spec: EventSpec) -> int: ...

    async def find_event(self, guild_id: int, spec: EventSpec) -> int | None:
        """The bot's event with this name and start, if an earlier run created it and stopped before recording it."""
        ...

    async def delete_event(self, guild_id: int, event_id: int) -> None:
        """Deletes the event; one already gone is fine."""
        ...

    async def interested(self, guild_id: int, event_id: int) -> list[str] | None:
        """Display names of the members marked Interested; None when the event is gone."""
        ...

    async def interest_counts(self, guild_id: int) -> dict[int, int]:
        """How many members marked each of the guild's events Interested."""
        ...


class RolesPort(Protocol):
    async def ensure_role(self, guild_id: int, role_id: int | None, name: str) -> int:
        """The role with this id if it still exists, else a new mentionable role with this name."""
        ...

    async def set_member_role(self, guild_id: int, member_id: int, role_id: int, *, on: bool) -> bool:
        """Gives or takes the role; False when the member already had (or lacked) it."""
        ...


@dataclass(frozen=True)
class NextMeeting:
    meeting: Meeting
    interested: list[str] | None


def event_name(meeting: Meeting) -> str:
    name = f"Book club: {meeting.book.title}" if meeting.book is not None else "Book club meeting"
    return truncate(name, EVENT_NAME_LIMIT)


def event_description(meeting: Meeting) -> str:
    lines = []
    if meeting.book is not None:
        lines.append(f"We discuss {meeting.book.label}" + (f", up to {meeting.section}." if meeting.section else "."))
    elif meeting.section:
        lines.append(f"We discuss the reading up to {meeting.section}.")
    if meeting.repeat != "none":
        lines.append(f"Repeats {REPEAT_LABELS[meeting.repeat]}.")
    lines.append("Mark yourself Interested; /meeting notify on for reminders.")
    return truncate("\n".join(lines), EVENT_DESCRIPTION_LIMIT)


def event_spec(meeting: Meeting) -> EventSpec:
    return EventSpec(name=event_name(meeting), description=event_description(meeting), starts_at=meeting.starts_at,
                     ends_at=meeting.ends_at, channel_id=meeting.channel_id, location=meeting.location)


def reminder_footer(meeting: Meeting, kind: ReminderKind) -> str:
    """Marks the reminder for this meeting at this start time: a re-run finds it instead of posting it again."""
    which = "the day before" if kind == "day" else "an hour before"
    return f"Meeting #{meeting.id} · reminder {which} · {int(meeting.starts_at.timestamp())}"


def reminder_post(meeting: Meeting, kind: ReminderKind, role_id: int | None, section: str | None) -> Post:
    """The reminder; `section` is the meeting's own, else the one the reading schedule says to have read by then."""
    start = timestamp(meeting.starts_at, "t")
    headline = (f"The book club meets tomorrow at {start}" if kind == "day"
                else f"The book club meets in an hour, at {start}")
    content = f"<@&{role_id}> {headline}." if role_id is not None else f"{headline}."
    lines = [f"{timestamp(meeting.starts_at)} in {where(meeting)}"]
    if meeting.book is not None:
        reading = f"**{md(meeting.book.title)}**"
        lines.append(f"We discuss {reading}" + (f": have read up to **{md(section)}**." if section else "."))
    elif section:
        lines.append(f"Have read up to **{md(section)}**.")
    title = "Meeting tomorrow" if kind == "day" else "Meeting in an hour"
    return Post(title=title, description="\n".join(lines), footer=reminder_footer(meeting, kind), content=content)


class MeetingService:
    """The meeting workflows; Discord side effects go through the ports, scheduled work through the jobs table."""

    def __init__(self, store: Store, clock: Clock, events: EventsPort, posts: PostsPort, roles: RolesPort,
                 reading_now: ReadingNowService, jobs: Schedules) -> None:
        self._store = store
        self._clock = clock
        self._events = events
        self._posts = posts
        self._roles = roles
        self._reading_now = reading_now
        self._jobs = jobs

    # -- scheduling ---------------------------------------------------------------------------------

    async def schedule(self, guild_id: int, member_id: int, *, when: str, channel_id: int | None,
                       location: str | None, book_id: int | None, section: str | None,
                       repeat: RepeatKind) -> Meeting:
        """Creates the event and the meeting, and arms its reminders; bad input changes nothing."""
        if (channel_id is None) == (location is None or not location.strip()):
            raise UserError("Give the meeting one place: a voice or stage channel, or a place or link.")
        if location is not None:
            location = " ".join(location.split())
            if len(location) > MAX_LOCATION:
                raise UserError(f"That place is {len(location)} characters long; Discord allows {MAX_LOCATION}.")
        if section is not None:
            section = " ".join(section.split())[:100] or None
        config = await self._store.config.get(guild_id)
        try:
            starts_at = parse_when(when, config.timezone, self._clock.now())
        except ValueError as error:
            raise UserError(str(error)) from None
        meeting = await self._store.meetings.create(
            guild_id, starts_at=starts_at, ends_at=starts_at + MEETING_LENGTH, timezone=config.timezone,
            channel_id=channel_id, location=location, book_id=book_id, section=section, repeat=repeat,
            created_by=member_id, now=self._clock.now(),
        )
        try:
            event_id = await self._events.create_event(guild_id, event_spec(meeting))
        except BaseException:
            await self._store.meetings.delete(guild_id, meeting.id)
            raise
        await self._store.meetings.set_event(guild_id, meeting.id, event_id)
        meeting = meeting.model_copy(update={"event_id": event_id})
        await self.arm(meeting)
        await self._reading_now.changed(guild_id)
        return meeting

    async def arm(self, meeting: Meeting) -> None:
        """Schedules the reminders still ahead and the end of the meeting; those already past are dropped."""
        now = self._clock.now()
        for kind, due in reminder_times(meeting.starts_at, meeting.timezone).items():
            reminder = MeetingReminder(meeting.id, kind, meeting.starts_at)
            if due > now:
                await self._jobs.schedule(meeting.guild_id, reminder, due)
            else:
                await self._jobs.cancel(meeting.guild_id, reminder)
        await self._jobs.schedule(meeting.guild_id, MeetingEnd(meeting.id), meeting.ends_at)

    async def disarm(self, meeting: Meeting) -> None:
        for kind in ("day", "hour"):
            await self._jobs.cancel(meeting.guild_id, MeetingReminder(meeting.id, kind))
        await self._jobs.cancel(meeting.guild_id, MeetingEnd(meeting.id))

    async def arm_all(self, shards: Shards | None = None) -> None:
        """At start-up: every scheduled meeting of the process's shards has its event and its jobs (the process may
        have died between creating the event and recording it, or between recording it and scheduling the jobs)."""
        for guild_id in await self._store.meetings.guilds_with_meetings(shards=shards):
            for meeting in await self._store.meetings.scheduled(guild_id):
                if meeting.event_id is None:
                    try:
                        event_id = await self._events.find_event(guild_id, event_spec(meeting))
                    except Exception:
                        log.exception("guild %d: could not look for meeting %d's event", guild_id, meeting.id)
                        continue
                    if event_id is None:
                        log.warning("guild %d: meeting %d never got its event; forgetting it", guild_id, meeting.id)
                        await self._store.meetings.delete(guild_id, meeting.id)
                        continue
                    await self._store.meetings.set_event(guild_id, meeting.id, event_id)
                    meeting = meeting.model_copy(update={"event_id": event_id})
                elif await self._jobs.find(guild_id, MeetingEnd(meeting.id)) is not None:
                    continue
                await self.arm(meeting)

    # -- reading ------------------------------------------------------------------------------------

    async def upcoming(self, guild_id: int) -> list[Meeting]:
        return await self._store.meetings.scheduled(guild_id)

    async def upcoming_with_interest(self, guild_id: int) -> list[tuple[Meeting, int | None]]:
        """The meetings still to come, each with how many members are Interested (None: Discord did not say)."""
        meetings = await self._store.meetings.scheduled(guild_id)
        counts = await self._events.interest_counts(guild_id) if meetings else {}
        return [(meeting, counts.get(meeting.event_id or 0)) for meeting in meetings]

    async def next(self, guild_id: int) -> NextMeeting | None:
        upcoming = await self._store.meetings.scheduled(guild_id, limit=1)
        if not upcoming:
            return None
        meeting = upcoming[0]
        interested = await self._events.interested(guild_id, meeting.event_id) if meeting.event_id else None
        return NextMeeting(meeting, interested)

    # -- cancelling ---------------------------------------------------------------------------------

    async def cancel(self, guild_id: int, meeting_id: int) -> Meeting:
        meeting = await self._store.meetings.get(guild_id, meeting_id)
        if meeting is None or meeting.status != "scheduled":
            raise UserError("That meeting is not scheduled (it may have ended or been cancelled already).")
        await self._store.meetings.set_status(guild_id, meeting.id, "cancelled")
        await self.disarm(meeting)
        if meeting.event_id is not None:
            await self._events.delete_event(guild_id, meeting.event_id)
        await self._reading_now.changed(guild_id)
        return meeting

    # -- reminders ----------------------------------------------------------------------------------

    async def run_reminder(self, run: Run[MeetingReminder]) -> datetime | None:
        """The MeetingReminder job: posts the reminder once for the meeting's start time, however often it runs."""
        kind: ReminderKind = run.job.which
        meeting = await self._store.meetings.get(run.guild_id, run.job.meeting_id)
        if meeting is None or meeting.status != "scheduled":
            return None
        if run.job.starts_at is not None and run.job.starts_at != meeting.starts_at:
            return None  # the meeting moved; its re-armed reminder is another run of this job
        if self._clock.now() >= meeting.starts_at:
            log.info("guild %d: meeting %d has started; its %s reminder is no use now", run.guild_id, meeting.id, kind)
            return None
        if await self._store.meetings.reminder(run.guild_id, meeting.id, kind, meeting.starts_at) is not None:
            return None
        config = await self._store.config.get(run.guild_id)
        channel_id = config.announcements_channel_id
        if channel_id is None:
            raise PermanentJobError("no announcements channel is configured for meeting reminders")
        posts = await self._store.meetings.club_posts(run.guild_id)
        post = reminder_post(meeting, kind, posts.reminder_role_id, meeting.section or await self._due_section(meeting))
        # Posted but not recorded (the process died in between): the earlier post is the reminder.
        message_id = await self._posts.find_post(run.guild_id, channel_id, post.footer,
                                                 run.due_at - timedelta(minutes=1))
        if message_id is None:
            message_id = await self._posts.post(run.guild_id, channel_id, post, ping_role_id=posts.reminder_role_id)
        await self._store.meetings.record_reminder(run.guild_id, meeting.id, kind, meeting.starts_at, channel_id,
                                                   message_id, self._clock.now())
        return None

    async def _due_section(self, meeting: Meeting) -> str | None:
        """The section the book's reading schedule (`/discuss start … dates:`) says to have read by the meeting's
        day, when the meeting names none of its own."""
        if meeting.book is None:
            return None
        discussion = await self._store.discussions.for_book(meeting.guild_id, meeting.book.id)
        if discussion is None or discussion.ended:
            return None
        due = discussion.section_due_by(meeting.starts_at.astimezone(ZoneInfo(meeting.timezone)).date())
        return due.name if due else None

    # -- the end of a meeting, and the next of a series ------------------------------------------------

    async def run_end(self, run: Run[MeetingEnd]) -> datetime | None:
        """The MeetingEnd job: the meeting is over; a repeating one gets its next occurrence, once."""
        meeting = await self._store.meetings.get(run.guild_id, run.job.meeting_id)
        if meeting is None or meeting.status == "cancelled":
            return None
        if meeting.status == "scheduled":
            await self._store.meetings.set_status(run.guild_id, meeting.id, "ended")
        following = next_occurrence(meeting.starts_at, meeting.timezone, meeting.repeat)
        if following is not None:
            await self._repeat(meeting, following)
        await self._reading_now.changed(run.guild_id)
        return None

    async def _repeat(self, meeting: Meeting, starts_at: datetime) -> Meeting:
        store = self._store.meetings
        now = self._clock.now()
        # A series that missed occurrences (the bot was down) resumes at the first one still ahead.
        while starts_at <= now:
            starts_at = next_occurrence(starts_at, meeting.timezone, meeting.repeat) or starts_at
        following = await store.create(
            meeting.guild_id, starts_at=starts_at, ends_at=starts_at + (meeting.ends_at - meeting.starts_at),
            timezone=meeting.timezone, channel_id=meeting.channel_id, location=meeting.location,
            book_id=meeting.book.id if meeting.book else None, section=meeting.section, repeat=meeting.repeat,
            created_by=meeting.created_by, now=now, previous_id=meeting.id,
        )
        if following.event_id is None:
            spec = event_spec(following)
            event_id = await self._events.find_event(meeting.guild_id, spec)
            if event_id is None:
                event_id = await self._events.create_event(meeting.guild_id, spec)
            await store.set_event(meeting.guild_id, following.id, event_id)
            following = following.model_copy(update={"event_id": event_id})
            log.info("guild %d: meeting %d repeats as meeting %d on %s", meeting.guild_id, meeting.id, following.id,
                     local_time(starts_at, meeting.timezone))
        await self.arm(following)
        return following

    # -- what moderators change in Discord ---------------------------------------------------------------

    async def event_changed(self, guild_id: int, state: EventState) -> None:
        meeting = await self._store.meetings.by_event(guild_id, state.event_id)
        if meeting is None or meeting.status != "scheduled":
            return
        if state.status == "cancelled":
            await self._cancelled_in_discord(meeting)
            return
        if state.status == "completed":
            await self._jobs.schedule(guild_id, MeetingEnd(meeting.id), self._clock.now())
            return
        ends_at = state.ends_at or state.starts_at + (meeting.ends_at - meeting.starts_at)
        moved = (state.starts_at, ends_at, state.channel_id, state.location) != (
            meeting.starts_at, meeting.ends_at, meeting.channel_id, meeting.location)
        if not moved:
            return
        await self._store.meetings.move(guild_id, meeting.id, starts_at=state.starts_at, ends_at=ends_at,
                                        channel_id=state.channel_id, location=state.location)
        log.info("guild %d: meeting %d was moved in Discord to %s", guild_id, meeting.id, state.starts_at)
        moved_meeting = await self._store.meetings.get(guild_id, meeting.id)
        if moved_meeting is not None:
            await self.arm(moved_meeting)
        await self._reading_now.changed(guild_id)

    async def event_deleted(self, guild_id: int, event_id: int) -> None:
        meeting = await self._store.meetings.by_event(guild_id, event_id)
        if meeting is not None and meeting.status == "scheduled":
            await self._cancelled_in_discord(meeting)

    async def _cancelled_in_discord(self, meeting: Meeting) -> None:
        log.info("guild %d: meeting %d was cancelled in Discord", meeting.guild_id, meeting.id)
        await self._store.meetings.set_status(meeting.guild_id, meeting.id, "cancelled")
        await self.disarm(meeting)
        await self._reading_now.changed(meeting.guild_id)

    # -- the opt-in reminder role ---------------------------------------------------------------------

    async def notify(self, guild_id: int, member_id: int, *, on: bool, role_name: str) -> tuple[int, bool]:
        """Gives or takes the reminder role (created at the first `on`); (role id, whether anything changed)."""
        posts = await self._store.meetings.club_posts(guild_id)
        if not on and posts.reminder_role_id is None:
            return 0, False
        role_id = await self._roles.ensure_role(guild_id, posts.reminder_role_id, role_name)
        if role_id != posts.reminder_role_id:
            await self._store.meetings.set_reminder_role(guild_id, role_id)
        return role_id, await self._roles.set_member_role(guild_id, member_id, role_id, on=on)

    # -- books and settings the commands need ------------------------------------------------------------

    async def club_books(self, guild_id: int, text: str) -> list[Book]:
        """For autocomplete: the club's reads (current, planned or finished) matching the text."""
        statuses = await self._store.history.read_statuses(guild_id)
        return [book for book in await self._store.books.suggest(guild_id, text, limit=200)
                if book.id in statuses][:25]

    async def resolve_book(self, guild_id: int, text: str) -> Book:
        """The club read an autocomplete pick or a typed title means."""
        statuses = await self._store.history.read_statuses(guild_id)
        book_id = picked_book(text)
        if book_id and book_id in statuses:
            book = await self._store.books.get(guild_id, book_id)
            if book is not None:
                return book
        wanted = " ".join(text.split()).casefold()
        matches = [book for book in await self._store.books.suggest(guild_id, text, limit=200)
                   if book.id in statuses]
        exact = [book for book in matches if book.title.casefold() == wanted]
        if exact or len(matches) == 1:
            return (exact or matches)[0]
        raise UserError(f"No club read is called “{md(clip(text, 100))}”; pick one from the list "
                        "(moderators add reads with `/club add`). Nothing was scheduled.")

    async def settings(self, guild_id: int) -> GuildConfig:
        return await self._store.config.get(guild_id)

    async def announcements_channel(self, guild_id: int) -> int:
        config = await self._store.config.get(guild_id)
        if config.announcements_channel_id is None:
            raise NotConfigured("Choose an announcements channel first with `/config channels announcements:`.")
        return config.announcements_channel_id
