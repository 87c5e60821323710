"""The SQLite store: one Database, one repository per aggregate, pydantic models out."""

from __future__ import annotations

from pathlib import Path

from bot.store.books import BookRepository
from bot.store.config import ConfigRepository, FeedRepository
from bot.store.db import BUSY_TIMEOUT_SECONDS, Database, StoreError, is_busy
from bot.store.discussions import DiscussionRepository
from bot.store.history import CatalogueCacheRepository, HistoryRepository
from bot.store.jobs import JobRepository, StateRepository
from bot.store.meetings import MeetingRepository
from bot.store.polls import PollRepository
from bot.store.reviews import ReviewRepository

__all__ = ["BUSY_TIMEOUT_SECONDS", "Store", "StoreError", "is_busy"]


class Store:
    """Opens, migrates and closes the database and exposes the repositories."""

    def __init__(self, path: Path | str) -> None:
        self.db = Database(path)
        self.config = ConfigRepository(self.db)
        self.books = BookRepository(self.db)
        self.feeds = FeedRepository(self.db)
        self.jobs = JobRepository(self.db)
        self.state = StateRepository(self.db)
        self.history = HistoryRepository(self.db)
        self.catalogue_cache = CatalogueCacheRepository(self.db)
        self.polls = PollRepository(self.db)
        self.reviews = ReviewRepository(self.db)
        self.discussions = DiscussionRepository(self.db)
        self.meetings = MeetingRepository(self.db)

    @property
    def path(self) -> Path:
        return self.db.path

    async def open(self) -> None:
        await self.db.open()

    async def migrate(self) -> list[int]:
        return await self.db.migrate()

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
