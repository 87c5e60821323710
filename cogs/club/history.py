"""/club: the club's reading history, kept by moderators and read by everyone."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.club import report_lines
from bot.domain.answers import day_text, stars_text
from bot.domain.books import ClubRead, ReadStatus
from bot.domain.goodreads import MAX_BYTES
from bot.domain.slots import WEEKDAYS
from bot.domain.text import md, titled, truncate
from bot.errors import UserError
from cogs._shared.checks import NotModerator, is_moderator, moderator_check
from cogs._shared.choices import club_book_choices
from cogs._shared.replies import (
    COLOUR,
    NO_PINGS,
    ErrorReportingView,
    guild_of,
    missing_permissions,
    reply,
)

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

# An export of a big history is seconds of work on the bot's side; a member gets one a minute per server.
EXPORT_COOLDOWN_SECONDS = 60
# Discord takes at most ten files in one message.
FILES_PER_MESSAGE = 10
# How long /club remove's Confirm and Cancel buttons wait for the moderator; no answer changes nothing.
CONFIRM_SECONDS = 120.0


def describe_read(read: ClubRead) -> str:
    if read.status == "finished":
        return f"finished {day_text(read.finished_on)}" if read.finished_on else "finished"
    if read.status == "reading":
        return f"reading since {day_text(read.started_on)}" if read.started_on else "reading now"
    return "planned"


@runtime_checkable
class ReadingNowPoster(Protocol):
    """The meetings cog, which keeps the pinned Reading now message (an extension loaded on its own)."""

    async def post_reading_now(self, interaction: discord.Interaction[BookClubBot]) -> None: ...


class ChannelPoster:
    """Posts a finished read's call to rate in a channel of the guild, pinging nobody."""

    def __init__(self, guild: discord.Guild) -> None:
        self.guild = guild

    async def post(self, channel_id: int, text: str) -> str | None:
        channel = self.guild.get_channel_or_thread(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return f"<#{channel_id}> is gone"
        missing = missing_permissions(channel, self.guild.me, ("view_channel", "send_messages"))
        if missing:
            return f"I'm missing {', '.join(missing)} in {channel.mention}"
        try:
            await channel.send(text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            log.warning("guild %s: could not post a finished read's call to rate: %s", self.guild.id, error)
            return f"Discord refused the message in {channel.mention} ({error.text or error.status})"
        return None


class RemoveConfirmation(ErrorReportingView):
    """Confirm or Cancel for /club remove: only the moderator who asked can answer; silence changes nothing."""

    def __init__(self, cog: ClubCog, interaction: discord.Interaction[BookClubBot], read: ClubRead) -> None:
        super().__init__(timeout=cog.confirm_seconds)
        self.cog = cog
        self.asked = interaction
        self.read = read

    async def interaction_check(self, interaction: discord.Interaction[BookClubBot], /) -> bool:
        if interaction.user.id != self.asked.user.id:
            await reply(interaction, "Only the moderator who asked can answer this.")
            return False
        return True

    @discord.ui.button(label="Remove", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[BookClubBot], _: discord.ui.Button[Any]) -> None:
        self.stop()
        guild = guild_of(interaction)
        book = await self.cog.service.remove(guild.id, self.read.book.id)
        await interaction.response.edit_message(
            content=f"Removed {titled(book.title, book.author)} from the club history. Its ratings and reviews "
                    "stay; adding it again brings them back.", view=None, allowed_mentions=NO_PINGS)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[BookClubBot], _: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Cancelled; nothing was removed.", view=None,
                                                allowed_mentions=NO_PINGS)

    async def on_timeout(self) -> None:
        try:
            await self.asked.edit_original_response(content="No answer, so nothing was removed.", view=None,
                                                    allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            log.info("could not close an unanswered /club remove in guild %s: %s", self.asked.guild_id, error)


class ClubCog(commands.Cog):
    """The club's history (/club): moderators keep it, everyone reads it."""

    club = app_commands.Group(name="club", description="The club's reading history", guild_only=True)

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.service = bot.services.club
        self.confirm_seconds = CONFIRM_SECONDS

    # -- /club add --------------------------------------------------------------------------------

    @club.command(name="add", description="Add a read to the club history (moderators)")
    @app_commands.describe(
        title="The book's title",
        author="The book's author",
        started="Day the club started it, YYYY-MM-DD (leave both dates empty for a planned read)",
        finished="Day the club finished it, YYYY-MM-DD",
    )
    @moderator_check()
    async def add(
        self,
        interaction: discord.Interaction[BookClubBot],
        title: app_commands.Range[str, 1, 256],
        author: app_commands.Range[str, 1, 200],
        started: str | None = None,
        finished: str | None = None,
    ) -> None:
        guild = guild_of(interaction)
        new = await self.service.new_read(guild.id, title, author, started, finished)
        await interaction.response.defer(ephemeral=True, thinking=True)
        read, created = await self.service.add(guild.id, new)
        verb = "Added" if created else "Updated"
        await reply(interaction, f"{verb} {titled(read.book.title, read.book.author)} in the club history: "
                                 f"{describe_read(read)}.")

    # -- /club start, finish, remove and edit ------------------------------------------------------

    @club.command(name="start", description="The club begins reading a book, today or on a given day (moderators)")
    @app_commands.describe(book="A club book (start typing its title)",
                           date="Day the club began, YYYY-MM-DD (default: today in the club's time zone)")
    @moderator_check()
    async def start(self, interaction: discord.Interaction[BookClubBot], book: app_commands.Range[str, 1, 300],
                    date: app_commands.Range[str, 1, 20] | None = None) -> None:
        guild = guild_of(interaction)
        read = await self.service.start(guild.id, book, date)
        await reply(interaction, f"{titled(read.book.title, read.book.author)} is a current read: "
                                 f"{describe_read(read)}. `/club finish` ends it.")

    @club.command(name="finish", description="The club finishes a read; members are asked to rate it (moderators)")
    @app_commands.describe(book="A current club read (start typing its title)",
                           date="Day the club finished, YYYY-MM-DD (default: today; not in the future)")
    @moderator_check()
    async def finish(self, interaction: discord.Interaction[BookClubBot], book: app_commands.Range[str, 1, 300],
                     date: app_commands.Range[str, 1, 20] | None = None) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        finished = await self.service.finish(guild.id, book, date, interaction.channel_id or 0, ChannelPoster(guild))
        text = f"{titled(finished.read.book.title, finished.read.book.author)} is {describe_read(finished.read)}."
        if finished.problem is None:
            text += f" I asked members to rate it in <#{finished.channel_id}>."
        else:
            text += f" I couldn't ask members to rate it: {finished.problem}."
        if finished.discussion_open:
            text += " Its discussion is still open; `/discuss end` archives and locks its threads."
        await reply(interaction, text)

    @club.command(name="remove", description="Take a read out of the club history, after you confirm (moderators)")
    @app_commands.describe(book="A club read (start typing its title)")
    @moderator_check()
    async def remove(self, interaction: discord.Interaction[BookClubBot],
                     book: app_commands.Range[str, 1, 300]) -> None:
        guild = guild_of(interaction)
        read = await self.service.removable(guild.id, book)
        view = RemoveConfirmation(self, interaction, read)
        await reply(interaction, f"Remove {titled(read.book.title, read.book.author)} ({describe_read(read)}) from "
                                 "the club history? Its ratings and reviews stay.", view=view)

    @club.command(name="edit", description="Correct a typo in a club book's title or author (moderators)")
    @app_commands.describe(book="A club book (start typing its title)", title="The corrected title",
                           author="The corrected author")
    @moderator_check()
    async def edit(self, interaction: discord.Interaction[BookClubBot], book: app_commands.Range[str, 1, 300],
                   title: app_commands.Range[str, 1, 256] | None = None,
                   author: app_commands.Range[str, 1, 200] | None = None) -> None:
        guild = guild_of(interaction)
        before, after = await self.service.edit(guild.id, book, title, author)
        await reply(interaction, f"Renamed {titled(before.title, before.author)} to "
                                 f"{titled(after.title, after.author)}; `/ask` and the book lists find it by its "
                                 "new name.")

    @start.autocomplete("book")
    async def startable_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                     current: str) -> list[app_commands.Choice[str]]:
        return await self.book_choices(interaction, current, ("planned", "reading", None))

    @finish.autocomplete("book")
    async def finishable_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                      current: str) -> list[app_commands.Choice[str]]:
        return await self.book_choices(interaction, current, ("planned", "reading"))

    @remove.autocomplete("book")
    async def removable_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                     current: str) -> list[app_commands.Choice[str]]:
        return await self.book_choices(interaction, current, ("planned", "reading", "finished"))

    @edit.autocomplete("book")
    async def any_book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                    current: str) -> list[app_commands.Choice[str]]:
        return await self.book_choices(interaction, current, None)

    async def book_choices(self, interaction: discord.Interaction[BookClubBot], current: str,
                           statuses: tuple[ReadStatus | None, ...] | None) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        books = await self.service.choices(interaction.guild_id, current, statuses)
        return club_book_choices(books)

    # -- /club history ----------------------------------------------------------------------------

    @club.command(name="history", description="The club's reads, newest first")
    @app_commands.describe(author="Only this author's books (any spelling)")
    async def history(self, interaction: discord.Interaction[BookClubBot],
                      author: app_commands.Range[str, 1, 200] | None = None) -> None:
        guild = guild_of(interaction)
        # Matching an author may first build the guild's name index, which takes a moment in a big history.
        await interaction.response.defer(ephemeral=True, thinking=True)
        listing = await self.service.history(guild.id, author)
        reads, total, scores = listing.reads, listing.total, listing.scores
        lines = []
        for read in reads:
            score = scores.get(read.book.id)
            rated = f" · {stars_text(score.average, score.votes)}" if score else ""
            lines.append(f"{titled(read.book.title, read.book.author)}: {describe_read(read)}{rated}")
        embed = discord.Embed(title=truncate(listing.heading, 256), colour=COLOUR,
                              description=truncate("\n".join(lines), 4096))
        more = f"{total - len(reads)} more not shown · " if total > len(reads) else ""
        embed.set_footer(text=f"{total} read{'s' if total != 1 else ''} · {more}/club export has them all")
        await reply(interaction, embed=embed)

    @history.autocomplete("author")
    async def author_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                  current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        authors = await self.service.authors(interaction.guild_id, current)
        return [app_commands.Choice(name=name, value=name) for name in authors]

    # -- /club current ----------------------------------------------------------------------------

    @club.command(name="current", description="What the club is reading now, its threads and the next slot")
    @app_commands.describe(post="Post it in the announcements channel, pinned and kept up to date (moderators)")
    async def current(self, interaction: discord.Interaction[BookClubBot], post: bool = False) -> None:
        guild = guild_of(interaction)
        if post:
            await self.post_reading_now(interaction)
            return
        now = await self.service.current(guild.id)
        reading, planned, scores = now.reading, now.planned, now.scores
        embed = discord.Embed(title="Reading now", colour=COLOUR)
        if not reading:
            embed.description = "The club isn't reading anything right now."
        for read in reading:
            score = scores.get(read.book.id)
            value = describe_read(read).capitalize()
            if score:
                value += f" · {stars_text(score.average, score.votes)}"
            discussion = now.discussions.get(read.book.id)
            if discussion is not None and discussion.ended:
                value += f"\nDiscussion ended; its threads stay readable: <#{discussion.thread_id}>"
            elif discussion is not None:
                value += f"\nDiscussion: <#{discussion.thread_id}>"
                if any(section.target_date for section in discussion.sections):
                    value += "\nReading schedule:\n" + "\n".join(
                        f"{md(section.name)} <#{section.thread_id}>"
                        + (f" · by {day_text(section.target_date)}" if section.target_date else "")
                        for section in discussion.sections)
                elif discussion.sections:
                    value += "\nSections: " + " · ".join(
                        f"{md(section.name)} <#{section.thread_id}>" for section in discussion.sections)
            embed.add_field(name=truncate(read.book.label, 256), value=truncate(value, 1024),
                            inline=False)
        if planned:
            embed.add_field(name="Next up", value=truncate("\n".join(
                titled(read.book.title, read.book.author) for read in planned), 1024), inline=False)
        if now.next_slot is not None and now.slot_weekday is not None:
            embed.add_field(name="Next review slot",
                            value=f"{discord.utils.format_dt(now.next_slot, 'F')} ({WEEKDAYS[now.slot_weekday]}s)",
                            inline=False)
        await reply(interaction, embed=embed)

    async def post_reading_now(self, interaction: discord.Interaction[BookClubBot]) -> None:
        if not await is_moderator(interaction):
            raise NotModerator
        meetings = self.bot.get_cog("Meetings")
        if not isinstance(meetings, ReadingNowPoster):
            raise UserError("The Reading now message is not available right now; try again in a minute.")
        await meetings.post_reading_now(interaction)

    # -- /club import and export ------------------------------------------------------------------

    @club.command(name="import", description="Add the books of a Goodreads export's read shelf (moderators)")
    @app_commands.describe(file="goodreads_library_export.csv from Goodreads → My Books → Import and export")
    @moderator_check()
    async def import_(self, interaction: discord.Interaction[BookClubBot], file: discord.Attachment) -> None:
        guild = guild_of(interaction)
        if file.size > MAX_BYTES:
            raise UserError(f"That file is {file.size / 1024 / 1024:.1f} MB; the limit is "
                            f"{MAX_BYTES // 1024 // 1024} MB. Nothing was imported.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException:
            raise UserError("Discord would not hand me the file; please upload it again.") from None
        imported = await self.service.import_goodreads(guild.id, data, interaction.user.id,
                                                       interaction.user.display_name)
        taken, skipped = imported.added, imported.skipped
        lines = [f"Imported {taken} book{'s' if taken != 1 else ''} from the shelf `read`; skipped {len(skipped)}."]
        if taken:
            lines.append("Their ratings and reviews count as yours, since the export is your shelf; `/ask` and "
                         "`/review list` may quote the reviews, with the parts marked as spoilers kept hidden.")
        lines += report_lines("Skipped:", skipped)
        lines += report_lines("Imported with a problem:", imported.warnings)
        await reply(interaction, truncate("\n".join(lines), 2000))

    @club.command(name="export", description="The club's finished reads as a Goodreads-style CSV")
    @app_commands.checks.cooldown(1, EXPORT_COOLDOWN_SECONDS, key=lambda interaction: (interaction.guild_id,
                                                                                       interaction.user.id))
    async def export(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        total, files = await self.service.export(guild.id)
        count = f"{total} finished read{'s' if total != 1 else ''}"
        split = f", in {len(files)} files that `/club import` takes one at a time" if len(files) > 1 else ""
        names = [f"club_history_{number}.csv" for number in range(1, len(files) + 1)] if len(files) > 1 else [
            "club_history.csv"]
        attachments = [discord.File(io.BytesIO(data), filename=name) for data, name in zip(files, names, strict=True)]
        await reply(
            interaction,
            f"{count}{split}, in the columns of a Goodreads library export. “My Rating” is the club's average, "
            "rounded.",
            files=attachments[:FILES_PER_MESSAGE],
        )
        for start in range(FILES_PER_MESSAGE, len(attachments), FILES_PER_MESSAGE):
            await reply(interaction, files=attachments[start:start + FILES_PER_MESSAGE])
