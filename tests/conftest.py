"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from hypothesis import settings

from bot.bot import BookClubBot, extension_names
from bot.clock import ManualClock
from bot.settings import Settings
from bot.store import Store
from tests.databases import engine, new_database

# CI (which sets CI=true) runs every property with the same examples and no saved ones, so a red build is the
# change's fault and can be reproduced; a developer's run keeps drawing new examples, which is how new failing cases
# are found. A failure prints the blob that replays it (`@reproduce_failure`).
settings.register_profile("ci", derandomize=True, print_blob=True, database=None, deadline=None)
settings.register_profile("local", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "local")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each engine's own tests run only on it: on SQLite (`make test`) those needing the PostgreSQL server are left
    out, under `make test-postgres` those of SQLite's own mechanics (files, locks, pragmas)."""
    left_out = "sqlite_only" if engine() == "postgresql" else "postgres_only"
    deselected = [item for item in items if item.get_closest_marker(left_out) is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker(left_out) is None]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A real, migrated database: a SQLite file in a temporary folder, or a PostgreSQL database of its own."""
    async with Store(new_database(tmp_path)) as opened:
        await opened.migrate()
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
async def loaded_bot(tmp_path: Path, clock: ManualClock) -> AsyncIterator[BookClubBot]:
    """The bot with every extension loaded, as setup_hook leaves it, without connecting anywhere."""
    settings = Settings(_env_file=None, database_path=tmp_path / "bookclub.db")  # pyright: ignore[reportCallIssue]
    async with Store(settings.database) as store, aiohttp.ClientSession() as session:
        await store.migrate()
        bot = BookClubBot(settings=settings, store=store, clock=clock, http_session=session)
        for name in extension_names():
            await bot.load_extension(name)
        try:
            yield bot
        finally:
            for name in extension_names():
                await bot.unload_extension(name)
