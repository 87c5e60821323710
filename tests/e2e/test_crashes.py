"""Exactly once across real crashes: the bot process is SIGKILLed between a post and its mark, then restarted.

Each scheduled side effect is interrupted at its worst moment: Discord has taken the post (the double
records it, then holds its answer) and the bot has neither the message id nor its mark in the database.
Where a crash can only fall between two database writes, the test writes what such a crash leaves behind.
The subprocess keeps the real clock, so a job is made due by moving its `due_at` while the bot is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.store import Store
from bot.store.polls import Poll
from tests.discord_double import DiscordDouble, Guild
from tests.domain.discord_markdown import shown_text
from tests.doubles.feed_server import FakeBlog
from tests.e2e.process import BotProcess, bot_process, crash_while_held

__all__ = ["bot_process"]

# Generous: the machine is shared, and a restart replays a whole start-up.
SETTLE = 20.0
FIELDS = {"title": "Title", "author": "Author", "rating": "Rating (1–5)", "body": "Review",
          "spoilers": "Spoilers (optional, always hidden)"}

# Job kinds and keys as the jobs table holds them (rows written by earlier versions look the same).
POLL_CLOSE, FEED_POLL, REVIEW_SLOT, WEEKLY = "poll_close", "feed_poll", "review_slot", "weekly"
MEETING_REMINDER = "meeting_reminder"

async def run(double: DiscordDouble, member: str, command: str, **options: Any) -> str:
    guild = double.guild_a
    ix = await double.slash(guild, guild.member(member), command, timeout=10.0, **options)
    return shown_text((await ix.reply(timeout=10.0)).text())


@asynccontextmanager
async def database(process: BotProcess) -> AsyncIterator[Store]:
    """The bot's own database, opened beside it (WAL lets the test read while the bot runs)."""
    async with Store(process.database) as store:
        yield store


async def settled(process: BotProcess, check: Callable[[Store], Awaitable[bool]]) -> None:
    """Waits until the bot's database says what `check` wants: the bot's mark follows its post by a moment."""
    async with database(process) as store:
        deadline = asyncio.get_running_loop().time() + SETTLE
        while not await check(store):
            assert asyncio.get_running_loop().time() < deadline, f"the bot did not settle:\n{process.output()}"
            await asyncio.sleep(0.05)


def bot_posts(double: DiscordDouble, guild: Guild, channel: str) -> list[Any]:
    return double.bot_messages(guild.channel(channel))


# -- the review slot -----------------------------------------------------------------------------------------


