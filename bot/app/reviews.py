"""Reviews as the club's workflows: writing one (stored, queued, its slot armed), the queue, the weekly slot that
announces every queued review exactly once across restarts, announce-now, and deleting a review."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.app.books import BookResolver
from bot.app.reading_now import ReadingNowChanges
from bot.clock import Clock
from bot.domain.books import Book
from bot.domain.feeds import guess_book
from bot.domain.ids import picked_id
from bot.domain.reviews import EmbedSpec, ReviewCard, announcement, next_announcement, parse_footer, parse_rating
from bot.domain.shards import Shards
from bot.domain.text import clean_line, clip, escape_mentions, is_book_choice, md
from bot.errors import NotAllowed, NotConfigured, UserError
from bot.jobs import AnnounceReviews, FeedPoll, ReviewSlot, Run, Schedules
from bot.services.openlibrary import Catalogue
from bot.store import Store
from bot.store.config import GuildConfig
from bot.store.reviews import Review

log = logging.getLogger(__name__)

REVIEW_CHOICE = re.compile(r"^(?:review:|#)?\s*(\d{1,18})$")
# How many of the newest reviews the autocomplete looks through for the typed text.
CHOICE_WINDOW = 200
# /review list: reviews per page.
PAGE_SIZE = 5
# How far back a re-run looks for its own earlier post; a crash is followed by a restart within minutes.
HISTORY_SCAN = 100


class ChannelUnavailable(Exception):
    """The reviews channel is gone or the bot may not post there; retrying will not help until a moderator acts."""


class DraftRefused(UserError):
    """A review that cannot be stored as written (no title, no text, a bad rating); nothing was saved."""


class ReviewChannel(Protocol):
    """Discord's side of announcing reviews."""

    async def post(self, channel_id: int, embeds: Sequence[EmbedSpec]) -> int:
        """Posts one message of embeds, pinging nobody; its id. Raises ChannelUnavailable when the channel is gone
        or refuses the bot; any other error is worth retrying."""
        ...

    async def recent_footers(self, channel_id: int, limit: int) -> list[tuple[int, list[str]]]:
        """The bot's own latest messages in the channel, newest first: (message id, the footers of its embeds).
        Raises ChannelUnavailable when the history cannot be read."""
        ...


class ModeratorNotices(Protocol):
    """Telling a guild's moderators about a problem they can fix."""

    async def notify(self, channel_id: int, text: str) -> bool:
        """Posts the plain text, pinging nobody; False when the channel is unusable or Discord refused."""
        ...


@dataclass(frozen=True)
class Posting:
    """Where and when queued reviews go out: no channel yet, at once (`due` None), or at the next slot."""

    channel_id: int | None
    due: datetime | None


@dataclass(frozen=True)
class Written:
    review: Review
    posting: Posting


@dataclass(frozen=True)
class Page:
    """One page of /review list: `number` counts from 0 and is within 0 … pages - 1."""

    reviews: list[Review]
    number: int
    pages: int
    total: int
    book: Book | None


def card_of(review: Review) -> ReviewCard:
    return ReviewCard(
        review_id=review.id, title=review.book_title, author=review.book_author, reviewer=review.reviewer_name,
        body=review.body, rating=review.rating, spoilers=review.spoilers, link=review.link,
        cover_url=review.cover_url, from_blog=review.source == "feed",
    )


def blocked_key(guild_id: int) -> str:
    """Where the last problem told to the guild's moderators about stuck reviews is kept, so it is told once."""
    return f"reviews-blocked:{guild_id}"


async def club_book(store: Store, catalogue: Catalogue | None, guild_id: int, title: str, author: str) -> Book:
    """The guild's book with this title and author (any author when none is given), added when it is new, with a
    cover when the catalogue has one."""
    existing = await store.books.find(guild_id, title, author)
    if existing is not None and (existing.cover_url or catalogue is None):
        return existing
    work = await catalogue.find_title(title, author) if catalogue is not None else None
    book, _ = await store.books.find_or_create(
        guild_id, title, author, year=work.year if work else None, work_key=work.work_key if work else None,
        isbn13=work.isbn13 if work else None, cover_url=work.cover_url if work else None,
    )
    return book


