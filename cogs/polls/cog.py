"""/nominate and /poll as Discord commands: each turns an interaction into a call of the nominations or polls use
case (bot/app/) and its result into a reply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.polls import Poll, PollMode
from bot.domain.durations import format_duration, parse_duration
from bot.domain.polls import MAX_PER_MEMBER
from bot.domain.text import titled, truncate
from bot.errors import NotConfigured, UserError
from bot.jobs import PollClose
from cogs._shared.checks import is_moderator, moderator_check
from cogs._shared.choices import club_book_choices
from cogs._shared.ids import STALE_COMPONENT
from cogs._shared.replies import NO_PINGS, guild_of, missing_permissions, reply
from cogs.polls.embeds import plural, result_embed, tally_embed, when
from cogs.polls.ports import DiscordPolls
from cogs.polls.views import BALLOT_ITEMS, COG_NAME, ballot_message, ranking_of

if TYPE_CHECKING:
    from bot.bot import BookClubBot

MODE_CHOICES = [
    app_commands.Choice(name="native: a Discord poll, one vote each", value="native"),
    app_commands.Choice(name="ranked: secret ranked ballots, counted by instant runoff", value="ranked"),
]
POST_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "read_message_history")
ANNOUNCE_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "attach_files")


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
        self.nominating = bot.services.nominations
        discord_side = DiscordPolls(bot)
        self.service = bot.services.polls(discord_side, discord_side)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*BALLOT_ITEMS)
        self.bot.scheduler.register(PollClose, self.service.run_close)
        await self.service.arm_closes(self.bot.shard_range)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*BALLOT_ITEMS)

    # -- /nominate add and withdraw --------------------------------------------------------------

    @nominations.command(name="add", description="Propose a book for the club's next read")
    @app_commands.describe(title="The book's title", author="The book's author (helps find the right book)")
    async def nominate(self, interaction: discord.Interaction[BookClubBot], title: str,
                       author: str | None = None) -> None:
        guild = guild_of(interaction)
        title, author = await self.nominating.check(guild.id, interaction.user.id, title, author or "")
        # The catalogue look-up can take a few seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        done = await self.nominating.nominate(guild.id, interaction.user.id, title, author)
        named = titled(done.book.title, done.book.author)
        if done.status == "merged":
            message = f"{named} was already nominated; you are now credited as a nominator too."
        else:
            message = f"You nominated {named}."
        await reply(interaction, f"{message} ({done.held} of your {MAX_PER_MEMBER} nominations.)")

    @nominations.command(name="withdraw", description="Withdraw your nomination before its poll starts "
                                                       "(moderators: anyone's)")
    @app_commands.describe(book="A nomination of yours (moderators: any nomination)")
    async def withdraw(self, interaction: discord.Interaction[BookClubBot],
                       book: app_commands.Range[str, 1, 300]) -> None:
        guild = guild_of(interaction)
        done = await self.nominating.withdraw(guild.id, book, interaction.user.id,
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
        nominations = await self.nominating.withdrawable(interaction.guild_id, interaction.user.id,
                                                         moderator=await is_moderator(interaction))
        return club_book_choices(n.book for n in nominations if needle in n.book.label.casefold())

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
        channels = await self.service.channels(guild.id)
        channel = guild.get_channel(channels.polls) if channels.polls else None
        if not isinstance(channel, discord.TextChannel):
            raise NotConfigured("Choose a polls channel first with `/config channels polls:`.")
        needed = POST_PERMISSIONS + (("send_polls",) if poll_mode == "native" else ())
        missing = missing_permissions(channel, guild.me, needed)
        if missing:
            raise UserError(f"I can't run a poll in {channel.mention}: I'm missing {', '.join(missing)}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        poll = await self.service.start(guild.id, mode=poll_mode, channel_id=channel.id,
                                        started_by=interaction.user.id, duration=duration)
        lines = [f"Poll #{poll.id} is up in {channel.mention} with {len(poll.candidates)} books; it closes "
                 f"{discord.utils.format_dt(poll.closes_at, 'F')} (in {format_duration(duration)})."]
        announcements = guild.get_channel(channels.announcements or channel.id)
        if isinstance(announcements, discord.TextChannel):
            missing = missing_permissions(announcements, guild.me, ANNOUNCE_PERMISSIONS)
            if missing:
                lines.append(f"Before then, let me post the result in {announcements.mention}: "
                             f"I'm missing {', '.join(missing)} there.")
        await reply(interaction, "\n".join(lines))

    # -- /poll close and /poll results ------------------------------------------------------------

    @poll.command(name="close", description="Close the running poll now and announce the winner (moderators)")
    @moderator_check()
    async def close(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        running = await self.service.running(guild.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        poll = await self.service.close_now(guild.id, running.id)
        where = f"<#{poll.announcement_channel_id}>" if poll.announcement_channel_id else "the announcements"
        winner = poll.winner
        summary = (f"the winner is {titled(winner.title, winner.author)}" if winner
                   else "it has no winner, so the nominations stay")
        await reply(interaction, f"Poll #{poll.id} is closed: {summary}. The result is in {where}.")

    @poll.command(name="results", description="The running poll's tallies so far, or the last poll's result")
    async def results(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        results = await self.service.results(guild.id)
        poll = results.poll
        if poll.status == "closed":
            await reply(interaction, embed=result_embed(poll))
            return
        closes = f"It closes {when(poll.closes_at)}."
        if results.ballots is not None:
            await reply(interaction, f"Poll #{poll.id}: {plural(results.ballots, 'ballot')} cast so far. Counts stay "
                                     f"hidden until the close, so nobody votes tactically. {closes}")
            return
        # A Discord poll's counts come from Discord, which can take a moment.
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, embed=tally_embed(poll, await self.service.counts_so_far(poll), closes))

    # -- the ballot -------------------------------------------------------------------------------

    @staticmethod
    def _ballot_guild(interaction: discord.Interaction[Any], poll_id: int) -> int:
        if interaction.guild_id is None:
            raise UserError("Ballots only work in a server.")
        if not poll_id:
            raise UserError(STALE_COMPONENT)
        return interaction.guild_id

    async def _ballot_poll(self, interaction: discord.Interaction[Any], poll_id: int) -> Poll:
        return await self.service.ballot_poll(self._ballot_guild(interaction, poll_id), poll_id)

    async def open_ballot(self, interaction: discord.Interaction[Any], poll_id: int) -> None:
        poll = await self._ballot_poll(interaction, poll_id)
        current = await self.service.current_ballot(poll, interaction.user.id)
        content, view = ballot_message(poll, [], current)
        await interaction.response.send_message(content, view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    async def pick(self, interaction: discord.Interaction[Any], poll_id: int, ranked: str,
                   values: Sequence[str]) -> None:
        poll = await self._ballot_poll(interaction, poll_id)
        ranking = self.service.ranking(poll, ranking_of(ranked), values)
        current = None if ranking else await self.service.current_ballot(poll, interaction.user.id)
        content, view = ballot_message(poll, ranking, current)
        await interaction.response.edit_message(content=content, view=view, allowed_mentions=NO_PINGS)

    async def submit(self, interaction: discord.Interaction[Any], poll_id: int, ranked: str) -> None:
        ballot = await self.service.cast_ballot(self._ballot_guild(interaction, poll_id), poll_id, interaction.user.id,
                                                ranking_of(ranked))
        by_position = {candidate.position: candidate for candidate in ballot.poll.candidates}
        lines = ["Your new ballot replaces your earlier one:" if ballot.replaced else "Your ballot is in:"]
        lines += [f"{number}. {titled(by_position[position].title, by_position[position].author)}"
                  for number, position in enumerate(ballot.ranking, start=1)]
        lines.append(f"Nobody else can see it. Press **Vote** again to change it before the close, "
                     f"{discord.utils.format_dt(ballot.poll.closes_at, 'R')}.")
        await interaction.response.edit_message(content=truncate("\n".join(lines), 2000), view=None,
                                                allowed_mentions=NO_PINGS)
