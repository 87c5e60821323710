"""The reviews' Discord side: posting and reading back review messages, notes to moderators, deleting posts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.app.reviews import ChannelUnavailable, Review, card_of
from bot.domain.reviews import EmbedSpec, announcement
from bot.errors import UserError
from cogs._shared.replies import COLOUR, NO_PINGS

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)


def to_embed(spec: EmbedSpec) -> discord.Embed:
    embed = discord.Embed(title=spec.title, url=spec.url, description=spec.description, colour=COLOUR)
    if spec.author:
        embed.set_author(name=spec.author)
    if spec.thumbnail:
        embed.set_thumbnail(url=spec.thumbnail)
    if spec.footer:
        embed.set_footer(text=spec.footer)
    return embed


def review_messages(review: Review) -> list[list[discord.Embed]]:
    """The announcement of a review as Discord embeds, one list per message."""
    return [[to_embed(spec) for spec in message] for message in announcement(card_of(review))]


class DiscordReviewPorts:
    """ReviewChannel, ModeratorNotices and PostRemover, with discord.py. Scheduled work may run before the gateway
    is ready, so each call waits for the channel cache first."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot

    async def _channel(self, channel_id: int) -> discord.TextChannel | discord.Thread:
        await self.bot.wait_until_ready()
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden) as error:
                raise ChannelUnavailable(f"the reviews channel {channel_id} is gone") from error
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise ChannelUnavailable(f"<#{channel_id}> is not a text channel")
        return channel

    async def post(self, channel_id: int, embeds: Sequence[EmbedSpec]) -> int:
        channel = await self._channel(channel_id)
        try:
            message = await channel.send(embeds=[to_embed(spec) for spec in embeds], allowed_mentions=NO_PINGS)
        except (discord.Forbidden, discord.NotFound) as error:
            raise ChannelUnavailable(f"cannot post in <#{channel.id}>: {error.text or error}") from error
        return message.id

    async def recent_footers(self, channel_id: int, limit: int) -> list[tuple[int, list[str]]]:
        channel = await self._channel(channel_id)
        me = self.bot.user
        found: list[tuple[int, list[str]]] = []
        try:
            async for message in channel.history(limit=limit):
                if me is not None and message.author.id == me.id:
                    found.append((message.id, [embed.footer.text or "" for embed in message.embeds if embed.footer]))
        except discord.Forbidden as error:
            raise ChannelUnavailable(f"cannot read the history of <#{channel.id}>") from error
        return found

    async def notify(self, channel_id: int, text: str) -> bool:
        await self.bot.wait_until_ready()
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            log.warning("no channel %d to tell the moderators in", channel_id)
            return False
        try:
            await channel.send(text, allowed_mentions=NO_PINGS, suppress_embeds=True)
        except discord.HTTPException as error:
            log.warning("could not tell the moderators in channel %d: %s", channel_id, error)
            return False
        return True

    async def delete_messages(self, channel_id: int, message_ids: Sequence[int]) -> None:
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return  # the channel went, and its messages with it
        for message_id in message_ids:
            try:
                await channel.get_partial_message(message_id).delete()
            except discord.NotFound:
                continue
            except discord.Forbidden:
                raise UserError(f"Discord won't let me delete the post in {channel.mention}; nothing was deleted. "
                                "I need View Channel there.") from None