class PostRemover(Protocol):
    """Discord's side of deleting a review."""

    async def delete_messages(self, channel_id: int, message_ids: Sequence[int]) -> None:
        """Deletes the messages; one already gone counts as deleted. Raises UserError when Discord refuses."""
        ...


def review_label(review: Review) -> str:
    stars = f" · {review.rating}★" if review.rating else ""
    state = " · queued" if review.status != "announced" else ""
    return f"#{review.id} {review.book_label} · {review.reviewer_name}{stars}{state}"


class ReviewService:
    """Writing, listing, queueing and deleting reviews, and when the queue goes out; the announcing itself is the
    Announcer's, which needs Discord."""

    def __init__(self, store: Store, clock: Clock, jobs: Schedules, reading_now: ReadingNowChanges,
                 catalogue: Catalogue | None = None) -> None:
        self.store = store
        self.clock = clock
        self.jobs = jobs
        self.reading_now = reading_now
        self.catalogue = catalogue

    # -- writing --------------------------------------------------------------------------------------

    async def started_draft(self, guild_id: int, text: str) -> tuple[str, str]:
        """The title and author `/review write book:` fills in: a club book's, else a guess at "Title by Author" in
        what was typed (the typed text as the title when there is none); nothing for a choice that is gone."""
        known = await BookResolver(self.store).find(guild_id, text)
        if known is not None:
            return known.title, known.author
        if is_book_choice(text):
            return "", ""
        guess = guess_book(text)
        return (guess.title, guess.author or "") if guess else (text.strip(), "")

    async def write(self, guild_id: int, member_id: int, reviewer_name: str, *, title: str, author: str,
                    rating: str, body: str, spoilers: str) -> Written:
        """Stores and queues the review; without a weekly slot it goes out at once. Raises DraftRefused (nothing
        stored) for a draft to fix, StoreBusy/StoreFull when the database cannot take it now."""
        problem = self.draft_problem(title=title, rating=rating, body=body)
        if problem:
            raise DraftRefused(problem)
        title, author, stars = clean_line(title), clean_line(author), parse_rating(rating)
        book = await club_book(self.store, self.catalogue, guild_id, title, author)
        review = await self.store.reviews.queue_review(
            guild_id, book.id, member_id=member_id, reviewer_name=reviewer_name, rating=stars, body=body.strip(),
            spoilers=spoilers.strip() or None, now=self.clock.now(),
        )
        config = await self.store.config.get(guild_id)
        if not config.has_schedule:
            await self.post_soon(guild_id, f"review:{review.id}")
        return Written(review, self.posting_of(config))

    @staticmethod
    def draft_problem(*, title: str, rating: str, body: str) -> str | None:
        """What keeps the draft from being stored, for the member to fix; None when it can be."""
        if not clean_line(title) or not body.strip():
            return "A review needs the book's title and some text."
        try:
            parse_rating(rating)
        except ValueError as error:
            return str(error)
        return None

    async def post_soon(self, guild_id: int, cause: str) -> None:
        await self.jobs.schedule(guild_id, AnnounceReviews(cause), self.clock.now())

    # -- the queue and its slot -----------------------------------------------------------------------------

    def posting_of(self, config: GuildConfig) -> Posting:
        due = next_announcement(self.clock.now(), config.schedule_weekday, config.schedule_time, config.timezone)
        return Posting(config.reviews_channel_id, due)

    async def posting(self, guild_id: int) -> Posting:
        return self.posting_of(await self.store.config.get(guild_id))

    async def queued(self, guild_id: int) -> list[Review]:
        """The queue, oldest first (the order it is announced in)."""
        return await self.store.reviews.queued(guild_id)

    async def announce_now(self, guild_id: int, cause: str) -> int:
        """Posts the whole queue now rather than at the slot; how many reviews that is."""
        queued = await self.store.reviews.queued(guild_id)
        if not queued:
            raise UserError("The queue is empty: there is nothing to announce.")
        await self.post_soon(guild_id, f"now:{cause}")
        return len(queued)

    async def slot_changed(self, guild_id: int) -> None:
        """The weekly slot was set or moved: its job moves with it, and Reading now shows the new slot."""
        config = await self.store.config.get(guild_id)
        due = next_announcement(self.clock.now(), config.schedule_weekday, config.schedule_time, config.timezone)
        if due is None:
            await self.jobs.cancel(guild_id, ReviewSlot())
        else:
            await self.jobs.schedule(guild_id, ReviewSlot(), due)
        await self.reading_now.changed(guild_id)

    async def feed_added(self, guild_id: int, feed_id: int) -> None:
        """A new feed is polled at once; its posts join the queue."""
        await self.jobs.schedule(guild_id, FeedPoll(feed_id), self.clock.now())

    async def arm_all(self, shards: Shards | None = None) -> None:
        """At start-up, every guild of the process's shards (every guild when None)."""
        for guild_id in await self.store.config.guild_ids(shards=shards):
            await self.arm(guild_id)

    async def arm(self, guild_id: int) -> None:
        """At start-up: the weekly job exists again when it finished or gave up; a guild without a slot whose queue
        is not empty gets an announcement now (the process may have died between storing a review and scheduling
        its announcement)."""
        now = self.clock.now()
        config = await self.store.config.get(guild_id)
        due = next_announcement(now, config.schedule_weekday, config.schedule_time, config.timezone)
        if due is None:
            if config.reviews_channel_id is not None and await self.store.reviews.queued(guild_id):
                await self.post_soon(guild_id, "review:left-queued")
            return
        job = await self.jobs.find(guild_id, ReviewSlot())
        if job is None or job.status in ("done", "failed"):
            await self.jobs.schedule(guild_id, ReviewSlot(), due)

    # -- the published list -----------------------------------------------------------------------------

    async def page(self, guild_id: int, *, book_id: int | None, member_id: int | None, page: int) -> Page:
        """One page of published reviews, newest first; a page past either end is the last or the first."""
        reviews = self.store.reviews
        total = await reviews.count_published(guild_id, book_id=book_id, member_id=member_id)
        if total == 0:
            raise UserError("No published reviews match that yet; `/review write` adds one.")
        pages = math.ceil(total / PAGE_SIZE)
        number = min(max(page, 0), pages - 1)
        shown = await reviews.published(guild_id, book_id=book_id, member_id=member_id, offset=number * PAGE_SIZE,
                                        limit=PAGE_SIZE)
        book = await self.store.books.get(guild_id, book_id) if book_id is not None else None
        return Page(shown, number, pages, total, book)

    async def book_choices(self, guild_id: int, text: str) -> list[Book]:
        return await self.store.books.suggest(guild_id, text)

    # -- deleting ---------------------------------------------------------------------------------------

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
            raise UserError(f"There is no review “{md(clip(text, 60))}”; pick one from the list.")
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


