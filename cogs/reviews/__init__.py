"""/review: members write reviews in a modal; the queue is announced at the weekly slot; blog posts join it."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.reviews import review_label
from bot.domain.feeds import guess_book
from bot.domain.ids import parse_id
from bot.domain.reviews import next_announcement, parse_rating
from bot.domain.spoilers import escape_markdown
from bot.domain.text import clean_line, clip, truncate
from bot.errors import NotConfigured, UserError
from bot.scheduler import Scheduler
from bot.services.feeds import FeedReader
from bot.store.books import Book
from bot.store.config import Feed, GuildConfig
from bot.store.jobs import Job
from bot.store.reviews import Review
from cogs._shared.checks import REVIEW_LIMIT, is_moderator, member_cooldown, moderator_check
from cogs._shared.replies import COLOUR, NO_PINGS, guild_of, reply, user_message
from cogs.reviews.announcer import Announcer, ChannelUnavailable, review_messages
from cogs.reviews.blogs import FeedPoller
from cogs.reviews.books import club_book
from cogs.reviews.views import Draft, FixDraftView, ListQuery, PageButton, ReviewModal, list_page

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

REVIEW_SLOT = "review_slot"
FEED_POLL = "feed_poll"
WEEKLY = "weekly"
# A one-off announcement: `review:<id>` right after a review is written with no schedule set,
# `feed:<feed id>:<review id>` after a feed brought posts in, `review:left-queued` at start-up for what a
# crash left unscheduled, `now:<interaction id>` for /review announce-now.
AT_ONCE_PREFIXES = ("review:", "feed:")
LEFT_QUEUED = "review:left-queued"
BOOK_CHOICE = re.compile(r"^book:(\d+)$")
QUEUE_LINES = 20


def blocked_key(guild_id: int) -> str:
    """Where the last problem told to the guild's moderators about stuck reviews is kept, so it is told once."""
    return f"reviews-blocked:{guild_id}"


def md(text: str) -> str:
    return escape_markdown(clean_line(text))


