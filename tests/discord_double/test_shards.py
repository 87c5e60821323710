"""The loopback Discord's shards, as Discord runs them: each IDENTIFY with `shard: [id, count]` gets only its
shard's guilds, and every event of a guild goes to the connection of the guild's shard."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.discord_double import DiscordDouble
from tests.discord_double.gateway import GatewaySession
from tests.discord_double.model import shard_of


@pytest.fixture
async def sharded() -> AsyncIterator[DiscordDouble]:
    """The default world with Guild A on shard 0 and Guild B on shard 1 of 2."""
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with DiscordDouble.with_default_world(shards=2) as started:
        Route.BASE = started.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(started.gateway_url)
        yield started
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


class ShardBot(commands.AutoShardedBot):
    """A bare sharded bot with one command, `/where`, that names the shard it was answered on."""

    def __init__(self, **options: object) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05,
                         **options)  # pyright: ignore[reportArgumentType]
        self.seen: list[tuple[int | None, str]] = []

        @self.tree.command(name="where", description="Which shard answers")
        async def where(interaction: discord.Interaction) -> None:
            guild = interaction.guild
            assert guild is not None
            await interaction.response.send_message(f"shard {guild.shard_id}")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """The double has no identify rate limit to wait for."""

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        if message.author != self.user:
            self.seen.append((message.guild.shard_id if message.guild else None, message.content))


@contextlib.asynccontextmanager
async def running(bot: ShardBot, double: DiscordDouble) -> AsyncIterator[ShardBot]:
    task = asyncio.create_task(bot.start(double.token))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(Exception):
            await task


def guild_ids_sent(session: GatewaySession, event: str) -> list[int]:
    return [int(frame["d"].get("guild_id") or frame["d"]["id"]) for frame in session.buffer if frame["t"] == event]


def test_sharded_worlds_put_the_guilds_on_their_shards(sharded: DiscordDouble) -> None:
    assert shard_of(sharded.guild_a.id, 2) == 0 and shard_of(sharded.guild_b.id, 2) == 1


async def test_a_bot_asking_for_its_shard_count_gets_one_connection_per_shard(sharded: DiscordDouble) -> None:
    async with running(ShardBot(), sharded) as bot:
        assert bot.shard_count == 2
        assert sorted(tuple(s.shard or ()) for s in sharded.sessions) == [(0, 2), (1, 2)]
        on = {s.shard[0]: s for s in sharded.sessions if s.shard}
        ready = [next(f["d"] for f in on[shard].buffer if f["t"] == "READY") for shard in (0, 1)]
        assert [[int(g["id"]) for g in r["guilds"]] for r in ready] == [[sharded.guild_a.id], [sharded.guild_b.id]]
        assert guild_ids_sent(on[0], "GUILD_CREATE") == [sharded.guild_a.id]
        assert guild_ids_sent(on[1], "GUILD_CREATE") == [sharded.guild_b.id]
        for guild, shard in ((sharded.guild_a, 0), (sharded.guild_b, 1)):
            ix = await sharded.slash(guild, guild.member("Alice"), "where")
            assert (await ix.reply()).text() == f"shard {shard}"
            await sharded.post_message(guild.channel("general"), guild.member("Bob"), "hello", mentions_bot=True)
        await sharded.wait_until(lambda: len(bot.seen) == 2)
        assert [shard for shard, _ in bot.seen] == [0, 1]
        assert guild_ids_sent(on[0], "INTERACTION_CREATE") == [sharded.guild_a.id]
        assert guild_ids_sent(on[1], "INTERACTION_CREATE") == [sharded.guild_b.id]
        assert set(guild_ids_sent(on[0], "MESSAGE_CREATE")) == {sharded.guild_a.id}
        assert set(guild_ids_sent(on[1], "MESSAGE_CREATE")) == {sharded.guild_b.id}
        # A guild that joins later is created on its own shard's connection only.
        joined = sharded.add_guild("Guild C", shard=(1, 2))
        await sharded.wait_until(lambda: bot.get_guild(joined.id) is not None)
        assert joined.id not in guild_ids_sent(on[0], "GUILD_CREATE")
        assert bot.get_guild(joined.id).shard_id == 1  # pyright: ignore[reportOptionalMemberAccess]


async def test_two_processes_on_two_shards_each_get_only_their_guilds(sharded: DiscordDouble) -> None:
    async with running(ShardBot(shard_count=2, shard_ids=[0]), sharded) as first, \
            running(ShardBot(shard_count=2, shard_ids=[1]), sharded) as second:
        assert [g.id for g in first.guilds] == [sharded.guild_a.id]
        assert [g.id for g in second.guilds] == [sharded.guild_b.id]
        for guild, shard in ((sharded.guild_a, 0), (sharded.guild_b, 1)):
            ix = await sharded.slash(guild, guild.member("Alice"), "where")
            assert (await ix.reply()).text() == f"shard {shard}"
            await sharded.post_message(guild.channel("general"), guild.member("Bob"), f"to {shard}",
                                       mentions_bot=True)
        await sharded.wait_until(lambda: first.seen and second.seen)
        assert [content for _, content in first.seen] == [f"<@{sharded.bot_user.id}> to 0"]
        assert [content for _, content in second.seen] == [f"<@{sharded.bot_user.id}> to 1"]


async def test_an_identify_with_an_impossible_shard_is_closed_as_discord_does(sharded: DiscordDouble) -> None:
    client = discord.Client(intents=discord.Intents.default(), shard_id=2, shard_count=2)
    try:
        with pytest.raises(discord.ConnectionClosed) as closed:
            await asyncio.wait_for(client.start(sharded.token), 10)
        assert closed.value.code == 4010
    finally:
        await client.close()


def test_without_a_shard_count_discord_recommends_one(double: DiscordDouble) -> None:
    assert double.gateway.recommended_shards == 1

