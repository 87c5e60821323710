"""Start-up while another program holds the database: the bot waits for it and says so, instead of dying."""

from __future__ import annotations

import asyncio
import sqlite3

from tests.discord_double import DiscordDouble
from tests.e2e.process import BotProcess, bot_process

__all__ = ["bot_process"]

WAITING = "is locked by another program; waiting for it"


async def test_a_database_held_at_start_up_is_waited_for_and_the_bot_then_serves(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    await bot_process.start()
    # Ctrl-C only once the bot answers: `start` returns when the double has sent READY, and a SIGINT that lands
    # while discord.py is still finishing the handshake is lost (Python 3.11's wait_for swallows the cancel).
    guild = double.guild_a
    shown = await (await double.slash(guild, guild.member("Mod"), "config show", timeout=10.0)).reply(timeout=15.0)
    assert "Book club settings" in shown.text()
    assert await bot_process.stop() == 0
    other = sqlite3.connect(bot_process.database, isolation_level=None, check_same_thread=False)
    sessions = len(double.sessions)
    try:
        other.execute("BEGIN IMMEDIATE")
        starting = asyncio.create_task(bot_process.start())
        # Held past the bot's 2 s busy timeout: it says it is waiting, and does not log in meanwhile.
        assert await double.wait_until(lambda: WAITING in bot_process.output(), 20.0), bot_process.output()
        assert len(double.sessions) == sessions and not starting.done()
        other.execute("ROLLBACK")
        await starting
    finally:
        other.close()
    assert "Traceback" not in bot_process.output()
    answer = await (await double.slash(guild, guild.member("Mod"), "club add", title="Hamnet",
                                       author="Maggie O'Farrell", started="2026-01-01")).reply(timeout=15.0)
    assert answer.text().startswith("Added"), answer.text()
    assert await bot_process.stop() == 0
