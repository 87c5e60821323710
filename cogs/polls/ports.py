"""The polls use case's ports, done with discord.py: post, find, count, end and retire polls; post their results.

An earlier post is found by ids only: the bot's own message posted within moments after the id recorded before
posting, of the right kind (the Vote button naming the poll, a Discord poll, or an embed).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.app.polls import Poll, PostRefused
from bot.domain.polls import native_duration_hours
from cogs._shared.replies import NO_PINGS
from cogs.polls.embeds import QUESTION, chart_files, poll_embed, result_embed, when
from cogs.polls.views import vote_custom_id, vote_view

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

# This machine's clock may run ahead of Discord's by a moment: the recorded id is taken this much earlier.
CLOCK_SKEW = timedelta(seconds=2)
# A post that Discord took was made within this long after the id recorded just before it.
POST_WINDOW = timedelta(minutes=2)


def _reason(error: discord.HTTPException) -> str:
    return str(error.text or error.status)


class DiscordPolls:
    """Both ports of `PollService` (PollMessages and Announcements) for one bot."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot

    def checkpoint(self) -> int:
        return discord.utils.time_snowflake(discord.utils.utcnow() - CLOCK_SKEW)

    def _channel(self, poll: Poll, channel_id: int) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(channel_id, guild_id=poll.guild_id)

    async def _own_messages(self, channel: discord.PartialMessageable, after: int) -> list[discord.Message]:
        """The bot's messages in the channel within POST_WINDOW after the id `after`, oldest first: a post made
        just after that id was recorded is among them, however busy the channel was since."""
        me = self.bot.user
        until = discord.utils.time_snowflake(discord.utils.snowflake_time(after) + CLOCK_SKEW + POST_WINDOW)
        found: list[discord.Message] = []
        try:
            async for message in channel.history(limit=None, after=discord.Object(id=after), oldest_first=True):
                if message.id > until:
                    break
                if me is not None and message.author.id == me.id:
                    found.append(message)
        except discord.Forbidden:
            log.warning("cannot read the history of channel %d to find an earlier post", channel.id)
        return found

    # -- the poll's message ---------------------------------------------------------------------------

    async def post_poll(self, poll: Poll, duration: timedelta) -> int:
        channel = self._channel(poll, poll.channel_id)
        try:
            if poll.mode == "ranked":
                message = await channel.send(embed=poll_embed(poll), view=vote_view(poll.id),
                                             allowed_mentions=NO_PINGS)
            else:
                native = discord.Poll(question=QUESTION, duration=timedelta(hours=native_duration_hours(duration)))
                for candidate in poll.candidates:
                    native.add_answer(text=candidate.answer)
                message = await channel.send(f"Vote for the club's next read! The poll closes {when(poll.closes_at)}.",
                                             poll=native, allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            raise PostRefused(_reason(error)) from error
        return message.id

    async def find_poll_message(self, poll: Poll, after: int) -> int | None:
        vote = vote_custom_id(poll.id)
        for message in await self._own_messages(self._channel(poll, poll.channel_id), after):
            if poll.mode == "native":
                # One poll runs at a time, and only this workflow posts Discord polls.
                if message.poll is not None and len(message.poll.answers) == len(poll.candidates):
                    return message.id
            elif any(getattr(item, "custom_id", None) == vote for row in message.components
                     for item in getattr(row, "children", [row])):
                return message.id
        return None

    async def native_counts(self, poll: Poll, message_id: int, *, exact: bool) -> dict[int, int] | None:
        channel = self._channel(poll, poll.channel_id)
        try:
            message = await channel.fetch_message(message_id)
        except discord.NotFound:
            return None
        if message.poll is None:
            return None
        if exact and not message.poll.is_finalised():
            try:
                message = await message.end_poll()
            except discord.HTTPException as error:
                # Already ended: Discord closed it itself, or an earlier run did before a crash.
                log.info("poll %d was already ended on Discord (%s)", poll.id, error.status)
                message = await channel.fetch_message(message_id)
        if message.poll is None:
            return None
        answers = sorted(message.poll.answers, key=lambda answer: answer.id)
        counts: dict[int, int] = {}
        for position, answer in enumerate(answers):
            # Voter lists are exact at any time; an answer's count may lag until Discord finalises the poll.
            counts[position] = len([voter async for voter in answer.voters()]) if exact else answer.vote_count
        return counts

    async def retire(self, poll: Poll, message_id: int) -> None:
        channel = self._channel(poll, poll.channel_id)
        try:
            await channel.get_partial_message(message_id).edit(embed=poll_embed(poll, closed=True), view=None)
        except discord.HTTPException as error:
            log.info("could not retire the message of poll %d: %s", poll.id, error)

    # -- the result -----------------------------------------------------------------------------------

    async def post_result(self, channel_id: int, poll: Poll, note: str | None) -> int:
        embed = result_embed(poll)
        files = await chart_files(poll)
        for file in files:
            embed.set_image(url=f"attachment://{file.filename}")
        try:
            message = await self._channel(poll, channel_id).send(note, embed=embed, files=files,
                                                                 allowed_mentions=NO_PINGS)
        except (discord.Forbidden, discord.NotFound) as error:
            raise PostRefused(_reason(error)) from error
        return message.id

    async def find_result(self, channel_id: int, poll: Poll, after: int) -> int | None:
        for message in await self._own_messages(self._channel(poll, channel_id), after):
            if message.embeds:
                return message.id
        return None