class Announcer:
    """Runs the review slot jobs: announces a guild's queue in order, each review exactly once even when the process
    dies between a post and its record; one guild's announcements never overlap."""

    def __init__(self, store: Store, clock: Clock, channel: ReviewChannel, notices: ModeratorNotices) -> None:
        self.store = store
        self.clock = clock
        self.channel = channel
        self.notices = notices
        self._locks: dict[int, asyncio.Lock] = {}

    async def run_slot(self, run: Run[ReviewSlot]) -> datetime | None:
        """The weekly slot: announces the queue, then says when the next slot is."""
        return await self._run(run.guild_id, weekly=True, due_at=run.due_at, last_attempt=run.last_attempt)

    async def run_once(self, run: Run[AnnounceReviews]) -> datetime | None:
        """A one-off announcement; written work waits for the weekly slot when one was set meanwhile."""
        config = await self.store.config.get(run.guild_id)
        if run.job.waits_for_slot and config.has_schedule:
            return None
        return await self._run(run.guild_id, weekly=False, due_at=run.due_at, last_attempt=run.last_attempt)

    async def _run(self, guild_id: int, *, weekly: bool, due_at: datetime, last_attempt: bool) -> datetime | None:
        config = await self.store.config.get(guild_id)
        if weekly and not config.has_schedule:
            return None
        try:
            announced = await self.announce_queue(guild_id)
        except (NotConfigured, ChannelUnavailable) as error:
            # Retrying cannot help until a moderator acts; the queue keeps the reviews for the next slot or
            # /review announce-now.
            log.warning("guild %d: reviews stay queued: %s", guild_id, error)
            await self.tell_moderators_once(config, str(error))
        except Exception as error:
            if not weekly or not last_attempt:
                raise
            # Given up for this slot only: a weekly job that failed for good would never come round again.
            log.warning("guild %d: posting kept failing; reviews stay queued for the next slot: %s", guild_id, error)
        else:
            if announced:
                log.info("guild %d: announced %d review(s)", guild_id, announced)
            await self.store.state.set(blocked_key(guild_id), "")
        if not weekly:
            return None
        after = max(self.clock.now(), due_at)
        return next_announcement(after, config.schedule_weekday, config.schedule_time, config.timezone)

    async def announce_queue(self, guild_id: int) -> int:
        """Posts every queued review of the guild, oldest first; returns how many were announced.

        Raises NotConfigured without a reviews channel, ChannelUnavailable when it cannot be used, and whatever
        the channel raised on a failure worth retrying (the rest of the queue waits, in order).
        """
        async with self._locks.setdefault(guild_id, asyncio.Lock()):
            config = await self.store.config.get(guild_id)
            if config.reviews_channel_id is None:
                raise NotConfigured("Choose a reviews channel first with `/config channels`.")
            announced = 0
            for review in await self.store.reviews.queued(guild_id):
                if await self._announce(review, config.reviews_channel_id):
                    announced += 1
            return announced

    async def _announce(self, review: Review, channel_id: int) -> bool:
        reviews = self.store.reviews
        interrupted = review.status == "announcing"
        marked = await reviews.mark_announcing(review.guild_id, review.id, channel_id)
        if marked is None:
            return False
        channel_id = marked.channel_id or channel_id
        messages = announcement(card_of(marked))
        posted = dict(enumerate(marked.message_ids, start=1))
        if interrupted and len(posted) < len(messages):
            # The last run may have posted a part and died before writing its id down.
            found = await self._earlier_parts(channel_id, review.id, len(messages))
            posted = {**found, **posted}
            if found:
                log.info("review %d in guild %d: found %d part(s) posted before a restart", review.id,
                         review.guild_id, len(found))
        for part, embeds in enumerate(messages, start=1):
            if part in posted:
                continue
            posted[part] = await self.channel.post(channel_id, embeds)
            await reviews.record_messages(review.guild_id, review.id, [posted[n] for n in sorted(posted)])
        await reviews.mark_announced(review.guild_id, review.id, [posted[n] for n in sorted(posted)],
                                     self.clock.now())
        return True

    async def _earlier_parts(self, channel_id: int, review_id: int, parts: int) -> dict[int, int]:
        """Parts of this review the bot already posted in the channel's latest messages, by part number."""
        found: dict[int, int] = {}
        for message_id, footers in await self.channel.recent_footers(channel_id, HISTORY_SCAN):
            for footer in footers:
                mark = parse_footer(footer)
                if mark is not None and mark[0] == review_id and mark[2] == parts:
                    found.setdefault(mark[1], message_id)
        return found

    async def tell_moderators_once(self, config: GuildConfig, problem: str) -> None:
        """Says in the announcements channel why queued reviews are not going out, once per problem."""
        key = blocked_key(config.guild_id)
        if await self.store.state.get(key) == problem:
            return
        channel_id = config.announcements_channel_id
        if channel_id is None or channel_id == config.reviews_channel_id:
            log.warning("guild %d: no other channel to tell the moderators that reviews are stuck", config.guild_id)
            return
        text = (f"Queued reviews could not be posted ({escape_mentions(problem)[:300]}). They stay in the queue: "
                "once I can post in the reviews channel they go out at the next slot, or moderators can use "
                "`/review announce-now`.")
        if await self.notices.notify(channel_id, text):
            await self.store.state.set(key, problem)
