"""BookClubBot: the discord.py client that owns the store, the clock and the scheduler, and loads every cog; as
ShardedBookClubBot, the same bot over a range of Discord's shards."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
import pkgutil
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from discord.ext import commands

from bot.app.services import Services
from bot.clock import Clock
from bot.domain.cooldowns import Cooldowns
from bot.domain.shards import Shards
from bot.scheduler import Scheduler
from bot.services.asker import Asker, HistoryIndex, ModelAsker, OfflineAsker
from bot.services.meeting_asker import MeetingAsker
from bot.services.openlibrary import Catalogue
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

# The package whose modules are the extensions, found by name: the bot's core never imports its cogs.
EXTENSIONS_PACKAGE = "cogs"
TREE_HASH_KEY = "command_tree_hash"
# The development guild that has its own copy of the commands, so that a start without DEV_GUILD_ID removes it.
DEV_GUILD_KEY = "dev_guild_id"
# Discord accepts one IDENTIFY per 5 s (per concurrency bucket): the wait between this process's shards' starts.
IDENTIFY_SPACING_SECONDS = 5.0


def point_discord_at(api_base: str) -> None:
    """Sends discord.py's REST calls (interactions and webhooks included) to a Discord-compatible API."""
    discord.http.Route.BASE = api_base


def extension_names(package: str = EXTENSIONS_PACKAGE) -> list[str]:
    """Every module or package of the extensions package, except private helpers."""
    found = importlib.import_module(package)
    return sorted(
        f"{package}.{module.name}"
        for module in pkgutil.iter_modules(found.__path__)
        if not module.name.startswith("_")
    )


def gateway_intents(settings: Settings) -> discord.Intents:
    """Only the events the bot uses (docs/operations.md says why each): fewer events to receive and cache."""
    intents = discord.Intents.none()
    # The guilds, channels, threads and roles that every permission check reads.
    intents.guilds = True
    # Mentions of the bot and the spoiler guard: new and edited messages in servers (never DMs).
    intents.guild_messages = True
    # Meetings are Discord scheduled events.
    intents.guild_scheduled_events = True
    intents.message_content = settings.message_content_intent
    return intents


