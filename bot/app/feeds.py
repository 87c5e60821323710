"""The club blog's feeds: each poll turns new posts into queued reviews crediting the blog, each post once however
often it is seen; a feed that keeps failing is reported to the moderators once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from bot.app.reviews import ModeratorNotices, ReviewService, club_book
from bot.clock import Clock
from bot.domain.books import Book
from bot.domain.feeds import guess_book, html_to_text
from bot.domain.names import NameIndex, author_key
from bot.domain.shards import Shards
from bot.domain.text import escape_markdown, escape_mentions
from bot.jobs import FeedPoll, Run, Schedules
from bot.services.feeds import FeedEntry, FeedError, FeedResult, select_new
from bot.services.openlibrary import Catalogue
from bot.store import Store
from bot.store.config import Feed
from bot.store.reviews import FeedReview, Review

log = logging.getLogger(__name__)

POLL_EVERY = timedelta(minutes=30)
# Moderators hear about a feed after this many failed polls in a row (an hour and a half at the usual pace).
REPORT_AFTER = 3
# A blog post is quoted up to this length; the link leads to the rest.
POST_EXCERPT = 1500


class FeedFetcher(Protocol):
    """Reading a feed over HTTP (`bot.services.feeds.FeedReader`)."""

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FeedResult:
        """The feed's entries, or `not_modified`; raises FeedError when it cannot be read."""
        ...

    async def close(self) -> None:
        ...


def blog_name(feed: Feed, result: FeedResult) -> str:
    name = result.title or feed.title or urlsplit(feed.url).hostname or "the club blog"
    return " ".join(name.split())[:100]


class BookFinder:
    """Which of the guild's books a blog post is about, adding the book when the title names one the club lacks."""

    def __init__(self, store: Store, catalogue: Catalogue | None, guild_id: int) -> None:
        self.store = store
        self.catalogue = catalogue
        self.guild_id = guild_id
        self._titles: NameIndex[int] | None = None
        self._books: dict[int, Book] = {}

    async def _index(self) -> NameIndex[int]:
        if self._titles is None:
            books = await self.store.books.list_all(self.guild_id)
            self._books = {book.id: book for book in books}
            self._titles = NameIndex(((book.id, book.title) for book in books), "title")
        return self._titles

    def _pick(self, ids: list[int], author: str | None) -> int | None:
        """The first of these books by `author`; any of them when the post names no author or they have none."""
        for book_id in ids:
            book = self._books.get(book_id)
            if book is None:
                continue
            if not author or not book.author or author_key(book.author) == author_key(author):
                return book_id
        return None

    async def book_for(self, post_title: str) -> int | None:
        """The book's id; None when the title names no book at all."""
        guess = guess_book(post_title)
        titles = await self._index()
        if guess is None:
            mentioned = titles.find_in_text(post_title)
            return self._pick(mentioned[0].ids, None) if mentioned else None
        known = self._pick(titles.match(guess.title).best, guess.author)
        if known is not None:
            return known
        book = await club_book(self.store, self.catalogue, self.guild_id, guess.title, guess.author or "")
        # The index no longer lists every book; the next post rebuilds it.
        self._titles = None
        return book.id


