"""The real bot, in this process, against the loopback Discord: what every end-to-end test drives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.bot import BookClubBot
from bot.clock import ManualClock
from bot.settings import Settings
from bot.store import Store
from tests.databases import new_database
from tests.discord_double import DiscordDouble
from tests.discord_double.fixtures import double

__all__ = ["BookClub", "bookclub", "double", "message_content", "private_feeds"]

# Generous: the wait ends at READY, and a busy CI machine may take a while to get there.
READY_TIMEOUT = 30.0


@dataclass
class BookClub:
    """Handles on a running bot: the double to act through, and the bot's own store and clock to check."""

    bot: BookClubBot
    double: DiscordDouble
    clock: ManualClock
    store: Store
    settings: Settings


@pytest.fixture
def message_content() -> bool:
    """Whether the operator enabled the privileged message-content intent (parametrize to turn it on)."""
    return False


@pytest.fixture
def private_feeds() -> bool:
    """Whether feeds on loopback may be fetched: off, as in production, unless a test serves a blog on 127.0.0.1
    (parametrize to turn it on)."""
    return False


def test_settings(double: DiscordDouble, database: Path | str, message_content: bool, private_feeds: bool = False
                  ) -> Settings:
    """The settings of a bot under test; `database` is a SQLite file or a PostgreSQL URL (`new_database`)."""
    return Settings(
        _env_file=None,  # pyright: ignore[reportCallIssue]
        discord_token=double.token,  # pyright: ignore[reportArgumentType]
        discord_api_base=double.api_base,  # pyright: ignore[reportArgumentType]
        database_path=database if isinstance(database, Path) else Path("unused.db"),
        database_url=database if isinstance(database, str) else None,
        message_content_intent=message_content,
        feed_allow_private_addresses=private_feeds,
        openlibrary_base_url="http://127.0.0.1:9",  # pyright: ignore[reportArgumentType]
    )


test_settings.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
async def bookclub(double: DiscordDouble, tmp_path: Path, clock: ManualClock,
                   message_content: bool, private_feeds: bool) -> AsyncIterator[BookClub]:
    """The bot started against the double with a fresh database and a clock the test moves."""
    async with running_bookclub(double, new_database(tmp_path), clock, message_content, private_feeds) as club:
        yield club


@asynccontextmanager
async def running_bookclub(double: DiscordDouble, database: Path | str, clock: ManualClock,
                           message_content: bool = False, private_feeds: bool = False) -> AsyncIterator[BookClub]:
    """The bot over `database` (a SQLite file or a PostgreSQL URL), started against the double until READY."""
    settings = test_settings(double, database, message_content, private_feeds)
    async with Store(settings.database) as store, aiohttp.ClientSession() as session:
        bot = BookClubBot(settings=settings, store=store, clock=clock, http_session=session,
                          guild_ready_timeout=0.05)
        runner = asyncio.create_task(bot.start(double.token))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), READY_TIMEOUT)
        except TimeoutError:
            if runner.done():
                runner.result()
            raise
        try:
            yield BookClub(bot=bot, double=double, clock=clock, store=store, settings=settings)
        finally:
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)
    assert double.unhandled == [], f"the double was asked for something it does not serve: {double.unhandled}"
    assert double.invalid_bodies == [], f"the bot sent bodies Discord would refuse: {double.invalid_bodies}"
