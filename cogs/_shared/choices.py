"""Autocomplete choices that name a club book, alike in every command: its label and its `book:<id>` value."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from discord import app_commands

from bot.domain.books import Book
from bot.domain.text import book_choice, truncate

# Discord refuses an autocomplete answer with more choices, or a choice name longer than this.
MAX_CHOICES = 25
MAX_NAME = 100


def club_book_choice(book_id: int, label: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=truncate(label, MAX_NAME), value=book_choice(book_id))


def club_book_choices(books: Iterable[Book]) -> list[app_commands.Choice[str]]:
    """The first books Discord takes, as choices."""
    return [club_book_choice(book.id, book.label) for book in islice(books, MAX_CHOICES)]
