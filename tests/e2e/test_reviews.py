"""Reviews through the loopback Discord: the modal, posting at once or at the weekly slot, moderators' queue, the list,
and the club blog's feed joining the queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cogs.reviews.ports import review_messages
from tests.domain.discord_markdown import hidden_text, shown_text
from tests.doubles.feed_server import BLOG_TITLE, FakeBlog
from tests.e2e.helpers import SETTLE, caught_up, eventually

FIELDS = {"title": "Title", "author": "Author", "rating": "Rating (1–5)", "body": "Review",
          "spoilers": "Spoilers (optional, always hidden)"}
NEVER = "A dystopian story about fate and friendship: Never Let Me Go by Kazuo Ishiguro (book review)"
QUIET = 0.3


async def run(bookclub: Any, who: str, command: str, guild: Any = None, **options: Any) -> str:
    guild = guild or bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(who), command, timeout=5.0, **options)
    return (await ix.reply(timeout=10.0)).text()


async def set_channels(bookclub: Any, guild: Any = None) -> None:
    guild = guild or bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", guild, reviews=guild.channel("reviews"),
              announcements=guild.channel("announcements"))


async def open_modal(bookclub: Any, member: str, **options: Any) -> Any:
    guild = bookclub.double.guild_a
    return await bookclub.double.slash(guild, guild.member(member), "review write", timeout=5.0, **options)


async def submit(bookclub: Any, opened: Any, **fields: str) -> Any:
    values = {FIELDS[name]: value for name, value in fields.items()}
    return await bookclub.double.submit_modal(opened, values, timeout=5.0)


async def write(bookclub: Any, member: str = "Alice", *, title: str = "Never Let Me Go",
                author: str = "Kazuo Ishiguro", rating: str = "5", body: str = "Quietly devastating.",
                spoilers: str = "") -> str:
    opened = await open_modal(bookclub, member)
    submitted = await submit(bookclub, opened, title=title, author=author, rating=rating, body=body,
                             spoilers=spoilers)
    return (await submitted.reply(timeout=10.0)).text()


def posts(bookclub: Any, channel: str = "reviews") -> list[Any]:
    return bookclub.double.bot_messages(bookclub.double.guild_a.channel(channel))


async def wait_posts(bookclub: Any, count: int, channel: str = "reviews", timeout: float = SETTLE) -> list[Any]:
    assert await bookclub.double.wait_until(lambda: len(posts(bookclub, channel)) >= count, timeout), (
        f"expected {count} post(s) in #{channel}, got {[m.text() for m in posts(bookclub, channel)]}")
    return posts(bookclub, channel)


async def settled(bookclub: Any, check: Callable[[], Awaitable[bool]], timeout: float = SETTLE) -> None:
    """Wait until the bot's own bookkeeping (which follows its posts by a moment) satisfies `check`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the bot did not settle"
        await asyncio.sleep(0.02)


def refused(bookclub: Any) -> list[Any]:
    return [request for request in bookclub.double.requests if request.status and request.status >= 400]


# -- writing --------------------------------------------------------------------------------------------


