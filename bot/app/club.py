"""The club history's ends and corrections: a read begins or finishes, a read is removed, a book's name is fixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.app.books import BookResolver, club_day
from bot.app.reading_now import ReadingNowChanges
from bot.clock import Clock
from bot.domain.answers import day_text, titled
from bot.errors import UserError
from bot.store import Store
from bot.store.books import Book, BookRepository
from bot.store.history import ClubRead, ReadStatus

# How many books an autocomplete looks through before filtering them by their read's status.
CHOICE_WINDOW = 200


class Poster(Protocol):
    """Discord's side of a finished read: one message, pinging nobody."""

    async def post(self, channel_id: int, text: str) -> str | None:
        """Posts the text in the channel; None when posted, else why not (for the moderator)."""
        ...


@dataclass
class Finished:
    read: ClubRead
    channel_id: int
    problem: str | None = None
    # The book's discussion is still running: the moderator may want to end it too.
    discussion_open: bool = False


def parse_day(text: str | None) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError("`date` must be a day like 2026-12-04 (year-month-day).") from None


def rate_call(book: Book) -> str:
    """The one message a finished read posts."""
    # Inside a code span markdown is shown as typed, so the title goes in unescaped, only its backticks replaced.
    typed = " ".join(book.title.replace("`", "'").split())
    return (f"📚 The club has finished {titled(book.title, book.author)}! How did you like it? Rate it with "
            f"`/rate book:{typed} stars:` (1 to 5), and `/review write` if you have more to say.")


class ClubService:
    """Begins, finishes, removes and corrects the club's reads; refuses bad input before changing anything."""

    def __init__(self, store: Store, clock: Clock, reading_now: ReadingNowChanges) -> None:
        self.store = store
        self.clock = clock
        self.reading_now = reading_now
        self.books = BookResolver(store)

    async def choices(self, guild_id: int, text: str, statuses: tuple[ReadStatus | None, ...] | None,
                      limit: int = 25) -> list[Book]:
        """Books matching the typed text whose read is in one of `statuses` (None: no read); any book without
        `statuses`."""
        books = await self.store.books.suggest(guild_id, text, limit=CHOICE_WINDOW if statuses else limit)
        if statuses is None:
            return books
        reads = await self.store.history.read_statuses(guild_id)
        return [book for book in books if reads.get(book.id) in statuses][:limit]

    async def today(self, guild_id: int) -> date:
        return await club_day(self.store, guild_id, self.clock.now())

    async def start(self, guild_id: int, book: str, day: str | None) -> ClubRead:
        """The book becomes a current read, begun on `day` (default: today in the club's time zone)."""
        on = parse_day(day)
        today = await self.today(guild_id)
        if on is not None and on > today:
            raise UserError(f"{on.isoformat()} is in the future; run `/club start` on the day the club begins, or "
                            "plan the book with `/club add`.")
        found = await self.books.require(guild_id, book)
        read = await self.store.history.get_read(guild_id, found.id)
        named = titled(found.title, found.author)
        if read is not None and read.status == "finished":
            when = f" on {day_text(read.finished_on)}" if read.finished_on else ""
            raise UserError(f"The club finished {named}{when}; it can't start again.")
        if read is not None and read.status == "reading" and (on is None or on == read.started_on):
            since = f" since {day_text(read.started_on)}" if read.started_on else ""
            raise UserError(f"{named} is the current read already{since}.")
        started = await self.store.history.start_read(guild_id, found.id, on=on or today, now=self.clock.now())
        if started is None:
            raise UserError(f"{named} was just finished by another moderator.")
        await self.reading_now.changed(guild_id)
        return started

    async def finish(self, guild_id: int, book: str, day: str | None, fallback_channel_id: int,
                     poster: Poster) -> Finished:
        """The read ends on `day` (default: today) and one message asks members to rate it."""
        on = parse_day(day)
        today = await self.today(guild_id)
        if on is not None and on > today:
            raise UserError(f"{on.isoformat()} is in the future; a read can only finish today or earlier.")
        on = on or today
        found = await self.books.require(guild_id, book)
        read = await self.store.history.get_read(guild_id, found.id)
        named = titled(found.title, found.author)
        if read is None:
            raise UserError(f"{named} isn't in the club history; begin it with `/club start` first.")
        if read.status == "finished":
            when = f" on {day_text(read.finished_on)}" if read.finished_on else ""
            raise UserError(f"The club finished {named} already{when}.")
        if read.started_on is not None and on < read.started_on:
            raise UserError(f"{named} began on {day_text(read.started_on)}; it can't finish on "
                            f"{day_text(on)}, before that.")
        finished = await self.store.history.finish_read(guild_id, found.id, on=on)
        if finished is None:
            raise UserError(f"{named} was just finished by another moderator.")
        await self.reading_now.changed(guild_id)
        config = await self.store.config.get(guild_id)
        channel_id = config.announcements_channel_id or fallback_channel_id
        problem = await poster.post(channel_id, rate_call(finished.book))
        discussion = await self.store.discussions.for_book(guild_id, found.id)
        return Finished(read=finished, channel_id=channel_id, problem=problem,
                        discussion_open=discussion is not None and not discussion.ended)

    async def removable(self, guild_id: int, book: str) -> ClubRead:
        """The read `/club remove` would take out, for the moderator to confirm."""
        found = await self.books.require(guild_id, book)
        read = await self.store.history.get_read(guild_id, found.id)
        if read is None:
            raise UserError(f"{titled(found.title, found.author)} isn't in the club history; nothing to remove.")
        return read

    async def remove(self, guild_id: int, book_id: int) -> Book:
        """Takes the read out of the history (once confirmed); its ratings and reviews stay."""
        found = await self.books.require(guild_id, f"book:{book_id}")
        if not await self.store.history.remove_read(guild_id, book_id):
            raise UserError(f"{titled(found.title, found.author)} was already removed from the club history.")
        await self.reading_now.changed(guild_id)
        return found

    async def edit(self, guild_id: int, book: str, title: str | None, author: str | None) -> tuple[Book, Book]:
        """Corrects a typo in the book's title or author; returns the book before and after."""
        title = " ".join(title.split()) if title is not None else None
        author = " ".join(author.split()) if author is not None else None
        if not title and author is None:
            raise UserError("Give the corrected `title`, `author` or both.")
        if title is not None and len(title) > BookRepository.MAX_TITLE:
            raise UserError(f"Titles can have at most {BookRepository.MAX_TITLE} characters.")
        if author is not None and len(author) > BookRepository.MAX_AUTHOR:
            raise UserError(f"Author names can have at most {BookRepository.MAX_AUTHOR} characters.")
        found = await self.books.require(guild_id, book)
        new_title, new_author = title or found.title, found.author if author is None else author
        if (new_title, new_author) == (found.title, found.author):
            raise UserError(f"{titled(found.title, found.author)} is spelt that way already; nothing changed.")
        renamed = await self.store.books.rename(guild_id, found.id, new_title, new_author)
        if renamed.outcome == "clash" and renamed.book is not None:
            raise UserError(f"The club already has {titled(renamed.book.title, renamed.book.author)} as another "
                            "book, so I can't rename this one to it; nothing changed. Remove the duplicate read "
                            "with `/club remove` instead.")
        if renamed.outcome != "renamed" or renamed.book is None:
            raise UserError("That book was just removed.")
        await self.reading_now.changed(guild_id)
        return found, renamed.book
