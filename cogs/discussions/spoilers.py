"""/spoiler, Hide as spoiler and the spoiler guard: member text kept behind spoiler tags where the plot must wait."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.spoilers import hide
from bot.domain.text import clean_line, md
from bot.errors import NotAllowed, UserError
from cogs._shared.checks import (
    HIDE_LIMIT,
    SPOILER_LIMIT,
    is_moderator,
    member_cooldown,
    posts_for_member,
    require_post_rights,
)
from cogs._shared.replies import NO_PINGS, guild_of, reply
from cogs.discussions.reposting import Reposter, parent_channel

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

MAX_LABEL = 80
MAX_SPOILER_TEXT = 4000


class SpoilersCog(commands.Cog):
    """Spoilers hidden on request (/spoiler, Hide as spoiler) and by the guard, with the terms moderators set."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.service = bot.services.discussions
        self.reposter = Reposter(bot)
        self.hide_menu = app_commands.ContextMenu(name="Hide as spoiler", callback=self.hide_as_spoiler)
        self.hide_menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.hide_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.hide_menu.name, type=self.hide_menu.type)


    # -- /spoiler ---------------------------------------------------------------------------------

    @app_commands.command(name="spoiler", description="Post text behind spoiler tags, labelled and signed with "
                                                      "your name")
    @app_commands.describe(text="What to hide; nothing in it can break out of the tags",
                           label="What it spoils, e.g. ch. 22")
    @app_commands.guild_only()
    @posts_for_member(SPOILER_LIMIT)
    async def spoiler(self, interaction: discord.Interaction[BookClubBot],
                      text: app_commands.Range[str, 1, MAX_SPOILER_TEXT],
                      label: app_commands.Range[str, 1, MAX_LABEL] | None = None) -> None:
        label = clean_line(label) if label else ""
        title = f"Spoiler · {md(label)}" if label else "Spoiler"
        parts = hide(text, header=f"**{title}** · from {md(interaction.user.display_name)}")
        await interaction.response.send_message(parts[0], allowed_mentions=NO_PINGS)
        for part in parts[1:]:
            await interaction.followup.send(part, allowed_mentions=NO_PINGS)

    # -- Hide as spoiler --------------------------------------------------------------------------

    @member_cooldown(HIDE_LIMIT)
    async def hide_as_spoiler(self, interaction: discord.Interaction[BookClubBot], message: discord.Message) -> None:
        guild_of(interaction)
        if message.author.id != interaction.user.id and not await is_moderator(interaction):
            raise NotAllowed("Only the message's author or a moderator can hide it.")
        # The copy goes up under the author's name: one who may no longer post here cannot have it re-posted.
        await require_post_rights(interaction)
        if await self.reposter.is_own_post(message):
            raise UserError("I posted that one myself; use `/spoiler` to post something hidden.")
        if not message.content and not message.attachments:
            raise UserError("There's no text or file in that message to hide.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        header = "**Spoiler**"
        if message.author.id != interaction.user.id:
            header += f" · hidden by {md(interaction.user.display_name)}"
        await self.reposter.hide_message(message, header)
        await reply(interaction, "Hidden: the message is back behind spoiler tags, under its author's name.")

    # -- the spoiler guard ------------------------------------------------------------------------

    @commands.Cog.listener("on_message")
    async def guard_new_message(self, message: discord.Message) -> None:
        await self.guard(message)

    @commands.Cog.listener("on_message_edit")
    async def guard_edited_message(self, before: discord.Message, after: discord.Message) -> None:
        if before.content != after.content:
            await self.guard(after)

    async def guard(self, message: discord.Message) -> None:
        if not self.bot.settings.message_content_intent or message.guild is None or message.author.bot:
            return
        if message.webhook_id is not None or not message.content or parent_channel(message.channel) is None:
            return
        guild = message.guild
        hit = await self.service.spoiler_in(guild.id, message.channel.id, message.content)
        if hit is None:
            return
        title = hit.title
        try:
            await self.reposter.hide_message(message, f"**Hidden as a spoiler** · {md(title)}")
        except (UserError, discord.HTTPException) as error:
            log.warning("the spoiler guard could not hide message %s in guild %s: %s", message.id, guild.id, error)
            return
        if not await self.service.first_notice(guild.id, message.author.id):
            return
        try:
            await message.channel.send(
                f"{md(message.author.display_name)}, I hid your message: it gives away part of the plot of "
                f"**{md(title)}**, and this place is spoiler-free. Use `/spoiler` to hide something yourself, or "
                "`/progress` to join the section threads, where it can be said openly.",
                allowed_mentions=NO_PINGS,
            )
        except discord.HTTPException as error:
            log.warning("could not tell member %s in guild %s why a message was hidden: %s", message.author.id,
                        guild.id, error)
