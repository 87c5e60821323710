"""The store: one database (SQLite by default, or PostgreSQL), one repository per aggregate, pydantic models out."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

from bot.store.books import BookRepository
from bot.store.config import ConfigRepository, FeedRepository
from bot.store.db import BUSY_TIMEOUT_SECONDS, StoreError, is_busy, start_integrity_check
from bot.store.discussions import DiscussionRepository
from bot.store.engine import AnyDatabase, open_database
from bot.store.history import CatalogueCacheRepository, HistoryRepository
from bot.store.jobs import JobRepository, StateRepository
from bot.store.meetings import MeetingRepository
from bot.store.polls import PollRepository
from bot.store.reviews import ReviewRepository

__all__ = ["BUSY_TIMEOUT_SECONDS", "Store", "StoreError", "is_busy", "start_integrity_check"]


class Store:
    """Opens, migrates and closes the database and exposes the repositories."""

    def __init__(self, target: Path | str) -> None:
        """`target`: a SQLite file's path, or a DATABASE_URL (`sqlite:///…` or `postgresql://…`)."""
        self.target = target
        self.db: AnyDatabase = open_database(target)
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
        self._integrity: asyncio.Future[None] | None = None

    @property
    def path(self) -> Path | str:
        """The SQLite file, or the PostgreSQL URL without its password."""
        return self.db.path

    async def open(self) -> None:
        await self.db.open()

    def open_checked(self, integrity: concurrent.futures.Future[None]) -> Store:
        """The store whose first write (`migrate`) waits for the verdict of `start_integrity_check`."""
        self._integrity = asyncio.wrap_future(integrity)
        return self

    async def migrate(self) -> list[int]:
        if self._integrity is not None:
            await self._integrity
        return await self.db.migrate()

    async def close(self) -> None:
        self._forget_integrity()
        await self.db.close()

    def _forget_integrity(self) -> None:
        """Stopped during the start-up: nobody waits for the check's verdict any more (its thread ends by itself),
        and a verdict that came is taken, so that asyncio does not log it as lost."""
        check, self._integrity = self._integrity, None
        if check is not None:
            check.cancel()
            if check.done() and not check.cancelled():
                check.exception()

    async def __aenter__(self) -> Store:
        try:
            await self.open()
        except BaseException:
            self._forget_integrity()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
