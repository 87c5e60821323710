"""The club's history: reads, members' ratings, Goodreads import/export, and the read-only look-ups answers need."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, NamedTuple

from pydantic import BaseModel

from bot.domain.books import READ_STATUSES, Book, ClubRead, ReadStatus
from bot.domain.club_reads import ReadRow
from bot.domain.goodreads import ExportBook, GoodreadsBook, SkippedRow
from bot.domain.names import author_key, title_key
from bot.domain.rankings import Stars
from bot.store.db import from_db_time, to_db_time
from bot.store.engine import AnyDatabase

log = logging.getLogger(__name__)


# Reviews longer than the review modal allows are cut on import, so every review fits the same screens.
MAX_REVIEW = 4000
# SQLite allows 32,766 parameters; a look-up by ids is split well below that.
_ID_CHUNK = 900
# Import rows staged per transaction: a batch holds the writer for milliseconds, not an import's seconds.
IMPORT_BATCH = 1000

_STAGING_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS import_rows (
    import_id   INTEGER NOT NULL,
    guild_id    INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    title       TEXT NOT NULL,
    author      TEXT NOT NULL,
    title_key   TEXT NOT NULL,
    author_key  TEXT NOT NULL,
    year        INTEGER,
    isbn13      TEXT,
    rating      INTEGER,
    finished_on TEXT,
    review      TEXT,
    spoilers    TEXT,
    review_at   TEXT NOT NULL,
    book_id     INTEGER,
    existed     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (import_id, line)
)"""
_STAGE_ROW = (
    "INSERT INTO temp.import_rows (import_id, guild_id, line, title, author, title_key, author_key, year, isbn13, "
    "rating, finished_on, review, spoilers, review_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Set-based, so that making 20,000 staged rows visible is one short transaction of SQLite's own work.
_LINK_BOOKS = (
    "UPDATE temp.import_rows AS s SET book_id = b.id FROM books AS b "
    "WHERE s.import_id = :import AND s.guild_id = :guild AND s.book_id IS NULL AND b.guild_id = s.guild_id "
    "AND b.title_key = s.title_key AND b.author_key = s.author_key"
)
_PUBLISH_IMPORT = (
    _LINK_BOOKS,
    "UPDATE temp.import_rows AS s SET existed = 1 WHERE s.import_id = :import AND s.guild_id = :guild "
    "AND EXISTS (SELECT 1 FROM reads r WHERE r.guild_id = s.guild_id AND r.book_id = s.book_id)",
    "UPDATE books AS b SET year = COALESCE(b.year, s.year), isbn13 = COALESCE(b.isbn13, s.isbn13) "
    "FROM temp.import_rows AS s WHERE s.import_id = :import AND s.guild_id = :guild AND b.guild_id = s.guild_id "
    "AND b.id = s.book_id AND ((b.year IS NULL AND s.year IS NOT NULL) OR (b.isbn13 IS NULL AND s.isbn13 IS NOT NULL))",
    "INSERT INTO books (guild_id, title, author, year, isbn13, title_key, author_key, created_at) "
    "SELECT guild_id, title, author, year, isbn13, title_key, author_key, :stamp FROM temp.import_rows "
    "WHERE import_id = :import AND guild_id = :guild AND book_id IS NULL ORDER BY line",
    _LINK_BOOKS,
    "INSERT INTO reads (guild_id, book_id, status, finished_on, source, created_at) "
    "SELECT guild_id, book_id, 'finished', finished_on, 'import', :stamp FROM temp.import_rows "
    "WHERE import_id = :import AND guild_id = :guild AND existed = 0 ORDER BY line",
    "INSERT INTO ratings (guild_id, book_id, member_id, member_name, stars, updated_at) "
    "SELECT guild_id, book_id, :member, :name, rating, :stamp FROM temp.import_rows "
    "WHERE import_id = :import AND guild_id = :guild AND existed = 0 AND rating IS NOT NULL "
    "ON CONFLICT (guild_id, book_id, member_id) DO NOTHING",
    "INSERT INTO reviews (guild_id, book_id, member_id, reviewer_name, rating, body, spoilers, source, status, "
    "created_at) SELECT guild_id, book_id, :member, :name, rating, COALESCE(review, ''), spoilers, 'import', "
    "'announced', review_at FROM temp.import_rows WHERE import_id = :import AND guild_id = :guild AND existed = 0 "
    "AND (review IS NOT NULL OR spoilers IS NOT NULL) ORDER BY line",
)


class MemberRating(BaseModel):
    member_id: int
    member_name: str
    stars: int


class ReviewQuote(BaseModel):
    """A published review's reviewer and spoiler-free text, for quoting."""

    book_id: int
    reviewer_name: str
    member_id: int | None
    rating: int | None
    body: str
    created_at: datetime


class ImportReport(BaseModel):
    """What an import wrote: the books added to the history and the rows left out, with why."""

    added: list[GoodreadsBook]
    skipped: list[SkippedRow]


# Plain tuples, not models: answers read these for every book of a guild, and tuples cost a tenth as much.
class BookName(NamedTuple):
    id: int
    title: str
    author: str


class Score(NamedTuple):
    """The sum and count of members' stars for a book: one vote per member, plus each rated blog post."""

    total: int
    votes: int

    @property
    def average(self) -> float:
        return self.total / self.votes if self.votes else 0.0


class HistoryVersions(NamedTuple):
    """Counters that move whenever a guild's book names (`names`) or reads and ratings (`votes`) change."""

    names: int
    votes: int


_READ_COLUMNS = (
    "r.status, r.started_on, r.finished_on, r.source, b.id, b.guild_id, b.title, b.author, b.year, b.work_key, "
    "b.isbn13, b.cover_url"
)
_READ_FROM = "FROM reads r JOIN books b ON b.id = r.book_id AND b.guild_id = r.guild_id"
# Current reads first, then finished ones newest first; planned reads close the list. The index reads_newest
# (bot/store/migrations/0007_read_orders.sql) holds these exact expressions, so a first page does not sort every read.
_NEWEST_FIRST = (
    "ORDER BY CASE r.status WHEN 'reading' THEN 0 WHEN 'finished' THEN 1 ELSE 2 END, "
    "COALESCE(r.finished_on, r.started_on, '0000') DESC, r.id DESC"
)
# The club's reads in time: a finished read on the day it was finished, the current read on the day it began.
# Planned reads and finished ones without a date have no place in that order.
_DAY = "COALESCE(r.finished_on, r.started_on)"
_IN_ORDER = f"r.status IN ('finished', 'reading') AND {_DAY} IS NOT NULL"

# A member's vote is their /rate stars, else the stars of their latest rated review; blog posts vote once each.
# The latest review is looked up INDEXED BY reviews_votes: left to itself, SQLite walked all of the member's reviews
# (reviews_member) for every book, 20,000² steps after one member imported 20,000 reviews.
_VOTES = """
SELECT book_id, stars FROM ratings WHERE guild_id = ? {ratings_filter}
UNION ALL
SELECT r.book_id, r.rating FROM reviews r
WHERE r.guild_id = ? AND r.rating IS NOT NULL {reviews_filter}
  AND (r.member_id IS NULL OR (
      r.id = (SELECT MAX(l.id) FROM reviews l INDEXED BY reviews_votes
              WHERE l.guild_id = r.guild_id AND l.book_id = r.book_id
              AND l.member_id = r.member_id AND l.rating IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM ratings x WHERE x.guild_id = r.guild_id AND x.book_id = r.book_id
                      AND x.member_id = r.member_id)))
"""


# Each member's vote for one book (as `_VOTES` counts it), with their name; parameters: guild, book, guild, book.
_MEMBER_RATINGS = (
    "SELECT member_id, member_name, stars FROM ratings WHERE guild_id = ? AND book_id = ? "
    "UNION ALL "
    "SELECT r.member_id, r.reviewer_name, r.rating FROM reviews r WHERE r.guild_id = ? AND r.book_id = ? "
    "AND r.member_id IS NOT NULL AND r.rating IS NOT NULL "
    "AND r.id = (SELECT MAX(l.id) FROM reviews l INDEXED BY reviews_votes "
    "WHERE l.guild_id = r.guild_id AND l.book_id = r.book_id "
    "AND l.member_id = r.member_id AND l.rating IS NOT NULL) "
    "AND NOT EXISTS (SELECT 1 FROM ratings x WHERE x.guild_id = r.guild_id AND x.book_id = r.book_id "
    "AND x.member_id = r.member_id)"
)
# A book's published reviews worth quoting, and the order they are quoted in; parameters: guild, book.
_QUOTES = (
    "SELECT id, book_id, reviewer_name, member_id, rating, body, created_at FROM reviews "
    "WHERE guild_id = ? AND book_id = ? AND status = 'announced' AND TRIM(body) != ''"
)
_QUOTE_ORDER = "ORDER BY rating IS NULL, rating DESC, created_at DESC, id DESC"


def _member_rating(row: Any) -> MemberRating:
    return MemberRating(member_id=row["member_id"], member_name=row["member_name"], stars=row["stars"])


def _review_quote(row: Any) -> ReviewQuote:
    return ReviewQuote(
        book_id=row["book_id"], reviewer_name=row["reviewer_name"], member_id=row["member_id"], rating=row["rating"],
        body=row["body"], created_at=from_db_time(row["created_at"]),
    )


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _club_read(row: Any) -> ClubRead:
    return ClubRead(
        book=Book(
            id=row["id"], guild_id=row["guild_id"], title=row["title"], author=row["author"], year=row["year"],
            work_key=row["work_key"], isbn13=row["isbn13"], cover_url=row["cover_url"],
        ),
        status=row["status"],
        started_on=_date(row["started_on"]),
        finished_on=_date(row["finished_on"]),
        source=row["source"],
    )


def _read_rows(rows: Sequence[Any]) -> list[ReadRow]:
    return [ReadRow(int(row["id"]), int(row["book_id"]), row["status"], _date(row["started_on"]),
                    _date(row["finished_on"])) for row in rows]


def _staged_rows(import_id: int, guild_id: int, rows: Sequence[GoodreadsBook], now: datetime) -> list[tuple[Any, ...]]:
    return [
        (
            import_id, guild_id, row.line, row.title, row.author, title_key(row.title), author_key(row.author),
            row.year, row.isbn13, row.rating, row.date_read.isoformat() if row.date_read else None,
            row.review[:MAX_REVIEW] if row.review else None, row.spoilers[:MAX_REVIEW] if row.spoilers else None,
            to_db_time(datetime.combine(row.date_read, time(12), UTC) if row.date_read else now),
        )
        for row in rows
    ]


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[start:start + _ID_CHUNK] for start in range(0, len(ids), _ID_CHUNK)]


