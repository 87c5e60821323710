"""Posting queued reviews to the reviews channel exactly once, even when the process dies between post and mark."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.domain.reviews import EmbedSpec, ReviewCard, announcement, parse_footer
from bot.errors import NotConfigured
from bot.store.reviews import Review
from cogs._shared.replies import COLOUR, NO_PINGS

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

# How far back a re-run looks for its own earlier post; a crash is followed by a restart within minutes.
HISTORY_SCAN = 100


class ChannelUnavailable(Exception):
    """The reviews channel is gone or the bot may not post there; retrying will not help until a moderator acts."""


def card_of(review: Review) -> ReviewCard:
    return ReviewCard(
        review_id=review.id, title=review.book_title, author=review.book_author, reviewer=review.reviewer_name,
        body=review.body, rating=review.rating, spoilers=review.spoilers, link=review.link,
        cover_url=review.cover_url, from_blog=review.source == "feed",
    )


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


class Announcer:
    """Announces a guild's queue in order; one guild's announcements never overlap."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = {}

    async def announce_queue(self, guild_id: int) -> int:
        """Posts every queued review of the guild, oldest first; returns how many were announced.

        Raises NotConfigured without a reviews channel, ChannelUnavailable when it cannot be used,
        and discord.HTTPException on a failure worth retrying (the rest of the queue waits, in order).
        """
        async with self._locks.setdefault(guild_id, asyncio.Lock()):
            config = await self.bot.store.config.get(guild_id)
            if config.reviews_channel_id is None:
                raise NotConfigured("Choose a reviews channel first with `/config channels`.")
            announced = 0
            for review in await self.bot.store.reviews.queued(guild_id):
                if await self._announce(review, config.reviews_channel_id):
                    announced += 1
            return announced

    async def _announce(self, review: Review, channel_id: int) -> bool:
        reviews = self.bot.store.reviews
        interrupted = review.status == "announcing"
        marked = await reviews.mark_announcing(review.guild_id, review.id, channel_id)
        if marked is None:
            return False
        channel = await self._channel(marked.channel_id or channel_id)
        messages = review_messages(marked)
        posted = dict(enumerate(marked.message_ids, start=1))
        if interrupted and len(posted) < len(messages):
            # The last run may have posted a part and died before writing its id down.
            found = await self._earlier_parts(channel, review.id, len(messages))
            posted = {**found, **posted}
            if found:
                log.info("review %d in guild %d: found %d part(s) posted before a restart", review.id,
                         review.guild_id, len(found))
        for part, embeds in enumerate(messages, start=1):
            if part in posted:
                continue
            try:
                message = await channel.send(embeds=embeds, allowed_mentions=NO_PINGS)
            except (discord.Forbidden, discord.NotFound) as error:
                raise ChannelUnavailable(f"cannot post in <#{channel.id}>: {error.text or error}") from error
            posted[part] = message.id
            await reviews.record_messages(review.guild_id, review.id, [posted[n] for n in sorted(posted)])
        await reviews.mark_announced(review.guild_id, review.id, [posted[n] for n in sorted(posted)],
                                     self.bot.clock.now())
        return True

    async def _channel(self, channel_id: int) -> discord.TextChannel | discord.Thread:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden) as error:
                raise ChannelUnavailable(f"the reviews channel {channel_id} is gone") from error
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise ChannelUnavailable(f"<#{channel_id}> is not a text channel")
        return channel

    async def _earlier_parts(self, channel: discord.TextChannel | discord.Thread, review_id: int,
                             parts: int) -> dict[int, int]:
        """Parts of this review the bot already posted in the channel's latest messages, by part number."""
        me = self.bot.user
        found: dict[int, int] = {}
        try:
            async for message in channel.history(limit=HISTORY_SCAN):
                if me is None or message.author.id != me.id:
                    continue
                for embed in message.embeds:
                    mark = parse_footer(embed.footer.text or "") if embed.footer else None
                    if mark is not None and mark[0] == review_id and mark[2] == parts:
                        found.setdefault(mark[1], message.id)
        except discord.Forbidden as error:
            raise ChannelUnavailable(f"cannot read the history of <#{channel.id}>") from error
        return found
