"""The bare discord.py bot the benchmarks compare with: one `/ping` answering "pong", nothing else.

Imported by the in-process benchmarks, and run on its own (`python benchmarks/bare_bot.py`, with DISCORD_TOKEN and
DISCORD_API_BASE set) by the start-up benchmark; it imports nothing but discord.py, as a bare bot would.
"""

from __future__ import annotations

import logging
import os
import sys

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands

log = logging.getLogger("bare")


@app_commands.command(name="ping", description="Answers pong")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pong")


class BareBot(commands.Bot):
    """A default-intents bot with a single slash command; it syncs only when given a guild to register it in."""

    def __init__(self, api_base: str, *, sync_guild: int | None = None, guild_ready_timeout: float = 2.0) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(),
                         guild_ready_timeout=guild_ready_timeout)
        self.api_base = api_base
        self.sync_guild = sync_guild
        self.tree.add_command(ping)

    async def login(self, token: str) -> None:
        # What any bot needs to talk to a Discord-compatible API other than discord.com.
        discord.http.Route.BASE = self.api_base
        await super().login(token)
        data = await self.http.request(discord.http.Route("GET", "/gateway"))
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(data["url"])

    async def setup_hook(self) -> None:
        if self.sync_guild is not None:
            # A guild command, so the global commands of the application it shares stay as they are.
            guild = discord.Object(id=self.sync_guild)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guild(s)", self.user, len(self.guilds))


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    bot = BareBot(os.environ["DISCORD_API_BASE"].rstrip("/"))
    try:
        bot.run(os.environ["DISCORD_TOKEN"], log_handler=None)
    except KeyboardInterrupt:
        log.info("stopped")


if __name__ == "__main__":
    main()
