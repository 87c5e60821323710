"""`python -m bot backup PATH` next to the running bot process, and the restore steps of docs/operations.md followed
to the letter: the copy is consistent, and the restored bot serves the club as it was at the backup."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.discord_double import DiscordDouble
from tests.e2e.process import REPO_ROOT, BotProcess, bot_process_over

# SQLite's own files; a PostgreSQL server keeps and checks its own.
pytestmark = pytest.mark.sqlite_only

ANSWER_TIMEOUT = 15.0
BEFORE = ["Never Let Me Go", "The Remains of the Day", "Klara and the Sun"]
# Writes that race the backup (they may or may not make it into the copy), at most this many.
MAX_RACING_WRITES = 40
OPERATIONS = REPO_ROOT / "docs" / "operations.md"


@pytest.fixture
async def club_bot(double: DiscordDouble, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """The bot process over a database in a folder whose name has a '#', which once made the backup (and /ask's
    read-only connection) open another, empty file."""
    folder = tmp_path / "club #1"
    folder.mkdir()
    async with bot_process_over(double, folder / "bookclub.db", tmp_path / "logs") as process:
        yield process


async def run(double: DiscordDouble, command: str, **options: str) -> str:
    guild = double.guild_a
    interaction = await double.slash(guild, guild.member("Mod"), command, timeout=10.0, options=dict(options))
    return (await interaction.reply(timeout=ANSWER_TIMEOUT)).text()


async def add_read(double: DiscordDouble, title: str, author: str, finished: str) -> None:
    added = await run(double, "club add", title=title, author=author, started="2020-01-01", finished=finished)
    assert added.startswith("Added"), added


async def backup(process: BotProcess, target: Path) -> str:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", str(target), cwd=REPO_ROOT, env=process.env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    assert child.returncode == 0, err.decode()
    return out.decode()


def titles_in(database: Path) -> set[str]:
    with sqlite3.connect(database) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {title for (title,) in copy.execute("SELECT b.title FROM reads r JOIN books b ON b.id = r.book_id")}


def test_the_restore_steps_tested_here_are_the_documented_ones() -> None:
    steps = OPERATIONS.read_text(encoding="utf-8").split("**Restore**:", 1)[1].split("## ", 1)[0]
    assert "1. Stop the bot" in steps
    assert "2. Copy the backup over the database" in steps
    assert "3. Delete `bookclub.db-wal` and `bookclub.db-shm`" in steps
    assert "4. Start the bot" in steps


async def test_a_backup_taken_while_the_bot_writes_restores_the_club_as_it_was(
        double: DiscordDouble, club_bot: BotProcess, tmp_path: Path) -> None:
    await club_bot.start()
    for day, title in enumerate(BEFORE, start=1):
        await add_read(double, title, "Kazuo Ishiguro", f"2025-0{day}-01")
    target = tmp_path / "backups" / "bookclub.db"

    done = asyncio.Event()

    async def keep_writing() -> int:
        for number in range(1, MAX_RACING_WRITES + 1):
            if done.is_set():
                return number - 1
            await add_read(double, f"Racing read {number}", "Someone Else", "2024-01-01")
        return MAX_RACING_WRITES

    writer = asyncio.create_task(keep_writing())
    try:
        said = await backup(club_bot, target)
    finally:
        done.set()
        racing = await writer
    assert racing >= 1
    assert said.startswith("Backed up") and str(target) in said
    copied = titles_in(target)
    assert set(BEFORE) <= copied
    await add_read(double, "Piranesi", "Susanna Clarke", "2026-01-01")

    # Restore, as docs/operations.md says. Killed rather than stopped: the hard case, where the old WAL stays behind.
    club_bot.kill()
    database = club_bot.database_file
    leftovers = [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]
    assert any(path.exists() for path in leftovers)
    shutil.copyfile(target, database)
    for path in leftovers:
        path.unlink(missing_ok=True)
    await club_bot.start()

    assert titles_in(database) == copied
    history = await run(double, "club history", author="Ishiguro")
    assert all(f"**{title}**" in history for title in BEFORE), history
    gone = await run(double, "club history", author="Susanna Clarke")
    assert "no author like" in gone
    answer = await run(double, "ask", question="have you read any Ishiguro?")
    assert "Never Let Me Go" in answer and "Piranesi" not in answer
    assert double.pings() == []
