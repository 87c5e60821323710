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
from bot.domain.names import title_key
from bot.domain.sections import (
    find_section,
)
from bot.domain.text import book_choice, md, picked_book, truncate
from bot.errors import NotConfigured, StoreUnavailable, UserError
from cogs._shared.checks import (
    moderator_check,
)
from cogs._shared.replies import PERMISSION_NAMES, guild_of, reply
from cogs.discussions.threads import ChannelThreads, DiscordThreads, fetch_thread

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
        granted = channel.permissions_for(guild.me)
        missing = [PERMISSION_NAMES[name] for name in START_PERMISSIONS if not getattr(granted, name)]
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
        return [app_commands.Choice(name=truncate(book.label, 100), value=book_choice(book.id)) for book in books]

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
        discussion = await self.resolve_discussion(guild.id, book)
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
            await reply(interaction, await self.describe_progress(guild.id, interaction.user.id, book))
            return
        discussion = await self.resolve_discussion(guild.id, book)
        sections = [s.section for s in discussion.sections]
        index = find_section(sections, section)
        if index is None:
            names = ", ".join(md(s.label) for s in sections)
            raise UserError(f"“{md(truncate(section, 60))}” isn't a section of **{md(discussion.title)}**; its "
                            f"sections are {names}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        opened, gone = await self.add_to_threads(guild, interaction.user, discussion, index + 1)
        try:
            change = await self.service.record_progress(guild.id, discussion, interaction.user.id, index + 1)
        except StoreUnavailable:
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

    async def add_to_threads(self, guild: discord.Guild, member: discord.abc.User, discussion: Discussion,
                             upto: int) -> tuple[list[int], list[str]]:
        """Adds the member to the section threads 1…upto; returns the threads they are in and the sections gone."""
        opened: list[int] = []
        gone: list[str] = []
        for section in discussion.sections[:upto]:
            thread = await fetch_thread(guild, section.thread_id)
            if thread is None:
                gone.append(section.name)
                continue
            if thread.archived:
                await thread.edit(archived=False)
            await thread.add_user(discord.Object(id=member.id))
            opened.append(thread.id)
        return opened, gone

    async def describe_progress(self, guild_id: int, member_id: int, book: str | None) -> str:
        if book is not None:
            discussions = [await self.resolve_discussion(guild_id, book)]
        else:
            discussions = [d for d in await self.service.discussions(guild_id) if not d.ended]
        if not discussions:
            return await self.nothing_running(guild_id)
        reached = {p.discussion_id: p.position for p in await self.service.progress(guild_id, member_id)}
        lines = []
        for discussion in discussions:
            position = reached.get(discussion.id)
            if position is None:
                lines.append(f"**{md(discussion.title)}**: not recorded yet. Sections: "
                             f"{', '.join(md(dated(s.section.label, s.target_date)) for s in discussion.sections)}.")
            else:
                threads = " ".join(thread_mention(s.thread_id) for s in discussion.sections[:position])
                line = (f"**{md(discussion.title)}**: read up to **{md(discussion.sections[position - 1].name)}**"
                        f" of {len(discussion.sections)}.")
                upcoming = discussion.sections[position] if position < len(discussion.sections) else None
                if upcoming is not None and upcoming.target_date is not None:
                    line += f" Next: **{md(upcoming.name)}**, by {day_text(upcoming.target_date)}."
                lines.append(f"{line} Threads: {threads}")
        lines.append("Record more with `/progress book: section:`.")
        return truncate("\n".join(lines), 2000)

    async def ended_text(self, guild_id: int, discussion: Discussion) -> str:
        """What is true of an ended discussion, for a member who asks about it."""
        ended_at = discussion.ended_at or self.bot.clock.now()
        return (f"The discussion of **{md(discussion.title)}** ended on "
                f"{day_text(await self.service.day_of(guild_id, ended_at))}: its threads are archived and "
                "locked, and everything said there stays readable. A moderator can open a new discussion of it with "
                "`/discuss start`.")

    async def nothing_running(self, guild_id: int) -> str:
        ended = [d for d in await self.service.discussions(guild_id) if d.ended]
        if not ended:
            return "No book is under discussion yet; moderators start one with `/discuss start`."
        return "No book is under discussion right now. " + await self.ended_text(guild_id, ended[0])

    async def resolve_discussion(self, guild_id: int, text: str | None) -> Discussion:
        """The running discussion an autocomplete choice or typed title means; the only one when none is given.

        Naming a discussion that ended is refused with what became of it.
        """
        discussions = await self.service.discussions(guild_id)
        running = [d for d in discussions if not d.ended]
        titles = ", ".join(f"**{md(d.title)}**" for d in running[:10])
        if text is None or not text.strip():
            if len(running) == 1:
                return running[0]
            if not running:
                raise UserError(await self.nothing_running(guild_id))
            raise UserError(f"Pick the book too: {titles}.")
        found = self.match_discussion(running, text) or self.match_discussion(discussions, text)
        if found is not None and found.ended:
            raise UserError(await self.ended_text(guild_id, found))
        if found is not None:
            return found
        if not running:
            raise UserError(await self.nothing_running(guild_id))
        raise UserError(f"No book called “{md(truncate(text, 60))}” is under discussion; under discussion: {titles}.")

    @staticmethod
    def match_discussion(discussions: list[Discussion], text: str) -> Discussion | None:
        book_id = picked_book(text)
        if book_id:
            for discussion in discussions:
                if discussion.book_id == book_id:
                    return discussion
        key = title_key(text)
        for discussion in discussions:
            if key and key in (title_key(discussion.title), title_key(discussion.label)):
                return discussion
        partial = [d for d in discussions if text.strip().casefold() in d.label.casefold()]
        return partial[0] if len(partial) == 1 else None

    @progress.autocomplete("book")
    @spoiler_terms.autocomplete("book")
    @end.autocomplete("book")
    async def discussion_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                      current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        needle = current.strip().casefold()
        return [
            app_commands.Choice(name=truncate(discussion.label, 100), value=book_choice(discussion.book_id))
            for discussion in await self.service.discussions(interaction.guild_id)
            if not discussion.ended and needle in discussion.label.casefold()
        ][:25]

    @progress.autocomplete("section")
    async def section_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                   current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        try:
            discussion = await self.resolve_discussion(interaction.guild_id, interaction.namespace.book)
        except UserError:
            return []
        needle = current.strip().casefold()
        return [
            app_commands.Choice(name=truncate(dated(s.section.label, s.target_date), 100), value=s.name)
            for s in discussion.sections if needle in s.section.label.casefold()
        ][:25]
