"""/nominate and /poll: members nominate next reads (and withdraw them); moderators run Discord polls or secret
ranked ballots.

The close runs as the `poll_close` job (key: the poll id) and is safe to run again after a crash:
the outcome is stored once, the winner is added to the history only if it has no read yet, and
the announcement's message id is recorded, with the channel searched for an earlier post first.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.answers import day_text, titled
from bot.domain.durations import format_duration, parse_duration
from bot.domain.ids import parse_id
from bot.domain.polls import (
    MAX_AUTHOR,
    MAX_CANDIDATES,
    MAX_PER_MEMBER,
    MAX_TITLE,
    NominationKey,
    Outcome,
    PollMode,
    count_native,
    native_duration_hours,
    round_lines,
    tally_lines,
)
from bot.domain.spoilers import escape_markdown
from bot.domain.text import clean_line, truncate
from bot.domain.voting import Round
from bot.errors import NotConfigured, UserError
from bot.jobs import PollClose, Run
from bot.scheduler import PermanentJobError
from bot.store import StoreUnavailable
from bot.store.books import Book
from bot.store.polls import Poll
from cogs._shared.checks import is_moderator, moderator_check
from cogs._shared.ids import STALE_COMPONENT
from cogs._shared.replies import COLOUR, NO_PINGS, PERMISSION_NAMES, guild_of, reply, report_error

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

COG_NAME = "Polls"
QUESTION = "What should the club read next?"
# How many messages a re-run looks through for its own earlier post (the poll, or its announcement).
HISTORY_SCAN = 100
RETRY_AFTER_FAILED_CLOSE = timedelta(minutes=1)

MODE_CHOICES = [
    app_commands.Choice(name="native: a Discord poll, one vote each", value="native"),
    app_commands.Choice(name="ranked: secret ranked ballots, counted by instant runoff", value="ranked"),
]
POST_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "read_message_history")
ANNOUNCE_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "attach_files")
LIMIT_REACHED = f"You already have {MAX_PER_MEMBER} nominations; they clear when a poll picks a winner."
LIST_FULL = (f"{MAX_CANDIDATES} books are nominated already, as many as one poll can hold. Nominate again after the "
             "next poll, or second a book that is on the list.")
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th")


def md(text: str) -> str:
    return escape_markdown(clean_line(text))


def mentions(member_ids: Sequence[int]) -> str:
    shown = [f"<@{member_id}>" for member_id in member_ids]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def when(moment: datetime) -> str:
    """A time every member reads in their own time zone, with how far off it is."""
    return f"{discord.utils.format_dt(moment, 'F')} ({discord.utils.format_dt(moment, 'R')})"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member, names: Sequence[str]) -> list[str]:
    granted = channel.permissions_for(me)
    return [PERMISSION_NAMES.get(name, "Create Polls") for name in names if not getattr(granted, name)]


def result_marker(poll_id: int) -> str:
    """The announcement's footer starts with this; a re-run finds its earlier post by it."""
    return f"Result of poll #{poll_id}"


# -- the ballot: stateless components whose custom ids carry the poll and the ranking so far -----------------------
#
# A ranking is the candidates' positions as digits ("201": third, then first, then second), so the
# ballot needs no server-side draft and every button keeps working after a restart.

_PREFIX = "bookclub:poll:(?P<poll>[0-9]{1,20})"


def _cog(interaction: discord.Interaction[Any]) -> PollsCog:
    cog = interaction.client.get_cog(COG_NAME)
    if not isinstance(cog, PollsCog):
        raise UserError("Polls are not available right now; try again in a minute.")
    return cog


def _ranking(text: str) -> list[int]:
    return [int(digit) for digit in text]


def _poll_id(match: re.Match[str]) -> int:
    """The poll a custom id names; 0 (no poll) when it is forged out of range, refused by the callback."""
    return parse_id(match["poll"]) or 0


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_PREFIX + ":vote"):
    """The Vote button under a ranked poll: opens the member's private ballot."""

    def __init__(self, poll_id: int) -> None:
        super().__init__(discord.ui.Button(label="Vote", style=discord.ButtonStyle.primary,
                                           custom_id=f"bookclub:poll:{poll_id}:vote"))
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> VoteButton:
        return cls(_poll_id(match))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _cog(interaction).open_ballot(interaction, self.poll_id)
        except Exception as error:
            await report_error(interaction, error)


class RankSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=_PREFIX + ":pick:(?P<ranked>[0-9]{0,9})"):
    """Picks the next choice of a ballot; its custom id holds the choices made so far."""

    def __init__(self, poll_id: int, ranked: str, options: list[discord.SelectOption] | None = None) -> None:
        placeholder = f"Your {ORDINALS[len(ranked)]} choice" if len(ranked) < len(ORDINALS) else None
        super().__init__(discord.ui.Select(custom_id=f"bookclub:poll:{poll_id}:pick:{ranked}",
                                           placeholder=placeholder, options=options or []))
        self.poll_id = poll_id
        self.ranked = ranked

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RankSelect:
        return cls(_poll_id(match), match["ranked"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _cog(interaction).pick(interaction, self.poll_id, self.ranked, self.item.values)
        except Exception as error:
            await report_error(interaction, error)


class SubmitButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=_PREFIX + ":submit:(?P<ranked>[0-9]{1,10})"):
    """Casts the ranking its custom id holds, replacing the member's earlier ballot."""

    def __init__(self, poll_id: int, ranked: str) -> None:
        super().__init__(discord.ui.Button(label="Submit ballot", style=discord.ButtonStyle.success,
                                           custom_id=f"bookclub:poll:{poll_id}:submit:{ranked}"))
        self.poll_id = poll_id
        self.ranked = ranked

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> SubmitButton:
        return cls(_poll_id(match), match["ranked"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _cog(interaction).submit(interaction, self.poll_id, self.ranked)
        except Exception as error:
            await report_error(interaction, error)


class RestartButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_PREFIX + ":restart"):
    """Clears the ranking being built (a submitted ballot stays until a new one is submitted)."""

    def __init__(self, poll_id: int) -> None:
        super().__init__(discord.ui.Button(label="Start over", style=discord.ButtonStyle.secondary,
                                           custom_id=f"bookclub:poll:{poll_id}:restart"))
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RestartButton:
        return cls(_poll_id(match))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _cog(interaction).pick(interaction, self.poll_id, "", [])
        except Exception as error:
            await report_error(interaction, error)


def ballot_message(poll: Poll, ranked: Sequence[int], current: Sequence[int] | None) -> tuple[str, discord.ui.View]:
    """The private ballot: the ranking so far, a menu for the next choice, Submit and Start over."""
    by_position = {candidate.position: candidate for candidate in poll.candidates}
    lines = ["**Your ballot** (only you can see it). Rank as many books as you like, favourite first, "
             "then press **Submit ballot**."]
    if current and not ranked:
        lines.append("Your ballot now: " + ", ".join(
            f"{number}. {md(by_position[position].title)}"
            for number, position in enumerate(current, start=1) if position in by_position))
    if ranked:
        lines.append("")
        lines += [f"{number}. {titled(by_position[position].title, by_position[position].author)}"
                  for number, position in enumerate(ranked, start=1)]
    remaining = [candidate for candidate in poll.candidates if candidate.position not in ranked]
    view = discord.ui.View(timeout=None)
    encoded = "".join(str(position) for position in ranked)
    if remaining:
        options = [discord.SelectOption(label=truncate(candidate.label, 100), value=str(candidate.position))
                   for candidate in remaining]
        view.add_item(RankSelect(poll.id, encoded, options))
    if ranked:
        view.add_item(SubmitButton(poll.id, encoded))
        view.add_item(RestartButton(poll.id))
    return truncate("\n".join(lines), 2000), view


def poll_embed(poll: Poll, *, closed: bool = False) -> discord.Embed:
    """The ranked poll's message: the books in nomination order and how to vote."""
    lines = [f"{candidate.position + 1}. {titled(candidate.title, candidate.author)}"
             for candidate in poll.candidates]
    embed = discord.Embed(title=QUESTION, colour=COLOUR, description="\n".join(lines))
    if closed:
        embed.add_field(name="Closed", value="Voting has ended; the result has been announced.", inline=False)
    else:
        embed.add_field(
            name="How to vote",
            value=("Press **Vote** to rank the books in a private ballot; voting again replaces your ballot. "
                   f"Nobody sees how anyone voted, and counts stay hidden until the close, {when(poll.closes_at)}."),
            inline=False,
        )
    embed.set_footer(text=f"Ranked choice, counted by instant runoff · poll #{poll.id}")
    return embed


def result_embed(poll: Poll) -> discord.Embed:
    """The announcement: the winner, why it won, and the count behind it."""
    outcome = poll.outcome or Outcome(winner=None, tie_broken=False, reason="Nobody voted.")
    names = {candidate.position: candidate.title for candidate in poll.candidates}
    winner = poll.winner
    if winner is None:
        embed = discord.Embed(
            title="The poll closed without a winner", colour=COLOUR,
            description=f"{md(outcome.reason)}\nThe nominations stay open for the next poll.",
        )
    else:
        lines = [f"{titled(winner.title, winner.author)} won the poll and is the club's next read.",
                 md(outcome.reason)]
        if winner.nominators:
            lines.append(f"Nominated by {mentions(winner.nominators)}.")
        embed = discord.Embed(title=truncate(f"Next read: {winner.title}", 256), colour=COLOUR,
                              description="\n".join(lines))
    if outcome.rounds:
        embed.add_field(name="Rounds", value=truncate("\n".join(md(line) for line in round_lines(
            outcome.rounds, names)), 1024), inline=False)
    elif outcome.votes and outcome.ballots:
        embed.add_field(name="Votes", value=truncate("\n".join(md(line) for line in tally_lines(
            outcome.votes, names)), 1024), inline=False)
    counted = plural(outcome.ballots, "ballot" if poll.mode == "ranked" else "vote")
    embed.set_footer(text=f"{result_marker(poll.id)} · {counted}")
    return embed


class PollsCog(commands.Cog, name=COG_NAME):
    """Nominations (/nominate add|withdraw), polls (/poll start|close|results) and the scheduled close that announces
    the winner."""

    poll = app_commands.Group(name="poll", description="Polls for the club's next read", guild_only=True)
    # A group, not a top-level /nominate: Discord lets a command have options or sub-commands, not both, and
    # withdrawing needs a sub-command of its own (docs/decisions.md).
    nominations = app_commands.Group(name="nominate", description="Nominate a book for the next poll, or withdraw "
                                                                  "your nomination", guild_only=True)

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.service = bot.services.nominations
        # One lock per poll for the life of the process: the job and /poll close never close the same poll at once.
        self._closing: dict[int, asyncio.Lock] = {}

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(VoteButton, RankSelect, SubmitButton, RestartButton)
        self.bot.scheduler.register(PollClose, self.run_close)
        await self.arm_closes()

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(VoteButton, RankSelect, SubmitButton, RestartButton)

    async def arm_closes(self) -> None:
        """Every running poll has its close job: the process may have died between starting one and scheduling it."""
        for guild_id in await self.bot.store.config.guild_ids():
            poll = await self.bot.store.polls.running(guild_id)
            if poll is not None and await self.bot.scheduler.find(guild_id, PollClose(poll.id)) is None:
                log.warning("poll %d in guild %d had no close scheduled; it closes at %s", poll.id, guild_id,
                            poll.closes_at)
                await self.bot.scheduler.schedule(guild_id, PollClose(poll.id), poll.closes_at)

    # -- /nominate add and withdraw --------------------------------------------------------------

    @nominations.command(name="add", description="Propose a book for the club's next read")
    @app_commands.describe(title="The book's title", author="The book's author (helps find the right book)")
    async def nominate(self, interaction: discord.Interaction[BookClubBot], title: str,
                       author: str | None = None) -> None:
        guild = guild_of(interaction)
        title, author = clean_line(title), clean_line(author or "")
        if not title:
            raise UserError("A nomination needs a title.")
        if len(title) > MAX_TITLE:
            raise UserError(f"That title is {len(title)} characters long; titles can have at most {MAX_TITLE}.")
        if len(author) > MAX_AUTHOR:
            raise UserError(f"That author name is {len(author)} characters long; at most {MAX_AUTHOR}.")
        polls = self.bot.store.polls
        if await polls.count_for_member(guild.id, interaction.user.id) >= MAX_PER_MEMBER:
            raise UserError(LIMIT_REACHED)
        # The catalogue look-up can take a few seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        book = await self.nominated_book(guild.id, title, author)
        status = await polls.nominate(guild.id, book.id, interaction.user.id, now=self.bot.clock.now())
        named = titled(book.title, book.author)
        if status == "already_yours":
            raise UserError(f"You have already nominated {named}.")
        if status == "in_poll":
            raise UserError(f"{named} is in the running poll already; vote for it there.")
        if status == "member_limit":
            raise UserError(LIMIT_REACHED)
        if status == "full":
            raise UserError(LIST_FULL)
        held = await polls.count_for_member(guild.id, interaction.user.id)
        if status == "merged":
            message = f"{named} was already nominated; you are now credited as a nominator too."
        else:
            message = f"You nominated {named}."
        await reply(interaction, f"{message} ({held} of your {MAX_PER_MEMBER} nominations.)")

    @nominations.command(name="withdraw", description="Withdraw your nomination before its poll starts "
                                                       "(moderators: anyone's)")
    @app_commands.describe(book="A nomination of yours (moderators: any nomination)")
    async def withdraw(self, interaction: discord.Interaction[BookClubBot],
                       book: app_commands.Range[str, 1, 300]) -> None:
        guild = guild_of(interaction)
        done = await self.service.withdraw(guild.id, book, interaction.user.id,
                                           moderator=await is_moderator(interaction))
        nominated = done.nomination.book
        named = titled(nominated.title, nominated.author)
        if done.status == "credit_removed":
            text = f"You no longer nominate {named}; it stays nominated by the other members who nominated it."
        else:
            text = f"Withdrew the nomination of {named}; it won't be in the next poll."
        await reply(interaction, text)

    @withdraw.autocomplete("book")
    async def withdraw_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                    current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        needle = current.strip().casefold()
        nominations = await self.service.withdrawable(interaction.guild_id, interaction.user.id,
                                                      moderator=await is_moderator(interaction))
        return [app_commands.Choice(name=truncate(n.book.label, 100), value=f"book:{n.book.id}")
                for n in nominations if needle in n.book.label.casefold()][:25]

    async def nominated_book(self, guild_id: int, title: str, author: str) -> Book:
        """The book meant: the catalogue's when it knows it, merged with an equal nomination, never a club read."""
        work = await self.bot.catalogue.find_title(title, author) if self.bot.catalogue else None
        if work is not None:
            title, author = work.title, work.authors[0] if work.authors else author
        key = NominationKey.of(title, author, work.work_key if work else None)
        nominations = await self.bot.store.polls.nominations(guild_id)
        for nomination in nominations:
            book = nomination.book
            if key.same_book(NominationKey.of(book.title, book.author, book.work_key)):
                return book
        # Refused before the book is added, so a refusal leaves nothing behind.
        if len(nominations) >= MAX_CANDIDATES:
            raise UserError(LIST_FULL)
        books = self.bot.store.books
        known = await books.find(guild_id, title, author, key.work_key) or await books.find(guild_id, title)
        if known is not None and key.same_book(NominationKey.of(known.title, known.author, known.work_key)):
            read = await self.bot.store.history.get_read(guild_id, known.id)
            if read is not None:
                named = titled(known.title, known.author)
                if read.status == "reading":
                    raise UserError(f"The club is reading {named} right now.")
                if read.status == "planned":
                    raise UserError(f"{named} is already planned as a club read.")
                when = f" (finished {day_text(read.finished_on)})" if read.finished_on else ""
                raise UserError(f"The club has already read {named}{when}.")
        book, _ = await books.find_or_create(
            guild_id, title, author, year=work.year if work else None, work_key=key.work_key,
            isbn13=work.isbn13 if work else None, cover_url=work.cover_url if work else None,
        )
        return book

    # -- /poll start ------------------------------------------------------------------------------

    @poll.command(name="start", description="Start a poll of the nominations (moderators)")
    @app_commands.describe(
        closes_in="How long the poll runs, e.g. 90m, 36h, 2d or 1w (1 minute to 32 days)",
        mode="native: a Discord poll; ranked: secret ranked ballots counted by instant runoff",
    )
    @app_commands.choices(mode=MODE_CHOICES)
    @moderator_check()
    async def start(self, interaction: discord.Interaction[BookClubBot], closes_in: str = "3d",
                    mode: app_commands.Choice[str] | None = None) -> None:
        guild = guild_of(interaction)
        poll_mode: PollMode = "ranked" if mode is not None and mode.value == "ranked" else "native"
        try:
            duration = parse_duration(closes_in)
        except ValueError as error:
            raise UserError(f"`closes_in`: {error}") from None
        config = await self.bot.store.config.get(guild.id)
        channel = guild.get_channel(config.polls_channel_id) if config.polls_channel_id else None
        if not isinstance(channel, discord.TextChannel):
            raise NotConfigured("Choose a polls channel first with `/config channels polls:`.")
        needed = POST_PERMISSIONS + (("send_polls",) if poll_mode == "native" else ())
        missing = missing_permissions(channel, guild.me, needed)
        if missing:
            raise UserError(f"I can't run a poll in {channel.mention}: I'm missing {', '.join(missing)}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.clock.now()
        poll = await self.bot.store.polls.start(guild.id, mode=poll_mode, channel_id=channel.id,
                                                started_by=interaction.user.id, now=now, closes_at=now + duration)
        await self.bot.scheduler.schedule(guild.id, PollClose(poll.id), poll.closes_at)
        try:
            message = await self.post_poll(channel, poll, duration)
        except discord.HTTPException as error:
            await self.bot.scheduler.cancel(guild.id, PollClose(poll.id))
            await self.bot.store.polls.abandon(guild.id, poll.id)
            log.warning("could not post poll %d in guild %d: %s", poll.id, guild.id, error)
            raise UserError(f"Discord refused the poll message in {channel.mention} ({error.text or error.status}); "
                            "nothing was started.") from error
        try:
            await self.bot.store.polls.set_message(guild.id, poll.id, message.id)
        except StoreUnavailable as error:
            # The poll is up on Discord and its close is scheduled: the close finds the message in the channel, so
            # telling the moderator that nothing changed would be untrue (and a second /poll start would be refused).
            log.warning("poll %d in guild %d: could not record its message %d: %s", poll.id, guild.id, message.id,
                        error)
        lines = [f"Poll #{poll.id} is up in {channel.mention} with {len(poll.candidates)} books; it closes "
                 f"{discord.utils.format_dt(poll.closes_at, 'F')} (in {format_duration(duration)})."]
        announcements = guild.get_channel(config.announcements_channel_id or channel.id)
        if isinstance(announcements, discord.TextChannel):
            missing = missing_permissions(announcements, guild.me, ANNOUNCE_PERMISSIONS)
            if missing:
                lines.append(f"Before then, let me post the result in {announcements.mention}: "
                             f"I'm missing {', '.join(missing)} there.")
        await reply(interaction, "\n".join(lines))

    async def post_poll(self, channel: discord.TextChannel, poll: Poll, duration: timedelta) -> discord.Message:
        if poll.mode == "ranked":
            view = discord.ui.View(timeout=None)
            view.add_item(VoteButton(poll.id))
            return await channel.send(embed=poll_embed(poll), view=view, allowed_mentions=NO_PINGS)
        native = discord.Poll(question=QUESTION, duration=timedelta(hours=native_duration_hours(duration)))
        for candidate in poll.candidates:
            native.add_answer(text=candidate.answer)
        return await channel.send(
            f"Vote for the club's next read! The poll closes {when(poll.closes_at)}.",
            poll=native, allowed_mentions=NO_PINGS,
        )

    # -- /poll close and /poll results ------------------------------------------------------------

    @poll.command(name="close", description="Close the running poll now and announce the winner (moderators)")
    @moderator_check()
    async def close(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        running = await self.bot.store.polls.running(guild.id)
        if running is None:
            raise UserError("No poll is running.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            poll = await self.finish(guild.id, running.id)
        except Exception as error:
            # The scheduled close takes over, soon rather than at the original time.
            await self.bot.scheduler.schedule(guild.id, PollClose(running.id),
                                              self.bot.clock.now() + RETRY_AFTER_FAILED_CLOSE)
            if isinstance(error, PermanentJobError):
                raise UserError(f"Poll #{running.id} is closed and `/poll results` shows its result, but {error}. "
                                "Please check my permissions there.") from error
            raise
        await self.bot.scheduler.cancel(guild.id, PollClose(running.id))
        where = f"<#{poll.announcement_channel_id}>" if poll.announcement_channel_id else "the announcements"
        winner = poll.winner
        summary = (f"the winner is {titled(winner.title, winner.author)}" if winner
                   else "it has no winner, so the nominations stay")
        await reply(interaction, f"Poll #{poll.id} is closed: {summary}. The result is in {where}.")

    @poll.command(name="results", description="The running poll's tallies so far, or the last poll's result")
    async def results(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        poll = await self.bot.store.polls.latest(guild.id)
        if poll is None:
            raise UserError("No poll has run yet; moderators start one with `/poll start`.")
        if poll.status == "closed":
            await reply(interaction, embed=result_embed(poll))
            return
        closes = f"It closes {when(poll.closes_at)}."
        if poll.mode == "ranked":
            ballots = await self.bot.store.polls.ballot_count(guild.id, poll.id)
            await reply(interaction, f"Poll #{poll.id}: {plural(ballots, 'ballot')} cast so far. Counts stay hidden "
                                     f"until the close, so nobody votes tactically. {closes}")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        counts = await self.native_counts(poll, exact=False)
        if counts is None:
            raise UserError("The poll message is gone, so there are no votes to show.")
        names = {candidate.position: candidate.title for candidate in poll.candidates}
        embed = discord.Embed(title=f"Poll #{poll.id} so far", colour=COLOUR,
                              description=truncate("\n".join(md(line) for line in tally_lines(counts, names)), 4096))
        embed.add_field(name="Closes", value=closes, inline=False)
        await reply(interaction, embed=embed)

    # -- the ballot -------------------------------------------------------------------------------

    async def ballot_poll(self, interaction: discord.Interaction[Any], poll_id: int) -> Poll:
        if interaction.guild_id is None:
            raise UserError("Ballots only work in a server.")
        if not poll_id:
            raise UserError(STALE_COMPONENT)
        poll = await self.bot.store.polls.get(interaction.guild_id, poll_id)
        if poll is None or poll.mode != "ranked" or not poll.is_open_at(self.bot.clock.now()):
            raise UserError("This poll has closed; ballots are no longer taken.")
        return poll

    async def open_ballot(self, interaction: discord.Interaction[Any], poll_id: int) -> None:
        poll = await self.ballot_poll(interaction, poll_id)
        current = await self.bot.store.polls.ballot_of(poll.guild_id, poll.id, interaction.user.id)
        content, view = ballot_message(poll, [], current)
        await interaction.response.send_message(content, view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    async def pick(self, interaction: discord.Interaction[Any], poll_id: int, ranked: str,
                   values: Sequence[str]) -> None:
        poll = await self.ballot_poll(interaction, poll_id)
        positions = {candidate.position for candidate in poll.candidates}
        ranking = [position for position in dict.fromkeys(_ranking(ranked)) if position in positions]
        for value in values:
            # Menu values come back from the member's client: only plain digits name a position.
            position = parse_id(value, allow_zero=True)
            if position is not None and position in positions and position not in ranking:
                ranking.append(position)
        current = None if ranking else await self.bot.store.polls.ballot_of(poll.guild_id, poll.id,
                                                                              interaction.user.id)
        content, view = ballot_message(poll, ranking, current)
        await interaction.response.edit_message(content=content, view=view, allowed_mentions=NO_PINGS)

    async def submit(self, interaction: discord.Interaction[Any], poll_id: int, ranked: str) -> None:
        poll = await self.ballot_poll(interaction, poll_id)
        positions = {candidate.position for candidate in poll.candidates}
        ranking = [position for position in dict.fromkeys(_ranking(ranked)) if position in positions]
        if not ranking:
            raise UserError("Pick at least one book before submitting.")
        replaced = await self.bot.store.polls.cast_ballot(poll.guild_id, poll.id, interaction.user.id, ranking,
                                                          now=self.bot.clock.now())
        if replaced is None:
            raise UserError("This poll has closed; ballots are no longer taken.")
        by_position = {candidate.position: candidate for candidate in poll.candidates}
        lines = ["Your new ballot replaces your earlier one:" if replaced else "Your ballot is in:"]
        lines += [f"{number}. {titled(by_position[position].title, by_position[position].author)}"
                  for number, position in enumerate(ranking, start=1)]
        lines.append(f"Nobody else can see it. Press **Vote** again to change it before the close, "
                     f"{discord.utils.format_dt(poll.closes_at, 'R')}.")
        await interaction.response.edit_message(content=truncate("\n".join(lines), 2000), view=None,
                                                allowed_mentions=NO_PINGS)

    # -- the close --------------------------------------------------------------------------------

    async def run_close(self, run: Run[PollClose]) -> datetime | None:
        """The PollClose job: closes and announces once, however often it runs."""
        await self.finish(run.guild_id, run.job.poll_id)
        return None

    async def finish(self, guild_id: int, poll_id: int) -> Poll:
        """Closes the poll (if open), records the winner as the next read and announces the result, each once."""
        lock = self._closing.setdefault(poll_id, asyncio.Lock())
        async with lock:
            polls = self.bot.store.polls
            poll = await polls.get(guild_id, poll_id)
            if poll is None:
                raise PermanentJobError(f"poll {poll_id} is gone")
            if poll.status == "open":
                outcome = await self.native_outcome(poll) if poll.mode == "native" else None
                poll = await polls.close(guild_id, poll_id, now=self.bot.clock.now(), outcome=outcome)
                log.info("closed poll %d in guild %d", poll.id, guild_id)
            if poll.announcement_message_id is None:
                await self.retire_poll_message(poll)
                await self.record_next_read(poll)
                await self.bot.services.reading_now.changed(guild_id)
                poll = await self.announce(poll)
        return poll

    async def native_counts(self, poll: Poll, *, exact: bool) -> dict[int, int] | None:
        """Votes per candidate position; `exact` ends the Discord poll and counts its voters. None: message gone."""
        message_id = await self.poll_message_id(poll)
        if message_id is None:
            return None
        channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
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

    async def poll_message_id(self, poll: Poll) -> int | None:
        """The poll's message; looked up in its channel (and recorded) when the process died after posting it
        and before writing its id down, so the votes on it still count."""
        if poll.message_id is not None:
            return poll.message_id
        me = self.bot.user
        answers = [candidate.answer for candidate in poll.candidates]
        footer = poll_embed(poll).footer.text
        channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
        try:
            async for message in channel.history(limit=HISTORY_SCAN, after=poll.created_at - timedelta(seconds=1)):
                if me is None or message.author.id != me.id:
                    continue
                if poll.mode == "native":
                    found = message.poll is not None and [answer.text for answer in message.poll.answers] == answers
                else:
                    found = any(embed.footer.text == footer for embed in message.embeds)
                if found:
                    log.info("found the message of poll %d in guild %d after a restart", poll.id, poll.guild_id)
                    await self.bot.store.polls.set_message(poll.guild_id, poll.id, message.id)
                    return message.id
        except discord.Forbidden:
            log.warning("cannot read the history of channel %d to find poll %d's message", poll.channel_id, poll.id)
        return None

    async def native_outcome(self, poll: Poll) -> Outcome:
        counts = await self.native_counts(poll, exact=True)
        if counts is None:
            return Outcome(winner=None, tie_broken=False,
                           reason="The poll message was deleted, so there were no votes to count.")
        return count_native(counts, len(poll.candidates))

    async def retire_poll_message(self, poll: Poll) -> None:
        """A closed ranked poll loses its Vote button; a Discord poll shows its own end."""
        if poll.mode != "ranked":
            return
        message_id = await self.poll_message_id(poll)
        if message_id is None:
            return
        channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
        try:
            await channel.get_partial_message(message_id).edit(embed=poll_embed(poll, closed=True), view=None)
        except discord.HTTPException as error:
            log.info("could not retire the message of poll %d: %s", poll.id, error)

    async def record_next_read(self, poll: Poll) -> None:
        winner = poll.winner
        if winner is None:
            return
        history = self.bot.store.history
        # A re-run, or a moderator who already added the book, must not be overwritten.
        if await history.get_read(poll.guild_id, winner.book_id) is None:
            await history.add_read(poll.guild_id, winner.book_id, status="planned", source="poll",
                                   now=self.bot.clock.now())

    async def announce(self, poll: Poll) -> Poll:
        config = await self.bot.store.config.get(poll.guild_id)
        channel_id = config.announcements_channel_id or poll.channel_id
        try:
            posted = await self.post_result(channel_id, poll)
        except (discord.Forbidden, discord.NotFound) as error:
            problem = f"I could not post the result in <#{channel_id}>: {error.text or error.status}"
            if channel_id == poll.channel_id:
                raise PermanentJobError(problem) from error
            # Retrying cannot help until a moderator acts: the result goes to the poll's own channel, saying why.
            log.warning("guild %d: poll %d's result goes to its own channel: %s", poll.guild_id, poll.id, problem)
            channel_id = poll.channel_id
            posted = await self.post_result(channel_id, poll, f"{problem}. Moderators, please check my permissions.")
        await self.bot.store.polls.mark_announced(poll.guild_id, poll.id, channel_id, posted.id)
        return poll.model_copy(update={"announcement_channel_id": channel_id, "announcement_message_id": posted.id})

    async def post_result(self, channel_id: int, poll: Poll, note: str | None = None) -> discord.Message:
        """The result in this channel: an earlier run's post if there is one, else a new one."""
        channel = self.bot.get_partial_messageable(channel_id, guild_id=poll.guild_id)
        posted = await self.earlier_announcement(channel, poll)
        if posted is None:
            embed = result_embed(poll)
            files = await self.chart_files(poll)
            for file in files:
                embed.set_image(url=f"attachment://{file.filename}")
            posted = await channel.send(note, embed=embed, files=files, allowed_mentions=NO_PINGS)
            log.info("announced poll %d in guild %d", poll.id, poll.guild_id)
        return posted

    async def earlier_announcement(self, channel: discord.PartialMessageable, poll: Poll) -> discord.Message | None:
        """This poll's announcement if an earlier run posted it and then stopped before recording it."""
        me = self.bot.user
        marker = result_marker(poll.id)
        try:
            # Newest first: the post sits at the end of a poll's worth of chat, which may be more than one page.
            async for message in channel.history(limit=HISTORY_SCAN, after=poll.created_at - timedelta(seconds=1),
                                                 oldest_first=False):
                if me is not None and message.author.id == me.id and any(
                    (embed.footer.text or "").split(" · ")[0] == marker for embed in message.embeds
                ):
                    return message
        except discord.Forbidden:
            log.warning("cannot read the history of channel %d; posting poll %d's result without checking",
                        channel.id, poll.id)
        return None

    async def chart_files(self, poll: Poll) -> list[discord.File]:
        outcome = poll.outcome
        if outcome is None or not outcome.rounds:
            return []
        names = {candidate.position: candidate.title for candidate in poll.candidates}
        title = f"Poll #{poll.id}: instant-runoff rounds"
        png = await asyncio.to_thread(draw_rounds, outcome.rounds, names, title)
        description = truncate("; ".join(round_lines(outcome.rounds, names)), 1024)
        return [discord.File(io.BytesIO(png), filename=f"poll-{poll.id}-rounds.png", description=description)]


def draw_rounds(rounds: Sequence[Round], names: Mapping[int, str], title: str) -> bytes:
    """The rounds chart, drawn in a worker thread."""
    # matplotlib is imported here, in the thread, at the first chart: importing it at start-up adds ~0.3 s and
    # ~40 MB to every start, and importing it on the event loop would stall every guild for as long.
    from bot.services.charts import render_rounds_png

    return render_rounds_png(rounds, names, title)


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(PollsCog(bot))
