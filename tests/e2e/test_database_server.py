"""A PostgreSQL server that goes away and comes back: members are told plainly, nothing is half-written, and the
bot carries on by itself once the server is back (needs `make test-postgres`: it starts a server of its own)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.clock import ManualClock
from cogs._shared.replies import UNREACHABLE
from tests.discord_double import DiscordDouble
from tests.e2e.conftest import BookClub, running_bookclub
from tests.postgres_server import throwaway_server

pytestmark = pytest.mark.postgres_only


async def run(club: BookClub, member: str, command: str, **options: Any) -> Any:
    guild = club.double.guild_a
    ix = await club.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    return await ix.reply(timeout=40.0)


async def test_while_the_database_server_is_down_members_are_told_and_the_bot_recovers_when_it_is_back(
    double: DiscordDouble, clock: ManualClock, tmp_path: Path
) -> None:
    with throwaway_server() as server:
        admin = await asyncpg.connect(server.url)
        await admin.execute('CREATE DATABASE "club" TEMPLATE template0')
        await admin.close()
        url = server.url.rpartition("/")[0] + "/club"
        async with running_bookclub(double, url, clock) as club:
            added = await run(club, "Mod", "club add", title="Piranesi", author="Susanna Clarke",
                              started="2021-01-04", finished="2021-02-01")
            assert "Piranesi" in added.text()

            await asyncio.to_thread(server.stop)
            refused = await run(club, "Mod", "club add", title="Beloved", author="Toni Morrison",
                                started="2022-01-04", finished="2022-02-01")
            assert refused.ephemeral and refused.text() == UNREACHABLE

            await asyncio.to_thread(server.start)
            history = await run(club, "Alice", "club history")
            assert "Piranesi" in history.text() and "Beloved" not in history.text()
            again = await run(club, "Mod", "club add", title="Beloved", author="Toni Morrison",
                              started="2022-01-04", finished="2022-02-01")
            assert "Beloved" in again.text()
            scheduler = club.bot.scheduler._task  # the loop that runs scheduled posts carried on
            assert scheduler is not None and not scheduler.done()
