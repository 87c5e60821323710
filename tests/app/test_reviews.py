"""The review workflows over the real store and scheduler, with Discord and the blog's feed played by fakes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.app.feeds import FeedService
from bot.app.reading_now import ReadingNowChanges
from bot.app.reviews import Announcer, ReviewService
from bot.clock import ManualClock
from bot.domain.reviews import EmbedSpec
from bot.domain.shards import Shards
from bot.jobs import AnnounceReviews, FeedPoll, ReviewSlot
from bot.scheduler import Scheduler
from bot.services.feeds import FeedEntry, FeedResult
from bot.store import Store

GUILD = 7
REVIEWS, ANNOUNCEMENTS = 10, 11
ALICE = 501


class Died(Exception):
    """The process stopping between two steps."""


class FakeChannel:
    """Posted messages by id, with their footers; `die_after_post` stops the run right after Discord took a post."""

    def __init__(self) -> None:
        self.messages: dict[int, tuple[int, list[str]]] = {}
        self.notes: list[tuple[int, str]] = []
        self.die_after_post = False

    async def post(self, channel_id: int, embeds: Sequence[EmbedSpec]) -> int:
        message_id = 1000 + len(self.messages)
        self.messages[message_id] = (channel_id, [spec.footer or "" for spec in embeds])
        if self.die_after_post:
            self.die_after_post = False
            raise Died
        return message_id

    async def recent_footers(self, channel_id: int, limit: int) -> list[tuple[int, list[str]]]:
        mine = [(message_id, footers) for message_id, (channel, footers) in self.messages.items()
                if channel == channel_id]
        return list(reversed(mine))[:limit]

    async def notify(self, channel_id: int, text: str) -> bool:
        self.notes.append((channel_id, text))
        return True


class FakeFeed:
    """A blog whose feed lists `entries`, newest first."""

    def __init__(self) -> None:
        self.entries: list[FeedEntry] = []

    def publish(self, key: str, title: str) -> None:
        self.entries.insert(0, FeedEntry(key=key, title=title, link=f"https://blog.example/{key}",
                                         html=f"<p>{title}: we loved it.</p>", published=None))

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FeedResult:
        return FeedResult(not_modified=False, title="The Club Blog", entries=list(self.entries), etag=None,
                          last_modified=None)

    async def close(self) -> None:
        return None


class Club:
    def __init__(self, store: Store, clock: ManualClock) -> None:
        self.store = store
        self.clock = clock
        self.channel = FakeChannel()
        self.blog = FakeFeed()
        self.scheduler = Scheduler(store.jobs, clock)
        self.reviews = ReviewService(store, clock, self.scheduler, ReadingNowChanges(store, clock, self.scheduler))
        self.announcer = Announcer(store, clock, self.channel, self.channel)
        self.feeds = FeedService(store, clock, self.scheduler, self.blog, self.channel, self.reviews)
        self.scheduler.register(ReviewSlot, self.announcer.run_slot)
        self.scheduler.register(AnnounceReviews, self.announcer.run_once)
        self.scheduler.register(FeedPoll, self.feeds.run)

    async def write(self, title: str = "Klara and the Sun", body: str = "Quietly devastating.") -> int:
        written = await self.reviews.write(GUILD, ALICE, "Alice", title=title, author="Kazuo Ishiguro", rating="4",
                                           body=body, spoilers="")
        return written.review.id

    def posted(self) -> list[str]:
        return [footer for _, footers in self.channel.messages.values() for footer in footers]


@pytest.fixture
async def club(store: Store, clock: ManualClock) -> Club:
    await store.config.set_channels(GUILD, {"reviews": REVIEWS, "announcements": ANNOUNCEMENTS})
    return Club(store, clock)


async def test_a_written_review_is_queued_and_waits_for_the_weekly_slot(club: Club) -> None:
    await club.store.config.set_schedule(GUILD, 4, "18:00", "UTC")
    await club.reviews.slot_changed(GUILD)
    review_id = await club.write()
    assert [review.id for review in await club.reviews.queued(GUILD)] == [review_id]
    assert await club.scheduler.run_due() == 0
    slot = await club.scheduler.find(GUILD, ReviewSlot())
    assert slot is not None and slot.status == "pending" and slot.due_at > club.clock.now()
    assert club.posted() == []


async def test_a_draft_without_text_or_with_a_bad_rating_stores_nothing(club: Club) -> None:
    with pytest.raises(Exception, match="needs the book's title"):
        await club.write(body="   ")
    with pytest.raises(Exception, match="isn't a rating"):
        await club.reviews.write(GUILD, ALICE, "Alice", title="Hamnet", author="", rating="lots", body="Yes.",
                                 spoilers="")
    assert await club.reviews.queued(GUILD) == []


async def test_the_slot_posts_each_queued_review_once_and_comes_round_again(club: Club) -> None:
    await club.store.config.set_schedule(GUILD, 4, "18:00", "UTC")
    await club.reviews.slot_changed(GUILD)
    first, second = await club.write(), await club.write("Never Let Me Go")
    slot = await club.scheduler.find(GUILD, ReviewSlot())
    assert slot is not None
    club.clock.set(slot.due_at)
    assert await club.scheduler.run_due() == 1
    assert club.posted() == [f"Review #{first}", f"Review #{second}"]
    # An announce-now, and the next week's slot, find nothing left to post.
    with pytest.raises(Exception, match="queue is empty"):
        await club.reviews.announce_now(GUILD, "1")
    club.clock.advance(timedelta(days=7))
    assert await club.scheduler.run_due() == 1
    assert club.posted() == [f"Review #{first}", f"Review #{second}"]
    announced = await club.store.reviews.get(GUILD, first)
    assert announced is not None and announced.status == "announced" and announced.message_ids == [1000]


async def test_a_post_that_went_out_before_a_crash_is_not_posted_again(club: Club) -> None:
    review_id = await club.write()
    club.channel.die_after_post = True
    # No weekly slot: the review goes out at once, and the run dies after Discord took the post.
    assert await club.scheduler.run_due() == 1
    interrupted = await club.store.reviews.get(GUILD, review_id)
    assert interrupted is not None and interrupted.status == "announcing" and interrupted.message_ids == []
    # The scheduler retries it after its backoff, as a restart would.
    club.clock.advance(timedelta(minutes=1))
    assert await club.scheduler.run_due() == 1
    assert club.posted() == [f"Review #{review_id}"]
    done = await club.store.reviews.get(GUILD, review_id)
    assert done is not None and done.status == "announced" and done.message_ids == [1000]


async def test_a_feed_post_seen_twice_becomes_one_review(club: Club) -> None:
    feed = await club.store.feeds.add(GUILD, "https://blog.example/feed")
    assert feed is not None
    club.blog.publish("p1", "Piranesi by Susanna Clarke")
    await club.reviews.feed_added(GUILD, feed.id)
    await club.scheduler.run_due()
    club.clock.advance(timedelta(minutes=30))
    await club.scheduler.run_due()
    reviews = await club.store.reviews.latest(GUILD)
    assert [(review.book_title, review.reviewer_name, review.source) for review in reviews] == [
        ("Piranesi", "The Club Blog", "feed")]
    assert club.posted() == [f"Review #{reviews[0].id}"]


async def test_a_review_starts_from_the_club_book_a_guess_or_the_typed_title(store: Store, clock: ManualClock) -> None:
    scheduler = Scheduler(store.jobs, clock)
    reviews = ReviewService(store, clock, scheduler, ReadingNowChanges(store, clock, scheduler))
    book, _ = await store.books.find_or_create(GUILD, "Piranesi", "Susanna Clarke")
    assert await reviews.started_draft(GUILD, f"book:{book.id}") == ("Piranesi", "Susanna Clarke")
    assert await reviews.started_draft(GUILD, "piranesi") == ("Piranesi", "Susanna Clarke")
    assert await reviews.started_draft(GUILD, "Hamnet by Maggie O'Farrell") == ("Hamnet", "Maggie O'Farrell")
    assert await reviews.started_draft(GUILD, "book:999") == ("", ""), "a choice that is gone names nothing"
    assert await reviews.started_draft(GUILD + 1, f"book:{book.id}") == ("", ""), "another server's book"


async def test_start_up_arms_the_slots_and_feeds_of_the_process_shards_guilds_only(club: Club) -> None:
    # Discord puts these on shards 0 and 1 of 2; this process runs shard 1.
    on_0, on_1 = 10 << 22, 11 << 22
    for guild in (on_0, on_1):
        await club.store.config.set_channels(guild, {"reviews": REVIEWS})
        await club.store.config.set_schedule(guild, 4, "18:00", "UTC")
        await club.store.feeds.add(guild, "https://blog.example/feed")
    await club.reviews.arm_all(Shards(2, (1,)))
    await club.feeds.arm_all(Shards(2, (1,)))
    assert [job.kind for job in await club.store.jobs.list_for_guild(on_0)] == []
    assert sorted(job.kind for job in await club.store.jobs.list_for_guild(on_1)) == ["feed_poll", "review_slot"]
