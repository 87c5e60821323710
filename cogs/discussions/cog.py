"""/discuss, /progress, /spoiler, Hide as spoiler and the spoiler guard: talking about a book without spoiling it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.books import club_day
from bot.domain.answers import day_text
from bot.domain.guard import SpoilerGuard, SpoilerMatcher, TermError, parse_terms
from bot.domain.ids import picked_id
from bot.domain.names import title_key
from bot.domain.sections import (
    Section,
    SectionError,
    find_section,
    parse_sections,
    section_thread_name,
    spoiler_free_thread_name,
)
from bot.domain.spoilers import escape_markdown, hide
from bot.domain.text import clean_line, clip, truncate
from bot.errors import NotAllowed, NotConfigured, UserError
from bot.store import StoreUnavailable
from bot.store.books import Book, BookRepository
from bot.store.discussions import Discussion
from cogs._shared.checks import (
    HIDE_LIMIT,
    SPOILER_LIMIT,
    is_moderator,
    member_cooldown,
    moderator_check,
    posts_for_member,
    require_post_rights,
)
from cogs._shared.replies import NO_PINGS, PERMISSION_NAMES, guild_of, reply, user_message
from cogs.discussions.reposting import Reposter, parent_channel

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

BOOK_CHOICE = re.compile(r"^book:(\d+)$")
# What /discuss start needs in the discussions channel; checked before anything is created.
START_PERMISSIONS = ("view_channel", "send_messages", "create_public_threads", "create_private_threads",
                     "send_messages_in_threads", "manage_threads")
# A week: the longest Discord allows, so quiet section threads stay in the channel list between meetings.
ARCHIVE_AFTER_MINUTES = 10080
MAX_LABEL = 80
MAX_SPOILER_TEXT = 4000
CLEAR_WORDS = {"none", "clear", "-"}


def md(text: str) -> str:
    return escape_markdown(text)


def dated(label: str, target_date: date | None) -> str:
    """"Part 2 (ch. 9–15) · by 17 December 2026", or the label alone when the section has no target date."""
    return f"{label} · by {day_text(target_date)}" if target_date else label


def reading_schedule(sections: Sequence[tuple[Section, date | None]]) -> str:
    """The sections with their target dates, one line each."""
    return "\n".join(f"{number}. {md(dated(section.label, day))}"
                     for number, (section, day) in enumerate(sections, start=1))


def spoiler_free_rules(title: str, sections: list[Section], guarded: bool,
                       target_dates: Sequence[date | None] = ()) -> str:
    names = ", ".join(md(section.label) for section in sections)
    guard = ("\nMessages here that name a plot detail moderators marked as a spoiler are hidden automatically."
             if guarded else "")
    schedule = ""
    if any(target_dates):
        # The schedule names every section, so the list in the text gives way to it (20 of them must fit in 2000).
        names = "listed below"
        schedule = "\n**Reading schedule**\n" + reading_schedule(list(zip(sections, target_dates, strict=True)))
    return truncate(
        f"**{md(title)} · spoiler-free**\n"
        "Talk about the book here without spoilers: nothing beyond what the cover and blurb tell.\n"
        f"Further along? Record how far you've read with `/progress` and I'll add you to the section threads "
        f"({names}), where the plot can be discussed up to your section.\n"
        f"Need to say more here anyway? `/spoiler` hides it behind spoiler tags.{guard}{schedule}",
        2000,
    )


def section_rules(title: str, section: Section, target_date: date | None = None) -> str:
    target = f"The club means to have read this far by **{day_text(target_date)}**.\n" if target_date else ""
    return (
        f"**{md(title)} · {md(section.label)}**\n"
        f"Everyone here has read at least this far: {section.scope} are fine. Nothing from later sections, "
        "please; `/spoiler` hides anything beyond.\n"
        f"{target}"
        "Members join with `/progress`; the thread is private, so only readers who got here see it."
    )


def thread_mention(thread_id: int) -> str:
    return f"<#{thread_id}>"


def describe_threads(discussion: Discussion) -> str:
    sections = ", ".join(f"{md(s.section.label)} {thread_mention(s.thread_id)}" for s in discussion.sections)
    return f"spoiler-free {thread_mention(discussion.thread_id)}; sections: {sections}"


class DiscordThreads:
    """Ending a discussion on Discord: a closing note, then each thread archived and locked (still readable)."""

    def __init__(self, cog: DiscussionsCog, guild: discord.Guild, reason: str) -> None:
        self.cog = cog
        self.guild = guild
        self.reason = reason

    async def post_note(self, thread_id: int, text: str) -> None:
        thread = await self.cog.fetch_thread(self.guild, thread_id)
        if thread is None or thread.locked:
            return
        try:
            await thread.send(text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            log.warning("could not post the closing note in thread %s of guild %s: %s", thread_id, self.guild.id,
                        error)

    async def archive_and_lock(self, thread_id: int) -> bool:
        thread = await self.cog.fetch_thread(self.guild, thread_id)
        if thread is None:
            return False
        try:
            await thread.edit(archived=True, locked=True, reason=self.reason)
        except discord.NotFound:
            return False
        except discord.Forbidden:
            raise UserError(f"Discord refused to lock {thread_mention(thread_id)}: I need Manage Threads in the "
                            "discussions channel. The discussion stays open (threads locked so far stay locked); "
                            "run `/discuss end` again once that is fixed.") from None
        return True


class DiscussionsCog(commands.Cog):
    """Spoiler-safe discussions: a spoiler-free thread and private section threads per book, opened by progress."""

    discuss = app_commands.Group(
        name="discuss", description="Spoiler-safe discussion threads (moderators)", guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.service = bot.services.discussions
        self.reposter = Reposter(bot)
        self._guards: dict[int, SpoilerGuard] = {}
        self._guard_generation: dict[int, int] = {}
        self._start_locks: dict[int, asyncio.Lock] = {}
        self.hide_menu = app_commands.ContextMenu(name="Hide as spoiler", callback=self.hide_as_spoiler)
        self.hide_menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.hide_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.hide_menu.name, type=self.hide_menu.type)

    # -- /discuss start ---------------------------------------------------------------------------

    @discuss.command(name="start", description="Open a spoiler-free thread and a private thread per section")
    @app_commands.describe(
        book="The book: pick one of the club's, or type a title (optionally “Title by Author”)",
        sections="Sections in reading order, e.g. Part 1, Part 2, Part 3 or 1-8, 9-15, 16-23",
        dates="Optional: the day to have read each section by, in order, e.g. 2026-12-10, 2026-12-17, 2026-12-24",
    )
    @moderator_check()
    async def start(self, interaction: discord.Interaction[BookClubBot],
                    book: app_commands.Range[str, 1, BookRepository.MAX_TITLE],
                    sections: app_commands.Range[str, 1, 1000],
                    dates: app_commands.Range[str, 1, 1000] | None = None) -> None:
        guild = guild_of(interaction)
        try:
            parsed = parse_sections(sections)
        except SectionError as error:
            raise UserError(str(error)) from None
        target_dates = await self.service.target_dates(guild.id, dates, parsed)
        found = await self.find_book(guild.id, book)
        if found is not None:
            existing = await self.bot.store.discussions.for_book(guild.id, found.id)
            if existing is not None and not existing.ended:
                raise UserError(f"**{md(existing.title)}** is already under discussion: {describe_threads(existing)}."
                                " End it first with `/discuss end` to start it afresh.")
        channel = await self.discussions_channel(guild)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._start_locks.setdefault(guild.id, asyncio.Lock()):
            chosen = found or await self.create_book(guild.id, book)
            running = await self.bot.store.discussions.for_book(guild.id, chosen.id)
            if running is not None and not running.ended:
                raise UserError(f"**{md(chosen.title)}** was just started by another moderator.")
            discussion = await self.open_threads(interaction, channel, chosen, parsed, target_dates)
        self.forget_guard(guild.id)
        await reply(interaction, f"Started the discussion of **{md(discussion.title)}**: "
                                 f"{describe_threads(discussion)}.\nMembers join the section threads with `/progress`.")

    async def discussions_channel(self, guild: discord.Guild) -> discord.TextChannel:
        config = await self.bot.store.config.get(guild.id)
        if config.discussions_channel_id is None:
            raise NotConfigured("Set the discussions channel first: `/config channels discussions:#channel`.")
        channel = guild.get_channel(config.discussions_channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise NotConfigured("The discussions channel is gone or is not a text channel; set it again with "
                                "`/config channels`.")
        granted = channel.permissions_for(guild.me)
        missing = [PERMISSION_NAMES[name] for name in START_PERMISSIONS if not getattr(granted, name)]
        if missing:
            raise UserError(f"I can't open threads in {channel.mention}: I'm missing {', '.join(missing)}. "
                            "Nothing was created.")
        return channel

    async def open_threads(self, interaction: discord.Interaction[BookClubBot], channel: discord.TextChannel,
                           book: Book, sections: list[Section], target_dates: list[date | None]) -> Discussion:
        """Creates every thread, posts the rules and records them; on any failure deletes what it made."""
        created: list[discord.Thread] = []
        guarded = self.bot.settings.message_content_intent
        reason = f"/discuss start by {interaction.user} ({interaction.user.id})"
        try:
            spoiler_free = await channel.create_thread(
                name=spoiler_free_thread_name(book.title), type=discord.ChannelType.public_thread,
                auto_archive_duration=ARCHIVE_AFTER_MINUTES, reason=reason,
            )
            created.append(spoiler_free)
            await spoiler_free.send(spoiler_free_rules(book.title, sections, guarded, target_dates),
                                    allowed_mentions=NO_PINGS)
            section_threads = []
            for section, target_date in zip(sections, target_dates, strict=True):
                thread = await channel.create_thread(
                    name=section_thread_name(book.title, section), type=discord.ChannelType.private_thread,
                    invitable=False, auto_archive_duration=ARCHIVE_AFTER_MINUTES, reason=reason,
                )
                created.append(thread)
                section_threads.append((section, thread.id))
                await thread.send(section_rules(book.title, section, target_date), allowed_mentions=NO_PINGS)
            discussion = await self.bot.store.discussions.create(
                channel.guild.id, book.id, channel_id=channel.id, thread_id=spoiler_free.id, sections=section_threads,
                started_by=interaction.user.id, at=self.bot.clock.now(), target_dates=target_dates,
            )
            if discussion is None:
                raise UserError(f"**{md(book.title)}** was just started by another moderator.")
            await self.bot.services.reading_now.changed(channel.guild.id)
        except BaseException as error:
            for thread in reversed(created):
                with contextlib.suppress(discord.HTTPException):
                    await thread.delete(reason="/discuss start failed part-way")
            if isinstance(error, discord.Forbidden):
                raise UserError(f"Discord refused to let me open the threads in {channel.mention} (a permission is "
                                "missing: Create Private Threads or Manage Threads). Nothing was created.") from None
            raise
        return discussion

    async def find_book(self, guild_id: int, text: str) -> Book | None:
        """The club's book an autocomplete choice or typed title means, if it has one."""
        return await self.service.books.find(guild_id, text)

    async def create_book(self, guild_id: int, text: str) -> Book:
        if BOOK_CHOICE.match(text.strip()):
            raise UserError("That book is no longer in the club's list; type its title instead.")
        title, author = text, ""
        if " by " in text:
            title, _, author = text.rpartition(" by ")
        title, author = clean_line(title), clean_line(author)
        if not title:
            raise UserError("Type the book's title, optionally followed by “by Author”.")
        book, _ = await self.bot.store.books.find_or_create(guild_id, title, clip(author, BookRepository.MAX_AUTHOR))
        return book

    @start.autocomplete("book")
    async def club_book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                     current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        books = await self.bot.store.books.suggest(interaction.guild_id, current, limit=25)
        return [app_commands.Choice(name=truncate(book.label, 100), value=f"book:{book.id}") for book in books]

    # -- /discuss end -----------------------------------------------------------------------------

    @discuss.command(name="end", description="End a book's discussion: its threads are archived and locked, "
                                             "still readable")
    @app_commands.describe(book="A book under discussion")
    @moderator_check()
    async def end(self, interaction: discord.Interaction[BookClubBot],
                  book: app_commands.Range[str, 1, BookRepository.MAX_TITLE]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        closer = DiscordThreads(self, guild, f"/discuss end by {interaction.user} ({interaction.user.id})")
        ended = await self.service.end(guild.id, book, interaction.user.id, closer)
        self.forget_guard(guild.id)
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
            current = await self.bot.store.discussions.terms(guild.id, discussion.id)
            await reply(interaction, self.describe_terms(discussion, current))
            return
        try:
            wanted = [] if terms.strip().casefold() in CLEAR_WORDS else parse_terms(terms)
        except TermError as error:
            raise UserError(str(error)) from None
        await self.bot.store.discussions.set_terms(guild.id, discussion.id, wanted)
        self.forget_guard(guild.id)
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
            change = await self.bot.store.discussions.record_progress(guild.id, discussion.id, interaction.user.id,
                                                                      index + 1, self.bot.clock.now())
        except StoreUnavailable as error:
            # The member is in the threads already: "nothing was changed" would be untrue.
            if user_message(error) is None:
                raise
            threads = " ".join(thread_mention(t) for t in opened)
            await reply(interaction, f"You're in the section threads up to **{md(discussion.sections[index].name)}** "
                                     f"{threads}, but the club's records are busy, so your progress isn't saved yet. "
                                     "Run `/progress` again in a moment.")
            return
        if change is None:
            raise UserError(f"The discussion of **{md(discussion.title)}** was just ended; its threads stay readable.")
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
            thread = await self.fetch_thread(guild, section.thread_id)
            if thread is None:
                gone.append(section.name)
                continue
            if thread.archived:
                await thread.edit(archived=False)
            await thread.add_user(discord.Object(id=member.id))
            opened.append(thread.id)
        return opened, gone

    async def fetch_thread(self, guild: discord.Guild, thread_id: int) -> discord.Thread | None:
        thread = guild.get_thread(thread_id)
        if thread is not None:
            return thread
        try:
            fetched = await guild.fetch_channel(thread_id)
        except discord.NotFound:
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    async def describe_progress(self, guild_id: int, member_id: int, book: str | None) -> str:
        if book is not None:
            discussions = [await self.resolve_discussion(guild_id, book)]
        else:
            discussions = [d for d in await self.bot.store.discussions.list(guild_id) if not d.ended]
        if not discussions:
            return await self.nothing_running(guild_id)
        reached = {p.discussion_id: p.position for p in await self.bot.store.discussions.progress(guild_id, member_id)}
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
                f"{day_text(await club_day(self.bot.store, guild_id, ended_at))}: its threads are archived and "
                "locked, and everything said there stays readable. A moderator can open a new discussion of it with "
                "`/discuss start`.")

    async def nothing_running(self, guild_id: int) -> str:
        ended = [d for d in await self.bot.store.discussions.list(guild_id) if d.ended]
        if not ended:
            return "No book is under discussion yet; moderators start one with `/discuss start`."
        return "No book is under discussion right now. " + await self.ended_text(guild_id, ended[0])

    async def resolve_discussion(self, guild_id: int, text: str | None) -> Discussion:
        """The running discussion an autocomplete choice or typed title means; the only one when none is given.

        Naming a discussion that ended is refused with what became of it.
        """
        discussions = await self.bot.store.discussions.list(guild_id)
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
        book_id = picked_id(BOOK_CHOICE, text)
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
            app_commands.Choice(name=truncate(discussion.label, 100), value=f"book:{discussion.book_id}")
            for discussion in await self.bot.store.discussions.list(interaction.guild_id)
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
        parts = hide(text, header=f"**{title}** · from {md(clean_line(interaction.user.display_name))}")
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

    def forget_guard(self, guild_id: int) -> None:
        """Called whenever a guild's discussions or terms change; the next message rebuilds its guard."""
        self._guards.pop(guild_id, None)
        self._guard_generation[guild_id] = self._guard_generation.get(guild_id, 0) + 1

    async def guard_for(self, guild_id: int) -> SpoilerGuard:
        guard = self._guards.get(guild_id)
        if guard is not None:
            return guard
        generation = self._guard_generation.get(guild_id, 0)
        # An ended discussion's book is no longer under discussion: the guard leaves its terms alone.
        discussions = [d for d in await self.bot.store.discussions.list(guild_id) if not d.ended]
        running = {d.id for d in discussions}
        terms = {key: words for key, words in (await self.bot.store.discussions.all_terms(guild_id)).items()
                 if key in running}
        places = {d.channel_id for d in discussions} | {d.thread_id for d in discussions}
        guard = SpoilerGuard(SpoilerMatcher.build(terms), frozenset(places))
        # A change made while this one was loading wins: keep the rebuilt guard only if nothing changed.
        if self._guard_generation.get(guild_id, 0) == generation:
            self._guards[guild_id] = guard
        return guard

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
        hit = (await self.guard_for(guild.id)).check(message.channel.id, message.content)
        if hit is None:
            return
        discussion = await self.bot.store.discussions.get(guild.id, hit.key)
        title = discussion.title if discussion else "a book under discussion"
        try:
            await self.reposter.hide_message(message, f"**Hidden as a spoiler** · {md(title)}")
        except (UserError, discord.HTTPException) as error:
            log.warning("the spoiler guard could not hide message %s in guild %s: %s", message.id, guild.id, error)
            return
        if not await self.bot.store.discussions.first_notice(guild.id, message.author.id, self.bot.clock.now()):
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
