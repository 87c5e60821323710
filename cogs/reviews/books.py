"""The book a review is about: the guild's record of it, added when new, with a cover when the catalogue has one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.store.books import Book

if TYPE_CHECKING:
    from bot.bot import BookClubBot


async def club_book(bot: BookClubBot, guild_id: int, title: str, author: str) -> Book:
    """The guild's book with this title and author (any author when none is given), added when it is new."""
    existing = await bot.store.books.find(guild_id, title, author)
    if existing is not None and (existing.cover_url or bot.catalogue is None):
        return existing
    work = await bot.catalogue.find_title(title, author) if bot.catalogue is not None else None
    book, _ = await bot.store.books.find_or_create(
        guild_id, title, author, year=work.year if work else None, work_key=work.work_key if work else None,
        isbn13=work.isbn13 if work else None, cover_url=work.cover_url if work else None,
    )
    return book
