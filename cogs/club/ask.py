"""/rate and /ask: members' ratings of the club's reads, and answers from the club's history (also on a mention)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.answers import EXAMPLES, stars_text
from bot.domain.books import ClubRead
from bot.domain.text import md
from cogs._shared.checks import ASK_LIMIT, cooldown_left, posts_for_member
from cogs._shared.choices import club_book_choices
from cogs._shared.replies import NO_PINGS, guild_of, reply

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

MAX_QUESTION = 300
# An offline answer is ready in milliseconds and goes out with the acknowledgement, a round trip through Discord
# sooner; a slower one (a model, the first question after the books changed) defers first, well inside the 3 s.
QUICK_ANSWER_SECONDS = 0.5
SLOW_DOWN = "\N{HOURGLASS WITH FLOWING SAND}"


def mention_free(content: str, bot_id: int) -> str:
    """The question of a message that mentions the bot, without the mention."""
    return " ".join(re.sub(rf"<@!?{bot_id}>", " ", content).split())


class AskCog(commands.Cog):
    """Members' ratings (/rate), and answers from the club's history (/ask and mentions)."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.service = bot.services.club

    # -- /rate ------------------------------------------------------------------------------------

    @app_commands.command(name="rate", description="Rate a book the club has read")
    @app_commands.describe(book="A club read (start typing its title)", stars="1 (did not like it) to 5 (loved it)")
    @app_commands.guild_only()
    async def rate(self, interaction: discord.Interaction[BookClubBot], book: app_commands.Range[str, 1, 300],
                   stars: app_commands.Range[int, 1, 5]) -> None:
        guild = guild_of(interaction)
        read = await self.resolve_read(interaction, guild.id, book)
        member = interaction.user
        rated = await self.service.rate(guild.id, read, member.id, member.display_name, stars)
        previous, score = rated.previous, rated.score
        was = f" (was {previous}★)" if previous is not None and previous != stars else ""
        club = f" Club: {stars_text(score.average, score.votes)}." if score else ""
        await reply(interaction, f"You rated **{md(read.book.title)}** {stars}★{was}.{club}")

    async def resolve_read(self, interaction: discord.Interaction[BookClubBot], guild_id: int, text: str) -> ClubRead:
        """The club read an autocomplete choice or typed title means."""
        read = await self.service.picked_read(guild_id, text)
        if read is not None:
            return read
        if not interaction.response.is_done():
            # A typed title is matched on the guild's name index, which may take a moment to build.
            await interaction.response.defer(ephemeral=True, thinking=True)
        return await self.service.find_read(guild_id, text)

    @rate.autocomplete("book")
    async def book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        books = await self.service.choices(interaction.guild_id, current, ("reading", "finished"))
        return club_book_choices(books)

    # -- /ask and mentions ------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask about the club's history, e.g. have you read any Ishiguro?")
    @app_commands.describe(question="Your question, e.g. which Ishiguro do you recommend?")
    @app_commands.guild_only()
    @posts_for_member(ASK_LIMIT)
    async def ask(self, interaction: discord.Interaction[BookClubBot],
                  question: app_commands.Range[str, 1, MAX_QUESTION]) -> None:
        guild = guild_of(interaction)
        answering = asyncio.create_task(self.answer(guild.id, interaction.user, question))
        done, _ = await asyncio.wait({answering}, timeout=QUICK_ANSWER_SECONDS)
        if not done:
            try:
                await interaction.response.defer(thinking=True)
            except BaseException:
                answering.cancel()
                raise
        await reply(interaction, await answering, ephemeral=False)

    async def answer(self, guild_id: int, member: discord.abc.User, text: str) -> str:
        return (await self.service.ask(self.bot.asker, guild_id, member.id, member.display_name, text)).text

    @commands.Cog.listener("on_message")
    async def answer_mention(self, message: discord.Message) -> None:
        """A message that mentions the bot is a question, answered in a reply to it."""
        me = self.bot.user
        if me is None or message.guild is None or message.author.bot or me.id not in message.raw_mentions:
            return
        text = mention_free(message.content, me.id)[:MAX_QUESTION]
        try:
            if text and await cooldown_left(self.bot, message.author, message.guild.id, ASK_LIMIT) is not None:
                # A reply saying "slow down" would be one more message of the flood: an hourglass says it quietly.
                with contextlib.suppress(discord.HTTPException):
                    await message.add_reaction(SLOW_DOWN)
                return
            if not text:
                await message.reply("Ask me about the club's history, for example: "
                                    + "; ".join(f"“{example}”" for example in EXAMPLES[:4]) + ".",
                                    mention_author=False, allowed_mentions=NO_PINGS)
                return
            async with message.channel.typing():
                answer = await self.answer(message.guild.id, message.author, text)
            await message.reply(answer, mention_author=False, allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            log.warning("could not answer a mention in guild %s: %s", message.guild.id, error)
