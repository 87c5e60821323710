"""Discussions' workflows without Discord: starting and ending one, members' progress, spoiler terms, the spoiler
guard's data and Hide as spoiler's bookkeeping (the re-posting webhooks)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from bot.app.books import BookResolver, club_day
from bot.app.discussion_texts import dated, describe_threads, section_rules, spoiler_free_rules, thread_mention
from bot.app.reading_now import ReadingNowChanges
from bot.clock import Clock
from bot.domain.answers import day_text
from bot.domain.books import Book
from bot.domain.guard import SpoilerGuard, SpoilerMatcher, TermError, parse_terms
from bot.domain.names import title_key
from bot.domain.sections import (
    Section,
    SectionError,
    find_section,
    parse_sections,
    parse_target_dates,
    section_thread_name,
    spoiler_free_thread_name,
)
from bot.domain.text import clean_line, clip, is_book_choice, md, picked_book, truncate
from bot.errors import StoreUnavailable, UserError
from bot.store import Store
from bot.store.books import BookRepository
from bot.store.discussions import Discussion, Progress, ProgressChange

# /discuss spoiler-terms takes one of these to clear the list.
CLEAR_WORDS = {"none", "clear", "-"}


class ThreadCloser(Protocol):
    """Discord's side of ending a discussion."""

    async def post_note(self, thread_id: int, text: str) -> None:
        """Posts a closing note in the thread; a failure to do so is the port's to log, not to raise."""
        ...

    async def archive_and_lock(self, thread_id: int) -> bool:
        """Archives and locks the thread, which stays readable; False when the thread is gone. Raises UserError
        when Discord refuses (a missing permission, say)."""
        ...


class ThreadOpener(Protocol):
    """Discord's side of starting a discussion, in the discussions channel."""

    async def open_thread(self, name: str, rules: str, *, private: bool) -> int:
        """Creates a thread (a private one takes no invitations) and posts its rules; returns its id. Raises
        UserError when Discord refuses for want of a permission."""
        ...

    async def delete_thread(self, thread_id: int) -> None:
        """Deletes a thread this start made; a failure to do so is the port's to swallow."""
        ...


class ThreadMembers(Protocol):
    """Discord's side of /progress."""

    async def add_member(self, thread_id: int, member_id: int) -> bool:
        """Adds the member to the thread (unarchiving it first); False when the thread is gone."""
        ...


@dataclass
class Advanced:
    """What /progress did: the threads the member is in, the sections whose thread is gone, and the recorded change
    (None when the records were busy: the member is in the threads, but the progress is not saved yet)."""

    discussion: Discussion
    index: int
    opened: list[int]
    gone: list[str]
    change: ProgressChange | None


@dataclass
class SpoilerHit:
    discussion_id: int
    title: str


