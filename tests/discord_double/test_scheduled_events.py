"""Scheduled events in the loopback Discord, driven by a bare discord.py client: REST, the gateway events (only
with the intent), Interested, and a moderator's edit or delete in Discord's UI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.discord_double import DiscordDouble
from tests.discord_double.model import CHANNEL_VOICE

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


class Client(discord.Client):
    def __init__(self, intents: discord.Intents) -> None:
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.seen: list[str] = []

    async def setup_hook(self) -> None:
        found = await self.http.request(Route("GET", "/gateway"))
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(found["url"])

    async def on_scheduled_event_create(self, event: discord.ScheduledEvent) -> None:
        self.seen.append(f"create {event.name}")

    async def on_scheduled_event_update(self, before: discord.ScheduledEvent, after: discord.ScheduledEvent) -> None:
        self.seen.append(f"update {after.start_time:%d %H:%M}")

    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        self.seen.append(f"delete {event.name}")


@asynccontextmanager
async def connected(double: DiscordDouble, intents: discord.Intents) -> AsyncIterator[Client]:
    Route.BASE = double.api_base
    client = Client(intents)
    runner = asyncio.create_task(client.start(double.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 20)
        yield client
    finally:
        await client.close()
        await asyncio.gather(runner, return_exceptions=True)


def grant(double: DiscordDouble, **permissions: bool) -> None:
    role = double.bot_role(double.guild_a)
    double.set_role_permissions(role, discord.Permissions(role.permissions) | discord.Permissions(**permissions))


async def until(double: DiscordDouble, check: Callable[[], bool]) -> None:
    assert await double.wait_until(check, 10)


async def test_events_are_created_listed_and_followed_through_the_gateway(double: DiscordDouble) -> None:
    guild = double.guild_a
    voice = double.add_channel(guild, "Reading room", type=CHANNEL_VOICE)
    async with connected(double, discord.Intents.default()) as client:
        cached = client.get_guild(guild.id)
        assert cached is not None
        try:
            await cached.create_scheduled_event(name="Club", start_time=START, end_time=START + timedelta(hours=1),
                                                entity_type=discord.EntityType.external, location="Library",
                                                privacy_level=discord.PrivacyLevel.guild_only)
        except discord.Forbidden:
            pass
        else:
            raise AssertionError("created an event without Manage Events")
        grant(double, manage_events=True)
        await until(double, lambda: cached.me.guild_permissions.manage_events)
        channel = cached.get_channel(voice.id)
        assert isinstance(channel, discord.VoiceChannel)
        event = await cached.create_scheduled_event(name="Club", start_time=START, channel=channel,
                                                    privacy_level=discord.PrivacyLevel.guild_only)
        [stored] = double.events.of(guild)
        assert (stored.entity_type, stored.channel_id) == (2, voice.id)
        await until(double, lambda: client.seen == ["create Club"])
        # discord.py drops USER_ADD for a user it has not cached (no members intent), as against Discord.
        double.events.mark_interested(stored, guild.member("Alice"))
        users = [user.display_name async for user in (await cached.fetch_scheduled_event(event.id)).users()]
        assert users == ["Alice"]
        double.events.edit(stored, start=START + timedelta(hours=3))
        await until(double, lambda: client.seen[-1] == f"update {START + timedelta(hours=3):%d %H:%M}")
        listed = await cached.fetch_scheduled_events()
        assert [e.start_time for e in listed] == [START + timedelta(hours=3)]
        await event.delete()
        await until(double, lambda: client.seen[-1] == "delete Club")
        assert double.events.of(guild) == []


async def test_event_gateway_events_need_the_intent(double: DiscordDouble) -> None:
    grant(double, manage_events=True)
    intents = discord.Intents.default()
    intents.guild_scheduled_events = False
    async with connected(double, intents) as client:
        cached = client.get_guild(double.guild_a.id)
        assert cached is not None
        await cached.create_scheduled_event(name="Club", start_time=START, end_time=START + timedelta(hours=1),
                                            entity_type=discord.EntityType.external, location="Library",
                                            privacy_level=discord.PrivacyLevel.guild_only)
        [stored] = double.events.of(double.guild_a)
        double.events.edit(stored, start=START + timedelta(hours=1), end=START + timedelta(hours=2))
        marker = double.add_channel(double.guild_a, "marker")
        # Events reach a session in order: once the later channel arrives, a scheduled event would have too.
        await until(double, lambda: client.get_channel(marker.id) is not None)
        assert client.seen == []
