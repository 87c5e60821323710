"""Ending a book's discussion (and reading the target dates /discuss start takes): the workflow, without Discord."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from bot.app.books import BookResolver, club_day, md
from bot.app.reading_now import ReadingNowChanges
from bot.clock import Clock
from bot.domain.answers import day_text
from bot.domain.sections import Section, SectionError, parse_target_dates
from bot.errors import UserError
from bot.store import Store
from bot.store.discussions import Discussion


class ThreadCloser(Protocol):
    """Discord's side of ending a discussion."""

    async def post_note(self, thread_id: int, text: str) -> None:
        """Posts a closing note in the thread; a failure to do so is the port's to log, not to raise."""
        ...

    async def archive_and_lock(self, thread_id: int) -> bool:
        """Archives and locks the thread, which stays readable; False when the thread is gone. Raises UserError
        when Discord refuses (a missing permission, say)."""
        ...


@dataclass
class Ended:
    discussion: Discussion
    closed: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)


def closing_note(discussion: Discussion) -> str:
    return (f"**The discussion of {md(discussion.title)} has ended.** Its threads are archived and locked: everything "
            "said stays readable, and nothing more can be added. Thank you for reading together!")


class DiscussionService:
    """Discussions' workflows that need no thread to be created: the target dates, and ending one."""

    def __init__(self, store: Store, clock: Clock, reading_now: ReadingNowChanges) -> None:
        self.store = store
        self.clock = clock
        self.reading_now = reading_now
        self.books = BookResolver(store)

    async def target_dates(self, guild_id: int, text: str | None, sections: Sequence[Section]) -> list[date | None]:
        """The target date of each section from `/discuss start … dates:`; all None when none were given."""
        if text is None or not text.strip():
            return [None] * len(sections)
        today = await club_day(self.store, guild_id, self.clock.now())
        try:
            return parse_target_dates(text, sections, today)
        except SectionError as error:
            raise UserError(str(error)) from None

    async def end(self, guild_id: int, book: str, moderator_id: int, threads: ThreadCloser) -> Ended:
        """Archives and locks every thread of the book's discussion, then records it ended.

        When Discord refuses a thread, nothing is recorded: the threads locked so far stay locked, and running
        /discuss end again finishes the job.
        """
        found = await self.books.find(guild_id, book)
        discussion = await self.store.discussions.for_book(guild_id, found.id) if found else None
        if discussion is None:
            raise UserError(f"“{md(book[:100])}” has no discussion to end; see `/progress` for the books under "
                            "discussion.")
        if discussion.ended_at is not None:
            ended_on = day_text(await club_day(self.store, guild_id, discussion.ended_at))
            raise UserError(f"The discussion of **{md(discussion.title)}** already ended on {ended_on}; "
                            "`/discuss start` opens a new one.")
        ended = Ended(discussion=discussion)
        await threads.post_note(discussion.thread_id, closing_note(discussion))
        for thread_id in [discussion.thread_id, *(section.thread_id for section in discussion.sections)]:
            (ended.closed if await threads.archive_and_lock(thread_id) else ended.gone).append(thread_id)
        recorded = await self.store.discussions.end(guild_id, discussion.id, ended_by=moderator_id,
                                                    at=self.clock.now())
        if recorded is None:
            raise UserError(f"The discussion of **{md(discussion.title)}** was just ended by another moderator.")
        ended.discussion = recorded
        await self.reading_now.changed(guild_id)
        return ended
