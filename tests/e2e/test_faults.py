"""Faults at the seams, through the doubles: Discord refusing or failing exactly between two steps of the bot's work,
and a database held by another program just after Discord said yes. Nothing is lost or posted twice, nobody is told
something untrue, and the bot goes on."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from cogs._shared.replies import BUSY
from tests.domain.discord_markdown import shown_text
from tests.e2e.helpers import caught_up, eventually, pass_time, statuses

# The bot's own wait for a held database is 2 s; shortened so that a held database fails the write quickly here.
SHORT_BUSY_TIMEOUT_MS = 200
RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.2}
SERVER_ERROR = {"message": "503: Service Unavailable", "code": 0}
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}
QUIET = 0.3


async def run(bookclub: Any, who: str, command: str, **options: Any) -> Any:
    """The member runs the command; returns its first visible answer."""
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(who), command, timeout=5.0, **options)
    return await ix.reply(timeout=10.0)


async def text(bookclub: Any, who: str, command: str, **options: Any) -> str:
    return (await run(bookclub, who, command, **options)).text()


async def write_review(bookclub: Any, who: str, body: str) -> str:
    guild = bookclub.double.guild_a
    opened = await bookclub.double.slash(guild, guild.member(who), "review write", timeout=5.0)
    values = {"Title": "Never Let Me Go", "Author": "Kazuo Ishiguro", "Rating (1–5)": "4", "Review": body}
    return (await (await bookclub.double.submit_modal(opened, values, timeout=5.0)).reply(timeout=10.0)).text()


def channel_path(bookclub: Any, name: str) -> str:
    return rf"/channels/{bookclub.double.guild_a.channel(name).id}/messages$"


def posts(bookclub: Any, channel: str) -> list[Any]:
    return bookclub.double.bot_messages(bookclub.double.guild_a.channel(channel))


def post_statuses(bookclub: Any, channel: str) -> list[int | None]:
    return [request.status for request in bookclub.double.find_requests("POST", channel_path(bookclub, channel))]


def reviews_are(bookclub: Any, *expected: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await statuses(bookclub) == list(expected)
    return check


@asynccontextmanager
async def database_held(bookclub: Any) -> AsyncIterator[None]:
    """Another program (a backup, an operator's sqlite3 shell) holds the write lock until the block ends."""
    await bookclub.store.db.conn.execute(f"PRAGMA busy_timeout = {SHORT_BUSY_TIMEOUT_MS}")
    other = sqlite3.connect(bookclub.settings.database_path, isolation_level=None, check_same_thread=False)
    try:
        # Off the event loop: the lock may have to wait for a write the bot is finishing.
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def reviews_and_announcements(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await text(bookclub, "Mod", "config channels", reviews=guild.channel("reviews"),
               announcements=guild.channel("announcements"))


# -- reviews --------------------------------------------------------------------------------------------------


async def test_discord_refusing_the_post_keeps_every_review_and_tells_the_moderators_once(bookclub: Any) -> None:
    # The bot's view of its permissions says it may post; Discord refuses anyway (a permission changed in between).
    await reviews_and_announcements(bookclub)
    refused = bookclub.double.fail_next("POST", channel_path(bookclub, "reviews"), 403, MISSING_PERMISSIONS, times=2)
    await write_review(bookclub, "Alice", "Alice on Hailsham.")
    await eventually(lambda: _answered(bookclub, 1))
    await write_review(bookclub, "Bob", "Bob on Hailsham.")
    await eventually(lambda: _answered(bookclub, 2))
    await pass_time(bookclub, timedelta(hours=1), 6)
    assert refused.hits == 2 and post_statuses(bookclub, "reviews") == [403, 403], "not retried in a loop"
    jobs = await bookclub.store.jobs.list_for_guild(bookclub.double.guild_a.id)
    assert {(job.kind, job.status) for job in jobs} == {("review_slot", "done")}
    assert [status in ("queued", "announcing") for status in await statuses(bookclub)] == [True, True]
    [notice] = posts(bookclub, "announcements")
    assert "Missing Permissions" in notice.text() and "/review announce-now" in notice.text()

    announced = await text(bookclub, "Mod", "review announce-now")
    assert announced.startswith("Announcing 2 queued reviews")
    await eventually(reviews_are(bookclub, "announced", "announced"))
    await asyncio.sleep(QUIET)
    texts = [post.text() for post in posts(bookclub, "reviews")]
    assert len(texts) == 2 and "Alice's review" in texts[0] and "Bob's review" in texts[1]
    assert len(posts(bookclub, "announcements")) == 1 and bookclub.double.pings() == []


async def test_a_global_rate_limit_on_a_post_is_waited_out_and_the_review_goes_out_once(bookclub: Any) -> None:
    await reviews_and_announcements(bookclub)
    limited = bookclub.double.fail_next("POST", channel_path(bookclub, "reviews"), 429,
                                        {**RATE_LIMITED, "global": True},
                                        headers={"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
    await write_review(bookclub, "Alice", "Alice on Hailsham.")
    await eventually(reviews_are(bookclub, "announced"))
    await asyncio.sleep(QUIET)
    assert limited.hits == 1 and post_statuses(bookclub, "reviews") == [429, 200]
    assert "Book club settings" in await text(bookclub, "Mod", "config show")


@pytest.mark.sqlite_only
async def test_a_database_held_between_the_post_and_its_record_still_posts_the_review_once(bookclub: Any) -> None:
    await reviews_and_announcements(bookclub)
    held_post = bookclub.double.hold("POST", channel_path(bookclub, "reviews"))
    await write_review(bookclub, "Alice", "Alice on Hailsham.")
    await held_post.wait_hit()
    async with database_held(bookclub):
        # Discord has the post; the bot cannot write down that it made it.
        held_post.release()
        await asyncio.sleep(1.0)
        assert await statuses(bookclub) == ["announcing"] and len(posts(bookclub, "reviews")) == 1
    await pass_time(bookclub, timedelta(minutes=2), 4)
    await eventually(reviews_are(bookclub, "announced"))
    await asyncio.sleep(QUIET)
    assert post_statuses(bookclub, "reviews") == [200], "posted once, found again rather than posted twice"
    assert "Alice's review" in posts(bookclub, "reviews")[0].text()


@pytest.mark.sqlite_only
async def test_a_database_held_over_the_weekly_slot_only_delays_it(bookclub: Any) -> None:
    await reviews_and_announcements(bookclub)
    await text(bookclub, "Mod", "config schedule", weekday=0, time="10:00", timezone="UTC")
    await write_review(bookclub, "Alice", "Alice on Hailsham.")
    async with database_held(bookclub):
        bookclub.clock.set(bookclub.clock.now().replace(hour=10, minute=1))
        await asyncio.sleep(1.0)
        refused = await run(bookclub, "Bob", "nominate add", title="Hamnet", author="Maggie O'Farrell")
        assert refused.ephemeral and refused.text() == BUSY
        assert posts(bookclub, "reviews") == []
    await pass_time(bookclub, timedelta(minutes=2), 3)
    await eventually(reviews_are(bookclub, "announced"))
    # The slot's job is rescheduled a moment after the review is marked.
    await eventually(lambda: caught_up(bookclub))
    await asyncio.sleep(QUIET)
    assert len(posts(bookclub, "reviews")) == 1
    job = await bookclub.store.jobs.get(bookclub.double.guild_a.id, "review_slot", "weekly")
    assert job is not None and job.status == "pending" and job.due_at > bookclub.clock.now(), "next week is armed"



async def test_one_servers_hung_discord_call_does_not_hold_up_another_servers_reviews(bookclub: Any) -> None:
    double, other = bookclub.double, bookclub.double.guild_b
    await reviews_and_announcements(bookclub)
    configured = await double.slash(other, other.member("Mod"), "config channels", timeout=5.0,
                                    reviews=other.channel("reviews"))
    await configured.reply(timeout=10.0)
    # Discord takes guild A's post and does not answer (a long rate limit, a stuck connection).
    hung = double.hold("POST", channel_path(bookclub, "reviews"))
    await write_review(bookclub, "Alice", "Alice on Hailsham.")
    await hung.wait_hit()
    opened = await double.slash(other, other.member("Bob"), "review write", timeout=5.0)
    values = {"Title": "Piranesi", "Author": "Susanna Clarke", "Rating (1–5)": "5", "Review": "Bob in the House."}
    await (await double.submit_modal(opened, values, timeout=5.0)).reply(timeout=10.0)
    try:
        assert await double.wait_until(lambda: len(double.bot_messages(other.channel("reviews"))) == 1, 20.0)
    finally:
        hung.release()
    await eventually(reviews_are(bookclub, "announced"))
    await asyncio.sleep(QUIET)
    assert post_statuses(bookclub, "reviews") == [200] and len(posts(bookclub, "reviews")) == 1

# -- the gateway ----------------------------------------------------------------------------------------------


async def test_a_command_sent_while_the_gateway_is_down_is_answered_after_the_resume(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    double.drop_gateway()
    ix = await double.slash(guild, guild.member("Alice"), "nominate add", timeout=5.0, title="Piranesi",
                            author="Susanna Clarke")
    assert (await ix.reply(timeout=10.0)).text().startswith("You nominated **Piranesi** by Susanna Clarke.")
    assert double.sessions[0].resumes == 1 and len(double.sessions) == 1
    assert [n.book.title for n in await bookclub.store.polls.nominations(guild.id)] == ["Piranesi"]


# -- polls ----------------------------------------------------------------------------------------------------


async def open_poll(bookclub: Any) -> Any:
    """Two nominations, a one-hour Discord poll, Bob's book ahead on votes; returns the poll message."""
    double, guild = bookclub.double, bookclub.double.guild_a
    await text(bookclub, "Mod", "config channels", polls=guild.channel("polls"),
               announcements=guild.channel("announcements"))
    await text(bookclub, "Alice", "nominate add", title="Piranesi", author="Susanna Clarke")
    await text(bookclub, "Bob", "nominate add", title="Hamnet", author="Maggie O'Farrell")
    started = await text(bookclub, "Mod", "poll start", closes_in="1h")
    assert started.startswith("Poll #1 is up"), started
    [message] = posts(bookclub, "polls")
    for member in ("Alice", "Bob"):
        await double.vote_native(message, 2, guild.member(member))
    return message


@pytest.mark.sqlite_only
async def test_a_poll_result_that_meets_a_server_error_then_a_held_database_is_announced_once(bookclub: Any) -> None:
    double = bookclub.double
    await open_poll(bookclub)
    path = channel_path(bookclub, "announcements")
    failed = double.fail_next("POST", path, 503, SERVER_ERROR)
    bookclub.clock.advance(timedelta(hours=1))
    await eventually(lambda: _async(failed.hits == 1))
    # The close records its retry (30 s on the clock) a moment after Discord's 503: the clock moves past it only then.
    await eventually(lambda: caught_up(bookclub))
    held_post = double.hold("POST", path)
    # Not `pass_time`: the retry's post is held, so the bot cannot catch up until it is released.
    bookclub.clock.advance(timedelta(minutes=2))
    await held_post.wait_hit()
    async with database_held(bookclub):
        held_post.release()
        await asyncio.sleep(1.0)
    await pass_time(bookclub, timedelta(minutes=5), 4)
    assert await double.wait_until(lambda: _poll_announced(bookclub), 20.0)
    await asyncio.sleep(QUIET)
    assert post_statuses(bookclub, "announcements") == [503, 200]
    [result] = posts(bookclub, "announcements")
    assert "Next read: Hamnet" in result.text()
    assert "Hamnet by Maggie O'Farrell: planned" in shown_text(await text(bookclub, "Carol", "club history"))


@pytest.mark.sqlite_only
async def test_a_poll_posted_just_before_the_database_is_held_is_reported_as_up_and_still_counts(
        bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await text(bookclub, "Mod", "config channels", polls=guild.channel("polls"),
               announcements=guild.channel("announcements"))
    await text(bookclub, "Alice", "nominate add", title="Piranesi", author="Susanna Clarke")
    await text(bookclub, "Bob", "nominate add", title="Hamnet", author="Maggie O'Farrell")
    held_post = double.hold("POST", channel_path(bookclub, "polls"))
    ix = await double.slash(guild, guild.member("Mod"), "poll start", timeout=5.0, closes_in="1h")
    await held_post.wait_hit()
    async with database_held(bookclub):
        held_post.release()
        answer = await ix.reply(timeout=10.0)
    assert answer.text().startswith("Poll #1 is up"), "the poll is on Discord: saying nothing changed would be untrue"
    [message] = posts(bookclub, "polls")
    for member in ("Alice", "Bob", "Carol"):
        await double.vote_native(message, 1, guild.member(member))
    bookclub.clock.advance(timedelta(hours=1))
    result = await double.wait_for_message(guild.channel("announcements"), lambda m: "Next read" in m.text())
    assert "Next read: Piranesi" in result.text()
    assert len([post for post in posts(bookclub, "polls") if post.content.startswith("Vote for")]) == 1



@pytest.mark.sqlite_only
async def test_a_ranked_ballot_refused_by_a_held_database_can_be_submitted_again_and_counts_once(
        bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    alice = guild.member("Alice")
    await text(bookclub, "Mod", "config channels", polls=guild.channel("polls"),
               announcements=guild.channel("announcements"))
    await text(bookclub, "Alice", "nominate add", title="Piranesi", author="Susanna Clarke")
    await text(bookclub, "Bob", "nominate add", title="Hamnet", author="Maggie O'Farrell")
    await text(bookclub, "Mod", "poll start", closes_in="1h", mode="ranked")
    [poll_message] = posts(bookclub, "polls")
    ballot = await (await double.press_button(poll_message, "Vote", alice)).reply()
    for choice in ("Hamnet by Maggie O'Farrell", "Piranesi by Susanna Clarke"):
        menu = next(c for c in ballot.components_flat() if c.get("type") == 3)
        await double.select(ballot, menu["custom_id"], [choice], alice)
    async with database_held(bookclub):
        refused = await (await double.press_button(ballot, "Submit ballot", alice)).reply()
        assert refused.ephemeral and refused.text() == BUSY
    assert await bookclub.store.polls.ballot_count(guild.id, 1) == 0

    # The ballot keeps the ranking in its buttons: the same Submit works once the database is free.
    await double.press_button(ballot, "Submit ballot", alice)
    assert shown_text(ballot.text()).startswith("Your ballot is in:\n1. Hamnet by Maggie O'Farrell\n2. Piranesi")
    assert await bookclub.store.polls.ballot_count(guild.id, 1) == 1
    assert "the winner is **Hamnet**" in await text(bookclub, "Mod", "poll close")

# -- discussions ----------------------------------------------------------------------------------------------


async def discuss_start_failing_at_the_second_thread(bookclub: Any, status: int, body: Any) -> tuple[Any, Any]:
    """`/discuss start` of three sections, with Discord answering `status` to the second thread it makes."""
    double, guild = bookclub.double, bookclub.double.guild_a
    discussions = guild.channel("discussions")
    await text(bookclub, "Mod", "config channels", discussions=discussions)
    threads = rf"/channels/{discussions.id}/threads$"
    first = double.hold("POST", threads)
    ix = await double.slash(guild, guild.member("Mod"), "discuss start", timeout=5.0,
                            book="Never Let Me Go by Kazuo Ishiguro", sections="Part 1, Part 2, Part 3")
    await first.wait_hit()
    fault = double.fail_next("POST", threads, status, body)
    first.release()
    return await ix.reply(timeout=10.0), fault


async def test_discord_failing_halfway_through_discuss_start_leaves_no_threads_and_says_what_happened(
        bookclub: Any) -> None:
    double, discussions = bookclub.double, bookclub.double.guild_a.channel("discussions")
    answer, _ = await discuss_start_failing_at_the_second_thread(bookclub, 503, SERVER_ERROR)
    assert answer.ephemeral and "Discord" in answer.text() and "503" in answer.text()
    assert "try again" in answer.text().lower()
    await asyncio.sleep(QUIET)
    assert double.threads(discussions) == [], "no half-made discussion is left"

    started = await text(bookclub, "Mod", "discuss start", book="Never Let Me Go", sections="Part 1, Part 2, Part 3")
    assert started.startswith("Started the discussion of **Never Let Me Go**")
    assert len(double.threads(discussions)) == 4


@pytest.mark.sqlite_only
async def test_progress_while_the_database_is_held_says_what_it_did_and_a_retry_records_it(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    discussions = guild.channel("discussions")
    await text(bookclub, "Mod", "config channels", discussions=discussions)
    await text(bookclub, "Mod", "discuss start", book="Never Let Me Go by Kazuo Ishiguro", sections="Part 1, Part 2")
    part_1 = next(t for t in double.threads(discussions) if t.name.endswith("Part 1"))
    alice = guild.member("Alice")
    held_add = double.hold("PUT", rf"/channels/{part_1.id}/thread-members/{alice.id}$")
    ix = await double.slash(guild, alice, "progress", timeout=5.0, section="Part 1")
    await held_add.wait_hit()
    async with database_held(bookclub):
        held_add.release()
        answer = await ix.reply(timeout=10.0)
    assert answer.ephemeral and alice in double.thread_members(part_1)
    assert "nothing was changed" not in answer.text(), "the member was added: saying nothing changed is untrue"
    assert "/progress" in answer.text() and "again" in answer.text()
    assert "not recorded yet" in await text(bookclub, "Alice", "progress")

    again = await text(bookclub, "Alice", "progress", section="Part 1")
    assert again.startswith("Recorded: you've read up to **Part 1** of **Never Let Me Go**")
    assert "not recorded yet" not in await text(bookclub, "Alice", "progress")


@pytest.mark.sqlite_only
async def test_poll_close_while_the_database_is_held_is_refused_cleanly_and_a_retry_announces_once(
        bookclub: Any) -> None:
    await open_poll(bookclub)
    async with database_held(bookclub):
        refused = await run(bookclub, "Mod", "poll close")
        assert refused.ephemeral and refused.text().startswith("The club's records are busy")
    closed = await text(bookclub, "Mod", "poll close")
    assert "the winner is **Hamnet**" in closed
    await pass_time(bookclub, timedelta(hours=1), 3)
    await asyncio.sleep(QUIET)
    [result] = posts(bookclub, "announcements")
    assert "Next read: Hamnet" in result.text()
    assert "No poll is running." in await text(bookclub, "Mod", "poll close")


async def test_a_rate_limit_halfway_through_discuss_start_is_waited_out_and_every_thread_made_once(
        bookclub: Any) -> None:
    double, discussions = bookclub.double, bookclub.double.guild_a.channel("discussions")
    # Discord limits thread creation tightly: a 429 in the middle of a book's threads is the usual case.
    answer, limited = await discuss_start_failing_at_the_second_thread(bookclub, 429, RATE_LIMITED)
    assert answer.text().startswith("Started the discussion of **Never Let Me Go**"), answer.text()
    assert limited.hits == 1
    names = sorted(thread.name for thread in double.threads(discussions))
    assert len(names) == 4 and len(set(names)) == 4 and "spoiler-free" in names[-1]

async def _answered(bookclub: Any, count: int) -> bool:
    return len(post_statuses(bookclub, "reviews")) >= count and all(post_statuses(bookclub, "reviews"))


async def _async(value: bool) -> bool:
    return value


def _poll_announced(bookclub: Any) -> bool:
    return any("Next read" in post.text() for post in posts(bookclub, "announcements"))

