"""/discuss and /progress: a book's spoiler-free thread and private section threads, opened by members' progress."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.discussion_texts import dated, describe_threads, thread_mention
from bot.app.discussions import Discussion
from bot.domain.answers import day_text
from bot.domain.text import md, truncate
from bot.errors import NotConfigured, UserError
from cogs._shared.checks import (
    moderator_check,
)
from cogs._shared.choices import MAX_CHOICES, club_book_choice, club_book_choices
from cogs._shared.replies import guild_of, missing_permissions, reply
from cogs.discussions.threads import ChannelThreads, DiscordThreads, ThreadMembers

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

# What /discuss start needs in the discussions channel; checked before anything is created.
START_PERMISSIONS = ("view_channel", "send_messages", "create_public_threads", "create_private_threads",
                     "send_messages_in_threads", "manage_threads")
# The longest title a book can have (the store's limit), as the option's range.
MAX_TITLE = 256


class DiscussionsCog(commands.Cog):
    """Spoiler-safe discussions: a spoiler-free thread and private section threads per book, opened by progress."""

    discuss = app_commands.Group(
        name="discuss", description="Spoiler-safe discussion threads (moderators)", guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.service = bot.services.discussions

    # -- /discuss start ---------------------------------------------------------------------------

    @discuss.command(name="start", description="Open a spoiler-free thread and a private thread per section")
    @app_commands.describe(
        book="The book: pick one of the club's, or type a title (optionally “Title by Author”)",
        sections="Sections in reading order, e.g. Part 1, Part 2, Part 3 or 1-8, 9-15, 16-23",
        dates="Optional: the day to have read each section by, in order, e.g. 2026-12-10, 2026-12-17, 2026-12-24",
    )
    @moderator_check()
    async def start(self, interaction: discord.Interaction[BookClubBot],
                    book: app_commands.Range[str, 1, MAX_TITLE],
                    sections: app_commands.Range[str, 1, 1000],
                    dates: app_commands.Range[str, 1, 1000] | None = None) -> None:
        guild = guild_of(interaction)
        plan = await self.service.plan_start(guild.id, book, sections, dates)
        channel = await self.discussions_channel(guild)
        await interaction.response.defer(ephemeral=True, thinking=True)
        opener = ChannelThreads(channel, f"/discuss start by {interaction.user} ({interaction.user.id})")
        discussion = await self.service.start(guild.id, plan, channel_id=channel.id, moderator_id=interaction.user.id,
                                              threads=opener, guarded=self.bot.settings.message_content_intent)
        await reply(interaction, f"Started the discussion of **{md(discussion.title)}**: "
                                 f"{describe_threads(discussion)}.\nMembers join the section threads with `/progress`.")

    async def discussions_channel(self, guild: discord.Guild) -> discord.TextChannel:
        channel_id = await self.service.discussions_channel_id(guild.id)
        if channel_id is None:
            raise NotConfigured("Set the discussions channel first: `/config channels discussions:#channel`.")
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise NotConfigured("The discussions channel is gone or is not a text channel; set it again with "
                                "`/config channels`.")
        missing = missing_permissions(channel, guild.me, START_PERMISSIONS)
        if missing:
            raise UserError(f"I can't open threads in {channel.mention}: I'm missing {', '.join(missing)}. "
                            "Nothing was created.")
        return channel

    @start.autocomplete("book")
    async def club_book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                     current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        books = await self.service.suggest_books(interaction.guild_id, current)
        return club_book_choices(books)

    # -- /discuss end -----------------------------------------------------------------------------

    @discuss.command(name="end", description="End a book's discussion: its threads are archived and locked, "
                                             "still readable")
    @app_commands.describe(book="A book under discussion")
    @moderator_check()
    async def end(self, interaction: discord.Interaction[BookClubBot],
                  book: app_commands.Range[str, 1, MAX_TITLE]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        closer = DiscordThreads(guild, f"/discuss end by {interaction.user} ({interaction.user.id})")
        ended = await self.service.end(guild.id, book, interaction.user.id, closer)
        text = (f"Ended the discussion of **{md(ended.discussion.title)}**: {len(ended.closed)} thread"
                f"{'s' if len(ended.closed) != 1 else ''} archived and locked; everything said stays readable.")
        if ended.gone:
            text += f" {len(ended.gone)} thread{'s were' if len(ended.gone) != 1 else ' was'} already deleted."
        text += " `/discuss start` can open a new discussion of it later."
        await reply(interaction, text)

    # -- /discuss spoiler-terms -------------------------------------------------------------------

    @discuss.command(name="spoiler-terms", description="Words that give a book's plot away, hidden where talk is "
                                                       "spoiler-free")
    @app_commands.describe(
        book="A book under discussion",
        terms="Comma-separated, e.g. Tommy, donations, Ruth dies; replaces the list; “none” clears it; "
              "leave empty to see it",
    )
    @moderator_check()
    async def spoiler_terms(self, interaction: discord.Interaction[BookClubBot], book: str,
                            terms: app_commands.Range[str, 1, 3000] | None = None) -> None:
        guild = guild_of(interaction)
        discussion = await self.service.resolve_discussion(guild.id, book)
        if terms is None:
            current = await self.service.terms(guild.id, discussion.id)
            await reply(interaction, self.describe_terms(discussion, current))
            return
        wanted = await self.service.set_terms(guild.id, discussion.id, terms)
        await reply(interaction, "Saved. " + self.describe_terms(discussion, wanted))

    def describe_terms(self, discussion: Discussion, terms: list[str]) -> str:
        if not terms:
            return f"**{md(discussion.title)}** has no spoiler terms."
        listed = ", ".join(md(term) for term in terms)
        text = (f"Spoiler terms for **{md(discussion.title)}** ({len(terms)}): {listed}.\nA message naming one in "
                f"the spoiler-free thread {thread_mention(discussion.thread_id)} or in "
                f"{thread_mention(discussion.channel_id)} is hidden and its author told why; section threads are "
                "left alone.")
        if not self.bot.settings.message_content_intent:
            text += ("\nThe spoiler guard is off on this bot (the operator sets MESSAGE_CONTENT_INTENT=true to "
                     "turn it on); the terms are kept for then.")
        return truncate(text, 2000)

    # -- /progress --------------------------------------------------------------------------------

    @app_commands.command(name="progress", description="Record how far you've read; opens the section threads "
                                                       "up to there")
    @app_commands.describe(
        book="A book under discussion (needed when there are several)",
        section="The last section you have read; leave empty to see your progress",
    )
    @app_commands.guild_only()
    async def progress(self, interaction: discord.Interaction[BookClubBot], book: str | None = None,
                       section: str | None = None) -> None:
        guild = guild_of(interaction)
        if section is None:
            await reply(interaction, await self.service.describe_progress(guild.id, interaction.user.id, book))
            return
        discussion, index = await self.service.plan_progress(guild.id, book, section)
        await interaction.response.defer(ephemeral=True, thinking=True)
        advanced = await self.service.advance(guild.id, discussion, index, interaction.user.id, ThreadMembers(guild))
        opened, gone, change = advanced.opened, advanced.gone, advanced.change
        if change is None:
            # The member is in the threads already: "nothing was changed" would be untrue.
            threads = " ".join(thread_mention(t) for t in opened)
            await reply(interaction, f"You're in the section threads up to **{md(discussion.sections[index].name)}** "
                                     f"{threads}, but the club's records are busy, so your progress isn't saved yet. "
                                     "Run `/progress` again in a moment.")
            return
        chosen = discussion.sections[index]
        if change.previous is not None and change.previous > index + 1:
            furthest = discussion.sections[change.previous - 1]
            text = (f"You've already read up to **{md(furthest.name)}** of **{md(discussion.title)}**; your progress "
                    "stays there, and no thread is taken away.")
        else:
            text = f"Recorded: you've read up to **{md(chosen.name)}** of **{md(discussion.title)}**."
            upcoming = discussion.sections[index + 1] if index + 1 < len(discussion.sections) else None
            if upcoming is not None and upcoming.target_date is not None:
                text += f" Next: **{md(upcoming.name)}**, by {day_text(upcoming.target_date)}."
        if opened:
            text += " Your section threads: " + " ".join(thread_mention(t) for t in opened)
        if gone:
            text += (f"\nThe thread for {', '.join(md(name) for name in gone)} was deleted in Discord; a moderator "
                     "can end this discussion with `/discuss end` and open it afresh with `/discuss start`.")
        await reply(interaction, text)

    @progress.autocomplete("book")
    @spoiler_terms.autocomplete("book")
    @end.autocomplete("book")
    async def discussion_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                      current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        needle = current.strip().casefold()
        return [
            club_book_choice(discussion.book_id, discussion.label)
            for discussion in await self.service.discussions(interaction.guild_id)
            if not discussion.ended and needle in discussion.label.casefold()
        ][:MAX_CHOICES]

    @progress.autocomplete("section")
    async def section_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                   current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        try:
            discussion = await self.service.resolve_discussion(interaction.guild_id, interaction.namespace.book)
        except UserError:
            return []
        needle = current.strip().casefold()
        return [
            app_commands.Choice(name=truncate(dated(s.section.label, s.target_date), 100), value=s.name)
            for s in discussion.sections if needle in s.section.label.casefold()
        ][:MAX_CHOICES]
