"""The club's history: reads, members' ratings, Goodreads import/export, and the read-only look-ups answers need."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from bot.domain.goodreads import ExportBook, GoodreadsBook, SkippedRow
from bot.domain.names import author_key, title_key
from bot.store.books import Book
from bot.store.db import Database, from_db_time, to_db_time

ReadStatus = Literal["planned", "reading", "finished"]
READ_STATUSES: tuple[ReadStatus, ...] = ("planned", "reading", "finished")

# Reviews longer than the review modal allows are cut on import, so every review fits the same screens.
MAX_REVIEW = 4000
# SQLite allows 32,766 parameters; a look-up by ids is split well below that.
_ID_CHUNK = 900


class ClubRead(BaseModel):
    """A book the club has read, is reading or plans to read."""

    book: Book
    status: ReadStatus
    started_on: date | None = None
    finished_on: date | None = None
    source: str = "manual"


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

# A member's vote is their /rate stars, else the stars of their latest rated review; blog posts vote once each.
_VOTES = """
SELECT book_id, stars FROM ratings WHERE guild_id = ? {ratings_filter}
UNION ALL
SELECT r.book_id, r.rating FROM reviews r
WHERE r.guild_id = ? AND r.rating IS NOT NULL {reviews_filter}
  AND (r.member_id IS NULL OR (
      r.id = (SELECT MAX(l.id) FROM reviews l WHERE l.guild_id = r.guild_id AND l.book_id = r.book_id
              AND l.member_id = r.member_id AND l.rating IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM ratings x WHERE x.guild_id = r.guild_id AND x.book_id = r.book_id
                      AND x.member_id = r.member_id)))
