"""Error reporting as an extension: every slash command's and menu's error is answered by `report_error`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs._shared.replies import report_error

if TYPE_CHECKING:
    from bot.bot import BookClubBot


class ErrorReporter(commands.Cog):
    """Installs the command tree's error handler while loaded, so that the bot's core knows nothing of replies."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self._previous = bot.tree.on_error

    async def cog_load(self) -> None:
        self.bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous  # type: ignore[method-assign]

    async def on_app_command_error(self, interaction: discord.Interaction[Any],
                                   error: app_commands.AppCommandError, /) -> None:
        await report_error(interaction, error)


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(ErrorReporter(bot))
