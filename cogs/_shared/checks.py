"""Who may run what: the moderator check (Manage Server or the club's moderator role), the member's own right to post
where the bot would post for them, and per-member cooldowns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.domain.cooldowns import Limit

if TYPE_CHECKING:
    from bot.bot import BookClubBot

T = TypeVar("T")

MODERATOR_ONLY_MESSAGE = "Only moderators can do that: you need Manage Server or the club's moderator role."

# What one member may do per window; moderators are not limited. A refused use is not counted.
SPOILER_LIMIT = Limit("spoiler", 5, timedelta(minutes=1))
HIDE_LIMIT = Limit("hide", 5, timedelta(minutes=1))
# /ask and mentions of the bot share one limit: both may call the model.
ASK_LIMIT = Limit("ask", 8, timedelta(minutes=1))
REVIEW_LIMIT = Limit("review", 5, timedelta(minutes=10))
THREAD_TYPES = (discord.ChannelType.public_thread, discord.ChannelType.private_thread,
                discord.ChannelType.news_thread)


class NotModerator(app_commands.CheckFailure):
    """The member is neither Manage Server nor holds the configured moderator role."""

    def __init__(self) -> None:
        super().__init__(MODERATOR_ONLY_MESSAGE)


class CannotPostHere(app_commands.CheckFailure):
    """The member may not send messages where the command would post for them."""

    def __init__(self, channel_id: int | None) -> None:
        where = f"in <#{channel_id}>" if channel_id else "here"
        super().__init__(f"You can't send messages {where}, so I won't post there for you. Nothing was posted.")


async def is_moderator(interaction: discord.Interaction[Any], member: discord.abc.User | None = None) -> bool:
    """Manage Server in this guild, or the moderator role configured for it."""
    return await member_is_moderator(interaction.client, member or interaction.user)


async def member_is_moderator(bot: BookClubBot, member: discord.abc.User) -> bool:
    """Manage Server in the member's guild, or the moderator role configured for it."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    return await bot.services.config.is_moderator_role(member.guild.id, [role.id for role in member.roles])


def may_post_here(interaction: discord.Interaction[Any]) -> bool:
    """Whether the member may send messages (in a thread: send messages in threads) where they ran the command,
    as Discord resolved it with the channel's overwrites and any timeout."""
    permissions = interaction.permissions
    in_thread = getattr(interaction.channel, "type", None) in THREAD_TYPES
    return permissions.send_messages_in_threads if in_thread else permissions.send_messages


async def require_post_rights(interaction: discord.Interaction[Any]) -> None:
    """Refuses, before anything is posted, a member who may not post here themselves (moderators may)."""
    if not may_post_here(interaction) and not await is_moderator(interaction):
        raise CannotPostHere(interaction.channel_id)


async def cooldown_left(bot: BookClubBot, member: discord.abc.User, guild_id: int | None, limit: Limit) -> float | None:
    """Counts one use of `limit` by the member and returns None, or the seconds to wait when they are at it."""
    retry_after = bot.cooldowns.hit((guild_id, member.id), limit, bot.clock.now())
    if retry_after is None or await member_is_moderator(bot, member):
        return None
    return retry_after


async def enforce_cooldown(interaction: discord.Interaction[Any], limit: Limit) -> None:
    retry_after = await cooldown_left(interaction.client, interaction.user, interaction.guild_id, limit)
    if retry_after is not None:
        raise app_commands.CommandOnCooldown(app_commands.Cooldown(limit.rate, limit.per.total_seconds()),
                                             retry_after)


def member_cooldown(limit: Limit) -> Callable[[T], T]:
    """At most `limit` uses per member (moderators aside); past it an ephemeral "try again in N s"."""

    async def check(interaction: discord.Interaction[Any]) -> bool:
        await enforce_cooldown(interaction, limit)
        return True

    return app_commands.check(check)  # type: ignore[return-value]


def posts_for_member(limit: Limit) -> Callable[[T], T]:
    """For a command that posts publicly on the member's behalf where they ran it: refused when they may not send
    messages there themselves, then limited per member."""

    async def check(interaction: discord.Interaction[Any]) -> bool:
        await require_post_rights(interaction)
        await enforce_cooldown(interaction, limit)
        return True

    return app_commands.check(check)  # type: ignore[return-value]


async def _check(interaction: discord.Interaction[Any]) -> bool:
    if not await is_moderator(interaction):
        raise NotModerator
    return True


def moderator_check() -> Callable[[T], T]:
    """The moderator check for a sub-command: Discord applies `default_permissions` only to top-level commands."""
    return app_commands.check(_check)  # type: ignore[return-value]