class HistoryRepository:
    """One guild's reads and ratings, and the look-ups that answer questions about them; all scoped by guild."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db
        self._import_ids = itertools.count(1)

    # -- writing -------------------------------------------------------------------------------

    async def add_read(
        self, guild_id: int, book_id: int, *, status: ReadStatus, started_on: date | None = None,
        finished_on: date | None = None, source: str = "manual", now: datetime,
    ) -> tuple[ClubRead, bool]:
        """Records the read, or replaces the status and dates of the book's existing read; True when new."""
        if status not in READ_STATUSES:
            raise ValueError(f"unknown read status {status!r}")
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT 1 FROM reads WHERE guild_id = ? AND book_id = ?", (guild_id, book_id)
            )
            created = await cursor.fetchone() is None
            await cursor.close()
            await conn.execute(
                "INSERT INTO reads (guild_id, book_id, status, started_on, finished_on, source, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, book_id) DO UPDATE SET status = excluded.status, "
                "started_on = excluded.started_on, finished_on = excluded.finished_on",
                (guild_id, book_id, status, started_on.isoformat() if started_on else None,
                 finished_on.isoformat() if finished_on else None, source, to_db_time(now)),
            )
        read = await self.get_read(guild_id, book_id)
        if read is None:
            raise RuntimeError("a stored read vanished")
        return read, created

    async def start_read(self, guild_id: int, book_id: int, *, on: date, now: datetime) -> ClubRead | None:
        """Makes the book a current read begun `on`, adding the read when the book had none; None (nothing
        changed) when the read is finished."""
        async with self._db.transaction() as conn:
            # Selected from the guild's own books: another guild's book id adds nothing.
            cursor = await conn.execute(
                "INSERT INTO reads (guild_id, book_id, status, started_on, created_at) "
                "SELECT guild_id, id, 'reading', ?, ? FROM books WHERE guild_id = ? AND id = ? "
                "ON CONFLICT (guild_id, book_id) DO UPDATE SET status = 'reading', started_on = excluded.started_on, "
                "finished_on = NULL WHERE reads.status != 'finished'",
                (on.isoformat(), to_db_time(now), guild_id, book_id),
            )
            changed = cursor.rowcount
        return await self.get_read(guild_id, book_id) if changed else None

    async def finish_read(self, guild_id: int, book_id: int, *, on: date) -> ClubRead | None:
        """Marks the book's read finished `on`; None (nothing changed) when it has no read or is finished already,
        so that of two moderators finishing it at once, one does."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE reads SET status = 'finished', finished_on = ? WHERE guild_id = ? AND book_id = ? "
                "AND status != 'finished'",
                (on.isoformat(), guild_id, book_id),
            )
            changed = cursor.rowcount
        return await self.get_read(guild_id, book_id) if changed else None

    async def remove_read(self, guild_id: int, book_id: int) -> bool:
        """Takes the book out of the club history; its ratings, reviews and the book itself stay."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM reads WHERE guild_id = ? AND book_id = ?", (guild_id, book_id))
            return cursor.rowcount > 0

    async def rate(
        self, guild_id: int, book_id: int, member_id: int, member_name: str, stars: int, *, now: datetime
    ) -> int | None:
        """Sets the member's stars for the book; returns the stars they had given before, if any."""
        if not 1 <= stars <= 5:
            raise ValueError("stars must be 1 to 5")
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT stars FROM ratings WHERE guild_id = ? AND book_id = ? AND member_id = ?",
                (guild_id, book_id, member_id),
            )
            previous = await cursor.fetchone()
            await cursor.close()
            await conn.execute(
                "INSERT INTO ratings (guild_id, book_id, member_id, member_name, stars, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, book_id, member_id) DO UPDATE SET "
                "stars = excluded.stars, member_name = excluded.member_name, updated_at = excluded.updated_at",
                (guild_id, book_id, member_id, member_name, stars, to_db_time(now)),
            )
        return int(previous["stars"]) if previous else None

    async def import_goodreads(
        self, guild_id: int, rows: Sequence[GoodreadsBook], *, member_id: int, member_name: str, now: datetime,
        batch: int = IMPORT_BATCH,
    ) -> ImportReport:
        """Adds the rows as finished reads, skipping books already in the club history; all at once or not at all.

        The rows are staged in batches, each its own short transaction, so other guilds' writes get turns between
        them; one last short transaction then moves them into the history, so a reader sees all of the import or
        none of it. The staging table is the writer connection's TEMP table: a process that dies mid-import
        leaves nothing behind.

        A row's rating and review become the importing member's, since a Goodreads export is one
        person's shelf. Imported reviews are stored as already announced: they were published long
        ago and must not be posted again at the next slot.
        """
        import_id = next(self._import_ids)
        # Name keys cost ~25 µs a row: 20,000 rows would hold the event loop for half a second.
        staged = await asyncio.to_thread(_staged_rows, import_id, guild_id, rows, now)
        async with self._db.pinned():
            try:
                for start in range(0, len(staged), batch):
                    async with self._db.transaction() as conn:
                        await conn.execute(_STAGING_TABLE)
                        await conn.executemany(_STAGE_ROW, staged[start:start + batch])
                # The planner needs to know how many rows were staged (PostgreSQL never analyses TEMP tables itself):
                # with its guesses, linking 20,000 staged rows to their books took a minute.
                await self._db.analyze(("import_rows", "books", "reads"))
                existing = await self._publish_import(import_id, guild_id, member_id, member_name, to_db_time(now))
            finally:
                try:
                    await asyncio.shield(self._discard_staged(import_id, batch))
                except Exception as error:
                    # A busy or full database must not hide why the import itself failed; the TEMP rows go with
                    # the connection at the latest.
                    log.warning("could not discard the staged rows of import %d: %s", import_id, error)
        await self._db.analyze(("books", "reads", "ratings", "reviews"))
        added = [row for row in rows if row.line not in existing]
        skipped = [SkippedRow(line=row.line, title=row.title, reason="already in the club history")
                   for row in rows if row.line in existing]
        return ImportReport(added=added, skipped=skipped)

    async def _publish_import(self, import_id: int, guild_id: int, member_id: int, member_name: str,
                              stamp: str) -> set[int]:
        """Moves a staged import into the history in one transaction; returns the lines whose book had a read."""
        ids = {"import": import_id, "guild": guild_id, "member": member_id, "name": member_name, "stamp": stamp}
        async with self._db.transaction() as conn:
            for statement in _PUBLISH_IMPORT:
                await conn.execute(statement, ids)
            existing = await conn.execute_fetchall(
                "SELECT line FROM temp.import_rows WHERE import_id = ? AND guild_id = ? AND existed = 1",
                (import_id, guild_id),
            )
        return {int(row["line"]) for row in existing}

    async def _discard_staged(self, import_id: int, batch: int) -> None:
        while True:
            async with self._db.transaction() as conn:
                await conn.execute(_STAGING_TABLE)
                cursor = await conn.execute(
                    "DELETE FROM temp.import_rows WHERE rowid IN (SELECT rowid FROM temp.import_rows "
                    "WHERE import_id = ? LIMIT ?)",
                    (import_id, batch),
                )
                if cursor.rowcount < batch:
                    return

    # -- reads ---------------------------------------------------------------------------------

    async def get_read(self, guild_id: int, book_id: int) -> ClubRead | None:
        row = await self._db.fetch_one(
            f"SELECT {_READ_COLUMNS} {_READ_FROM} WHERE r.guild_id = ? AND r.book_id = ?",
            (guild_id, book_id),
        )
        return _club_read(row) if row else None

    async def reads(
        self, guild_id: int, *, book_ids: Collection[int] | None = None, status: ReadStatus | None = None,
        limit: int | None = None,
    ) -> list[ClubRead]:
        """The guild's reads, current first, then finished newest first, then planned."""
        where, params = self._read_filter(guild_id, book_ids, status)
        sql = f"SELECT {_READ_COLUMNS} {_READ_FROM} WHERE {where} {_NEWEST_FIRST}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_club_read(row) for row in await self._db.fetch_all(sql, params)]

    async def count_reads(
        self, guild_id: int, *, book_ids: Collection[int] | None = None, status: ReadStatus | None = None
    ) -> int:
        where, params = self._read_filter(guild_id, book_ids, status)
        row = await self._db.fetch_one(f"SELECT COUNT(*) AS n FROM reads r WHERE {where}", params)  # noqa: S608
        return int(row["n"]) if row else 0

    @staticmethod
    def _read_filter(
        guild_id: int, book_ids: Collection[int] | None, status: ReadStatus | None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = ["r.guild_id = ?"]
        params: list[Any] = [guild_id]
        if book_ids is not None:
            ids = sorted(set(book_ids))
            clauses.append(f"r.book_id IN ({_placeholders(len(ids))})")
            params.extend(ids)
        if status is not None:
            clauses.append("r.status = ?")
            params.append(status)
        return " AND ".join(clauses), params

    async def finished_between(self, guild_id: int, start: date, end: date, *, limit: int = 50) -> list[ClubRead]:
        """Reads finished on or after `start` and before `end`, in the order they were finished."""
        rows = await self._db.fetch_all(
            f"SELECT {_READ_COLUMNS} {_READ_FROM} WHERE r.guild_id = ? AND r.status = 'finished' "
            "AND r.finished_on >= ? AND r.finished_on < ? ORDER BY r.finished_on, r.id LIMIT ?",
            (guild_id, start.isoformat(), end.isoformat(), limit),
        )
        return [_club_read(row) for row in rows]

    async def count_finished_between(self, guild_id: int, start: date, end: date) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM reads WHERE guild_id = ? AND status = 'finished' AND finished_on >= ? "
            "AND finished_on < ?",
            (guild_id, start.isoformat(), end.isoformat()),
        )
        return int(row["n"]) if row else 0

    async def last_finished(self, guild_id: int) -> ClubRead | None:
        """The finished read with the latest finishing date (reads without a date count as oldest)."""
        # The index reads_last_finished holds this filter and order: change them together.
        row = await self._db.fetch_one(
            f"SELECT {_READ_COLUMNS} {_READ_FROM} WHERE r.guild_id = ? AND r.status = 'finished' "
            "ORDER BY r.finished_on IS NULL, r.finished_on DESC, r.id DESC LIMIT 1",
            (guild_id,),
        )
        return _club_read(row) if row else None

    async def reads_next_to(
        self, guild_id: int, book_id: int, *, after: bool, limit: int = 3
    ) -> list[ClubRead]:
        """The reads just after (or just before) the book's read in time, nearest first; none when it is not dated."""
        place = await self._place_in_order(guild_id, book_id)
        if place is None:
            return []
        day, read_id = place
        compare, direction = (">", "") if after else ("<", "DESC")
        rows = await self._db.fetch_all(
            f"SELECT {_READ_COLUMNS} {_READ_FROM} WHERE r.guild_id = ? AND {_IN_ORDER} "
            f"AND ({_DAY} {compare} ? OR ({_DAY} = ? AND r.id {compare} ?)) "
            f"ORDER BY {_DAY} {direction}, r.id {direction} LIMIT ?",
            (guild_id, day, day, read_id, limit),
        )
        return [_club_read(row) for row in rows]

    async def reads_from_to(
        self, guild_id: int, first_book_id: int, last_book_id: int, *, limit: int = 50
    ) -> list[ClubRead]:
        """The reads from one book's read to another's in time, both included, in the order they were read
        (the two books may be given either way round); none when either is not dated."""
        places = [await self._place_in_order(guild_id, book_id) for book_id in (first_book_id, last_book_id)]
        if places[0] is None or places[1] is None:
            return []
        (low_day, low_id), (high_day, high_id) = sorted([places[0], places[1]])
        rows = await self._db.fetch_all(
            f"SELECT {_READ_COLUMNS} {_READ_FROM} WHERE r.guild_id = ? AND {_IN_ORDER} "
            f"AND ({_DAY} > ? OR ({_DAY} = ? AND r.id >= ?)) AND ({_DAY} < ? OR ({_DAY} = ? AND r.id <= ?)) "
            f"ORDER BY {_DAY}, r.id LIMIT ?",
            (guild_id, low_day, low_day, low_id, high_day, high_day, high_id, limit),
        )
        return [_club_read(row) for row in rows]

    async def _place_in_order(self, guild_id: int, book_id: int) -> tuple[str, int] | None:
        row = await self._db.fetch_one(
            f"SELECT {_DAY} AS day, r.id FROM reads r WHERE r.guild_id = ? AND r.book_id = ? AND {_IN_ORDER}",  # noqa: S608
            (guild_id, book_id),
        )
        return (row["day"], int(row["id"])) if row else None

    async def read_rows(self, guild_id: int) -> list[ReadRow]:
        """Every read of the guild as a plain tuple, for answers to hold in memory (`ClubReads`)."""
        rows = await self._db.fetch_all(
            "SELECT id, book_id, status, started_on, finished_on FROM reads WHERE guild_id = ?", (guild_id,)
        )
        # Thousands of dates to parse: in a thread, so that other servers are answered meanwhile.
        return await asyncio.to_thread(_read_rows, rows)

    async def read_statuses(self, guild_id: int) -> dict[int, ReadStatus]:
        rows = await self._db.fetch_all("SELECT book_id, status FROM reads WHERE guild_id = ?", (guild_id,))
        return {int(row["book_id"]): row["status"] for row in rows}

    # -- names, votes and quotes -----------------------------------------------------------------

    async def versions(self, guild_id: int) -> HistoryVersions:
        """Where the guild's history stands: every question reads it first, so without a hop (`fetch_quick`)."""
        rows = await self._db.fetch_versions(
            "history_versions", "SELECT names, votes FROM history_versions WHERE guild_id = ?", guild_id
        )
        return HistoryVersions(int(rows[0]["names"]), int(rows[0]["votes"])) if rows else HistoryVersions(0, 0)

    async def book_names(self, guild_id: int) -> list[BookName]:
        """Every book the guild knows (read, nominated or reviewed), for name matching."""
        rows = await self._db.fetch_all("SELECT id, title, author FROM books WHERE guild_id = ?", (guild_id,))
        return [BookName(int(row["id"]), row["title"], row["author"]) for row in rows]

    async def books(self, guild_id: int, book_ids: Collection[int]) -> dict[int, Book]:
        found: dict[int, Book] = {}
        for chunk in _chunks(sorted(set(book_ids))):
            rows = await self._db.fetch_all(
                "SELECT id, guild_id, title, author, year, work_key, isbn13, cover_url FROM books "  # noqa: S608
                f"WHERE guild_id = ? AND id IN ({_placeholders(len(chunk))})",
                (guild_id, *chunk),
            )
            found.update({int(row["id"]): Book(**{key: row[key] for key in row.keys()}) for row in rows})  # noqa: SIM118
        return found

    async def scores(self, guild_id: int, book_ids: Collection[int] | None = None) -> dict[int, Score]:
        """Members' stars per book (all the guild's books when no ids are given)."""
        if book_ids is None:
            return await self._scores(guild_id, None)
        found: dict[int, Score] = {}
        for chunk in _chunks(sorted(set(book_ids))):
            found.update(await self._scores(guild_id, chunk))
        return found

    async def _scores(self, guild_id: int, book_ids: Sequence[int] | None) -> dict[int, Score]:
        ratings_filter = reviews_filter = ""
        ids: list[int] = []
        if book_ids is not None:
            ids = list(book_ids)
            ratings_filter = f"AND book_id IN ({_placeholders(len(ids))})"
            reviews_filter = f"AND r.book_id IN ({_placeholders(len(ids))})"
        params = [guild_id, *ids, guild_id, *ids]
        votes = _VOTES.format(ratings_filter=ratings_filter, reviews_filter=reviews_filter)
        rows = await self._db.fetch_all(
            f"SELECT book_id, SUM(stars) AS total, COUNT(*) AS votes FROM ({votes}) AS v GROUP BY book_id",  # noqa: S608
            params,
        )
        return {int(row["book_id"]): Score(int(row["total"]), int(row["votes"])) for row in rows}

    async def star_stats(self, guild_id: int) -> dict[int, Stars]:
        """Every rated book's stars with their lowest, highest and spread, counted as `scores` counts them."""
        votes = _VOTES.format(ratings_filter="", reviews_filter="")
        rows = await self._db.fetch_all(
            "SELECT book_id, SUM(stars) AS total, COUNT(*) AS votes, MIN(stars) AS low, MAX(stars) AS high, "  # noqa: S608
            f"SUM(stars * stars) AS squares FROM ({votes}) AS v GROUP BY book_id",
            (guild_id, guild_id),
        )
        return {int(row["book_id"]): Stars(int(row["total"]), int(row["votes"]), int(row["low"]), int(row["high"]),
                                           int(row["squares"])) for row in rows}

    async def member_names(self, guild_id: int) -> dict[int, str]:
        """The members who rated or reviewed a book, by id, each with the latest name they were seen under."""
        rows = await self._db.fetch_all(
            "SELECT member_id, member_name AS name, updated_at AS seen FROM ratings WHERE guild_id = ? "
            "UNION ALL SELECT member_id, reviewer_name, created_at FROM reviews "
            "WHERE guild_id = ? AND member_id IS NOT NULL ORDER BY seen",
            (guild_id, guild_id),
        )
        return {int(row["member_id"]): row["name"] for row in rows if row["name"]}

    async def member_stars(self, guild_id: int, member_id: int) -> dict[int, int]:
        """The member's stars per book: their /rate, else the stars of their latest rated review."""
        rows = await self._db.fetch_quick(
            "SELECT book_id, stars FROM ratings WHERE guild_id = ? AND member_id = ? "
            "UNION ALL "
            "SELECT r.book_id, r.rating FROM reviews r WHERE r.guild_id = ? AND r.member_id = ? "
            "AND r.rating IS NOT NULL "
            "AND r.id = (SELECT MAX(l.id) FROM reviews l WHERE l.guild_id = r.guild_id AND l.book_id = r.book_id "
            "AND l.member_id = r.member_id AND l.rating IS NOT NULL) "
            "AND NOT EXISTS (SELECT 1 FROM ratings x WHERE x.guild_id = r.guild_id AND x.book_id = r.book_id "
            "AND x.member_id = r.member_id)",
            (guild_id, member_id, guild_id, member_id),
        )
        return {int(row["book_id"]): int(row["stars"]) for row in rows}

    async def rated_book_ids(self, guild_id: int, member_id: int) -> set[int]:
        """Books the member has rated or reviewed."""
        rows = await self._db.fetch_quick(
            "SELECT book_id FROM ratings WHERE guild_id = ? AND member_id = ? "
            "UNION SELECT book_id FROM reviews WHERE guild_id = ? AND member_id = ?",
            (guild_id, member_id, guild_id, member_id),
        )
        return {int(row["book_id"]) for row in rows}

    async def member_ratings(self, guild_id: int, book_id: int) -> list[MemberRating]:
        """Each member's stars for the book (their /rate, else their latest rated review), highest first."""
        rows = await self._db.fetch_all(f"{_MEMBER_RATINGS} ORDER BY stars DESC, member_name",
                                        (guild_id, book_id, guild_id, book_id))
        return [_member_rating(row) for row in rows]

    async def quotes(self, guild_id: int, book_id: int, *, limit: int = 3) -> list[ReviewQuote]:
        """Published reviews of the book, the highest-rated first, then the newest."""
        rows = await self._db.fetch_quick(f"{_QUOTES} {_QUOTE_ORDER} LIMIT ?", (guild_id, book_id, limit))
        return [_review_quote(row) for row in rows]

    async def opinions(
        self, guild_id: int, book_id: int, *, quotes: int
    ) -> tuple[list[MemberRating], list[ReviewQuote]]:
        """`member_ratings` and `quotes` of the book in one read: an answer about a book shows both."""
        # Through a reader's thread: every member's latest review of the book takes 0.3–0.8 ms to find.
        rows = await self._db.fetch_all(
            f"SELECT * FROM (SELECT 0 AS part, member_id, member_name, stars, NULL AS body, NULL AS created_at, "  # noqa: S608
            f"-stars AS position FROM ({_MEMBER_RATINGS}) AS m UNION ALL SELECT * FROM (SELECT 1, member_id, "
            f"reviewer_name, rating, body, created_at, ROW_NUMBER() OVER ({_QUOTE_ORDER}) AS position "
            f"FROM ({_QUOTES}) AS q {_QUOTE_ORDER} LIMIT ?) AS quoted) AS parts ORDER BY part, position, member_name",
            (guild_id, book_id, guild_id, book_id, guild_id, book_id, quotes),
        )
        ratings = [_member_rating(row) for row in rows if row["part"] == 0]
        found = [ReviewQuote(book_id=book_id, reviewer_name=row["member_name"], member_id=row["member_id"],
                             rating=row["stars"], body=row["body"], created_at=from_db_time(row["created_at"]))
                 for row in rows if row["part"] == 1]
        return ratings, found

    # -- export --------------------------------------------------------------------------------

    async def export_books(self, guild_id: int) -> list[ExportBook]:
        """The finished reads as Goodreads rows, newest first; "My Rating" is the club's average, rounded half up."""
        rows = await self._db.fetch_all(
            f"SELECT {_READ_COLUMNS} {_READ_FROM} WHERE r.guild_id = ? AND r.status = 'finished' {_NEWEST_FIRST}",
            (guild_id,),
        )
        scores = await self._scores(guild_id, None)
        # Tens of thousands of models take a while to build: in a thread, so that other servers are answered.
        return await asyncio.to_thread(_export_books, rows, scores)


