"""/review: members write reviews in a modal; the queue is announced at the weekly slot; blog posts join it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.reviews import Posting, Review, review_label
from bot.domain.text import clip, md, truncate
from bot.errors import NotConfigured, UserError
from bot.jobs import AnnounceReviews, FeedPoll, ReviewSlot
from bot.services.feeds import FeedReader
from cogs._shared.checks import REVIEW_LIMIT, is_moderator, member_cooldown, moderator_check
from cogs._shared.choices import club_book_choices
from cogs._shared.replies import COLOUR, NO_PINGS, guild_of, reply, user_message
from cogs.reviews.ports import DiscordReviewPorts, review_messages
from cogs.reviews.views import Draft, FixDraftView, ListQuery, PageButton, ReviewModal, list_page

if TYPE_CHECKING:
    from bot.bot import BookClubBot

QUEUE_LINES = 20


@app_commands.guild_only()
class ReviewsCog(commands.GroupCog, group_name="review", group_description="Write, list and announce book reviews"):
    """Reviews: the modal, the queue and its weekly announcement, the blog feeds, and the published list."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.ports = DiscordReviewPorts(bot)
        self.reviews = bot.services.reviews
        self.announcer = bot.services.announcer(self.ports, self.ports)
        self.feeds = bot.services.feeds(FeedReader(allow_private=bot.settings.feed_allow_private_addresses),
                                        self.ports)
        super().__init__()

    async def cog_load(self) -> None:
        scheduler = self.bot.scheduler
        scheduler.register(ReviewSlot, self.announcer.run_slot)
        scheduler.register(AnnounceReviews, self.announcer.run_once)
        scheduler.register(FeedPoll, self.feeds.run)
        self.bot.add_dynamic_items(PageButton)
        await self.feeds.arm_all(self.bot.shard_range)
        await self.reviews.arm_all(self.bot.shard_range)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(PageButton)
        await self.feeds.reader.close()

    # -- /review write ----------------------------------------------------------------------------

    @app_commands.command(name="write", description="Write a review; it is posted at the club's weekly slot")
    @app_commands.describe(book="The book (start typing to pick a club book, or type any title)")
    @member_cooldown(REVIEW_LIMIT)
    async def write(self, interaction: discord.Interaction[BookClubBot],
                    book: app_commands.Range[str, 1, 300] | None = None) -> None:
        guild = guild_of(interaction)
        draft = Draft()
        if book:
            title, author = await self.reviews.started_draft(guild.id, book)
            draft = Draft(title=title, author=author)
        await interaction.response.send_modal(ReviewModal(draft, self.submit))

    async def book_choices(self, interaction: discord.Interaction[BookClubBot],
                           current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        books = await self.reviews.book_choices(interaction.guild_id, current)
        return club_book_choices(books)

    @write.autocomplete("book")
    async def write_book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                      current: str) -> list[app_commands.Choice[str]]:
        return await self.book_choices(interaction, current)

    async def submit(self, interaction: discord.Interaction[Any], draft: Draft) -> None:
        """A submitted modal: refused with a way to fix it, or stored, queued and previewed."""
        guild = guild_of(interaction)
        problem = self.reviews.draft_problem(title=draft.title, rating=draft.rating, body=draft.body)
        if problem:
            await interaction.response.send_message(
                f"{problem}\nNothing was saved. Press the button to fix it; your text is still there.",
                view=FixDraftView(draft, self.submit, interaction.user.id), ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            written = await self.reviews.write(guild.id, interaction.user.id, interaction.user.display_name,
                                               title=draft.title, author=draft.author, rating=draft.rating,
                                               body=draft.body, spoilers=draft.spoilers)
        except Exception as error:
            # A busy database or a full disk must not cost the member a long review typed into the modal.
            message = user_message(error)
            if message is None:
                raise
            await interaction.followup.send(
                f"{message}\nYour text is still there: press the button to send it again.",
                view=FixDraftView(draft, self.submit, interaction.user.id), ephemeral=True, allowed_mentions=NO_PINGS,
            )
            return
        messages = review_messages(written.review)
        note = f"Saved. {self.when_posted(written.posting)} This is how it will look:"
        await interaction.followup.send(note, embeds=messages[0], ephemeral=True, allowed_mentions=NO_PINGS)
        for embeds in messages[1:]:
            await interaction.followup.send(embeds=embeds, ephemeral=True, allowed_mentions=NO_PINGS)

    @staticmethod
    def when_posted(posting: Posting) -> str:
        if posting.channel_id is None:
            return "It is queued until a moderator chooses a reviews channel with `/config channels`."
        where, due = f"<#{posting.channel_id}>", posting.due
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
            found = await self.bot.services.books.find(guild.id, book)
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
                                            moderator=await is_moderator(interaction), posts=self.ports)
        if deleted.status == "announced" and deleted.message_ids:
            done = f"its post in <#{deleted.channel_id}> is gone too"
        elif deleted.status == "announced":
            done = "it had no post of its own to take down"
        else:
            done = "it was taken out of the queue before being posted"
        await reply(interaction, f"Deleted review #{deleted.id} of **{md(deleted.book_label)}** by "
                                 f"{md(deleted.reviewer_name)}; {done}.")

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
        queued = await self.reviews.queued(guild.id)
        posting = await self.reviews.posting(guild.id)
        embed = discord.Embed(title="Review queue", colour=COLOUR)
        if not queued:
            embed.description = "Nothing is waiting."
        else:
            lines = [self.queue_line(number, review) for number, review in enumerate(queued[:QUEUE_LINES], start=1)]
            if len(queued) > QUEUE_LINES:
                lines.append(f"…and {len(queued) - QUEUE_LINES} more.")
            embed.description = truncate("\n".join(lines), 4096)
        embed.add_field(name="Posted", value=self.when_queue_posts(posting), inline=False)
        await reply(interaction, embed=embed)

    @staticmethod
    def queue_line(number: int, review: Review) -> str:
        who = f"the blog {md(review.reviewer_name)}" if review.source == "feed" else md(review.reviewer_name)
        stars = f" · {review.rating}★" if review.rating else ""
        posting = " · being posted" if review.status == "announcing" else ""
        return (f"{number}. **{md(truncate(review.book_label, 120))}** from {who}{stars} · #{review.id} · "
                f"{discord.utils.format_dt(review.created_at, 'R')}{posting}")

    @staticmethod
    def when_queue_posts(posting: Posting) -> str:
        if posting.channel_id is None:
            return "Not yet: choose a reviews channel with `/config channels`."
        where, due = f"<#{posting.channel_id}>", posting.due
        if due is None:
            return f"In {where} as soon as they are written (no weekly slot set)."
        return f"In {where} at the next slot, {discord.utils.format_dt(due, 'F')}."

    @app_commands.command(name="announce-now", description="Post every queued review now (moderators)")
    @moderator_check()
    async def announce_now(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        posting = await self.reviews.posting(guild.id)
        if posting.channel_id is None:
            raise NotConfigured("Choose a reviews channel first with `/config channels`.")
        channel = guild.get_channel(posting.channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise NotConfigured("The reviews channel is gone; choose another with `/config channels`.")
        granted = channel.permissions_for(guild.me)
        if not (granted.send_messages and granted.embed_links):
            raise UserError(f"I can't post embeds in {channel.mention}: I need Send Messages and Embed Links there.")
        count = await self.reviews.announce_now(guild.id, str(interaction.id))
        await reply(interaction, f"Announcing {count} queued review{'s' if count != 1 else ''} in {channel.mention} "
                                 "now.")


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(ReviewsCog(bot))
