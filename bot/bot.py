"""BookClubBot: the discord.py client that owns the store, the clock and the scheduler, and loads every cog."""

from __future__ import annotations

import hashlib
import json
import logging
import pkgutil

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands

import cogs
from bot.clock import Clock
from bot.domain.cooldowns import Cooldowns
from bot.scheduler import Scheduler
from bot.services.asker import Asker, OfflineAsker
from bot.services.meeting_asker import MeetingAsker
from bot.services.openlibrary import Catalogue
from bot.settings import Settings
from bot.store import Store
from cogs._shared.replies import NO_PINGS, report_error

log = logging.getLogger(__name__)

TREE_HASH_KEY = "command_tree_hash"


def point_discord_at(api_base: str) -> None:
    """Sends discord.py's REST calls (interactions and webhooks included) to a Discord-compatible API."""
    discord.http.Route.BASE = api_base


class BookClubTree(app_commands.CommandTree["BookClubBot"]):
    """The command tree, with every command error answered in one place."""

    async def on_error(self, interaction: discord.Interaction[BookClubBot], error: app_commands.AppCommandError,
                       /) -> None:
        await report_error(interaction, error)


def extension_names() -> list[str]:
    """Every module or package under cogs/, except private helpers."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


class BookClubBot(commands.Bot):
    """The bot: everything a cog needs is an attribute set here, built by `main()` (or by a test)."""

    def __init__(self, *, settings: Settings, store: Store, clock: Clock, http_session: aiohttp.ClientSession,
                 asker: Asker | None = None, catalogue: Catalogue | None = None,
                 guild_ready_timeout: float = 2.0) -> None:
        intents = discord.Intents.default()
        intents.message_content = settings.message_content_intent
        intents.guild_scheduled_events = True  # meetings follow what moderators change in Discord
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_PINGS,
            tree_cls=BookClubTree,
            help_command=None,
            chunk_guilds_at_startup=False,
            guild_ready_timeout=guild_ready_timeout,
        )
        self.settings = settings
        self.store = store
        self.clock = clock
        self.http_session = http_session
        # Without a catalogue, answers and /club add leave the catalogue's part out.
        self.catalogue = catalogue
        self.asker: Asker = MeetingAsker(asker or OfflineAsker(store.history, catalogue), store.meetings)
        self.scheduler = Scheduler(store.jobs, clock)
        # Per-member limits on what posts publicly or calls the model; timed by the bot's clock.
        self.cooldowns = Cooldowns()

    async def login(self, token: str) -> None:
        if self.settings.api_base:
            point_discord_at(self.settings.api_base)
        await super().login(token)
        if self.settings.api_base:
            data = await self.http.request(discord.http.Route("GET", "/gateway"))
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(data["url"])

    async def setup_hook(self) -> None:
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
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        encoded = json.dumps(sorted(payload, key=lambda item: item["name"]), sort_keys=True, default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()

    async def sync_commands(self) -> None:
        """To the development guild when set; globally only when the tree changed since the last sync."""
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development guild %d", len(synced), self.settings.dev_guild_id)
            return
        digest = self.command_tree_hash()
        if await self.store.state.get(TREE_HASH_KEY) == digest:
            log.info("command tree unchanged; not syncing")
            return
        synced = await self.tree.sync()
        await self.store.state.set(TREE_HASH_KEY, digest)
        log.info("synced %d global commands (the tree changed)", len(synced))

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guild(s)", self.user, len(self.guilds))