class BookClubBot(commands.Bot):
    """The bot: everything a cog needs is an attribute set here, built by `main()` (or by a test)."""

    # The shards this process runs, whose guilds' scheduled work is its own; None for the one unsharded process.
    shard_range: Shards | None = None

    def __init__(self, *, settings: Settings, store: Store, clock: Clock, http_session: aiohttp.ClientSession,
                 asker: Asker | None = None, catalogue: Catalogue | None = None,
                 guild_ready_timeout: float = 2.0) -> None:
        # The bot never joins voice: discord.py's warnings that its voice libraries (PyNaCl, davey) are missing
        # would only alarm the operator.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=gateway_intents(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            chunk_guilds_at_startup=False,
            guild_ready_timeout=guild_ready_timeout,
            **self._shard_options(),
        )
        self.settings = settings
        self.store = store
        self.clock = clock
        self.http_session = http_session
        answers = asker or OfflineAsker(store.history, catalogue)
        self.asker: Asker = MeetingAsker(answers, store.meetings)
        self.scheduler = Scheduler(store.jobs, clock, shards=self.shard_range)
        # One name index per guild, the asker's, which /club's look-ups share.
        index = answers.index if isinstance(answers, OfflineAsker | ModelAsker) else HistoryIndex(store.history)
        self.services = Services(store=store, clock=clock, scheduler=self.scheduler, history_index=index,
                                 catalogue=catalogue,
                                 allow_private_feeds=settings.feed_allow_private_addresses)
        # Per-member limits on what posts publicly or calls the model; timed by the bot's clock.
        self.cooldowns = Cooldowns()

    def _shard_options(self) -> dict[str, Any]:
        """What discord.py's client is told about shards: nothing, for the unsharded bot."""
        return {}

    @property
    def catalogue(self) -> Catalogue | None:
        """Open Library, or None: without a catalogue, answers and /club add leave the catalogue's part out."""
        return self.services.catalogue

    @catalogue.setter
    def catalogue(self, catalogue: Catalogue | None) -> None:
        self.services.use_catalogue(catalogue)

    async def login(self, token: str) -> None:
        if self.settings.api_base:
            point_discord_at(self.settings.api_base)
        await super().login(token)
        if self.settings.api_base:
            data = await self.http.request(discord.http.Route("GET", "/gateway"))
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(data["url"])

    async def setup_hook(self) -> None:
        if self.shard_range is not None:
            log.info("running %s", self.shard_range)
        await self.store.migrate()
        for name in extension_names():
            await self.load_extension(name)
        await self.sync_commands()
        await self.scheduler.start()

    async def close(self) -> None:
        await self.scheduler.stop()
        await super().close()

    async def on_message(self, message: discord.Message, /) -> None:
        """Prefix commands are not used; cogs listen to messages themselves."""

    def command_tree_hash(self) -> str:
        """The tree as Discord would store it, for this application: the same database started with another
        application's token must sync there."""
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        encoded = json.dumps({"application": self.application_id,
                              "commands": sorted(payload, key=lambda item: item["name"])},
                             sort_keys=True, default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()

    async def sync_commands(self) -> None:
        """To the development guild when set; globally only when the tree changed since the last sync. A former
        development guild's copy is removed once, or members there would see every command twice."""
        dev_guild_id = self.settings.dev_guild_id
        former = await self.store.state.get(DEV_GUILD_KEY)
        if former is not None and int(former) != dev_guild_id:
            await self.clear_guild_commands(int(former))
        if dev_guild_id:
            guild = discord.Object(id=dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            await self.store.state.set(DEV_GUILD_KEY, str(dev_guild_id))
            log.info("synced %d commands to the development guild %d", len(synced), dev_guild_id)
            return
        digest = self.command_tree_hash()
        if await self.store.state.get(TREE_HASH_KEY) == digest:
            log.info("command tree unchanged; not syncing")
            return
        synced = await self.tree.sync()
        await self.store.state.set(TREE_HASH_KEY, digest)
        log.info("synced %d global commands (the tree changed)", len(synced))

    async def clear_guild_commands(self, guild_id: int) -> None:
        """Removes the commands synced to a guild that is no longer the development guild."""
        try:
            # No command of this tree belongs to that guild, so syncing it leaves it with none.
            await self.tree.sync(guild=discord.Object(id=guild_id))
        except (discord.Forbidden, discord.NotFound):
            # The bot left that guild (or lost access): its commands went with it, or cannot be reached at all.
            log.warning("could not remove the commands of the former development guild %d; forgetting it", guild_id)
        except discord.HTTPException as error:
            # Tried again at the next start; the bot serves meanwhile.
            log.warning("could not remove the commands of the former development guild %d (%s)", guild_id, error)
            return
        else:
            log.info("removed the commands of the former development guild %d", guild_id)
        await self.store.state.delete(DEV_GUILD_KEY)

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guild(s)", self.user, len(self.guilds))


class ShardedBookClubBot(BookClubBot, commands.AutoShardedBot):
    """The bot as an AutoShardedBot over `shards`: one gateway connection per shard, Discord's events of those shards'
    guilds only, and only their scheduled work (the scheduler and start-up filter on the same range)."""

    def __init__(self, *, shards: Shards, identify_spacing: float = IDENTIFY_SPACING_SECONDS, **options: Any) -> None:
        self._shards = self.shard_range = shards
        self.identify_spacing = identify_spacing
        super().__init__(**options)

    def _shard_options(self) -> dict[str, Any]:
        return {"shard_count": self._shards.count, "shard_ids": list(self._shards.ids)}

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(self.identify_spacing)


def create_bot(*, settings: Settings, store: Store, clock: Clock, http_session: aiohttp.ClientSession,
               asker: Asker | None = None, catalogue: Catalogue | None = None) -> BookClubBot:
    """The bot the settings ask for: sharded over SHARD_COUNT/SHARD_IDS, or the one unsharded process."""
    if settings.shards is None:
        return BookClubBot(settings=settings, store=store, clock=clock, http_session=http_session, asker=asker,
                           catalogue=catalogue)
    return ShardedBookClubBot(shards=settings.shards, settings=settings, store=store, clock=clock,
                              http_session=http_session, asker=asker, catalogue=catalogue)
