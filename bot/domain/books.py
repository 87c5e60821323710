"""The club's one book model, and a read of it: what every layer passes around (the store fills them in)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

ReadStatus = Literal["planned", "reading", "finished"]
READ_STATUSES: tuple[ReadStatus, ...] = ("planned", "reading", "finished")


class Book(BaseModel):
    """A book one guild knows of: read, nominated, reviewed or discussed."""

    id: int
    guild_id: int
    title: str
    author: str
    year: int | None = None
    work_key: str | None = None
    isbn13: str | None = None
    cover_url: str | None = None

    @property
    def label(self) -> str:
        """"Title by Author", or the title alone when the author is unknown."""
        return f"{self.title} by {self.author}" if self.author else self.title


class ClubRead(BaseModel):
    """A book the club has read, is reading or plans to read."""

    book: Book
    status: ReadStatus
    started_on: date | None = None
    finished_on: date | None = None
    source: str = "manual"
