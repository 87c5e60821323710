"""Which club book a member means: an autocomplete choice (`book:<id>`) or a typed title, optionally "by Author"."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.books import Book
from bot.domain.text import clip, is_book_choice, md, picked_book
from bot.errors import UserError
from bot.store import Store
from bot.store.config import DEFAULT_TIMEZONE


class BookResolver:
    """Finds one guild's book; a book of another guild, even named by its id, is not found."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def find(self, guild_id: int, text: str) -> Book | None:
        books = self.store.books
        if is_book_choice(text):
            book_id = picked_book(text)
            return await books.get(guild_id, book_id) if book_id else None
        found = await books.find(guild_id, text)
        if found is None and " by " in text:
            title, _, author = text.rpartition(" by ")
            found = await books.find(guild_id, title, author)
        return found

    async def require(self, guild_id: int, text: str) -> Book:
        """The book, or a UserError saying the club has none by that name."""
        found = await self.find(guild_id, text)
        if found is None:
            if is_book_choice(text):
                raise UserError("That book is not in the club's records; pick one from the list.")
            raise UserError(f"The club has no book called “{md(clip(text, 100))}”; pick one from the list.")
        return found


async def club_day(store: Store, guild_id: int, moment: datetime) -> date:
    """The day `moment` falls on in the club's time zone (`/config schedule`), the day on members' calendars."""
    return moment.astimezone(ZoneInfo(await store.config.timezone(guild_id) or DEFAULT_TIMEZONE)).date()
