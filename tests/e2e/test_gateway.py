"""What the bot asks of Discord's gateway and commands API at start: only the intents it uses, and commands synced
where they belong."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bot.bot import BookClubBot
from tests.discord_double import DiscordDouble
from tests.e2e.conftest import READY_TIMEOUT
from tests.e2e.process import BotProcess, bot_process

__all__ = ["bot_process"]

# Discord's intent bits (https://discord.com/developers/docs/events/gateway#gateway-intents).
GUILDS = 1 << 0
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
GUILD_SCHEDULED_EVENTS = 1 << 16


async def test_the_bot_identifies_with_only_the_intents_it_uses(bookclub: Any) -> None:
    (session,) = bookclub.double.sessions
    assert session.intents == GUILDS | GUILD_MESSAGES | GUILD_SCHEDULED_EVENTS


@pytest.mark.parametrize("message_content", [True])
async def test_message_content_is_asked_for_only_when_configured(bookclub: Any) -> None:
    (session,) = bookclub.double.sessions
    assert session.intents == GUILDS | GUILD_MESSAGES | GUILD_SCHEDULED_EVENTS | MESSAGE_CONTENT


async def test_the_start_up_log_has_no_warnings_about_voice(double: DiscordDouble, bot_process: BotProcess) -> None:
    await bot_process.start()
    # The whole start-up, to discord.py's on_ready, is in the log before it is read.
    assert await double.wait_until(lambda: "ready as" in bot_process.output(), 15.0), bot_process.output()
    assert await bot_process.stop() == 0
    output = bot_process.output()
    assert "PyNaCl" not in output and "davey" not in output and "WARNING" not in output, output


@asynccontextmanager
async def started(bookclub: Any, double: DiscordDouble, dev_guild_id: int | None = None) -> AsyncIterator[BookClubBot]:
    """The bot started again on the same database, against `double` (another application, when it is another)."""
    settings = bookclub.settings.model_copy(update={"dev_guild_id": dev_guild_id, "discord_api_base": double.api_base,
                                                    "discord_token": double.token})
    async with aiohttp.ClientSession() as session:
        bot = BookClubBot(settings=settings, store=bookclub.store, clock=bookclub.clock, http_session=session,
                          guild_ready_timeout=0.05)
        runner = asyncio.create_task(bot.start(double.token))
        try:
            ready = asyncio.ensure_future(bot.wait_until_ready())
            done, _ = await asyncio.wait([runner, ready], timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
            if runner in done:
                runner.result()
            assert bot.is_ready()
            yield bot
        finally:
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)


def guild_syncs(double: DiscordDouble, guild_id: int) -> int:
    return len(double.find_requests("PUT", rf"/applications/\d+/guilds/{guild_id}/commands$"))


async def test_the_same_database_with_another_applications_token_syncs_the_commands_there(bookclub: Any) -> None:
    await bookclub.bot.close()
    async with DiscordDouble.with_default_world() as other:
        assert other.application_id != bookclub.double.application_id
        async with started(bookclub, other):
            assert {"config", "review", "ask"} <= {command["name"] for command in other.global_commands}
            guild = other.guild_a
            shown = await other.slash(guild, guild.member("Mod"), "config show", timeout=5.0)
            assert "Book club settings" in (await shown.reply(timeout=10.0)).text()
        assert other.unhandled == []


async def test_commands_of_a_former_development_guild_are_removed_once(bookclub: Any) -> None:
    double = bookclub.double
    first, second = double.guild_b, double.guild_a
    await bookclub.bot.close()
    async with started(bookclub, double, dev_guild_id=first.id):
        assert "config" in {command["name"] for command in double.guild_commands[first.id]}
    async with started(bookclub, double, dev_guild_id=second.id):
        assert "config" in {command["name"] for command in double.guild_commands[second.id]}
        assert double.guild_commands[first.id] == []
    async with started(bookclub, double):
        assert double.guild_commands[second.id] == []
        assert "config" in {command["name"] for command in double.global_commands}
    syncs = guild_syncs(double, first.id), guild_syncs(double, second.id)
    async with started(bookclub, double):
        assert (guild_syncs(double, first.id), guild_syncs(double, second.id)) == syncs
