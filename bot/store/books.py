"""Books a guild knows of (read, nominated, reviewed or discussed), found again by their normalised keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from bot.domain.books import Book
from bot.domain.names import author_key, title_key
from bot.domain.text import clean_line
from bot.store.db import to_db_time
from bot.store.engine import AnyDatabase, new_id


class Rename(BaseModel):
    """What renaming a book did: `renamed` (book is the renamed one), `clash` (book is the guild's other book that
    already has that title and author; nothing changed) or `missing` (no such book in the guild)."""

    outcome: Literal["renamed", "clash", "missing"]
    book: Book | None = None


_COLUMNS = "id, guild_id, title, author, year, work_key, isbn13, cover_url"


def _book(row: Any) -> Book:
    return Book(**{key: row[key] for key in row.keys()})  # noqa: SIM118


def _fills_in(book: Book, author: str, year: int | None, work_key: str | None, isbn13: str | None,
              cover_url: str | None) -> bool:
    """Whether these details give the stored book something it lacks."""
    return bool(
        (author and not book.author) or (year is not None and book.year is None) or (work_key and not book.work_key)
        or (isbn13 and not book.isbn13) or (cover_url and not book.cover_url)
    )


class BookRepository:
    """One guild's books; a book is the same book when its title and author keys match, or its work key does."""

    MAX_TITLE = 256
    MAX_AUTHOR = 200

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def get(self, guild_id: int, book_id: int) -> Book | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM books WHERE guild_id = ? AND id = ?", (guild_id, book_id)  # noqa: S608
        )
        return _book(row) if row else None

    async def find(self, guild_id: int, title: str, author: str = "", work_key: str | None = None) -> Book | None:
        """The guild's book with this work key, or these title and author keys (any author when none is given)."""
        if work_key:
            row = await self._db.fetch_one(
                f"SELECT {_COLUMNS} FROM books WHERE guild_id = ? AND work_key = ?", (guild_id, work_key)  # noqa: S608
            )
            if row:
                return _book(row)
        if author.strip():
            row = await self._db.fetch_one(
                f"SELECT {_COLUMNS} FROM books WHERE guild_id = ? AND title_key = ? AND author_key = ?",  # noqa: S608
                (guild_id, title_key(title), author_key(author)),
            )
        else:
            row = await self._db.fetch_one(
                f"SELECT {_COLUMNS} FROM books WHERE guild_id = ? AND title_key = ? ORDER BY id",  # noqa: S608
                (guild_id, title_key(title)),
            )
        return _book(row) if row else None

    async def find_or_create(
        self, guild_id: int, title: str, author: str = "", *, year: int | None = None, work_key: str | None = None,
        isbn13: str | None = None, cover_url: str | None = None,
    ) -> tuple[Book, bool]:
        """The existing book (filling in what it lacked), or a new one; True when created."""
        title, author = clean_line(title), clean_line(author)
        if not title:
            raise ValueError("a book needs a title")
        existing = await self.find(guild_id, title, author, work_key)
        if existing is not None and not _fills_in(existing, author, year, work_key, isbn13, cover_url):
            # No write at all: even an update that changes nothing moves the guild's names version.
            return existing, False
        async with self._db.transaction() as conn:
            if existing is not None:
                await conn.execute(
                    "UPDATE books SET year = COALESCE(year, ?), work_key = COALESCE(work_key, ?), "
                    "isbn13 = COALESCE(isbn13, ?), cover_url = COALESCE(cover_url, ?), "
                    "author = CASE WHEN author = '' THEN ? ELSE author END, "
                    "author_key = CASE WHEN author = '' THEN ? ELSE author_key END "
                    "WHERE guild_id = ? AND id = ?",
                    (year, work_key, isbn13, cover_url, author, author_key(author), guild_id, existing.id),
                )
                book_id, created = existing.id, False
            else:
                cursor = await conn.execute(
                    "INSERT INTO books (guild_id, title, author, year, work_key, isbn13, cover_url, title_key, "
                    "author_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (guild_id, title, author, year, work_key, isbn13, cover_url, title_key(title), author_key(author),
                     to_db_time(datetime.now(UTC))),
                )
                book_id, created = await new_id(cursor), True
        book = await self.get(guild_id, book_id)
        if book is None:
            raise RuntimeError("a stored book vanished")
        return book, created

    async def rename(self, guild_id: int, book_id: int, title: str, author: str) -> Rename:
        """Corrects the book's title and author and its search keys, unless another book of the guild has them."""
        title, author = " ".join(title.split()), " ".join(author.split())
        if not title:
            raise ValueError("a book needs a title")
        keys = (title_key(title), author_key(author))
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                f"SELECT {_COLUMNS} FROM books WHERE guild_id = ? AND title_key = ? AND author_key = ? "  # noqa: S608
                "AND id != ?",
                (guild_id, *keys, book_id),
            )
            clash = await cursor.fetchone()
            await cursor.close()
            if clash is not None:
                return Rename(outcome="clash", book=_book(clash))
            cursor = await conn.execute(
                "UPDATE books SET title = ?, author = ?, title_key = ?, author_key = ? WHERE guild_id = ? AND id = ?",
                (title, author, *keys, guild_id, book_id),
            )
            if cursor.rowcount == 0:
                return Rename(outcome="missing")
        return Rename(outcome="renamed", book=await self.get(guild_id, book_id))

    async def list_all(self, guild_id: int) -> list[Book]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM books WHERE guild_id = ? ORDER BY title COLLATE NOCASE", (guild_id,)  # noqa: S608
        )
        return [_book(row) for row in rows]

    async def suggest(self, guild_id: int, text: str, limit: int = 25) -> list[Book]:
        """For autocomplete: books whose title or author contains the text, titles starting with it first."""
        needle = text.strip().casefold()
        books = await self.list_all(guild_id)
        if not needle:
            return books[:limit]
        hits = [book for book in books if needle in book.title.casefold() or needle in book.author.casefold()]
        hits.sort(key=lambda book: (not book.title.casefold().startswith(needle), book.title.casefold()))
        return hits[:limit]