class ReviewPosts:
    """Takes a review's post down from the channel it was posted in."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot

    async def delete_messages(self, channel_id: int, message_ids: Sequence[int]) -> None:
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return  # the channel went, and its messages with it
        for message_id in message_ids:
            try:
                await channel.get_partial_message(message_id).delete()
            except discord.NotFound:
                continue
            except discord.Forbidden:
                raise UserError(f"Discord won't let me delete the post in {channel.mention}; nothing was deleted. "
                                "I need View Channel there.") from None


@app_commands.guild_only()
class ReviewsCog(commands.GroupCog, group_name="review", group_description="Write, list and announce book reviews"):
    """Reviews: the modal, the queue and its weekly announcement, the blog feeds, and the published list."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.announcer = Announcer(bot)
        self.reviews = bot.services.reviews
        self.poller = FeedPoller(bot, FeedReader(allow_private=bot.settings.feed_allow_private_addresses))
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.scheduler.register(REVIEW_SLOT, self.run_review_slot)
        self.bot.scheduler.register(FEED_POLL, self.run_feed_poll)
        self.bot.add_dynamic_items(PageButton)
        await self.arm_jobs()

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(PageButton)
        await self.poller.reader.close()

    # -- scheduling -------------------------------------------------------------------------------

    async def arm_jobs(self) -> None:
        """At start-up, every job the guilds' settings call for exists; one that finished or gave up is armed again.

        Besides each schedule's weekly job and each feed's poll, a guild without a schedule whose queue is
        not empty gets an announcement now: the process may have died between storing a review (or adding
        a feed) and scheduling what follows.
        """
        now = self.bot.clock.now()
        jobs = self.bot.store.jobs
        for guild_id in await self.bot.store.config.guild_ids():
            for feed in await self.bot.store.feeds.list(guild_id):
                job = await jobs.get(guild_id, FEED_POLL, f"feed:{feed.id}")
                if job is None or job.status in ("done", "failed"):
                    await jobs.schedule(guild_id, FEED_POLL, f"feed:{feed.id}", now, {"feed_id": feed.id})
            config = await self.bot.store.config.get(guild_id)
            due = next_announcement(now, config.schedule_weekday, config.schedule_time, config.timezone)
            if due is None:
                if config.reviews_channel_id is not None and await self.bot.store.reviews.queued(guild_id):
                    await jobs.schedule(guild_id, REVIEW_SLOT, LEFT_QUEUED, now)
                continue
            job = await jobs.get(guild_id, REVIEW_SLOT, WEEKLY)
            if job is None or job.status in ("done", "failed"):
                await jobs.schedule(guild_id, REVIEW_SLOT, WEEKLY, due)

    async def post_soon(self, guild_id: int, key: str) -> None:
        await self.bot.store.jobs.schedule(guild_id, REVIEW_SLOT, key, self.bot.clock.now())
        self.bot.scheduler.wake()

    @commands.Cog.listener()
    async def on_schedule_changed(self, config: GuildConfig) -> None:
        due = next_announcement(self.bot.clock.now(), config.schedule_weekday, config.schedule_time, config.timezone)
        if due is None:
            await self.bot.store.jobs.cancel(config.guild_id, REVIEW_SLOT, WEEKLY)
            return
        await self.bot.store.jobs.schedule(config.guild_id, REVIEW_SLOT, WEEKLY, due)
        self.bot.scheduler.wake()

    @commands.Cog.listener()
    async def on_feed_added(self, feed: Feed) -> None:
        await self.bot.store.jobs.schedule(feed.guild_id, FEED_POLL, f"feed:{feed.id}", self.bot.clock.now(),
                                           {"feed_id": feed.id})
        self.bot.scheduler.wake()

    async def run_review_slot(self, job: Job) -> datetime | None:
        """Announces the guild's queue: weekly at the slot, or once right away."""
        await self.bot.wait_until_ready()
        config = await self.bot.store.config.get(job.guild_id)
        weekly = job.key == WEEKLY
        if job.key.startswith(AT_ONCE_PREFIXES) and config.has_schedule:
            return None  # a schedule was set since: the review waits for the slot
        if weekly and not config.has_schedule:
            return None
        try:
            announced = await self.announcer.announce_queue(job.guild_id)
        except (NotConfigured, ChannelUnavailable) as error:
            # Retrying cannot help until a moderator acts; the queue keeps the reviews for the next slot or
            # /review announce-now.
            log.warning("guild %d: reviews stay queued: %s", job.guild_id, error)
            await self.tell_moderators_once(config, str(error))
        except discord.HTTPException as error:
            if not weekly or job.attempts < Scheduler.MAX_ATTEMPTS:
                raise
            # Given up for this slot only: a weekly job that failed for good would never come round again.
            log.warning("guild %d: Discord kept failing; reviews stay queued for the next slot: %s", job.guild_id,
                        error)
        else:
            if announced:
                log.info("guild %d: announced %d review(s) (%s)", job.guild_id, announced, job.key)
            await self.bot.store.state.set(blocked_key(job.guild_id), "")
        if not weekly:
            return None
        after = max(self.bot.clock.now(), job.due_at)
        return next_announcement(after, config.schedule_weekday, config.schedule_time, config.timezone)

    async def tell_moderators_once(self, config: GuildConfig, problem: str) -> None:
        """Says in the announcements channel why queued reviews are not going out, once per problem."""
        key = blocked_key(config.guild_id)
        if await self.bot.store.state.get(key) == problem:
            return
        channel_id = config.announcements_channel_id
        channel = self.bot.get_channel(channel_id) if channel_id else None
        if channel_id == config.reviews_channel_id or not isinstance(channel, discord.TextChannel):
            log.warning("guild %d: no other channel to tell the moderators that reviews are stuck", config.guild_id)
            return
        text = (f"Queued reviews could not be posted ({discord.utils.escape_mentions(problem)[:300]}). They stay in "
                "the queue: once I can post in the reviews channel they go out at the next slot, or moderators can "
                "use `/review announce-now`.")
        try:
            await channel.send(text, allowed_mentions=NO_PINGS, suppress_embeds=True)
        except discord.HTTPException as error:
            log.warning("guild %d: could not tell the moderators that reviews are stuck: %s", config.guild_id, error)
            return
        await self.bot.store.state.set(key, problem)

    async def run_feed_poll(self, job: Job) -> datetime | None:
        """Polls one feed and says when to poll it again; a removed feed ends its job."""
        feed = await self.bot.store.feeds.get(job.guild_id, int(job.payload.get("feed_id", 0)))
        if feed is None:
            return None
        queued, next_poll = await self.poller.poll(feed)
        if queued:
            config = await self.bot.store.config.get(job.guild_id)
            log.info("feed %s of guild %d: queued %d post(s)", feed.url, feed.guild_id, len(queued))
            if not config.has_schedule:
                await self.post_soon(job.guild_id, f"feed:{feed.id}:{queued[-1].id}")
        return next_poll

    # -- /review write ----------------------------------------------------------------------------

    @app_commands.command(name="write", description="Write a review; it is posted at the club's weekly slot")
    @app_commands.describe(book="The book (start typing to pick a club book, or type any title)")
    @member_cooldown(REVIEW_LIMIT)
    async def write(self, interaction: discord.Interaction[BookClubBot],
                    book: app_commands.Range[str, 1, 300] | None = None) -> None:
        guild = guild_of(interaction)
        draft = Draft()
        if book:
            known = await self.resolve_book(guild.id, book)
            if known is not None:
                draft = Draft(title=known.title, author=known.author)
            elif not BOOK_CHOICE.match(book.strip()):
                guess = guess_book(book)
                draft = Draft(title=guess.title, author=guess.author or "") if guess else Draft(title=book.strip())
        await interaction.response.send_modal(ReviewModal(draft, self.submit))

    async def resolve_book(self, guild_id: int, text: str) -> Book | None:
        picked = BOOK_CHOICE.match(text.strip())
        if picked:
            book_id = parse_id(picked.group(1))
            return await self.bot.store.books.get(guild_id, book_id) if book_id else None
        return await self.bot.store.books.find(guild_id, text)

    async def book_choices(self, interaction: discord.Interaction[BookClubBot],
                           current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        books = await self.bot.store.books.suggest(interaction.guild_id, current)
        return [app_commands.Choice(name=truncate(book.label, 100), value=f"book:{book.id}") for book in books]

    @write.autocomplete("book")
    async def write_book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                      current: str) -> list[app_commands.Choice[str]]:
        return await self.book_choices(interaction, current)

    async def submit(self, interaction: discord.Interaction[Any], draft: Draft) -> None:
        """A submitted modal: refused with a way to fix it, or stored, queued and previewed."""
        guild = guild_of(interaction)
        title, author = clean_line(draft.title), clean_line(draft.author)
        problem = None
        try:
            rating = parse_rating(draft.rating)
        except ValueError as error:
            problem, rating = str(error), 0
        if not title or not draft.body.strip():
            problem = "A review needs the book's title and some text."
        if problem:
            await interaction.response.send_message(
                f"{problem}\nNothing was saved. Press the button to fix it; your text is still there.",
                view=FixDraftView(draft, self.submit, interaction.user.id), ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            book = await club_book(self.bot, guild.id, title, author)
            review = await self.bot.store.reviews.queue_review(
                guild.id, book.id, member_id=interaction.user.id, reviewer_name=interaction.user.display_name,
                rating=rating, body=draft.body.strip(), spoilers=draft.spoilers.strip() or None,
                now=self.bot.clock.now(),
            )
        except sqlite3.OperationalError as error:
            # A busy database or a full disk must not cost the member a long review typed into the modal.
            message = user_message(error)
            if message is None:
                raise
            await interaction.followup.send(
                f"{message}\nYour text is still there: press the button to send it again.",
                view=FixDraftView(draft, self.submit, interaction.user.id), ephemeral=True, allowed_mentions=NO_PINGS,
            )
            return
        config = await self.bot.store.config.get(guild.id)
        if not config.has_schedule:
            await self.post_soon(guild.id, f"review:{review.id}")
        messages = review_messages(review)
        note = f"Saved. {self.when_posted(config)} This is how it will look:"
        await interaction.followup.send(note, embeds=messages[0], ephemeral=True, allowed_mentions=NO_PINGS)
        for embeds in messages[1:]:
            await interaction.followup.send(embeds=embeds, ephemeral=True, allowed_mentions=NO_PINGS)

    def when_posted(self, config: GuildConfig) -> str:
        if config.reviews_channel_id is None:
            return "It is queued until a moderator chooses a reviews channel with `/config channels`."
        where = f"<#{config.reviews_channel_id}>"
        due = next_announcement(self.bot.clock.now(), config.schedule_weekday, config.schedule_time,
                                config.timezone)
        if due is None:
            return f"It will be posted in {where} in a moment."
        return (f"It will be posted in {where} at the next review slot, {discord.utils.format_dt(due, 'F')} "
                f"({discord.utils.format_dt(due, 'R')}).")

    # -- /review list -----------------------------------------------------------------------------

    @app_commands.command(name="list", description="Published reviews, newest first")
    @app_commands.describe(book="Only reviews of this book", member="Only this member's reviews")
    async def list_(self, interaction: discord.Interaction[BookClubBot],
                    book: app_commands.Range[str, 1, 300] | None = None, member: discord.Member | None = None) -> None:
        guild = guild_of(interaction)
        query = ListQuery(member_id=member.id if member else 0)
        if book:
            found = await self.resolve_book(guild.id, book)
            if found is None:
                raise UserError(f"The club has no book called “{md(clip(book, 100))}”; pick one from the list.")
            query = ListQuery(book_id=found.id, member_id=query.member_id)
        embed, view = await list_page(self.bot, guild.id, query)
        await reply(interaction, embed=embed, view=view)

    @list_.autocomplete("book")
    async def list_book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                     current: str) -> list[app_commands.Choice[str]]:
        return await self.book_choices(interaction, current)

    # -- /review delete ----------------------------------------------------------------------------

    @app_commands.command(name="delete", description="Delete your review, and its post if it was posted "
                                                     "(moderators: any review)")
    @app_commands.describe(review="One of your reviews (moderators: any review); start typing its book")
    async def delete(self, interaction: discord.Interaction[BookClubBot],
                     review: app_commands.Range[str, 1, 300]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        deleted = await self.reviews.delete(guild.id, review, interaction.user.id,
                                            moderator=await is_moderator(interaction), posts=ReviewPosts(self.bot))
        label = f"{deleted.book_title} by {deleted.book_author}" if deleted.book_author else deleted.book_title
        if deleted.status == "announced" and deleted.message_ids:
            done = f"its post in <#{deleted.channel_id}> is gone too"
        elif deleted.status == "announced":
            done = "it had no post of its own to take down"
        else:
            done = "it was taken out of the queue before being posted"
        await reply(interaction, f"Deleted review #{deleted.id} of **{md(label)}** by {md(deleted.reviewer_name)}; "
                                 f"{done}.")

    @delete.autocomplete("review")
    async def delete_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                  current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        reviews = await self.reviews.deletable(interaction.guild_id, interaction.user.id,
                                               moderator=await is_moderator(interaction), text=current)
        return [app_commands.Choice(name=truncate(review_label(review), 100), value=f"review:{review.id}")
                for review in reviews[:25]]

    # -- moderators: /review queue and /review announce-now ---------------------------------------

    @app_commands.command(name="queue", description="Reviews waiting for the next slot (moderators)")
    @moderator_check()
    async def queue(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        queued = await self.bot.store.reviews.queued(guild.id)
        config = await self.bot.store.config.get(guild.id)
        embed = discord.Embed(title="Review queue", colour=COLOUR)
        if not queued:
            embed.description = "Nothing is waiting."
        else:
            lines = [self.queue_line(number, review) for number, review in enumerate(queued[:QUEUE_LINES], start=1)]
            if len(queued) > QUEUE_LINES:
                lines.append(f"…and {len(queued) - QUEUE_LINES} more.")
            embed.description = truncate("\n".join(lines), 4096)
        embed.add_field(name="Posted", value=self.when_queue_posts(config), inline=False)
        await reply(interaction, embed=embed)

    @staticmethod
    def queue_line(number: int, review: Review) -> str:
        label = f"{review.book_title} by {review.book_author}" if review.book_author else review.book_title
        who = f"the blog {md(review.reviewer_name)}" if review.source == "feed" else md(review.reviewer_name)
        stars = f" · {review.rating}★" if review.rating else ""
        posting = " · being posted" if review.status == "announcing" else ""
        return (f"{number}. **{md(truncate(label, 120))}** from {who}{stars} · #{review.id} · "
                f"{discord.utils.format_dt(review.created_at, 'R')}{posting}")

    def when_queue_posts(self, config: GuildConfig) -> str:
        if config.reviews_channel_id is None:
            return "Not yet: choose a reviews channel with `/config channels`."
        due = next_announcement(self.bot.clock.now(), config.schedule_weekday, config.schedule_time,
                                config.timezone)
        where = f"<#{config.reviews_channel_id}>"
        if due is None:
            return f"In {where} as soon as they are written (no weekly slot set)."
        return f"In {where} at the next slot, {discord.utils.format_dt(due, 'F')}."

    @app_commands.command(name="announce-now", description="Post every queued review now (moderators)")
    @moderator_check()
    async def announce_now(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        config = await self.bot.store.config.get(guild.id)
        if config.reviews_channel_id is None:
            raise NotConfigured("Choose a reviews channel first with `/config channels`.")
        channel = guild.get_channel(config.reviews_channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise NotConfigured("The reviews channel is gone; choose another with `/config channels`.")
        granted = channel.permissions_for(guild.me)
        if not (granted.send_messages and granted.embed_links):
            raise UserError(f"I can't post embeds in {channel.mention}: I need Send Messages and Embed Links there.")
        queued = await self.bot.store.reviews.queued(guild.id)
        if not queued:
            raise UserError("The queue is empty: there is nothing to announce.")
        await self.post_soon(guild.id, f"now:{interaction.id}")
        count = len(queued)
        await reply(interaction, f"Announcing {count} queued review{'s' if count != 1 else ''} in {channel.mention} "
                                 "now.")


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(ReviewsCog(bot))
