"""Deleting a review: one's own, or (moderators) anyone's, with its post in the reviews channel when it was posted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from bot.domain.ids import picked_id
from bot.domain.text import md
from bot.errors import NotAllowed, UserError
from bot.store import Store
from bot.store.reviews import Review

REVIEW_CHOICE = re.compile(r"^(?:review:|#)?\s*(\d{1,18})$")
# How many of the newest reviews the autocomplete looks through for the typed text.
CHOICE_WINDOW = 200


class PostRemover(Protocol):
    """Discord's side of deleting a review."""

    async def delete_messages(self, channel_id: int, message_ids: Sequence[int]) -> None:
        """Deletes the messages; one already gone counts as deleted. Raises UserError when Discord refuses."""
        ...


def review_label(review: Review) -> str:
    book = f"{review.book_title} by {review.book_author}" if review.book_author else review.book_title
    stars = f" · {review.rating}★" if review.rating else ""
    state = " · queued" if review.status != "announced" else ""
    return f"#{review.id} {book} · {review.reviewer_name}{stars}{state}"


class ReviewService:
    """Which reviews a member may delete, and the deletion."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def deletable(self, guild_id: int, member_id: int, *, moderator: bool, text: str = "") -> list[Review]:
        """The member's own reviews (every review for a moderator), newest first, matching the typed text."""
        reviews = await self.store.reviews.latest(guild_id, member_id=None if moderator else member_id,
                                                  limit=CHOICE_WINDOW)
        needle = text.strip().casefold().lstrip("#")
        return [review for review in reviews if needle in review_label(review).casefold()]

    async def delete(self, guild_id: int, text: str, member_id: int, *, moderator: bool,
                     posts: PostRemover) -> Review:
        """Deletes the review: out of the queue if it waits there, else its post first, then the record."""
        review_id = picked_id(REVIEW_CHOICE, text)
        review = await self.store.reviews.get(guild_id, review_id) if review_id else None
        if review is None:
            raise UserError(f"There is no review “{md(text[:60])}”; pick one from the list.")
        if review.member_id != member_id and not moderator:
            raise NotAllowed("You can only delete your own reviews.")
        reviews = self.store.reviews
        if review.status == "queued" and await reviews.delete(guild_id, review.id, statuses=("queued",)):
            return review
        # The announcer may have taken it meanwhile: look again.
        review = await reviews.get(guild_id, review.id)
        if review is None:
            raise UserError("That review was just deleted.")
        if review.status != "announced":
            raise UserError("That review is being posted right now; delete it in a minute, once it is up.")
        if review.channel_id is not None and review.message_ids:
            await posts.delete_messages(review.channel_id, review.message_ids)
        if not await reviews.delete(guild_id, review.id, statuses=("announced",)):
            raise UserError("That review was just deleted.")
        return review
