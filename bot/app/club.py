"""The club history's workflows: reads added, imported, begun, finished, removed, rated and listed, without Discord."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from bot.app.books import BookResolver, club_day
from bot.app.reading_now import ReadingNowChanges
from bot.clock import Clock
from bot.domain.answers import day_text
from bot.domain.books import Book, ClubRead, ReadStatus
from bot.domain.goodreads import GoodreadsFormatError, SkippedRow, export_files, parse_export
from bot.domain.names import author_key
from bot.domain.slots import next_slot, parse_hhmm
from bot.domain.text import clean_line, clip, md, picked_book, titled, truncate
from bot.errors import UserError
from bot.services.asker import Answer, Asker, HistoryIndex, Question
from bot.services.openlibrary import Catalogue
from bot.store import Store
from bot.store.books import BookRepository
from bot.store.discussions import Discussion
from bot.store.history import Score

log = logging.getLogger(__name__)

HISTORY_LINES = 25
REPORT_LINES = 12

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


@dataclass
class Listing:
    """A page of the club history: the reads, how many there are in all, and their scores."""

    heading: str
    reads: list[ClubRead]
    total: int
    scores: dict[int, Score]


@dataclass
class Current:
    """What /club current shows: the current reads with their scores and discussions, the next ones, the slot."""

    reading: list[ClubRead]
    planned: list[ClubRead]
    scores: dict[int, Score]
    discussions: dict[int, Discussion]
    next_slot: datetime | None
    slot_weekday: int | None


@dataclass
class NewRead:
    title: str
    author: str
    started_on: date | None
    finished_on: date | None


@dataclass
class Imported:
    added: int
    skipped: list[SkippedRow]
    warnings: list[SkippedRow] = field(default_factory=list)


@dataclass
class Rated:
    read: ClubRead
    previous: int | None
    score: Score | None


def parse_day(text: str | None, option: str = "date", like: str = "a day like 2026-12-04") -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"`{option}` must be {like} (year-month-day).") from None


def read_status(started_on: date | None, finished_on: date | None) -> ReadStatus:
    if finished_on is not None:
        return "finished"
    return "reading" if started_on is not None else "planned"


def report_lines(title: str, rows: list[SkippedRow]) -> list[str]:
    if not rows:
        return []
    lines = [title]
    lines += [f"• line {row.line}: {md(truncate(row.title, 80))}: {md(row.reason)}" for row in rows[:REPORT_LINES]]
    if len(rows) > REPORT_LINES:
        lines.append(f"…and {len(rows) - REPORT_LINES} more.")
    return lines


def rate_call(book: Book) -> str:
    """The one message a finished read posts."""
    # Inside a code span markdown is shown as typed, so the title goes in unescaped, only its backticks replaced.
    typed = " ".join(book.title.replace("`", "'").split())
    return (f"📚 The club has finished {titled(book.title, book.author)}! How did you like it? Rate it with "
            f"`/rate book:{typed} stars:` (1 to 5), and `/review write` if you have more to say.")


class ClubService:
    """Begins, finishes, removes and corrects the club's reads; refuses bad input before changing anything."""

    def __init__(self, store: Store, clock: Clock, reading_now: ReadingNowChanges, index: HistoryIndex | None = None,
                 catalogue: Catalogue | None = None) -> None:
        self.store = store
        self.clock = clock
        self.reading_now = reading_now
        # The asker's index (`Services.history_index`): one name index per guild, kept fresh by the history's
        # versions.
        self.index = index or HistoryIndex(store.history)
        self.catalogue = catalogue
        self.books = BookResolver(store)

    async def new_read(self, guild_id: int, title: str, author: str, started: str | None,
                       finished: str | None) -> NewRead:
        """/club add's input checked, before anything slow: a planned, current or finished read."""
        started_on = parse_day(started, "started", "a date like 2025-03-14")
        finished_on = parse_day(finished, "finished", "a date like 2025-03-14")
        today = await self.today(guild_id)
        if started_on and finished_on and finished_on < started_on:
            raise UserError("`finished` is before `started`.")
        if finished_on and finished_on > today:
            raise UserError("`finished` is in the future; add it as the current read with `started` only.")
        title, author = clean_line(title), clean_line(author)
        if not title or not author:
            raise UserError("A read needs a title and an author.")
        return NewRead(title=title, author=author, started_on=started_on, finished_on=finished_on)

    async def add(self, guild_id: int, new: NewRead) -> tuple[ClubRead, bool]:
        """The read, with the catalogue's details when it knows the book; updated when the book is in the history
        already. Returns it and whether it is new."""
        work = await self.catalogue.find_title(new.title, new.author) if self.catalogue else None
        book, _ = await self.store.books.find_or_create(
            guild_id, new.title, new.author, year=work.year if work else None,
            work_key=work.work_key if work else None, isbn13=work.isbn13 if work else None,
            cover_url=work.cover_url if work else None,
        )
        added = await self.store.history.add_read(
            guild_id, book.id, status=read_status(new.started_on, new.finished_on), started_on=new.started_on,
            finished_on=new.finished_on, now=self.clock.now())
        await self.reading_now.changed(guild_id)
        return added

    async def import_goodreads(self, guild_id: int, data: bytes, member_id: int, member_name: str) -> Imported:
        """The read shelf of a Goodreads export, added as the member's ratings and reviews; rows that cannot be
        taken are reported, not guessed. Nothing is imported from a file that is not an export."""
        today = await self.today(guild_id)
        try:
            # A 5 MB file takes about a second to read: in a thread, so that every other server is answered meanwhile.
            parsed = await asyncio.to_thread(parse_export, data, today=today)
        except GoodreadsFormatError as error:
            raise UserError(f"Nothing was imported. {error}") from None
        if not parsed.rows:
            lines = ["Nothing was imported: the file has no books on the shelf `read`.",
                     *report_lines("Left out:", parsed.skipped)]
            raise UserError(truncate("\n".join(lines), 2000))
        log.info("guild %s: importing %d books from a Goodreads export", guild_id, len(parsed.rows))
        report = await self.store.history.import_goodreads(guild_id, parsed.rows, member_id=member_id,
                                                           member_name=member_name, now=self.clock.now())
        skipped = sorted(parsed.skipped + report.skipped, key=lambda row: row.line)
        log.info("guild %s: imported %d books, skipped %d", guild_id, len(report.added), len(skipped))
        return Imported(added=len(report.added), skipped=skipped, warnings=parsed.warnings)

    async def export(self, guild_id: int) -> tuple[int, list[bytes]]:
        """The finished reads as Goodreads-style CSV files (several when one would be too big): how many, and the
        files."""
        books = await self.store.history.export_books(guild_id)
        if not books:
            raise UserError("The club history has no finished reads to export yet.")
        return len(books), await asyncio.to_thread(export_files, books)

    async def history(self, guild_id: int, author: str | None) -> Listing:
        """The newest reads, of one author (any spelling) when given."""
        book_ids: list[int] | None = None
        heading = "Club history"
        if author:
            snapshot = await self.index.get(guild_id)
            found = snapshot.authors.match(author)
            if not found.best:
                hint = f" Did you mean {' or '.join(md(name) for name in found.did_you_mean)}?" if (
                    found.did_you_mean) else ""
                raise UserError(f"The club's records have no author like “{md(clip(author, 80))}”.{hint}")
            book_ids = found.best
            heading = f"Club history: {', '.join(found.names[:3])}"
        history = self.store.history
        reads = await history.reads(guild_id, book_ids=book_ids, limit=HISTORY_LINES)
        if not reads:
            raise UserError("None of their books is a club read yet." if author else (
                "The club history is empty: moderators add reads with `/club add` or `/club import`."))
        total = await history.count_reads(guild_id, book_ids=book_ids)
        scores = await history.scores(guild_id, [read.book.id for read in reads])
        return Listing(heading=heading, reads=reads, total=total, scores=scores)

    async def authors(self, guild_id: int, text: str, limit: int = 25) -> list[str]:
        """Authors of the club's books matching the typed text, one spelling each."""
        authors: dict[str, str] = {}
        for book in await self.store.books.suggest(guild_id, text, limit=100):
            if book.author and len(book.author) <= 100:
                authors.setdefault(author_key(book.author), book.author)
        return list(authors.values())[:limit]

    async def current(self, guild_id: int) -> Current:
        history = self.store.history
        reading = await history.reads(guild_id, status="reading", limit=5)
        planned = await history.reads(guild_id, status="planned", limit=3)
        scores = await history.scores(guild_id, [read.book.id for read in reading])
        discussions = {}
        for read in reading:
            discussion = await self.store.discussions.for_book(guild_id, read.book.id)
            if discussion is not None:
                discussions[read.book.id] = discussion
        config = await self.store.config.get(guild_id)
        upcoming, weekday = None, None
        if config.has_schedule and config.schedule_weekday is not None and config.schedule_time:
            weekday = config.schedule_weekday
            upcoming = next_slot(self.clock.now(), weekday, parse_hhmm(config.schedule_time), config.timezone)
        return Current(reading=reading, planned=planned, scores=scores, discussions=discussions,
                       next_slot=upcoming, slot_weekday=weekday)

    async def picked_read(self, guild_id: int, text: str) -> ClubRead | None:
        """The read an autocomplete choice names, at once; None for a typed title (see `find_read`)."""
        book_id = picked_book(text)
        return await self.store.history.get_read(guild_id, book_id) if book_id else None

    async def find_read(self, guild_id: int, text: str) -> ClubRead:
        """The club read a typed title means, by the guild's name index (which may take a moment to build)."""
        snapshot = await self.index.get(guild_id)
        found = snapshot.titles.match(text)
        reads = await self.store.history.reads(guild_id, book_ids=found.best) if found.best else []
        if reads:
            return reads[0]
        if found.best:
            raise UserError(f"**{md(found.names[0])}** isn't a club read; moderators add reads with `/club add`.")
        hint = f" Did you mean {' or '.join(f'**{md(name)}**' for name in found.did_you_mean)}?" if (
            found.did_you_mean) else ""
        raise UserError(f"No club read is called “{md(clip(text, 100))}”.{hint}")

    async def rate(self, guild_id: int, read: ClubRead, member_id: int, member_name: str, stars: int) -> Rated:
        """The member's stars for a read the club has begun; returns their former stars and the club's score."""
        if read.status == "planned":
            raise UserError(f"The club hasn't started **{md(read.book.title)}** yet; rate it once you have read it.")
        history = self.store.history
        previous = await history.rate(guild_id, read.book.id, member_id, member_name, stars, now=self.clock.now())
        score = (await history.scores(guild_id, [read.book.id])).get(read.book.id)
        return Rated(read=read, previous=previous, score=score)

    async def ask(self, asker: Asker, guild_id: int, member_id: int, member_name: str, text: str) -> Answer:
        """/ask and a mention of the bot: the question, dated in the club's time zone, goes to the asker."""
        question = Question(guild_id=guild_id, member_id=member_id, member_name=member_name, text=text,
                            today=await self.today(guild_id))
        return await asker.answer(question)

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
