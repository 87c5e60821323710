"""The "Reading now" message: the current read, its sections, the next meeting and review slot, pinned and kept
up to date by editing it in place (a new one is posted and pinned only when the old one was deleted)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.app.posts import Post, PostsPort
from bot.clock import Clock
from bot.domain.slots import WEEKDAYS, next_slot, parse_hhmm
from bot.domain.text import md
from bot.jobs import ReadingNow, Run, Schedules
from bot.store import Store
from bot.store.discussions import SectionThread
from bot.store.meetings import Meeting

log = logging.getLogger(__name__)

READING_NOW_FOOTER = "Reading now · kept up to date by the bot"
# How far back a re-run looks for a "Reading now" message it posted but did not get to record.
FIND_WINDOW = timedelta(hours=1)


def timestamp(moment: datetime, style: str = "F") -> str:
    """A Discord timestamp: every member sees it in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def where(meeting: Meeting) -> str:
    if meeting.channel_id is not None:
        return f"<#{meeting.channel_id}>"
    return md(meeting.location or "a place to be announced")


def section_line(number: int, section: SectionThread) -> str:
    line = f"{number}. {md(section.name)} <#{section.thread_id}>"
    target = section.target_date
    return line + (f" · read by {target.day} {target:%B}" if target else "")


class ReadingNowChanges:
    """What every feature that changes something the message shows calls (a read started, a meeting moved, the
    review slot set); needs no Discord, so any use case can hold it."""

    def __init__(self, store: Store, clock: Clock, jobs: Schedules) -> None:
        self._store = store
        self._clock = clock
        self._jobs = jobs

    async def changed(self, guild_id: int) -> None:
        """Something the message shows changed: its refresh runs as a job, one at a time per guild, retried."""
        posts = await self._store.meetings.club_posts(guild_id)
        if posts.reading_now_message_id is None:
            return
        await self._jobs.schedule(guild_id, ReadingNow(), self._clock.now())


class ReadingNowService:
    """Renders the message and keeps the one pinned copy per guild current."""

    def __init__(self, store: Store, clock: Clock, posts: PostsPort, jobs: Schedules) -> None:
        self._store = store
        self._clock = clock
        self._posts = posts
        self._changes = ReadingNowChanges(store, clock, jobs)

    async def render(self, guild_id: int) -> Post:
        history = self._store.history
        reading = await history.reads(guild_id, status="reading", limit=3)
        fields: list[tuple[str, str]] = []
        thumbnail = None
        if reading:
            description = "\n".join(
                f"**{md(read.book.title)}**" + (f" by {md(read.book.author)}" if read.book.author else "")
                for read in reading
            )
            thumbnail = next((read.book.cover_url for read in reading if read.book.cover_url), None)
            for read in reading:
                discussion = await self._store.discussions.for_book(guild_id, read.book.id)
                if discussion is not None and discussion.sections:
                    lines = [section_line(number, section)
                             for number, section in enumerate(discussion.sections, start=1)]
                    name = "Sections" if len(reading) == 1 else f"Sections of {read.book.title}"
                    fields.append((name[:256], "\n".join(lines)))
        else:
            description = "The club isn't reading anything right now."
        upcoming = await self._store.meetings.scheduled(guild_id, limit=1)
        if upcoming:
            meeting = upcoming[0]
            value = f"{timestamp(meeting.starts_at)} ({timestamp(meeting.starts_at, 'R')}) in {where(meeting)}"
            if meeting.book is not None:
                value += f"\n**{md(meeting.book.title)}**"
                if meeting.section:
                    value += f", up to {md(meeting.section)}"
            elif meeting.section:
                value += f"\nUp to {md(meeting.section)}"
            fields.append(("Next meeting", value))
        else:
            fields.append(("Next meeting", "None scheduled yet."))
        config = await self._store.config.get(guild_id)
        if config.schedule_weekday is not None and config.schedule_time:
            slot = next_slot(self._clock.now(), config.schedule_weekday, parse_hhmm(config.schedule_time),
                             config.timezone)
            fields.append(("Next review slot", f"{timestamp(slot)} ({WEEKDAYS[config.schedule_weekday]}s)"))
        return Post(title="Reading now", description=description, footer=READING_NOW_FOOTER, fields=fields,
                    thumbnail_url=thumbnail)

    async def publish(self, guild_id: int, channel_id: int) -> tuple[int, bool]:
        """Posts and pins the message in the channel, or edits the pinned one there; (message id, newly posted)."""
        posts = await self._store.meetings.club_posts(guild_id)
        post = await self.render(guild_id)
        if posts.reading_now_channel_id == channel_id and posts.reading_now_message_id is not None and (
            await self._posts.edit(guild_id, channel_id, posts.reading_now_message_id, post)
        ):
            return posts.reading_now_message_id, False
        message_id = await self._posts.find_post(guild_id, channel_id, READING_NOW_FOOTER,
                                                 self._clock.now() - FIND_WINDOW)
        if message_id is None or not await self._posts.edit(guild_id, channel_id, message_id, post):
            message_id = await self._posts.post(guild_id, channel_id, post)
        await self._store.meetings.set_reading_now(guild_id, channel_id, message_id)
        await self._posts.pin(guild_id, channel_id, message_id)
        return message_id, True

    async def changed(self, guild_id: int) -> None:
        await self._changes.changed(guild_id)

    async def run(self, run: Run[ReadingNow]) -> datetime | None:
        """The ReadingNow job."""
        await self.refresh(run.guild_id)
        return None

    async def refresh(self, guild_id: int) -> None:
        """Edits the pinned message in place; when it was deleted, posts and pins a new one."""
        posts = await self._store.meetings.club_posts(guild_id)
        if posts.reading_now_channel_id is None or posts.reading_now_message_id is None:
            return
        post = await self.render(guild_id)
        if await self._posts.edit(guild_id, posts.reading_now_channel_id, posts.reading_now_message_id, post):
            return
        log.info("guild %d: the Reading now message was deleted; posting a new one", guild_id)
        await self.publish(guild_id, posts.reading_now_channel_id)