@dataclass
class StartPlan:
    """/discuss start's input checked, before anything is created: the book when the club has it, else the text."""

    text: str
    book: Book | None
    sections: list[Section]
    target_dates: list[date | None]


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
        self._start_locks: dict[int, asyncio.Lock] = {}
        # The spoiler guard per guild, with the guard version it was built at (`guard_version`).
        self._guards: dict[int, tuple[int, SpoilerGuard]] = {}

    # -- starting -------------------------------------------------------------------------------

    async def running(self, guild_id: int, book_id: int) -> Discussion | None:
        """The book's discussion when it is under discussion (not ended)."""
        discussion = await self.store.discussions.for_book(guild_id, book_id)
        return discussion if discussion is not None and not discussion.ended else None

    async def book_to_discuss(self, guild_id: int, text: str) -> Book:
        """The club's book a typed title means, added to the club's books when it is new."""
        found = await self.books.find(guild_id, text)
        if found is not None:
            return found
        if is_book_choice(text):
            raise UserError("That book is no longer in the club's list; type its title instead.")
        title, author = text, ""
        if " by " in text:
            title, _, author = text.rpartition(" by ")
        title, author = clean_line(title), clean_line(author)
        if not title:
            raise UserError("Type the book's title, optionally followed by “by Author”.")
        book, _ = await self.store.books.find_or_create(guild_id, title, clip(author, BookRepository.MAX_AUTHOR))
        return book

    async def suggest_books(self, guild_id: int, text: str) -> list[Book]:
        return await self.store.books.suggest(guild_id, text, limit=25)

    async def plan_start(self, guild_id: int, book: str, sections: str, dates: str | None) -> StartPlan:
        """Refuses bad sections or dates, and a book under discussion already, before anything is created."""
        try:
            parsed = parse_sections(sections)
        except SectionError as error:
            raise UserError(str(error)) from None
        target_dates = await self.target_dates(guild_id, dates, parsed)
        found = await self.books.find(guild_id, book)
        if found is not None:
            existing = await self.running(guild_id, found.id)
            if existing is not None:
                raise UserError(f"**{md(existing.title)}** is already under discussion: {describe_threads(existing)}."
                                " End it first with `/discuss end` to start it afresh.")
        return StartPlan(text=book, book=found, sections=parsed, target_dates=target_dates)

    async def start(self, guild_id: int, plan: StartPlan, *, channel_id: int, moderator_id: int,
                    threads: ThreadOpener, guarded: bool) -> Discussion:
        """Opens the spoiler-free thread and a private thread per section, posts their rules and records them.

        One start at a time per guild; on any failure the threads made so far are deleted and nothing is recorded.
        """
        async with self._start_locks.setdefault(guild_id, asyncio.Lock()):
            book = plan.book or await self.book_to_discuss(guild_id, plan.text)
            if await self.running(guild_id, book.id) is not None:
                raise UserError(f"**{md(book.title)}** was just started by another moderator.")
            created: list[int] = []
            try:
                spoiler_free = await threads.open_thread(
                    spoiler_free_thread_name(book.title),
                    spoiler_free_rules(book.title, plan.sections, guarded, plan.target_dates), private=False)
                created.append(spoiler_free)
                section_threads = []
                for section, target_date in zip(plan.sections, plan.target_dates, strict=True):
                    thread_id = await threads.open_thread(section_thread_name(book.title, section),
                                                          section_rules(book.title, section, target_date),
                                                          private=True)
                    created.append(thread_id)
                    section_threads.append((section, thread_id))
                return await self.record_start(guild_id, book, channel_id=channel_id, thread_id=spoiler_free,
                                               sections=section_threads, started_by=moderator_id,
                                               target_dates=plan.target_dates)
            except BaseException:
                for thread_id in reversed(created):
                    await threads.delete_thread(thread_id)
                raise

    async def discussions_channel_id(self, guild_id: int) -> int | None:
        return (await self.store.config.get(guild_id)).discussions_channel_id

    async def record_start(self, guild_id: int, book: Book, *, channel_id: int, thread_id: int,
                           sections: list[tuple[Section, int]], started_by: int,
                           target_dates: Sequence[date | None]) -> Discussion:
        """Records the threads /discuss start opened; UserError when another moderator was first."""
        discussion = await self.store.discussions.create(
            guild_id, book.id, channel_id=channel_id, thread_id=thread_id, sections=sections,
            started_by=started_by, at=self.clock.now(), target_dates=target_dates)
        if discussion is None:
            raise UserError(f"**{md(book.title)}** was just started by another moderator.")
        await self.reading_now.changed(guild_id)
        return discussion

    # -- reading ---------------------------------------------------------------------------------

    async def discussions(self, guild_id: int) -> list[Discussion]:
        return await self.store.discussions.list(guild_id)

    async def get(self, guild_id: int, discussion_id: int) -> Discussion | None:
        return await self.store.discussions.get(guild_id, discussion_id)

    async def progress(self, guild_id: int, member_id: int) -> list[Progress]:
        return await self.store.discussions.progress(guild_id, member_id)

    async def record_progress(self, guild_id: int, discussion: Discussion, member_id: int,
                              position: int) -> ProgressChange:
        """The member has read up to section `position` (1-based); their progress never goes back."""
        change = await self.store.discussions.record_progress(guild_id, discussion.id, member_id, position,
                                                              self.clock.now())
        if change is None:
            raise UserError(f"The discussion of **{md(discussion.title)}** was just ended; its threads stay readable.")
        return change

    async def plan_progress(self, guild_id: int, book: str | None, section: str) -> tuple[Discussion, int]:
        """The running discussion and the index of the section a member says they have read up to."""
        discussion = await self.resolve_discussion(guild_id, book)
        sections = [s.section for s in discussion.sections]
        index = find_section(sections, section)
        if index is None:
            names = ", ".join(md(s.label) for s in sections)
            raise UserError(f"“{md(truncate(section, 60))}” isn't a section of **{md(discussion.title)}**; its "
                            f"sections are {names}.")
        return discussion, index

    async def advance(self, guild_id: int, discussion: Discussion, index: int, member_id: int,
                      threads: ThreadMembers) -> Advanced:
        """Adds the member to the section threads up to `index`, then records their progress (which never goes
        back). Discord first: a member added but not recorded runs /progress again; the reverse would leave them
        recorded but shut out."""
        opened: list[int] = []
        gone: list[str] = []
        for section in discussion.sections[:index + 1]:
            if await threads.add_member(section.thread_id, member_id):
                opened.append(section.thread_id)
            else:
                gone.append(section.name)
        try:
            change = await self.record_progress(guild_id, discussion, member_id, index + 1)
        except StoreUnavailable:
            return Advanced(discussion, index, opened, gone, None)
        return Advanced(discussion, index, opened, gone, change)

    async def describe_progress(self, guild_id: int, member_id: int, book: str | None) -> str:
        """Where the member is in each running discussion (or the one named), with their threads."""
        if book is not None:
            discussions = [await self.resolve_discussion(guild_id, book)]
        else:
            discussions = [d for d in await self.discussions(guild_id) if not d.ended]
        if not discussions:
            return await self.nothing_running(guild_id)
        reached = {p.discussion_id: p.position for p in await self.progress(guild_id, member_id)}
        lines = []
        for discussion in discussions:
            position = reached.get(discussion.id)
            if position is None:
                lines.append(f"**{md(discussion.title)}**: not recorded yet. Sections: "
                             f"{', '.join(md(dated(s.section.label, s.target_date)) for s in discussion.sections)}.")
            else:
                threads = " ".join(thread_mention(s.thread_id) for s in discussion.sections[:position])
                line = (f"**{md(discussion.title)}**: read up to **{md(discussion.sections[position - 1].name)}**"
                        f" of {len(discussion.sections)}.")
                upcoming = discussion.sections[position] if position < len(discussion.sections) else None
                if upcoming is not None and upcoming.target_date is not None:
                    line += f" Next: **{md(upcoming.name)}**, by {day_text(upcoming.target_date)}."
                lines.append(f"{line} Threads: {threads}")
        lines.append("Record more with `/progress book: section:`.")
        return truncate("\n".join(lines), 2000)

    async def ended_text(self, guild_id: int, discussion: Discussion) -> str:
        """What is true of an ended discussion, for a member who asks about it."""
        ended_at = discussion.ended_at or self.clock.now()
        return (f"The discussion of **{md(discussion.title)}** ended on "
                f"{day_text(await self.day_of(guild_id, ended_at))}: its threads are archived and "
                "locked, and everything said there stays readable. A moderator can open a new discussion of it with "
                "`/discuss start`.")

    async def nothing_running(self, guild_id: int) -> str:
        ended = [d for d in await self.discussions(guild_id) if d.ended]
        if not ended:
            return "No book is under discussion yet; moderators start one with `/discuss start`."
        return "No book is under discussion right now. " + await self.ended_text(guild_id, ended[0])

    async def resolve_discussion(self, guild_id: int, text: str | None) -> Discussion:
        """The running discussion an autocomplete choice or typed title means; the only one when none is given.

        Naming a discussion that ended is refused with what became of it.
        """
        discussions = await self.discussions(guild_id)
        running = [d for d in discussions if not d.ended]
        titles = ", ".join(f"**{md(d.title)}**" for d in running[:10])
        if text is None or not text.strip():
            if len(running) == 1:
                return running[0]
            if not running:
                raise UserError(await self.nothing_running(guild_id))
            raise UserError(f"Pick the book too: {titles}.")
        found = self.match_discussion(running, text) or self.match_discussion(discussions, text)
        if found is not None and found.ended:
            raise UserError(await self.ended_text(guild_id, found))
        if found is not None:
            return found
        if not running:
            raise UserError(await self.nothing_running(guild_id))
        raise UserError(f"No book called “{md(truncate(text, 60))}” is under discussion; under discussion: {titles}.")

    @staticmethod
    def match_discussion(discussions: list[Discussion], text: str) -> Discussion | None:
        book_id = picked_book(text)
        if book_id:
            for discussion in discussions:
                if discussion.book_id == book_id:
                    return discussion
        key = title_key(text)
        for discussion in discussions:
            if key and key in (title_key(discussion.title), title_key(discussion.label)):
                return discussion
        partial = [d for d in discussions if text.strip().casefold() in d.label.casefold()]
        return partial[0] if len(partial) == 1 else None

    async def day_of(self, guild_id: int, moment: datetime) -> date:
        return await club_day(self.store, guild_id, moment)

    # -- spoiler terms and the guard ------------------------------------------------------------

    async def terms(self, guild_id: int, discussion_id: int) -> list[str]:
        return await self.store.discussions.terms(guild_id, discussion_id)

    async def set_terms(self, guild_id: int, discussion_id: int, text: str) -> list[str]:
        """The discussion's spoiler terms as typed (a clear word empties them); returns the terms saved."""
        try:
            wanted = [] if text.strip().casefold() in CLEAR_WORDS else parse_terms(text)
        except TermError as error:
            raise UserError(str(error)) from None
        await self.store.discussions.set_terms(guild_id, discussion_id, wanted)
        return wanted

    async def guard_for(self, guild_id: int) -> SpoilerGuard:
        """The guild's spoiler guard: the terms of the running discussions, and the places they are guarded in.

        Kept until the guild's guard version moves, which the store's triggers do on every change to what it reads.
        """
        # Read the version before the rows: a change in between only causes one more rebuild later.
        version = await self.store.discussions.guard_version(guild_id)
        cached = self._guards.get(guild_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        # An ended discussion's book is no longer under discussion: the guard leaves its terms alone.
        discussions = [d for d in await self.store.discussions.list(guild_id) if not d.ended]
        running = {d.id for d in discussions}
        terms = {key: words for key, words in (await self.store.discussions.all_terms(guild_id)).items()
                 if key in running}
        places = {d.channel_id for d in discussions} | {d.thread_id for d in discussions}
        guard = SpoilerGuard(SpoilerMatcher.build(terms), frozenset(places))
        self._guards[guild_id] = (version, guard)
        return guard

    async def spoiler_in(self, guild_id: int, channel_id: int, content: str) -> SpoilerHit | None:
        """The running discussion whose spoiler terms a message in a guarded place names, if any: the guard's
        verdict, for the cog to hide the message."""
        hit = (await self.guard_for(guild_id)).check(channel_id, content)
        if hit is None:
            return None
        discussion = await self.store.discussions.get(guild_id, hit.key)
        return SpoilerHit(discussion_id=hit.key, title=discussion.title if discussion else "a book under discussion")

    async def first_notice(self, guild_id: int, member_id: int) -> bool:
        """Whether the guard should tell this member why it hid their message (once in a while, not every time)."""
        return await self.store.discussions.first_notice(guild_id, member_id, self.clock.now())

    # -- Hide as spoiler's re-posting webhooks ---------------------------------------------------

    async def webhook_id(self, guild_id: int, channel_id: int) -> int | None:
        return await self.store.discussions.webhook_id(guild_id, channel_id)

    async def remember_webhook(self, guild_id: int, channel_id: int, webhook_id: int) -> None:
        await self.store.discussions.remember_webhook(guild_id, channel_id, webhook_id, self.clock.now())

    async def forget_webhook(self, guild_id: int, channel_id: int, webhook_id: int) -> None:
        await self.store.discussions.forget_webhook(guild_id, channel_id, webhook_id)

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
            raise UserError(f"“{md(clip(book, 100))}” has no discussion to end; see `/progress` for the books under "
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
