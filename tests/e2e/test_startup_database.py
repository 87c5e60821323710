"""Start-up over a database that is held by another program (waited for), empty or damaged (refused in one line)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from tests.discord_double import DiscordDouble
from tests.e2e.process import BotProcess, bot_process

# SQLite's own files; a PostgreSQL server keeps and checks its own.
pytestmark = pytest.mark.sqlite_only

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
    other = sqlite3.connect(bot_process.database_file, isolation_level=None, check_same_thread=False)
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


def damage_the_books_table(database: Path) -> None:
    """Overwrites the page that holds the books table's root, as a bad sector or a torn copy does."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'books'").fetchone()
    with database.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xa5" * page_size)


def refusal(bot_process: BotProcess) -> str:
    """The one line the refused start-up printed; it must be the only complaint and no traceback."""
    lines = bot_process.errors()
    said = [line for line in lines if line.startswith("Cannot start:")]
    assert len(said) == 1 and said[0] == lines[-1], lines
    assert "Traceback" not in "\n".join(lines)
    return said[0]


async def test_an_empty_database_file_is_refused_and_left_for_the_operator(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    bot_process.database_file.write_bytes(b"")
    assert await bot_process.run_until_exit() == 1
    line = refusal(bot_process)
    assert str(bot_process.database_file) in line and "0 bytes" in line
    assert "docs/operations.md" in line and "delete the file to start a new, empty club" in line
    assert bot_process.database_file.stat().st_size == 0
    assert double.sessions == []


async def test_a_damaged_database_is_refused_before_the_bot_serves_or_writes(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    await bot_process.start()
    guild = double.guild_a
    added = await (await double.slash(guild, guild.member("Mod"), "club add", title="Hamnet", author="Maggie O'Farrell",
                                      started="2026-01-01", timeout=10.0)).reply(timeout=15.0)
    assert added.text().startswith("Added"), added.text()
    assert await bot_process.stop() == 0
    damage_the_books_table(bot_process.database_file)
    damaged = bot_process.database_file.read_bytes()
    sessions = len(double.sessions)

    assert await bot_process.run_until_exit() == 1
    line = refusal(bot_process)
    assert str(bot_process.database_file) in line and "is damaged" in line and "docs/operations.md" in line
    assert bot_process.database_file.read_bytes() == damaged
    assert len(double.sessions) == sessions
