"""Sending replies that never ping, and turning errors into one short line for the member."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands

from bot.domain.text import truncate
from bot.errors import StoreBusy, StoreFull, StoreUnavailable, UserError
from cogs._shared.checks import CannotPostHere, NotModerator

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
MAX_CONTENT = 2000
COLOUR = discord.Colour.from_rgb(143, 92, 56)
BUSY = "The club's records are busy right now, so nothing was changed. Try again in a moment."
UNREACHABLE = "The club's records can't be reached right now, so nothing was changed. Try again in a moment."
DISK_FULL = ("The server's disk is full, so nothing was changed. Tell the bot's operator; "
             "it works again once there is room.")
GENERIC_FAILURE = "Something went wrong on my side; nothing was changed. The operator can find the details in the log."

PERMISSION_NAMES = {
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "view_channel": "View Channel",
    "read_message_history": "Read Message History",
    "create_public_threads": "Create Public Threads",
    "create_private_threads": "Create Private Threads",
    "manage_threads": "Manage Threads",
    "manage_messages": "Manage Messages",
    "manage_webhooks": "Manage Webhooks",
    "connect": "Connect",
    # The flag is SEND_POLLS; Discord's server settings call it Create Polls, which is where a moderator looks.
    "send_polls": "Create Polls",
}


def missing_permissions(channel: discord.abc.GuildChannel | discord.Thread, me: discord.Member,
                        names: Iterable[str]) -> list[str]:
    """The permissions the bot lacks in `channel`, as Discord's settings name them."""
    granted = channel.permissions_for(me)
    return [PERMISSION_NAMES.get(name, name) for name in names if not getattr(granted, name)]


async def reply(interaction: discord.Interaction[Any], content: str | None = None, *, ephemeral: bool = True,
                **kwargs: Any) -> None:
    """Answers the interaction whether or not it was deferred, never pinging anyone."""
    kwargs.setdefault("allowed_mentions", NO_PINGS)
    if content is not None:
        kwargs["content"] = content
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=ephemeral, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=ephemeral, **kwargs)


def guild_of(interaction: discord.Interaction[Any]) -> discord.Guild:
    """The guild of a guild-only command (Discord never sends those from DMs, but a cached guild can be gone)."""
    if interaction.guild is None:
        raise UserError("This command only works in a server.")
    return interaction.guild


def user_message(error: BaseException) -> str | None:
    """The line to show the member for a known error, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__:
        cause = error.__cause__
        if isinstance(cause, UserError | discord.Forbidden):
            return user_message(cause)
    if isinstance(error, app_commands.CommandInvokeError):
        return user_message(error.original)
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, NotModerator | CannotPostHere):
        return str(error)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(PERMISSION_NAMES.get(name, name) for name in error.missing_permissions)
        return f"I'm missing a permission here: {missing}."
    if isinstance(error, app_commands.MissingPermissions):
        return "You don't have permission to use that here."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {max(math.ceil(error.retry_after), 1)} s."
    if isinstance(error, app_commands.TransformerError):
        return f"That isn't a valid value: {discord.utils.escape_mentions(str(error.value))[:100]}."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that here."
    if isinstance(error, discord.DiscordServerError):
        # Discord's own outage, not a bug: the member can simply try again.
        log.warning("Discord failed under a command: %s", error)
        return f"Discord had a problem ({error.status}) and I could not finish. Try again in a moment."
    if isinstance(error, discord.Forbidden):
        return "Discord refused: I'm missing a permission for that here (Send Messages, Embed Links or Manage Threads)."
    if isinstance(error, StoreBusy):
        # Another program (a backup tool, an operator's sqlite3 shell) holds the database: the write was undone.
        log.warning("the database was busy: %s", error)
        return BUSY
    if isinstance(error, StoreFull):
        # SQLite undid the write; the operator has to free space, and the log is where they look.
        log.error("the database's disk is full: %s", error)
        return DISK_FULL
    if isinstance(error, StoreUnavailable):
        # The database server is down or unreachable: the transaction never committed.
        log.error("the database cannot be reached: %s", error)
        return UNREACHABLE
    return None


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tells the member in one ephemeral line; logs unexpected errors with the command and guild."""
    message = user_message(error)
    if message is None:
        command = interaction.command.qualified_name if interaction.command else interaction.data
        original = getattr(error, "original", error)
        log.error("unhandled error in %s (guild %s)", command, interaction.guild_id, exc_info=original)
        message = GENERIC_FAILURE
    try:
        # An error that echoes a long input must still reach the member: Discord refuses content over 2000.
        await reply(interaction, truncate(message, MAX_CONTENT), ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell the member about an error in guild %s", interaction.guild_id)


class ErrorReportingView(discord.ui.View):
    """A view whose callback errors reach the member the same way as command errors."""

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any],
                       /) -> None:
        await report_error(interaction, error)


class ErrorReportingModal(discord.ui.Modal):
    """A modal whose submit errors reach the member the same way as command errors."""

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:
        await report_error(interaction, error)