"""


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


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[start:start + _ID_CHUNK] for start in range(0, len(ids), _ID_CHUNK)]


class HistoryRepository:
    """One guild's reads and ratings, and the look-ups that answer questions about them; all scoped by guild."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
        self, guild_id: int, rows: Sequence[GoodreadsBook], *, member_id: int, member_name: str, now: datetime
    ) -> ImportReport:
        """Adds the rows as finished reads in one transaction, skipping books already in the club history.

        A row's rating and review become the importing member's, since a Goodreads export is one
        person's shelf. Imported reviews are stored as already announced: they were published long
        ago and must not be posted again at the next slot.
        """
        added: list[GoodreadsBook] = []
        skipped: list[SkippedRow] = []
        stamp = to_db_time(now)
        async with self._db.transaction() as conn:
            for row in rows:
                book_id = await self._find_or_insert_book(conn, guild_id, row, stamp)
                cursor = await conn.execute(
                    "SELECT 1 FROM reads WHERE guild_id = ? AND book_id = ?", (guild_id, book_id)
                )
                exists = await cursor.fetchone() is not None
                await cursor.close()
                if exists:
                    skipped.append(SkippedRow(line=row.line, title=row.title, reason="already in the club history"))
                    continue
                await conn.execute(
                    "INSERT INTO reads (guild_id, book_id, status, finished_on, source, created_at) "
                    "VALUES (?, ?, 'finished', ?, 'import', ?)",
                    (guild_id, book_id, row.date_read.isoformat() if row.date_read else None, stamp),
                )
                if row.rating is not None:
                    await conn.execute(
                        "INSERT INTO ratings (guild_id, book_id, member_id, member_name, stars, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, book_id, member_id) DO NOTHING",
                        (guild_id, book_id, member_id, member_name, row.rating, stamp),
                    )
                if row.review:
                    written = datetime.combine(row.date_read, time(12), UTC) if row.date_read else now
                    await conn.execute(
                        "INSERT INTO reviews (guild_id, book_id, member_id, reviewer_name, rating, body, source, "
                        "status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'import', 'announced', ?)",
                        (guild_id, book_id, member_id, member_name, row.rating, row.review[:MAX_REVIEW],
                         to_db_time(written)),
                    )
                added.append(row)
        return ImportReport(added=added, skipped=skipped)

    @staticmethod
    async def _find_or_insert_book(conn: Any, guild_id: int, row: GoodreadsBook, stamp: str) -> int:
        keys = (title_key(row.title), author_key(row.author))
        cursor = await conn.execute(
            "SELECT id FROM books WHERE guild_id = ? AND title_key = ? AND author_key = ?", (guild_id, *keys)
        )
        found = await cursor.fetchone()
        await cursor.close()
        if found is not None:
            await conn.execute(
                "UPDATE books SET year = COALESCE(year, ?), isbn13 = COALESCE(isbn13, ?) WHERE guild_id = ? AND id = ?",
                (row.year, row.isbn13, guild_id, found["id"]),
            )
            return int(found["id"])
        cursor = await conn.execute(
            "INSERT INTO books (guild_id, title, author, year, isbn13, title_key, author_key, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, row.title, row.author, row.year, row.isbn13, *keys, stamp),
        )
        return int(cursor.lastrowid or 0)

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

    async def read_statuses(self, guild_id: int) -> dict[int, ReadStatus]:
        rows = await self._db.fetch_all("SELECT book_id, status FROM reads WHERE guild_id = ?", (guild_id,))
        return {int(row["book_id"]): row["status"] for row in rows}

    # -- names, votes and quotes -----------------------------------------------------------------

    async def versions(self, guild_id: int) -> HistoryVersions:
        row = await self._db.fetch_one(
            "SELECT names, votes FROM history_versions WHERE guild_id = ?", (guild_id,)
        )
        return HistoryVersions(int(row["names"]), int(row["votes"])) if row else HistoryVersions(0, 0)

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
            f"SELECT book_id, SUM(stars) AS total, COUNT(*) AS votes FROM ({votes}) GROUP BY book_id",  # noqa: S608
            params,
        )
        return {int(row["book_id"]): Score(int(row["total"]), int(row["votes"])) for row in rows}

    async def rated_book_ids(self, guild_id: int, member_id: int) -> set[int]:
        """Books the member has rated or reviewed."""
        rows = await self._db.fetch_all(
            "SELECT book_id FROM ratings WHERE guild_id = ? AND member_id = ? "
            "UNION SELECT book_id FROM reviews WHERE guild_id = ? AND member_id = ?",
            (guild_id, member_id, guild_id, member_id),
        )
        return {int(row["book_id"]) for row in rows}

    async def member_ratings(self, guild_id: int, book_id: int) -> list[MemberRating]:
        """Each member's stars for the book (their /rate, else their latest rated review), highest first."""
        rows = await self._db.fetch_all(
            "SELECT member_id, member_name, stars FROM ratings WHERE guild_id = ? AND book_id = ? "
            "UNION ALL "
            "SELECT r.member_id, r.reviewer_name, r.rating FROM reviews r WHERE r.guild_id = ? AND r.book_id = ? "
            "AND r.member_id IS NOT NULL AND r.rating IS NOT NULL "
            "AND r.id = (SELECT MAX(l.id) FROM reviews l WHERE l.guild_id = r.guild_id AND l.book_id = r.book_id "
            "AND l.member_id = r.member_id AND l.rating IS NOT NULL) "
            "AND NOT EXISTS (SELECT 1 FROM ratings x WHERE x.guild_id = r.guild_id AND x.book_id = r.book_id "
            "AND x.member_id = r.member_id) "
            "ORDER BY stars DESC, member_name",
            (guild_id, book_id, guild_id, book_id),
        )
        return [MemberRating(member_id=row["member_id"], member_name=row["member_name"], stars=row["stars"])
                for row in rows]

    async def quotes(self, guild_id: int, book_id: int, *, limit: int = 3) -> list[ReviewQuote]:
        """Published reviews of the book, the highest-rated first, then the newest."""
        rows = await self._db.fetch_all(
            "SELECT book_id, reviewer_name, member_id, rating, body, created_at FROM reviews "
            "WHERE guild_id = ? AND book_id = ? AND status = 'announced' AND TRIM(body) != '' "
            "ORDER BY rating IS NULL, rating DESC, created_at DESC, id DESC LIMIT ?",
            (guild_id, book_id, limit),
        )
        return [
            ReviewQuote(
                book_id=row["book_id"], reviewer_name=row["reviewer_name"], member_id=row["member_id"],
                rating=row["rating"], body=row["body"], created_at=from_db_time(row["created_at"]),
            )
            for row in rows
        ]

    # -- export --------------------------------------------------------------------------------

    async def export_books(self, guild_id: int) -> list[ExportBook]:
        """The finished reads as Goodreads rows; "My Rating" is the club's average, rounded half up."""
        finished = await self.reads(guild_id, status="finished")
        scores = await self.scores(guild_id, [read.book.id for read in finished])
        books = []
        for read in finished:
            score = scores.get(read.book.id)
            books.append(
                ExportBook(
                    title=read.book.title,
                    author=read.book.author or "Unknown",
                    isbn13=read.book.isbn13,
                    rating=int(score.average + 0.5) if score else None,
                    date_read=read.finished_on,
                    date_added=read.started_on,
                    year=read.book.year,
                )
            )
        return books


class CatalogueCacheRepository:
    """Open Library answers kept for reuse; public catalogue data shared by every guild."""

    def __init__(self, db: Database) -> None:
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