def _export_books(rows: Sequence[Any], scores: dict[int, Score]) -> list[ExportBook]:
    books = []
    for row in rows:
        score = scores.get(int(row["id"]))
        books.append(
            ExportBook(
                title=row["title"],
                author=row["author"] or "Unknown",
                isbn13=row["isbn13"],
                rating=int(score.average + 0.5) if score else None,
                date_read=_date(row["finished_on"]),
                date_added=_date(row["started_on"]),
                year=row["year"],
            )
        )
    return books


class CatalogueCacheRepository:
    """Open Library answers kept for reuse; public catalogue data shared by every guild."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def get(self, query: str, *, fetched_after: datetime) -> Any | None:
        """The cached payload for the query, unless it is missing or older than `fetched_after`."""
        row = await self._db.fetch_one(
            "SELECT payload FROM catalogue_cache WHERE query = ? AND fetched_at >= ?",
            (query, to_db_time(fetched_after)),
        )
        return json.loads(row["payload"]) if row else None

    async def put(self, query: str, payload: Any, *, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO catalogue_cache (query, payload, fetched_at) VALUES (?, ?, ?) "
                "ON CONFLICT (query) DO UPDATE SET payload = excluded.payload, fetched_at = excluded.fetched_at",
                (query, json.dumps(payload), to_db_time(now)),
            )
