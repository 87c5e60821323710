"""Re-posting a message behind spoiler tags under its author's name, through one reused webhook per channel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING

import discord

from bot.domain.spoilers import hide
from bot.domain.text import md
from bot.errors import UserError
from cogs._shared.replies import NO_PINGS, PERMISSION_NAMES

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

WEBHOOK_NAME = "Bookclub spoilers"
MAX_WEBHOOK_USERNAME = 80
# Discord refuses webhook names containing these words, or that are exactly one of the reserved names.
_BANNED_IN_NAMES = re.compile("discord|clyde", re.IGNORECASE)
_RESERVED_NAMES = {"everyone", "here"}


async def take_down(posted: list[discord.Message]) -> None:
    """Deletes the copies already posted, as far as Discord lets it."""
    for copy in posted:
        with contextlib.suppress(discord.HTTPException):
            await copy.delete()


def webhook_username(display_name: str) -> str:
    """The member's name as Discord accepts it for a webhook post."""
    name = _BANNED_IN_NAMES.sub(lambda found: found.group()[0] + "\u200b" + found.group()[1:], display_name).strip()
    if not name or name.casefold() in _RESERVED_NAMES:
        name = f"{name or 'member'} (member)"
    return name[:MAX_WEBHOOK_USERNAME]


def parent_channel(channel: object) -> discord.TextChannel | None:
    """The text channel a message lives in, or holding its thread; None elsewhere (forums, voice, DMs)."""
    if isinstance(channel, discord.Thread):
        channel = channel.parent
    return channel if isinstance(channel, discord.TextChannel) else None


