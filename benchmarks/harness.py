"""Shared pieces of the benchmarks: fresh databases on either engine, and the book club bot and the bare one, both
on one loopback Discord.

The loopback Discord has one application and sends every event to every connected session. Both bots stay
connected; `Gate` lets only one of them receive events at a time, so each interaction reaches exactly one bot
and the two can alternate request by request in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import statistics
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import discord
from pydantic import SecretStr

from benchmarks.bare_bot import BareBot
from bot.bot import BookClubBot
from bot.clock import Clock
from bot.services.asker import OfflineAsker, readonly_history
from bot.settings import Settings
from bot.store import Store
from tests.discord_double import DiscordDouble, Guild
from tests.discord_double.gateway import GatewaySession
from tests.discord_double.model import CHANNEL_FORUM, P
from tests.postgres_server import throwaway_postgres

log = logging.getLogger(__name__)

READY_TIMEOUT = 30.0
# discord.py waits this long after the last GUILD_CREATE before on_ready; 2 s is its default and the bot's.
IN_PROCESS_GUILD_READY = 0.05
CLUB_CHANNELS = ("general", "reviews", "discussions", "polls", "announcements", "locked")
ENGINES = ("sqlite", "postgresql")
ENGINE_CHOICES = (*ENGINES, "both")


def engines(choice: str) -> tuple[str, ...]:
    """The engines an `--engine` option names, SQLite first."""
    return ENGINES if choice == "both" else (choice,)


class Databases:
    """Fresh, empty databases on either engine: SQLite files in a temporary folder, and PostgreSQL databases on a
    throw-away server on 127.0.0.1 (`tests.postgres_server`), started when the first one is asked for and stopped
    with the rest at the end of the block."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._folder: Path | None = None
        self._server: str | None = None

    async def __aenter__(self) -> Databases:
        self._folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stack.close()

    async def new(self, engine: str, name: str) -> Path | str:
        """A new database: a SQLite file's path, or a PostgreSQL database's URL."""
        assert self._folder is not None, "Databases is used as `async with`"
        if engine == "sqlite":
            return self._folder / f"{name}-{uuid.uuid4().hex[:8]}.db"
        if self._server is None:
            # Blocks the loop for the few seconds the server takes to start, before anything is measured.
            self._server = self._stack.enter_context(throwaway_postgres())
        database = f"{name}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(self._server)
        try:
            await admin.execute(f'CREATE DATABASE "{database}" TEMPLATE template0')
        finally:
            await admin.close()
        return f"{self._server.rpartition('/')[0]}/{database}"


def add_club_guild(double: DiscordDouble, name: str) -> Guild:
    """A guild shaped like the test world's: Moderator role, the club's channels and a forum, four members."""
    guild = double.add_guild(name)
    moderator = double.add_role(guild, "Moderator", P(manage_guild=True))
    for channel in CLUB_CHANNELS:
        double.add_channel(guild, channel)
    double.add_channel(guild, "forum", type=CHANNEL_FORUM)
    double.set_overwrite(guild.channel("locked"), double.bot_role(guild), deny=P(send_messages=True))
    double.add_member(guild, "Mod", [moderator])
    for member in ("Alice", "Bob", "Carol"):
        double.add_member(guild, member)
    return guild


def settings_for(double: DiscordDouble, database: Path | str) -> Settings:
    """The bot's settings for the double, with its database as DATABASE_PATH (a file) or DATABASE_URL."""
    engine = {"database_path": database} if isinstance(database, Path) else {"database_url": SecretStr(database)}
    return Settings(
        _env_file=None,  # pyright: ignore[reportCallIssue]
        discord_token=double.token,  # pyright: ignore[reportArgumentType]
        discord_api_base=double.api_base,  # pyright: ignore[reportArgumentType]
        **engine,
        # Nothing may leave the machine: the catalogue points at a closed port.
        openlibrary_base_url="http://127.0.0.1:9",  # pyright: ignore[reportArgumentType]
    )


class Gate:
    """Which connected bot the loopback Discord delivers events to; the other keeps its connection but hears nothing."""

    def __init__(self, double: DiscordDouble) -> None:
        self.double = double

    def deliver_to(self, session: GatewaySession) -> None:
        for candidate in self.double.sessions:
            candidate.resumable = candidate is session


async def connect(double: DiscordDouble, client: discord.Client) -> tuple[asyncio.Task[None], GatewaySession]:
    """Starts `client` against the double, waits for on_ready, and returns its task and gateway session."""
    known = len(double.sessions)
    runner = asyncio.create_task(client.start(double.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), READY_TIMEOUT)
    except TimeoutError:
        if runner.done():
            runner.result()
        raise
    return runner, double.sessions[known]


@dataclass
class Running:
    """Both bots connected to one double: the book club bot (with its store) and the bare one."""

    double: DiscordDouble
    club: BookClubBot
    bare: BareBot
    club_session: GatewaySession
    bare_session: GatewaySession
    gate: Gate

    def to_club(self) -> None:
        self.gate.deliver_to(self.club_session)

    def to_bare(self) -> None:
        self.gate.deliver_to(self.bare_session)


@contextlib.asynccontextmanager
async def both_bots(double: DiscordDouble, database: Path | str) -> AsyncIterator[Running]:
    """The book club bot built as `python -m bot` builds it (real clock, read-only /ask history), then the bare one."""
    settings = settings_for(double, database)
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(Store(database))
        session = await stack.enter_async_context(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)))
        history = await stack.enter_async_context(readonly_history(database))
        club = BookClubBot(settings=settings, store=store, clock=Clock(), http_session=session,
                           asker=OfflineAsker(history), guild_ready_timeout=IN_PROCESS_GUILD_READY)
        club_runner, club_session = await connect(double, club)
        stack.push_async_callback(_stop, club, club_runner)
        gate = Gate(double)
        gate.deliver_to(club_session)
        bare = BareBot(double.api_base, sync_guild=double.guild_a.id, guild_ready_timeout=IN_PROCESS_GUILD_READY)
        bare_runner, bare_session = await connect(double, bare)
        stack.push_async_callback(_stop, bare, bare_runner)
        yield Running(double, club, bare, club_session, bare_session, gate)


async def _stop(client: discord.Client, runner: asyncio.Task[None]) -> None:
    await client.close()
    await asyncio.gather(runner, return_exceptions=True)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> str:
    return (f"n={len(values)} p50={statistics.median(values):.1f} ms p95={percentile(values, 0.95):.1f} ms "
            f"max={max(values):.1f} ms")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def quiet_logging() -> None:
    """Warnings and errors only, so a failing request shows while thousands of good ones do not."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    # discord.py warns at every start that voice is unavailable; these benchmarks use no voice.
    logging.getLogger("discord.client").setLevel(logging.ERROR)