async def test_a_review_posted_just_before_a_crash_is_posted_once_and_marked(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    guild = double.guild_a
    reviews = guild.channel("reviews")
    await bot_process.start()
    await run(double, "Mod", "config channels", reviews=reviews)
    # A slot days away, so the real clock never reaches it during the test.
    slot = datetime.now(UTC) + timedelta(days=3)
    await run(double, "Mod", "config schedule", weekday=slot.weekday(), time="12:00", timezone="UTC")
    # Long enough to be announced in two messages, so the bot can also die between them.
    body = ("Quietly devastating?! Yes... (mostly) -- 'I think'. " * 80)[:4000]
    opened = await double.slash(guild, guild.member("Alice"), "review write", timeout=10.0)
    submitted = await double.submit_modal(opened, {FIELDS["title"]: "Never Let Me Go",
                                                   FIELDS["author"]: "Kazuo Ishiguro", FIELDS["rating"]: "5",
                                                   FIELDS["body"]: body, FIELDS["spoilers"]: "Hailsham. " * 100},
                                          timeout=10.0)
    assert "Saved." in (await submitted.reply(timeout=10.0)).text()
    bot_process.kill()

    async with database(bot_process) as store:
        (review,) = await store.reviews.queued(guild.id)
        # The slot came while the bot was down: it is due the moment the bot is back.
        await store.jobs.schedule(guild.id, REVIEW_SLOT, WEEKLY, datetime.now(UTC) - timedelta(minutes=1))

    posts = rf"/channels/{reviews.id}/messages$"
    await crash_while_held(bot_process, "POST", posts)
    (first,) = bot_posts(double, guild, "reviews")
    # Back up, it finds the first part, posts the second and dies again before writing either down.
    await crash_while_held(bot_process, "POST", posts)
    first_again, second = bot_posts(double, guild, "reviews")
    assert first_again.id == first.id
    async with database(bot_process) as store:
        stored = await store.reviews.get(guild.id, review.id)
        assert stored is not None and stored.status == "announcing" and stored.message_ids == []

    await bot_process.start()

    async def announced(store: Store) -> bool:
        done = await store.reviews.get(guild.id, review.id)
        weekly = await store.jobs.get(guild.id, REVIEW_SLOT, WEEKLY)
        # The slot's job is rescheduled a moment after the review is marked: wait for both.
        return (done is not None and done.status == "announced"
                and weekly is not None and weekly.status == "pending")

    await settled(bot_process, announced)
    assert [message.id for message in bot_posts(double, guild, "reviews")] == [first.id, second.id]
    assert [message.embeds[-1]["footer"]["text"] for message in (first, second)] == [
        f"Review #{review.id} · part 1 of 2", f"Review #{review.id} · part 2 of 2"]
    async with database(bot_process) as store:
        done = await store.reviews.get(guild.id, review.id)
        assert done is not None and done.message_ids == [first.id, second.id]
        weekly = await store.jobs.get(guild.id, REVIEW_SLOT, WEEKLY)
        assert weekly is not None and weekly.status == "pending" and weekly.due_at > datetime.now(UTC)
    listed = await run(double, "Carol", "review list")
    assert "Never Let Me Go" in listed and "Quietly devastating" in listed
    assert double.pings() == []


# -- the poll close ------------------------------------------------------------------------------------------

NOMINATIONS = (("Alice", "Piranesi", "Susanna Clarke"), ("Bob", "Hamnet", "Maggie O'Farrell"),
               ("Carol", "Beloved", "Toni Morrison"))


async def rank(double: DiscordDouble, poll_message: Any, member_name: str, choices: list[str]) -> None:
    """Press Vote, pick the books in order and submit."""
    member = double.guild_a.member(member_name)
    ballot = await (await double.press_button(poll_message, "Vote", member, timeout=10.0)).reply(timeout=10.0)
    for choice in choices:
        menu = next(c for c in ballot.components_flat() if c.get("type") == 3)
        await double.select(ballot, menu["custom_id"], [choice], member, timeout=10.0)
    await double.press_button(ballot, "Submit ballot", member, timeout=10.0)
    assert "Your ballot is in" in shown_text(ballot.text())


async def test_a_poll_due_at_a_crash_announces_once_and_records_its_winner_once(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    guild = double.guild_a
    await bot_process.start()
    await run(double, "Mod", "config channels", polls=guild.channel("polls"),
              announcements=guild.channel("announcements"))
    for member, title, author in NOMINATIONS:
        assert (await run(double, member, "nominate add", title=title, author=author)).startswith("You nominated")
    # An hour, not the shortest minute: a busy machine may take that long to vote and chat, and the close must not
    # come before the crash. The real clock never reaches it; the close is made due below.
    assert (await run(double, "Mod", "poll start", closes_in="1h", mode="ranked")).startswith("Poll #")
    (poll_message,) = bot_posts(double, guild, "polls")
    await rank(double, poll_message, "Alice", ["Hamnet by Maggie O'Farrell"])
    await rank(double, poll_message, "Bob", ["Hamnet by Maggie O'Farrell", "Piranesi by Susanna Clarke"])
    await rank(double, poll_message, "Carol", ["Beloved by Toni Morrison"])
    announcements = guild.channel("announcements")
    # A lively channel: more chat while the poll runs than one page of history holds.
    for number in range(110):
        await double.post_message(announcements, guild.member(NOMINATIONS[number % 3][0]), f"Chat {number}")
    bot_process.kill()

    async with database(bot_process) as store:
        poll = await store.polls.running(guild.id)
        assert poll is not None
        # The close is made due now rather than at the real clock's hour.
        await store.jobs.schedule(guild.id, POLL_CLOSE, str(poll.id), datetime.now(UTC) - timedelta(seconds=1))

    await crash_while_held(bot_process, "POST", rf"/channels/{announcements.id}/messages$")
    (posted,) = bot_posts(double, guild, "announcements")
    async with database(bot_process) as store:
        interrupted = await store.polls.get(guild.id, poll.id)
        assert interrupted is not None and interrupted.announcement_message_id is None

    await bot_process.start()

    async def recorded(store: Store) -> bool:
        closed = await store.polls.get(guild.id, poll.id)
        job = await store.jobs.get(guild.id, POLL_CLOSE, str(poll.id))
        return bool(closed and closed.announcement_message_id and job and job.status == "done")

    await settled(bot_process, recorded)
    assert [message.id for message in bot_posts(double, guild, "announcements")] == [posted.id]
    assert posted.embeds[0]["title"] == "Next read: Hamnet"
    async with database(bot_process) as store:
        closed = await store.polls.get(guild.id, poll.id)
        assert closed is not None and closed.announcement_message_id == posted.id
        reads = await store.history.reads(guild.id)
        assert [(read.book.title, read.status, read.source) for read in reads] == [("Hamnet", "planned", "poll")]
        assert await store.polls.nominations(guild.id) == []
    assert "Hamnet by Maggie O'Farrell: planned" in await run(double, "Alice", "club history")
    assert "No poll is running." in await run(double, "Mod", "poll close")
    assert len(bot_posts(double, guild, "announcements")) == 1
    assert double.pings() == []


async def close_unrecorded_poll_after_restart(bot_process: BotProcess, guild: Guild) -> Poll:
    """The running poll, whose message the crash left unrecorded, is made due now (rather than at the real clock's
    minute or hour) and closed by the restarted bot; returns the poll as it was before the restart."""
    async with database(bot_process) as store:
        poll = await store.polls.running(guild.id)
        assert poll is not None and poll.message_id is None
        await store.jobs.schedule(guild.id, POLL_CLOSE, str(poll.id), datetime.now(UTC) - timedelta(seconds=1))
    await bot_process.start()

    async def closed(store: Store) -> bool:
        job = await store.jobs.get(guild.id, POLL_CLOSE, str(poll.id))
        return job is not None and job.status == "done"

    await settled(bot_process, closed)
    return poll


async def test_votes_in_a_poll_posted_just_before_a_crash_are_counted(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    guild = double.guild_a
    polls = guild.channel("polls")

    async def start_a_native_poll() -> None:
        await run(double, "Mod", "config channels", polls=polls, announcements=guild.channel("announcements"))
        for member, title, author in NOMINATIONS:
            await run(double, member, "nominate add", title=title, author=author)
        await double.slash(guild, guild.member("Mod"), "poll start", closes_in="1m", timeout=10.0)

    # The bot dies after Discord took the poll and before it wrote down the poll's message.
    await crash_while_held(bot_process, "POST", rf"/channels/{polls.id}/messages$", start_a_native_poll)
    (poll_message,) = bot_posts(double, guild, "polls")
    for member, answer in (("Alice", 3), ("Bob", 3), ("Carol", 1)):
        await double.vote_native(poll_message, answer, guild.member(member))
    poll = await close_unrecorded_poll_after_restart(bot_process, guild)
    (announcement,) = bot_posts(double, guild, "announcements")
    assert announcement.embeds[0]["title"] == "Next read: Beloved"
    assert "Won with 2 votes of 3." in shown_text(announcement.text())
    assert poll_message.poll is not None and poll_message.poll.finalized
    async with database(bot_process) as store:
        reads = await store.history.reads(guild.id)
        assert [(read.book.title, read.status) for read in reads] == [("Beloved", "planned")]
        recorded = await store.polls.get(guild.id, poll.id)
        assert recorded is not None and recorded.message_id == poll_message.id


async def test_a_ranked_poll_posted_just_before_a_crash_is_found_and_retired_at_its_close(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    guild = double.guild_a
    polls = guild.channel("polls")

    async def start_a_ranked_poll() -> None:
        await run(double, "Mod", "config channels", polls=polls, announcements=guild.channel("announcements"))
        for member, title, author in NOMINATIONS:
            await run(double, member, "nominate add", title=title, author=author)
        await double.slash(guild, guild.member("Mod"), "poll start", closes_in="1h", mode="ranked", timeout=10.0)

    # The bot dies after Discord took the poll's message and before it wrote the message down.
    await crash_while_held(bot_process, "POST", rf"/channels/{polls.id}/messages$", start_a_ranked_poll)
    (poll_message,) = bot_posts(double, guild, "polls")
    poll = await close_unrecorded_poll_after_restart(bot_process, guild)
    # Its Vote button is gone and it says the poll is closed: the close found the message by its button's id.
    assert poll_message.components == []
    assert [field["name"] for field in poll_message.embeds[0]["fields"]] == ["Closed"]
    async with database(bot_process) as store:
        recorded = await store.polls.get(guild.id, poll.id)
        assert recorded is not None and recorded.message_id == poll_message.id
    assert len(bot_posts(double, guild, "polls")) == 1


# -- the club blog's feed ------------------------------------------------------------------------------------


@pytest.fixture
async def blog() -> AsyncIterator[FakeBlog]:
    async with FakeBlog() as server:
        yield server


async def test_feed_posts_are_queued_once_and_posted_once_across_a_crash(
    double: DiscordDouble, bot_process: BotProcess, blog: FakeBlog
) -> None:
    guild = double.guild_a
    reviews = guild.channel("reviews")
    blog.publish("Piranesi by Susanna Clarke", "<p>A house of endless halls.</p>")
    # The blog is served on loopback, which the bot refuses unless the operator allows it.
    bot_process.extra_env["FEED_ALLOW_PRIVATE_ADDRESSES"] = "true"

    async def follow_the_blog() -> None:
        await run(double, "Mod", "config channels", reviews=reviews)
        await run(double, "Mod", "config feed-add", url=blog.feed_url)

    # No weekly slot: the post is announced as soon as the feed brings it, and the bot dies on that post.
    await crash_while_held(bot_process, "POST", rf"/channels/{reviews.id}/messages$", follow_the_blog)
    (piranesi,) = bot_posts(double, guild, "reviews")
    assert "Piranesi" in piranesi.text()

    blog.publish("Hamnet by Maggie O'Farrell", "<p>Grief, and a glove-maker's son.</p>")
    async with database(bot_process) as store:
        (feed,) = await store.feeds.list(guild.id)
        # The next poll is half an hour off on the real clock; the blog's new post is made due now.
        await store.jobs.schedule(guild.id, FEED_POLL, f"feed:{feed.id}", datetime.now(UTC), {"feed_id": feed.id})
    served = len(blog.served)
    await bot_process.start()

    async def both_announced(store: Store) -> bool:
        queue = await store.reviews.queued(guild.id)
        return not queue and await store.reviews.count_published(guild.id) == 2

    await settled(bot_process, both_announced)
    posted = bot_posts(double, guild, "reviews")
    assert [message.id for message in posted[:1]] == [piranesi.id]
    assert len(posted) == 2 and "Hamnet" in posted[1].text()
    assert len(blog.served) == served + 1, "the overdue poll ran once"
    async with database(bot_process) as store:
        # Queued once each: two reviews in all, none waiting, each with its one post.
        published = await store.reviews.published(guild.id)
        assert sorted((review.book_title, tuple(review.message_ids)) for review in published) == sorted(
            [("Piranesi", (piranesi.id,)), ("Hamnet", (posted[1].id,))])
    assert double.pings() == []


# -- what start-up picks up ----------------------------------------------------------------------------------


async def test_after_a_crash_an_overdue_slot_runs_once_and_nothing_is_left_unscheduled(
    double: DiscordDouble, bot_process: BotProcess, blog: FakeBlog
) -> None:
    a, b = double.guild_a, double.guild_b
    now = datetime.now(UTC)
    blog.publish("Piranesi by Susanna Clarke", "<p>A house of endless halls.</p>")
    bot_process.extra_env["FEED_ALLOW_PRIVATE_ADDRESSES"] = "true"
    async with database(bot_process) as store:
        await store.migrate()
        for guild in (a, b):
            await store.config.set_channels(guild.id, {kind: guild.channel(kind).id
                                                       for kind in ("reviews", "polls", "announcements")})
        # Guild A's weekly slot passed three times while the bot was down, with two reviews waiting.
        await store.config.set_schedule(a.id, (now + timedelta(days=3)).weekday(), "12:00", "UTC")
        for member, title in (("Alice", "Piranesi"), ("Bob", "Hamnet")):
            book, _ = await store.books.find_or_create(a.id, title, "Someone")
            await store.reviews.queue_review(a.id, book.id, member_id=a.member(member).id, reviewer_name=member,
                                             rating=4, body=f"{member} on {title}.", spoilers=None, now=now)
        await store.jobs.schedule(a.id, REVIEW_SLOT, WEEKLY, now - timedelta(weeks=3))
        # Guild B posts reviews at once; the process died after storing Carol's and before scheduling its post.
        book, _ = await store.books.find_or_create(b.id, "Beloved", "Toni Morrison")
        await store.reviews.queue_review(b.id, book.id, member_id=b.member("Carol").id, reviewer_name="Carol",
                                         rating=5, body="Haunting.", spoilers=None, now=now)
        # And it died between opening a poll, whose time is up, and scheduling its close.
        for member, title in (("Alice", "Middlemarch"), ("Bob", "Orlando")):
            book, _ = await store.books.find_or_create(b.id, title)
            await store.polls.nominate(b.id, book.id, b.member(member).id, now=now - timedelta(hours=2))
        poll = await store.polls.start(b.id, mode="ranked", channel_id=b.channel("polls").id,
                                       started_by=b.member("Mod").id, now=now - timedelta(hours=1), closes_at=now)
        # And between adding the club blog's feed and scheduling its first poll.
        assert await store.feeds.add(b.id, blog.feed_url) is not None

    await bot_process.start()

    async def nothing_waits(store: Store) -> bool:
        weekly = await store.jobs.get(a.id, REVIEW_SLOT, WEEKLY)
        closed = await store.polls.get(b.id, poll.id)
        return (not await store.reviews.queued(a.id) and not await store.reviews.queued(b.id)
                and await store.reviews.count_published(b.id) == 2
                and weekly is not None and weekly.status == "pending" and weekly.due_at > now
                and closed is not None and closed.announcement_message_id is not None
                # Each job is marked a moment after its posts, and the feed's post arms a one-off announcement that
                # runs (finding nothing left) after another has posted everything: none may still run or be due.
                and not [job for guild in (a, b) for job in await store.jobs.list_for_guild(guild.id)
                         if job.status == "running" or (job.status == "pending" and job.due_at <= datetime.now(UTC))])

    await settled(bot_process, nothing_waits)
    assert [len(bot_posts(double, guild, "reviews")) for guild in (a, b)] == [2, 2]
    assert "Piranesi" in bot_posts(double, b, "reviews")[-1].text()
    (result,) = bot_posts(double, b, "announcements")
    assert result.embeds[0]["title"] == "The poll closed without a winner"
    async with database(bot_process) as store:
        weekly = await store.jobs.get(a.id, REVIEW_SLOT, WEEKLY)
        assert weekly is not None and weekly.due_at.weekday() == (now + timedelta(days=3)).weekday()
        jobs = {(job.kind, job.status) for job in await store.jobs.list_for_guild(b.id)}
        assert jobs == {(REVIEW_SLOT, "done"), (POLL_CLOSE, "done"), (FEED_POLL, "pending")}
        assert len(await store.polls.nominations(b.id, waiting_only=True)) == 2
    assert await bot_process.stop() == 0, "Ctrl-C stops the bot cleanly"


# -- meeting reminders ---------------------------------------------------------------------------------------


async def test_a_meeting_reminder_posted_just_before_a_crash_is_posted_once(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    guild = double.guild_a
    announcements = guild.channel("announcements")
    role = double.bot_role(guild)
    double.set_role_permissions(role, discord.Permissions(role.permissions) | discord.Permissions(manage_events=True))
    await bot_process.start()
    await run(double, "Mod", "config channels", announcements=announcements)
    # Days away on the real clock, so only the test makes a reminder due.
    when = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")
    assert "Scheduled meeting #1" in await run(double, "Mod", "meeting schedule", when=when, where="Library")
    bot_process.kill()

    async with database(bot_process) as store:
        await store.jobs.schedule(guild.id, MEETING_REMINDER, "1:day", datetime.now(UTC) - timedelta(minutes=1),
                                  (await store.jobs.get(guild.id, MEETING_REMINDER, "1:day")).payload)  # type: ignore[union-attr]

    await crash_while_held(bot_process, "POST", rf"/channels/{announcements.id}/messages$")
    (posted,) = bot_posts(double, guild, "announcements")
    async with database(bot_process) as store:
        meeting = await store.meetings.get(guild.id, 1)
        assert meeting is not None
        assert await store.meetings.reminder(guild.id, 1, "day", meeting.starts_at) is None

    await bot_process.start()

    async def recorded(store: Store) -> bool:
        job = await store.jobs.get(guild.id, MEETING_REMINDER, "1:day")
        return job is not None and job.status == "done"

    await settled(bot_process, recorded)
    assert [message.id for message in bot_posts(double, guild, "announcements")] == [posted.id]
    async with database(bot_process) as store:
        found = await store.meetings.reminder(guild.id, 1, "day", meeting.starts_at)
        assert found is not None and found.message_id == posted.id


async def test_a_meeting_event_created_just_before_a_crash_is_recorded_at_the_restart(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    guild = double.guild_a
    role = double.bot_role(guild)
    double.set_role_permissions(role, discord.Permissions(role.permissions) | discord.Permissions(manage_events=True))
    when = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")

    async def schedule() -> None:
        await double.slash(guild, guild.member("Mod"), "meeting schedule", timeout=10.0, when=when, where="Library")

    # Discord creates the event; the bot dies before it hears the event's id.
    await crash_while_held(bot_process, "POST", rf"/guilds/{guild.id}/scheduled-events$", schedule)
    [event] = double.events.of(guild)
    async with database(bot_process) as store:
        [meeting] = await store.meetings.scheduled(guild.id)
        assert meeting.event_id is None

    await bot_process.start()

    async def armed(store: Store) -> bool:
        found = await store.meetings.get(guild.id, meeting.id)
        return found is not None and found.event_id == event.id and await store.jobs.get(
            guild.id, MEETING_REMINDER, f"{meeting.id}:hour") is not None

    await settled(bot_process, armed)
    assert double.events.of(guild) == [event]