async def test_with_no_schedule_a_written_review_is_posted_at_once(bookclub: Any) -> None:
    await set_channels(bookclub)
    await run(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro")
    guild = bookclub.double.guild_a
    choices = await bookclub.double.autocomplete(guild, guild.member("Alice"), "review write", focused="book",
                                                 book="never")
    assert [choice["name"] for choice in choices] == ["Never Let Me Go by Kazuo Ishiguro"]
    opened = await open_modal(bookclub, "Alice", book=choices[0]["value"])
    prefilled = {field.get("label"): field.get("value") for row in opened.modal["components"]
                 for field in row["components"]}
    assert prefilled["Title"] == "Never Let Me Go" and prefilled["Author"] == "Kazuo Ishiguro"
    submitted = await submit(bookclub, opened, rating="4", body="Kathy remembers Hailsham.")
    answer = await submitted.reply(timeout=10.0)
    assert answer.ephemeral and f"posted in <#{guild.channel('reviews').id}> in a moment" in answer.text()
    assert "Kathy remembers Hailsham" in answer.text(), "the member sees a preview of the embed"
    (post,) = await wait_posts(bookclub, 1)
    text = post.text()
    assert "Never Let Me Go by Kazuo Ishiguro" in text and "★★★★☆" in text and "Alice's review" in text
    assert "Kathy remembers Hailsham" in text and "Review #" in text
    await asyncio.sleep(QUIET)
    assert len(posts(bookclub)) == 1 and bookclub.double.pings() == [] and refused(bookclub) == []


@pytest.mark.parametrize("rating", ["6", "five"])
async def test_a_bad_rating_is_explained_nothing_is_stored_and_the_draft_can_be_fixed(bookclub: Any,
                                                                                     rating: str) -> None:
    await set_channels(bookclub)
    opened = await open_modal(bookclub, "Bob", book="Klara and the Sun by Kazuo Ishiguro")
    submitted = await submit(bookclub, opened, rating=rating, body="Klara watches the Sun.")
    answer = await submitted.reply()
    assert answer.ephemeral and "whole number from 1 to 5" in answer.text() and "Nothing was saved" in answer.text()
    assert await bookclub.store.reviews.queued(bookclub.double.guild_a.id) == []
    fix = await bookclub.double.press_button(answer, "Fix and resend", bookclub.double.guild_a.member("Bob"))
    kept = {field.get("label"): field.get("value") for row in fix.modal["components"] for field in row["components"]}
    assert kept["Review"] == "Klara watches the Sun." and kept["Title"] == "Klara and the Sun"
    assert kept["Author"] == "Kazuo Ishiguro"
    fixed = await submit(bookclub, fix, rating="3")
    assert "Saved." in (await fixed.reply(timeout=10.0)).text()
    (post,) = await wait_posts(bookclub, 1)
    assert "Klara and the Sun by Kazuo Ishiguro" in post.text() and "★★★☆☆" in post.text()


async def test_spoilers_stay_hidden_and_nobody_is_pinged(bookclub: Any) -> None:
    await set_channels(bookclub)
    guild = bookclub.double.guild_a
    spoilers = f"|| Ruth dies @everyone <@{guild.member('Carol').id}> ||| and Tommy `too` \\|"
    await write(bookclub, body="Read it @everyone, @here!", spoilers=spoilers)
    (post,) = await wait_posts(bookclub, 1)
    descriptions = [embed["description"] for embed in post.embeds]
    spoiler_box = next(text for text in descriptions if "Spoilers" in text)
    assert hidden_text(spoiler_box) == spoilers and "Ruth" not in shown_text(spoiler_box)
    assert "Read it @everyone, @here!" in shown_text(descriptions[0])
    assert bookclub.double.pings() == []


async def test_a_review_of_4000_characters_is_posted_whole(bookclub: Any) -> None:
    await set_channels(bookclub)
    body = ("Was it good?! Yes... (mostly) -- 'I think'. " * 100)[:4000]
    await write(bookclub, body=body, spoilers="The ending! " * 80)

    def complete() -> bool:
        sent = posts(bookclub)
        return bool(sent) and sent[-1].embeds[-1]["footer"]["text"].endswith(f"part {len(sent)} of {len(sent)}")

    assert await bookclub.double.wait_until(complete, SETTLE)
    await asyncio.sleep(QUIET)
    parts = posts(bookclub)
    assert len(parts) == 2
    footers = [message.embeds[-1]["footer"]["text"] for message in parts]
    assert footers == ["Review #1 · part 1 of 2", "Review #1 · part 2 of 2"]
    shown = "".join(shown_text(embed["description"]) for message in parts for embed in message.embeds
                    if "Spoilers" not in embed["description"])
    assert "".join(body.split()) in "".join(shown.split())
    assert refused(bookclub) == [] and bookclub.double.unhandled == []


# -- the weekly slot ---------------------------------------------------------------------------------


async def test_with_a_schedule_reviews_wait_for_the_slot(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await set_channels(bookclub)
    bookclub.clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday morning; London is on GMT
    await run(bookclub, "Mod", "config schedule", weekday=0, time="18:00", timezone="Europe/London")
    answer = await write(bookclub)
    slot = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    assert f"at the next review slot, <t:{int(slot.timestamp())}:F>" in answer
    await write(bookclub, "Bob", title="Hamnet", author="Maggie O'Farrell", rating="4", body="Grief, plague.")
    await asyncio.sleep(QUIET)
    assert posts(bookclub) == []
    bookclub.clock.set(slot - timedelta(minutes=1))
    await asyncio.sleep(QUIET)
    assert posts(bookclub) == []
    bookclub.clock.set(slot)
    first, second = await wait_posts(bookclub, 2)
    assert "Never Let Me Go" in first.text() and "Hamnet" in second.text(), "posted in the order written"

    async def rearmed() -> bool:
        job = await bookclub.store.jobs.get(guild.id, "review_slot", "weekly")
        return job is not None and job.status == "pending" and job.due_at == slot + timedelta(days=7)

    await settled(bookclub, rearmed)
    await asyncio.sleep(QUIET)
    assert len(posts(bookclub)) == 2


async def test_moderators_see_the_queue_and_announce_it_now(bookclub: Any) -> None:
    await set_channels(bookclub)
    await run(bookclub, "Mod", "config schedule", weekday=4, time="18:00", timezone="UTC")
    await write(bookclub, "Alice", title="Beloved", author="Toni Morrison", rating="5", body="Sethe.")
    await write(bookclub, "Carol", title="Piranesi", author="Susanna Clarke", rating="4", body="The House.")
    assert "Only moderators" in await run(bookclub, "Alice", "review queue")
    queue = await run(bookclub, "Mod", "review queue")
    assert queue.index("Beloved") < queue.index("Piranesi") and "Alice" in queue and "Carol" in queue
    assert "next slot" in queue
    assert "Only moderators" in await run(bookclub, "Bob", "review announce-now")
    assert posts(bookclub) == []
    announced = await run(bookclub, "Mod", "review announce-now")
    assert announced.startswith("Announcing 2 queued reviews in")
    first, second = await wait_posts(bookclub, 2)
    assert "Beloved" in first.text() and "Piranesi" in second.text()

    async def drained() -> bool:
        return await bookclub.store.reviews.queued(bookclub.double.guild_a.id) == []

    await settled(bookclub, drained)
    assert "Nothing is waiting" in await run(bookclub, "Mod", "review queue")
    assert "queue is empty" in await run(bookclub, "Mod", "review announce-now")


async def test_without_a_reviews_channel_a_review_waits_and_moderators_are_told_what_to_set(bookclub: Any) -> None:
    answer = await write(bookclub)
    assert "until a moderator chooses a reviews channel" in answer
    assert "/config channels" in await run(bookclub, "Mod", "review announce-now")
    await set_channels(bookclub)
    await run(bookclub, "Mod", "review announce-now")
    await wait_posts(bookclub, 1)


async def test_a_post_that_went_out_before_a_crash_is_found_and_not_repeated(bookclub: Any) -> None:
    guild, double = bookclub.double.guild_a, bookclub.double
    await set_channels(bookclub)
    await run(bookclub, "Mod", "config schedule", weekday=4, time="18:00", timezone="UTC")
    await write(bookclub)
    (review,) = await bookclub.store.reviews.queued(guild.id)
    channel = guild.channel("reviews")
    # What a process that died after posting and before marking leaves behind: the post, and "announcing".
    marked = await bookclub.store.reviews.mark_announcing(guild.id, review.id, channel.id)
    assert marked is not None
    embeds = [embed.to_dict() for embed in review_messages(marked)[0]]
    earlier = double.create_message(channel, double.bot_user, {"embeds": embeds})
    double.create_message(channel, guild.member("Bob").user, {"content": "Lovely review!"})
    await run(bookclub, "Mod", "review announce-now")

    async def announced() -> bool:
        done = await bookclub.store.reviews.get(guild.id, review.id)
        return done is not None and done.status == "announced"

    await settled(bookclub, announced)
    assert [message.id for message in posts(bookclub)] == [earlier.id]
    done = await bookclub.store.reviews.get(guild.id, review.id)
    assert done is not None and done.message_ids == [earlier.id]


# -- /review list --------------------------------------------------------------------------------------


async def publish(bookclub: Any, member: str, title: str, author: str, stars: int, body: str) -> None:
    guild = bookclub.double.guild_a
    store = bookclub.store
    book, _ = await store.books.find_or_create(guild.id, title, author)
    bookclub.clock.advance(timedelta(hours=1))
    review = await store.reviews.queue_review(guild.id, book.id, member_id=guild.member(member).id,
                                              reviewer_name=member, rating=stars, body=body, spoilers=None,
                                              now=bookclub.clock.now())
    await store.reviews.mark_announced(guild.id, review.id, [review.id], bookclub.clock.now())


async def test_the_list_is_newest_first_in_pages_by_book_or_member(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    for number in range(7):
        await publish(bookclub, "Alice" if number % 2 else "Bob", f"Book {number}", "Some Author", 3,
                      f"Thoughts number {number}.")
    ix = await bookclub.double.slash(guild, guild.member("Carol"), "review list", timeout=5.0)
    page = await ix.reply()
    assert page.ephemeral
    text = page.text()
    assert text.index("Book 6") < text.index("Book 5") and "Book 1" not in text and "Page 1 of 2" in text
    older = await bookclub.double.press_button(page, "Older ▶", guild.member("Carol"))
    await older.wait_acknowledged()
    assert "Page 2 of 2" in page.text() and "Book 1" in page.text() and "Book 6" not in page.text()
    by_alice = await run(bookclub, "Carol", "review list", options={"member": guild.member("Alice")})
    assert "Book 5" in by_alice and "Book 4" not in by_alice and "3 reviews" in by_alice
    by_book = await run(bookclub, "Carol", "review list", book="Book 4")
    assert "Reviews of Book 4" in by_book and "Thoughts number 4" in by_book
    assert "no book called" in await run(bookclub, "Carol", "review list", book="Moby Dick")


async def test_a_list_with_nothing_published_says_so(bookclub: Any) -> None:
    assert "No published reviews" in await run(bookclub, "Alice", "review list")


# -- the club blog's feed --------------------------------------------------------------------------------


@pytest.fixture
async def blog() -> AsyncIterator[FakeBlog]:
    async with FakeBlog() as server:
        yield server


async def poll_again(bookclub: Any) -> None:
    """The feeds' next poll, once every earlier one has run, and what it brought posted: then its outcome can be
    read (a poll is recorded a moment after its request, and a fixed pause is too short on a busy machine)."""
    await eventually(lambda: caught_up(bookclub))
    bookclub.clock.advance(timedelta(minutes=31))
    await eventually(lambda: caught_up(bookclub))


@pytest.mark.parametrize("private_feeds", [True], ids=["blog-on-loopback"])
async def test_a_blog_feed_brings_its_newest_post_then_each_new_one_once(bookclub: Any, blog: FakeBlog) -> None:
    await set_channels(bookclub)
    await run(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro")
    blog.publish("Piranesi by Susanna Clarke", "<p>Old post.</p>")
    blog.publish("Beloved – Toni Morrison", "<p>Older post.</p>")
    newest = blog.publish(NEVER, "<p>Kathy H. looks back on <em>Hailsham</em> &amp; her friends.</p>")
    await run(bookclub, "Mod", "config feed-add", url=blog.feed_url)
    (post,) = await wait_posts(bookclub, 1)
    embed = post.embeds[0]
    assert embed["title"] == "Never Let Me Go by Kazuo Ishiguro" and embed["url"] == blog.link(newest)
    assert embed["author"]["name"] == f"From the blog {BLOG_TITLE}"
    assert "Kathy H. looks back on Hailsham & her friends." in shown_text(embed["description"])
    guild = bookclub.double.guild_a
    titles = [book.title for book in await bookclub.store.books.list_all(guild.id)]
    assert titles.count("Never Let Me Go") == 1, "the club's own book, recognised from the post title"
    await poll_again(bookclub)
    assert len(posts(bookclub)) == 1 and blog.served[-1].status == 304
    blog.publish("Review: Hamnet by Maggie O'Farrell", "<p>Grief.</p>")
    await poll_again(bookclub)
    _, hamnet = await wait_posts(bookclub, 2)
    assert shown_text(hamnet.embeds[0]["title"]) == "Hamnet by Maggie O'Farrell"
    await poll_again(bookclub)
    await poll_again(bookclub)
    assert len(posts(bookclub)) == 2 and [served.status for served in blog.served[-2:]] == [304, 304]
    assert bookclub.double.pings() == []


@pytest.mark.parametrize("private_feeds", [True], ids=["blog-on-loopback"])
@pytest.mark.parametrize("failing", ["broken_url", "gone_url", "huge_url"], ids=["html-not-a-feed", "500", "huge"])
async def test_a_broken_feed_does_not_stop_the_others_and_is_reported_once(bookclub: Any, blog: FakeBlog,
                                                                           failing: str) -> None:
    await set_channels(bookclub)
    blog.publish("Piranesi by Susanna Clarke")
    failing_url = getattr(blog, failing)
    await run(bookclub, "Mod", "config feed-add", url=failing_url)
    await run(bookclub, "Mod", "config feed-add", url=blog.feed_url)
    await wait_posts(bookclub, 1)
    await poll_again(bookclub)
    assert posts(bookclub, "announcements") == []
    blog.publish("Hamnet by Maggie O'Farrell")
    await poll_again(bookclub)
    await wait_posts(bookclub, 2)
    (report,) = await wait_posts(bookclub, 1, "announcements")
    assert failing_url in report.text() and "the last 3 times" in report.text()
    await poll_again(bookclub)
    await poll_again(bookclub)
    assert len(posts(bookclub, "announcements")) == 1
    feeds = await bookclub.store.feeds.list(bookclub.double.guild_a.id)
    assert [feed.consecutive_failures for feed in feeds] == [5, 0]
    shown = await run(bookclub, "Mod", "config show")
    assert "failing" in shown

