"""/club, /rate and /ask: the club's reading history, members' ratings, and answers about them (also on a mention)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.answers import EXAMPLES, day_text, stars_text, titled
from bot.domain.goodreads import MAX_BYTES, GoodreadsFormatError, SkippedRow, export_files, parse_export
from bot.domain.ids import parse_id
from bot.domain.names import author_key
from bot.domain.slots import WEEKDAYS, next_slot, parse_hhmm
from bot.domain.spoilers import escape_markdown
from bot.domain.text import clean_line, clip, truncate
from bot.errors import UserError
from bot.services.asker import HistoryIndex, Question
from bot.store.history import ClubRead, ReadStatus
from cogs._shared.checks import ASK_LIMIT, NotModerator, cooldown_left, is_moderator, moderator_check, posts_for_member
from cogs._shared.replies import COLOUR, NO_PINGS, PERMISSION_NAMES, ErrorReportingView, guild_of, reply

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

MAX_QUESTION = 300
# An offline answer is ready in milliseconds and goes out with the acknowledgement, a round trip through Discord
# sooner; a slower one (a model, the first question after the books changed) defers first, well inside the 3 s.
QUICK_ANSWER_SECONDS = 0.5
HISTORY_LINES = 25
REPORT_LINES = 12
# An export of a big history is seconds of work on the bot's side; a member gets one a minute per server.
EXPORT_COOLDOWN_SECONDS = 60
# Discord takes at most ten files in one message.
FILES_PER_MESSAGE = 10
BOOK_CHOICE = re.compile(r"^book:(\d+)$")
SLOW_DOWN = "\N{HOURGLASS WITH FLOWING SAND}"
# How long /club remove's Confirm and Cancel buttons wait for the moderator; no answer changes nothing.
CONFIRM_SECONDS = 120.0


def md(text: str) -> str:
    return escape_markdown(clean_line(text))


def parse_day(text: str | None, option: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"`{option}` must be a date like 2025-03-14 (year-month-day).") from None


def read_status(started_on: date | None, finished_on: date | None) -> ReadStatus:
    if finished_on is not None:
        return "finished"
    return "reading" if started_on is not None else "planned"


def describe_read(read: ClubRead) -> str:
    if read.status == "finished":
        return f"finished {day_text(read.finished_on)}" if read.finished_on else "finished"
    if read.status == "reading":
        return f"reading since {day_text(read.started_on)}" if read.started_on else "reading now"
    return "planned"


def report_lines(title: str, rows: list[SkippedRow]) -> list[str]:
    if not rows:
        return []
    lines = [title]
    lines += [f"• line {row.line}: {md(truncate(row.title, 80))}: {md(row.reason)}" for row in rows[:REPORT_LINES]]
    if len(rows) > REPORT_LINES:
        lines.append(f"…and {len(rows) - REPORT_LINES} more.")
    return lines


@runtime_checkable
class ReadingNowPoster(Protocol):
    """The meetings cog, which keeps the pinned Reading now message (an extension loaded on its own)."""

    async def post_reading_now(self, interaction: discord.Interaction[BookClubBot]) -> None: ...


def mention_free(content: str, bot_id: int) -> str:
    """The question of a message that mentions the bot, without the mention."""
    return " ".join(re.sub(rf"<@!?{bot_id}>", " ", content).split())


class ChannelPoster:
    """Posts a finished read's call to rate in a channel of the guild, pinging nobody."""

    def __init__(self, guild: discord.Guild) -> None:
        self.guild = guild

    async def post(self, channel_id: int, text: str) -> str | None:
        channel = self.guild.get_channel_or_thread(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return f"<#{channel_id}> is gone"
        missing = [PERMISSION_NAMES[name] for name in ("view_channel", "send_messages")
                   if not getattr(channel.permissions_for(self.guild.me), name)]
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
    """The club's history (/club), members' ratings (/rate), and answers from that history (/ask and mentions)."""

    club = app_commands.Group(name="club", description="The club's reading history", guild_only=True)

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.index = HistoryIndex(bot.store.history)
        self.service = bot.services.club
        self.confirm_seconds = CONFIRM_SECONDS

    def today(self, timezone: str) -> date:
        return self.bot.clock.now().astimezone(ZoneInfo(timezone)).date()

    async def guild_today(self, guild_id: int) -> date:
        return self.today((await self.bot.store.config.get(guild_id)).timezone)

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
        started_on, finished_on = parse_day(started, "started"), parse_day(finished, "finished")
        today = await self.guild_today(guild.id)
        if started_on and finished_on and finished_on < started_on:
            raise UserError("`finished` is before `started`.")
        if finished_on and finished_on > today:
            raise UserError("`finished` is in the future; add it as the current read with `started` only.")
        title, author = clean_line(title), clean_line(author)
        if not title or not author:
            raise UserError("A read needs a title and an author.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        work = await self.bot.catalogue.find_title(title, author) if self.bot.catalogue else None
        book, _ = await self.bot.store.books.find_or_create(
            guild.id, title, author, year=work.year if work else None, work_key=work.work_key if work else None,
            isbn13=work.isbn13 if work else None, cover_url=work.cover_url if work else None,
        )
        status = read_status(started_on, finished_on)
        read, created = await self.bot.store.history.add_read(
            guild.id, book.id, status=status, started_on=started_on, finished_on=finished_on, now=self.bot.clock.now()
        )
        await self.bot.services.reading_now.changed(guild.id)
        verb = "Added" if created else "Updated"
        await reply(interaction, f"{verb} {titled(book.title, book.author)} in the club history: "
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
        return [app_commands.Choice(name=truncate(found.label, 100), value=f"book:{found.id}") for found in books]

    # -- /club history ----------------------------------------------------------------------------

    @club.command(name="history", description="The club's reads, newest first")
    @app_commands.describe(author="Only this author's books (any spelling)")
    async def history(self, interaction: discord.Interaction[BookClubBot],
                      author: app_commands.Range[str, 1, 200] | None = None) -> None:
        guild = guild_of(interaction)
        # Matching an author may first build the guild's name index, which takes a moment in a big history.
        await interaction.response.defer(ephemeral=True, thinking=True)
        book_ids: list[int] | None = None
        heading = "Club history"
        if author:
            snapshot = await self.index.get(guild.id)
            found = snapshot.authors.match(author)
            if not found.best:
                hint = f" Did you mean {' or '.join(md(name) for name in found.did_you_mean)}?" if (
                    found.did_you_mean) else ""
                raise UserError(f"The club's records have no author like “{md(clip(author, 80))}”.{hint}")
            book_ids = found.best
            heading = f"Club history: {', '.join(found.names[:3])}"
        history = self.bot.store.history
        reads = await history.reads(guild.id, book_ids=book_ids, limit=HISTORY_LINES)
        if not reads:
            message = "None of their books is a club read yet." if author else (
                "The club history is empty: moderators add reads with `/club add` or `/club import`.")
            raise UserError(message)
        total = await history.count_reads(guild.id, book_ids=book_ids)
        scores = await history.scores(guild.id, [read.book.id for read in reads])
        lines = []
        for read in reads:
            score = scores.get(read.book.id)
            rated = f" · {stars_text(score.average, score.votes)}" if score else ""
            lines.append(f"{titled(read.book.title, read.book.author)}: {describe_read(read)}{rated}")
        embed = discord.Embed(title=truncate(heading, 256), colour=COLOUR,
                              description=truncate("\n".join(lines), 4096))
        more = f"{total - len(reads)} more not shown · " if total > len(reads) else ""
        embed.set_footer(text=f"{total} read{'s' if total != 1 else ''} · {more}/club export has them all")
        await reply(interaction, embed=embed)

    @history.autocomplete("author")
    async def author_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                  current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        authors: dict[str, str] = {}
        for book in await self.bot.store.books.suggest(interaction.guild_id, current, limit=100):
            if book.author and len(book.author) <= 100:
                authors.setdefault(author_key(book.author), book.author)
        return [app_commands.Choice(name=name, value=name) for name in list(authors.values())[:25]]

    # -- /club current ----------------------------------------------------------------------------

    @club.command(name="current", description="What the club is reading now, its threads and the next slot")
    @app_commands.describe(post="Post it in the announcements channel, pinned and kept up to date (moderators)")
    async def current(self, interaction: discord.Interaction[BookClubBot], post: bool = False) -> None:
        guild = guild_of(interaction)
        if post:
            await self.post_reading_now(interaction)
            return
        history = self.bot.store.history
        reading = await history.reads(guild.id, status="reading", limit=5)
        planned = await history.reads(guild.id, status="planned", limit=3)
        embed = discord.Embed(title="Reading now", colour=COLOUR)
        if not reading:
            embed.description = "The club isn't reading anything right now."
        scores = await history.scores(guild.id, [read.book.id for read in reading])
        for read in reading:
            score = scores.get(read.book.id)
            value = describe_read(read).capitalize()
            if score:
                value += f" · {stars_text(score.average, score.votes)}"
            discussion = await self.bot.store.discussions.for_book(guild.id, read.book.id)
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
        config = await self.bot.store.config.get(guild.id)
        if config.has_schedule and config.schedule_weekday is not None and config.schedule_time:
            upcoming = next_slot(self.bot.clock.now(), config.schedule_weekday, parse_hhmm(config.schedule_time),
                                 config.timezone)
            embed.add_field(name="Next review slot",
                            value=f"{discord.utils.format_dt(upcoming, 'F')} ({WEEKDAYS[config.schedule_weekday]}s)",
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
        today = await self.guild_today(guild.id)
        try:
            data = await file.read()
            # A 5 MB file takes about a second to read: in a thread, so that every other server is answered meanwhile.
            parsed = await asyncio.to_thread(parse_export, data, today=today)
        except GoodreadsFormatError as error:
            raise UserError(f"Nothing was imported. {error}") from None
        except discord.HTTPException:
            raise UserError("Discord would not hand me the file; please upload it again.") from None
        if not parsed.rows:
            lines = ["Nothing was imported: the file has no books on the shelf `read`.",
                     *report_lines("Left out:", parsed.skipped)]
            raise UserError(truncate("\n".join(lines), 2000))
        member = interaction.user
        log.info("guild %s: importing %d books from a Goodreads export", guild.id, len(parsed.rows))
        report = await self.bot.store.history.import_goodreads(
            guild.id, parsed.rows, member_id=member.id, member_name=member.display_name, now=self.bot.clock.now()
        )
        taken = len(report.added)
        skipped = sorted(parsed.skipped + report.skipped, key=lambda row: row.line)
        log.info("guild %s: imported %d books, skipped %d", guild.id, taken, len(skipped))
        lines = [f"Imported {taken} book{'s' if taken != 1 else ''} from the shelf `read`; skipped {len(skipped)}."]
        if taken:
            lines.append("Their ratings and reviews count as yours, since the export is your shelf; `/ask` and "
                         "`/review list` may quote the reviews, with the parts marked as spoilers kept hidden.")
        lines += report_lines("Skipped:", skipped)
        lines += report_lines("Imported with a problem:", parsed.warnings)
        await reply(interaction, truncate("\n".join(lines), 2000))

    @club.command(name="export", description="The club's finished reads as a Goodreads-style CSV")
    @app_commands.checks.cooldown(1, EXPORT_COOLDOWN_SECONDS, key=lambda interaction: (interaction.guild_id,
                                                                                       interaction.user.id))
    async def export(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        books = await self.bot.store.history.export_books(guild.id)
        if not books:
            raise UserError("The club history has no finished reads to export yet.")
        files = await asyncio.to_thread(export_files, books)
        count = f"{len(books)} finished read{'s' if len(books) != 1 else ''}"
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

    # -- /rate ------------------------------------------------------------------------------------

    @app_commands.command(name="rate", description="Rate a book the club has read")
    @app_commands.describe(book="A club read (start typing its title)", stars="1 (did not like it) to 5 (loved it)")
    @app_commands.guild_only()
    async def rate(self, interaction: discord.Interaction[BookClubBot], book: app_commands.Range[str, 1, 300],
                   stars: app_commands.Range[int, 1, 5]) -> None:
        guild = guild_of(interaction)
        read = await self.resolve_read(interaction, guild.id, book)
        if read.status == "planned":
            raise UserError(f"The club hasn't started **{md(read.book.title)}** yet; rate it once you have read it.")
        member = interaction.user
        history = self.bot.store.history
        previous = await history.rate(guild.id, read.book.id, member.id, member.display_name, stars,
                                      now=self.bot.clock.now())
        score = (await history.scores(guild.id, [read.book.id])).get(read.book.id)
        was = f" (was {previous}★)" if previous is not None and previous != stars else ""
        club = f" Club: {stars_text(score.average, score.votes)}." if score else ""
        await reply(interaction, f"You rated **{md(read.book.title)}** {stars}★{was}.{club}")

    async def resolve_read(self, interaction: discord.Interaction[BookClubBot], guild_id: int, text: str) -> ClubRead:
        """The club read an autocomplete choice or typed title means."""
        history = self.bot.store.history
        picked = BOOK_CHOICE.match(text.strip())
        book_id = parse_id(picked.group(1)) if picked else None
        if book_id:
            read = await history.get_read(guild_id, book_id)
            if read is not None:
                return read
        if not interaction.response.is_done():
            # A typed title is matched on the guild's name index, which may take a moment to build.
            await interaction.response.defer(ephemeral=True, thinking=True)
        snapshot = await self.index.get(guild_id)
        found = snapshot.titles.match(text)
        reads = await history.reads(guild_id, book_ids=found.best) if found.best else []
        if reads:
            return reads[0]
        if found.best:
            raise UserError(f"**{md(found.names[0])}** isn't a club read; moderators add reads with `/club add`.")
        hint = f" Did you mean {' or '.join(f'**{md(name)}**' for name in found.did_you_mean)}?" if (
            found.did_you_mean) else ""
        raise UserError(f"No club read is called “{md(clip(text, 100))}”.{hint}")

    @rate.autocomplete("book")
    async def book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        statuses = await self.bot.store.history.read_statuses(interaction.guild_id)
        choices = []
        for book in await self.bot.store.books.suggest(interaction.guild_id, current, limit=200):
            if statuses.get(book.id) in ("reading", "finished"):
                choices.append(app_commands.Choice(name=truncate(book.label, 100), value=f"book:{book.id}"))
        return choices[:25]

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
        question = Question(guild_id=guild_id, member_id=member.id, member_name=member.display_name, text=text,
                            today=await self.guild_today(guild_id))
        return (await self.bot.asker.answer(question)).text

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


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(ClubCog(bot))
