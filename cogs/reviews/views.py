"""The review modal, its "fix and resend" button, and /review list pages whose buttons survive a restart."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.app.reviews import Review
from bot.domain.ids import parse_id
from bot.domain.reviews import MAX_REVIEW, MAX_SPOILERS, star_line
from bot.domain.spoilers import hide
from bot.domain.text import clean_line, md, truncate
from bot.errors import UserError
from cogs._shared.ids import STALE_COMPONENT
from cogs._shared.replies import COLOUR, ErrorReportingModal, ErrorReportingView, report_error

if TYPE_CHECKING:
    from bot.bot import BookClubBot

EXCERPT = 200
# Shorter than the open excerpt: escaped and tagged, five of each must still fit one embed's 6,000 characters.
SPOILER_EXCERPT = 100


@dataclass(frozen=True)
class Draft:
    """What a member typed into the modal, kept so that a refused submission can be fixed without retyping."""

    title: str = ""
    author: str = ""
    rating: str = ""
    body: str = ""
    spoilers: str = ""


Submit = Callable[[discord.Interaction[Any], Draft], Awaitable[None]]


class ReviewModal(ErrorReportingModal, title="Your review"):
    """Title, author, rating, review and spoilers; `submit` decides what happens to them."""

    def __init__(self, draft: Draft, submit: Submit) -> None:
        super().__init__(timeout=30 * 60)
        self._submit = submit
        self.book_title: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
            label="Title", default=draft.title[:256] or None, max_length=256)
        self.author: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
            label="Author", default=draft.author[:200] or None, max_length=200)
        self.rating: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
            label="Rating (1–5)", placeholder="4", default=draft.rating[:10] or None, max_length=10)
        self.body: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
            label="Review", style=discord.TextStyle.paragraph, default=draft.body[:MAX_REVIEW] or None,
            max_length=MAX_REVIEW, placeholder="What did you think? Keep the twists for the next box.")
        self.spoilers: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
            label="Spoilers (optional, always hidden)", style=discord.TextStyle.paragraph, required=False,
            default=draft.spoilers[:MAX_SPOILERS] or None, max_length=MAX_SPOILERS,
            placeholder="Endings and twists: shown behind spoiler tags")
        for field in (self.book_title, self.author, self.rating, self.body, self.spoilers):
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await self._submit(interaction, Draft(
            title=self.book_title.value, author=self.author.value, rating=self.rating.value, body=self.body.value,
            spoilers=self.spoilers.value,
        ))


class FixDraftView(ErrorReportingView):
    """One button that opens the modal again with the refused draft in it."""

    def __init__(self, draft: Draft, submit: Submit, member_id: int) -> None:
        super().__init__(timeout=30 * 60)
        self.draft = draft
        self.submit = submit
        self.member_id = member_id

    @discord.ui.button(label="Fix and resend", style=discord.ButtonStyle.primary)
    async def reopen(self, interaction: discord.Interaction[Any], button: discord.ui.Button[FixDraftView]) -> None:
        if interaction.user.id != self.member_id:
            raise UserError("That draft belongs to someone else.")
        await interaction.response.send_modal(ReviewModal(self.draft, self.submit))


# -- /review list -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """Which reviews a list shows: 0 means "any" for the book and the member."""

    book_id: int = 0
    member_id: int = 0
    page: int = 0


def jump_url(review: Review) -> str | None:
    if review.channel_id and review.message_ids:
        return f"https://discord.com/channels/{review.guild_id}/{review.channel_id}/{review.message_ids[0]}"
    return None


def review_field(review: Review) -> tuple[str, str]:
    name = md(truncate(clean_line(review.book_label), 120))
    facts = [star_line(review.rating)] if review.rating else []
    who = md(truncate(clean_line(review.reviewer_name), 80))
    facts.append(f"from the blog {who}" if review.source == "feed" else who)
    facts.append(discord.utils.format_dt(review.created_at, "D"))
    if url := jump_url(review):
        facts.append(f"[the post]({url})")
    excerpt = md(truncate(clean_line(review.body), EXCERPT))
    value = " · ".join(facts) + (f"\n> {excerpt}" if excerpt else "")
    if review.spoilers and jump_url(review):
        value += "\n(spoilers in the post)"
    elif review.spoilers:
        # An imported review has no post to point to: its spoilers show here, behind spoiler tags.
        value += "\nSpoilers: " + hide(truncate(" ".join(review.spoilers.split()), SPOILER_EXCERPT))[0]
    return name, value


async def list_page(bot: BookClubBot, guild_id: int, query: ListQuery) -> tuple[discord.Embed, discord.ui.View]:
    """One page of published reviews, newest first, with buttons to the neighbouring pages."""
    found = await bot.services.reviews.page(guild_id, book_id=query.book_id or None,
                                             member_id=query.member_id or None, page=query.page)
    page, pages, total = found.number, found.pages, found.total
    heading = truncate(f"Reviews of {found.book.title}", 256) if found.book is not None else "Reviews"
    lines = [f"By <@{query.member_id}>"] if query.member_id else []
    embed = discord.Embed(title=heading, colour=COLOUR, description="\n".join(lines) or None)
    for review in found.reviews:
        name, value = review_field(review)
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} review{'s' if total != 1 else ''}, newest first")
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(ListQuery(query.book_id, query.member_id, page - 1), "newer", disabled=page == 0))
    view.add_item(PageButton(ListQuery(query.book_id, query.member_id, page + 1), "older",
                             disabled=page >= pages - 1))
    return embed, view


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=r"review:list:(?P<book>\d+):(?P<member>\d+):(?P<page>-?\d+):(?P<way>newer|older)"):
    """A page button whose custom_id carries the whole query, so any process can answer it."""

    def __init__(self, query: ListQuery, way: str, *, disabled: bool = False) -> None:
        label = "◀ Newer" if way == "newer" else "Older ▶"
        super().__init__(discord.ui.Button(
            label=label, style=discord.ButtonStyle.secondary, disabled=disabled,
            custom_id=f"review:list:{query.book_id}:{query.member_id}:{query.page}:{way}",
        ))
        self.query: ListQuery | None = query

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Button[Any],
                             match: re.Match[str], /) -> PageButton:
        book, member = parse_id(match["book"], allow_zero=True), parse_id(match["member"], allow_zero=True)
        # A page past either end shows the last or the first, so only the ids need checking.
        button = cls(ListQuery(book or 0, member or 0, int(match["page"])), match["way"])
        if book is None or member is None:
            button.query = None
        return button

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if interaction.guild_id is None:
                raise UserError("This list only works in a server.")
            if self.query is None:
                raise UserError(STALE_COMPONENT)
            embed, view = await list_page(interaction.client, interaction.guild_id, self.query)
            await interaction.response.edit_message(embed=embed, view=view)
        except Exception as error:
            await report_error(interaction, error)