class FeedService:
    """Runs the FeedPoll jobs: fetch, queue what is new, record the outcome, say when to look again."""

    def __init__(self, store: Store, clock: Clock, jobs: Schedules, reader: FeedFetcher, notices: ModeratorNotices,
                 reviews: ReviewService) -> None:
        self.store = store
        self.clock = clock
        self.jobs = jobs
        self.reader = reader
        self.notices = notices
        self.reviews = reviews

    async def arm_all(self, shards: Shards | None = None) -> None:
        """At start-up, every guild of the process's shards (every guild when None)."""
        for guild_id in await self.store.config.guild_ids(shards=shards):
            await self.arm(guild_id)

    async def arm(self, guild_id: int) -> None:
        """At start-up: every feed has its poll job; one that finished or gave up is armed again."""
        for feed in await self.store.feeds.list(guild_id):
            job = await self.jobs.find(guild_id, FeedPoll(feed.id))
            if job is None or job.status in ("done", "failed"):
                await self.reviews.feed_added(guild_id, feed.id)

    async def run(self, run: Run[FeedPoll]) -> datetime | None:
        """Polls one feed and says when to poll it again; a removed feed ends its job."""
        feed = await self.store.feeds.get(run.guild_id, run.job.feed_id)
        if feed is None:
            return None
        queued, next_poll = await self.poll(feed)
        if queued:
            config = await self.store.config.get(run.guild_id)
            log.info("feed %s of guild %d: queued %d post(s)", feed.url, feed.guild_id, len(queued))
            if not config.has_schedule:
                await self.reviews.post_soon(run.guild_id, f"feed:{feed.id}:{queued[-1].id}")
        return next_poll

    async def poll(self, feed: Feed) -> tuple[list[Review], datetime]:
        """The reviews queued from this poll, and when to poll again."""
        now = self.clock.now()
        try:
            result = await self.reader.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        except FeedError as error:
            log.warning("feed %s of guild %d failed: %s", feed.url, feed.guild_id, error)
            failed = await self.store.feeds.record_failure(feed.guild_id, feed.id, str(error), now)
            if failed is not None and failed.consecutive_failures >= REPORT_AFTER and not failed.failure_reported:
                await self.report_failing(failed)
            return [], now + POLL_EVERY
        queued: list[Review] = []
        if not result.not_modified:
            queued = await self.take(feed, result, now)
        await self.store.feeds.record_success(
            feed.guild_id, feed.id, title=result.title, etag=result.etag, last_modified=result.last_modified,
            polled_at=now,
        )
        return queued, now + POLL_EVERY

    async def take(self, feed: Feed, result: FeedResult, now: datetime) -> list[Review]:
        """Queues the feed's new posts; the entries are recorded with the reviews, so a post seen again is skipped."""
        reviews = self.store.reviews
        seen = await reviews.seen_entries(feed.guild_id, feed.id, [entry.key for entry in result.entries])
        first_poll = not feed.polled_once
        take, passed = select_new(result.entries, seen, first_poll=first_poll)
        # The reviews' catalogue: the one the operator configured, swapped with it (`Services.use_catalogue`).
        finder = BookFinder(self.store, self.reviews.catalogue, feed.guild_id)
        blog = blog_name(feed, result)
        posts: list[FeedReview] = []
        skipped = [entry.key for entry in passed]
        for entry in take:
            book_id = await finder.book_for(entry.title)
            if book_id is None:
                log.info("feed %s of guild %d: %r names no book; not queued", feed.url, feed.guild_id, entry.title)
                skipped.append(entry.key)
                continue
            posts.append(FeedReview(entry_key=entry.key, book_id=book_id, reviewer_name=blog,
                                    body=self.excerpt(entry), link=entry.link))
        queued = await reviews.take_feed_entries(feed.guild_id, feed.id, posts, skipped, now)
        if first_poll and passed:
            log.info("feed %s of guild %d: first poll queued the newest post and left %d older one(s) out",
                     feed.url, feed.guild_id, len(passed))
        return queued

    @staticmethod
    def excerpt(entry: FeedEntry) -> str:
        return html_to_text(entry.html, limit=POST_EXCERPT) or entry.title or "(no text)"

    async def report_failing(self, feed: Feed) -> None:
        """Tells the moderators once, in the announcements channel (else the reviews channel)."""
        config = await self.store.config.get(feed.guild_id)
        channel_id = config.announcements_channel_id or config.reviews_channel_id
        if channel_id is None:
            log.warning("feed %s of guild %d keeps failing and there is no channel to say so in", feed.url,
                        feed.guild_id)
            return
        reason = escape_markdown(escape_mentions((feed.last_error or "unknown")[:200]))
        text = (f"I couldn't read the club blog's feed <{feed.url}> the last {feed.consecutive_failures} times "
                f"({reason}). I'll keep trying every {int(POLL_EVERY.total_seconds() // 60)} minutes; moderators "
                "can check the address, or remove it with `/config feed-remove`.")
        if await self.notices.notify(channel_id, text):
            await self.store.feeds.mark_failure_reported(feed.guild_id, feed.id)