class Reposter:
    """Takes a message down and posts it again hidden, as its author (a webhook) or attributed by the bot."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self._webhooks: dict[int, discord.Webhook] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def hide_message(self, message: discord.Message, header: str) -> list[discord.Message]:
        """Re-posts `message` hidden under `header` (trusted markup) and deletes it; returns the new messages.

        Raises UserError, before anything changes, when the bot may not delete the message or post
        in its place, or when its attachments are too large to post again.
        """
        guild = message.guild
        channel = message.channel
        parent = parent_channel(channel)
        if guild is None or parent is None or not isinstance(channel, discord.TextChannel | discord.Thread):
            raise UserError("I can only hide messages in text channels and their threads.")
        me = guild.me
        granted = channel.permissions_for(me)
        if message.author.id != me.id and not granted.manage_messages:
            raise UserError(f"I need {PERMISSION_NAMES['manage_messages']} in {channel.mention} to take the message "
                            "down; nothing was changed.")
        size = sum(attachment.size for attachment in message.attachments)
        if size > guild.filesize_limit:
            raise UserError("Its attachments are too large for me to post again; nothing was changed.")
        webhook = await self.webhook_for(parent) if parent.permissions_for(me).manage_webhooks else None
        if webhook is None:
            may_send = granted.send_messages_in_threads if isinstance(channel, discord.Thread) else (
                granted.send_messages)
            if not may_send:
                raise UserError(f"I can't post in {channel.mention}, so I can't put the message back hidden; nothing "
                                "was changed.")
            if message.attachments and not granted.attach_files:
                raise UserError(f"I need {PERMISSION_NAMES['attach_files']} in {channel.mention} to post its "
                                "attachments again; nothing was changed.")
            header = f"{header} · from {md(message.author.display_name)}"
        files = [await attachment.to_file(spoiler=True) for attachment in message.attachments]
        parts = hide(message.content, header=header) if message.content else [header]
        posted: list[discord.Message] = []
        try:
            if webhook is not None:
                await self._post_as_author(webhook, parent, channel, message.author, parts, files, posted)
            else:
                await self._post_as_bot(channel, parts, files, posted)
        except discord.HTTPException:
            # A long message half reposted: the original stays, so the parts already up would show it twice.
            await take_down(posted)
            raise
        try:
            await message.delete()
        except discord.NotFound:
            log.info("message %s was deleted by someone else meanwhile", message.id)
        except discord.HTTPException as error:
            # The permission went away meanwhile, or Discord failed: take the copies down rather than show the
            # text twice.
            await take_down(posted)
            if isinstance(error, discord.Forbidden):
                raise UserError(f"Discord refused to let me delete the message in {channel.mention}; nothing was "
                                "changed.") from None
            raise UserError(f"Discord had a problem ({error.status}) deleting the message in {channel.mention}; "
                            "nothing was changed. Try again in a moment.") from None
        return posted

    async def _post_as_author(self, webhook: discord.Webhook, parent: discord.TextChannel,
                              channel: discord.TextChannel | discord.Thread, author: discord.abc.User,
                              parts: list[str], files: list[discord.File], posted: list[discord.Message]) -> None:
        """Posts the parts under the author's name, adding each to `posted` as it goes up."""
        username = webhook_username(author.display_name)
        avatar = author.display_avatar.url
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            for attempt in range(2):
                try:
                    posted.append(await webhook.send(
                        part, username=username, avatar_url=avatar, allowed_mentions=NO_PINGS, wait=True,
                        files=files if last else [],
                        thread=channel if isinstance(channel, discord.Thread) else discord.utils.MISSING,
                    ))
                    break
                except discord.NotFound:
                    # Someone deleted the webhook: forget it and make a new one, once.
                    if attempt or posted:
                        raise
                    await self.forget_webhook(parent, webhook)
                    webhook = await self.webhook_for(parent)

    async def _post_as_bot(self, channel: discord.TextChannel | discord.Thread, parts: list[str],
                           files: list[discord.File], posted: list[discord.Message]) -> None:
        """Posts the parts as the bot, adding each to `posted` as it goes up."""
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            posted.append(await channel.send(part, allowed_mentions=NO_PINGS, files=files if last else []))

    async def is_own_post(self, message: discord.Message) -> bool:
        """Whether the bot posted the message, itself or through the channel's re-posting webhook."""
        me = self.bot.user
        if me is not None and message.author.id == me.id:
            return True
        parent = parent_channel(message.channel)
        if message.webhook_id is None or parent is None:
            return False
        return message.webhook_id == await self.bot.services.discussions.webhook_id(parent.guild.id, parent.id)

    async def webhook_for(self, parent: discord.TextChannel) -> discord.Webhook:
        """The channel's re-posting webhook: remembered, found again after a restart, or made once."""
        cached = self._webhooks.get(parent.id)
        if cached is not None:
            return cached
        async with self._locks.setdefault(parent.id, asyncio.Lock()):
            cached = self._webhooks.get(parent.id)
            if cached is not None:
                return cached
            webhook = await self._stored_webhook(parent)
            if webhook is None:
                webhook = await self._find_or_create_webhook(parent)
                await self.bot.services.discussions.remember_webhook(parent.guild.id, parent.id, webhook.id)
            self._webhooks[parent.id] = webhook
            return webhook

    async def _stored_webhook(self, parent: discord.TextChannel) -> discord.Webhook | None:
        stored = await self.bot.services.discussions.webhook_id(parent.guild.id, parent.id)
        if stored is None:
            return None
        try:
            webhook = await self.bot.fetch_webhook(stored)
        except discord.NotFound:
            await self.bot.services.discussions.forget_webhook(parent.guild.id, parent.id, stored)
            return None
        return webhook if webhook.token else None

    async def _find_or_create_webhook(self, parent: discord.TextChannel) -> discord.Webhook:
        # A crash between making the webhook and recording it leaves it in the channel: reuse it.
        me = self.bot.user
        for existing in await parent.webhooks():
            if existing.name == WEBHOOK_NAME and existing.token and me and existing.user and existing.user.id == me.id:
                return existing
        return await parent.create_webhook(name=WEBHOOK_NAME, reason="Re-posting messages hidden as spoilers")

    async def forget_webhook(self, parent: discord.TextChannel, webhook: discord.Webhook) -> None:
        if self._webhooks.get(parent.id) is webhook:
            del self._webhooks[parent.id]
        await self.bot.services.discussions.forget_webhook(parent.guild.id, parent.id, webhook.id)
