"""The review queue on a real SQLite file: queueing, exactly-once marks, feed entries seen once, paged listing."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.store import Store
from bot.store.reviews import FeedReview

GUILD_A, GUILD_B = 111, 222


async def book_id(store: Store, guild_id: int = GUILD_A, title: str = "Never Let Me Go",
                  author: str = "Kazuo Ishiguro") -> int:
    book, _ = await store.books.find_or_create(guild_id, title, author, cover_url="https://covers.example/1.jpg")
    return book.id


async def write(store: Store, clock: ManualClock, *, guild_id: int = GUILD_A, member_id: int = 1,
                title: str = "Never Let Me Go", body: str = "Moving.") -> int:
    clock.advance(timedelta(minutes=1))
    review = await store.reviews.queue_review(
        guild_id, await book_id(store, guild_id, title), member_id=member_id, reviewer_name=f"member{member_id}",
        rating=4, body=body, spoilers="Ruth dies." if member_id == 1 else "", now=clock.now(),
    )
    return review.id


async def test_a_written_review_is_queued_with_its_book(store: Store, clock: ManualClock) -> None:
    review_id = await write(store, clock)
    (queued,) = await store.reviews.queued(GUILD_A)
    assert queued.id == review_id and queued.status == "queued" and queued.source == "member"
    assert (queued.book_title, queued.book_author, queued.cover_url) == (
        "Never Let Me Go", "Kazuo Ishiguro", "https://covers.example/1.jpg")
    assert (queued.rating, queued.body, queued.spoilers, queued.reviewer_name) == (4, "Moving.", "Ruth dies.",
                                                                                    "member1")
    assert queued.message_ids == [] and queued.created_at == clock.now()


async def test_empty_spoilers_are_stored_as_none(store: Store, clock: ManualClock) -> None:
    review_id = await write(store, clock, member_id=2)
    review = await store.reviews.get(GUILD_A, review_id)
    assert review is not None and review.spoilers is None


async def test_the_queue_is_oldest_first_and_keeps_interrupted_announcements(store: Store, clock: ManualClock) -> None:
    first, second, third = [await write(store, clock, member_id=n) for n in (1, 2, 3)]
    announcing = await store.reviews.mark_announcing(GUILD_A, second, channel_id=55)
    assert announcing is not None and announcing.status == "announcing" and announcing.channel_id == 55
    await store.reviews.mark_announced(GUILD_A, first, [900], clock.now())
    assert [review.id for review in await store.reviews.queued(GUILD_A)] == [second, third]


async def test_an_announced_review_is_never_announced_again(store: Store, clock: ManualClock) -> None:
    review_id = await write(store, clock)
    await store.reviews.mark_announcing(GUILD_A, review_id, channel_id=55)
    await store.reviews.record_messages(GUILD_A, review_id, [900])
    partial = await store.reviews.get(GUILD_A, review_id)
    assert partial is not None and partial.message_ids == [900] and partial.status == "announcing"
    await store.reviews.mark_announced(GUILD_A, review_id, [900, 901], clock.now())
    assert await store.reviews.mark_announcing(GUILD_A, review_id, channel_id=56) is None
    done = await store.reviews.get(GUILD_A, review_id)
    assert done is not None and done.status == "announced" and done.message_ids == [900, 901]
    assert done.announced_at == clock.now() and done.channel_id == 55


async def test_a_rerun_keeps_the_channel_of_the_first_attempt(store: Store, clock: ManualClock) -> None:
    review_id = await write(store, clock)
    await store.reviews.mark_announcing(GUILD_A, review_id, channel_id=55)
    again = await store.reviews.mark_announcing(GUILD_A, review_id, channel_id=66)
    assert again is not None and again.channel_id == 55


def post(key: str, book: int, body: str = "From the blog.") -> FeedReview:
    return FeedReview(entry_key=key, book_id=book, reviewer_name="The Lamplight Readers", body=body,
                      link=f"https://blog.example/{key}")


async def test_feed_entries_are_queued_once_and_passed_over_ones_remembered(store: Store, clock: ManualClock) -> None:
    feed = await store.feeds.add(GUILD_A, "https://blog.example/feed")
    assert feed is not None
    book = await book_id(store)
    queued = await store.reviews.take_feed_entries(GUILD_A, feed.id, [post("p3", book)], ["p2", "p1"], clock.now())
    assert [(review.entry_guid, review.source, review.link, review.member_id) for review in queued] == [
        ("p3", "feed", "https://blog.example/p3", None)]
    assert await store.reviews.seen_entries(GUILD_A, feed.id, ["p1", "p2", "p3", "p4"]) == {"p1", "p2", "p3"}
    again = await store.reviews.take_feed_entries(GUILD_A, feed.id, [post("p3", book), post("p2", book)], [],
                                                  clock.now())
    assert again == []
    assert len(await store.reviews.queued(GUILD_A)) == 1


async def test_seen_entries_handle_many_keys(store: Store, clock: ManualClock) -> None:
    feed = await store.feeds.add(GUILD_A, "https://blog.example/feed")
    assert feed is not None
    keys = [f"post-{number}" for number in range(1200)]
    await store.reviews.take_feed_entries(GUILD_A, feed.id, [], keys, clock.now())
    assert await store.reviews.seen_entries(GUILD_A, feed.id, [*keys, "new"]) == set(keys)


async def test_removing_a_feed_forgets_its_entries_but_keeps_its_reviews(store: Store, clock: ManualClock) -> None:
    feed = await store.feeds.add(GUILD_A, "https://blog.example/feed")
    assert feed is not None
    await store.reviews.take_feed_entries(GUILD_A, feed.id, [post("p1", await book_id(store))], [], clock.now())
    await store.feeds.remove(GUILD_A, "https://blog.example/feed")
    assert await store.reviews.seen_entries(GUILD_A, feed.id, ["p1"]) == set()
    assert len(await store.reviews.queued(GUILD_A)) == 1


async def test_published_reviews_are_listed_newest_first_in_pages(store: Store, clock: ManualClock) -> None:
    ids = [await write(store, clock, member_id=1 + n % 2, title="Klara and the Sun" if n == 4 else "Never Let Me Go")
           for n in range(7)]
    unpublished = await write(store, clock)
    for review_id in ids:
        await store.reviews.mark_announced(GUILD_A, review_id, [review_id], clock.now())
    page_one = await store.reviews.published(GUILD_A, limit=3)
    page_three = await store.reviews.published(GUILD_A, offset=6, limit=3)
    assert [review.id for review in page_one] == ids[::-1][:3]
    assert [review.id for review in page_three] == [ids[0]]
    assert await store.reviews.count_published(GUILD_A) == 7
    klara = await book_id(store, title="Klara and the Sun")
    assert [review.id for review in await store.reviews.published(GUILD_A, book_id=klara)] == [ids[4]]
    by_two = await store.reviews.published(GUILD_A, member_id=2, limit=10)
    assert [review.id for review in by_two] == [ids[5], ids[3], ids[1]]
    assert await store.reviews.count_published(GUILD_A, member_id=2) == 3
    assert unpublished not in [review.id for review in await store.reviews.published(GUILD_A, limit=50)]


async def test_one_guild_never_sees_another_guilds_reviews(store: Store, clock: ManualClock) -> None:
    review_id = await write(store, clock, guild_id=GUILD_A)
    await store.reviews.mark_announced(GUILD_A, review_id, [1], clock.now())
    other = await write(store, clock, guild_id=GUILD_B)
    assert await store.reviews.get(GUILD_B, review_id) is None
    assert [review.id for review in await store.reviews.queued(GUILD_B)] == [other]
    assert await store.reviews.published(GUILD_B) == [] and await store.reviews.count_published(GUILD_B) == 0
    assert await store.reviews.mark_announcing(GUILD_B, review_id, channel_id=1) is None
    feed = await store.feeds.add(GUILD_A, "https://blog.example/feed")
    assert feed is not None
    await store.reviews.take_feed_entries(GUILD_A, feed.id, [], ["p1"], clock.now())
    assert await store.reviews.seen_entries(GUILD_B, feed.id, ["p1"]) == set()
