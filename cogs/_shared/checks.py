"""The one moderator decorator: Discord's default permission plus a runtime check of the same rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.bot import BookClubBot

T = TypeVar("T")

MODERATOR_ONLY_MESSAGE = "Only moderators can do that: you need Manage Server or the club's moderator role."


class NotModerator(app_commands.CheckFailure):
    """The member is neither Manage Server nor holds the configured moderator role."""

    def __init__(self) -> None:
        super().__init__(MODERATOR_ONLY_MESSAGE)


async def is_moderator(interaction: discord.Interaction[Any], member: discord.abc.User | None = None) -> bool:
    """Manage Server in this guild, or the moderator role configured for it."""
    member = member or interaction.user
    if interaction.guild is None or not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    bot: BookClubBot = interaction.client  # type: ignore[assignment]
    config = await bot.store.config.get(interaction.guild.id)
    return config.moderator_role_id is not None and any(role.id == config.moderator_role_id for role in member.roles)


async def _check(interaction: discord.Interaction[Any]) -> bool:
    if not await is_moderator(interaction):
        raise NotModerator
    return True


def moderator_only() -> Callable[[T], T]:
    """Hides the command from non-moderators by default and enforces it at run time.

    Discord applies default permissions to top-level commands only, so on a sub-command
    the runtime check is what protects it.
    """

    def decorator(func: T) -> T:
        func = app_commands.default_permissions(manage_guild=True)(func)  # type: ignore[arg-type]
        return app_commands.check(_check)(func)  # type: ignore[arg-type, return-value]

    return decorator


def moderator_check() -> Callable[[T], T]:
    """The runtime check alone, for sub-commands of a group that members also use."""
    return app_commands.check(_check)  # type: ignore[return-value]
