"""Discord failing under the bot: rate limits, server errors, a lost permission and a dropped gateway never lose a
review, never post one twice, never retry for ever and never stop the bot."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.scheduler import Scheduler
from cogs._shared.replies import BUSY
from tests.e2e.helpers import caught_up, eventually, pass_time, statuses

MAX_ATTEMPTS = Scheduler.MAX_ATTEMPTS
QUIET = 0.3


async def run(bookclub: Any, who: str, command: str, **options: Any) -> str:
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(who), command, timeout=5.0, **options)
    return (await ix.reply(timeout=10.0)).text()


async def set_up(bookclub: Any, *, weekly: bool = False) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", reviews=guild.channel("reviews"),
              announcements=guild.channel("announcements"))
    if weekly:
        # The clock stands at Monday 09:00 UTC: the slot is an hour away.
        await run(bookclub, "Mod", "config schedule", weekday=0, time="10:00", timezone="UTC")


async def write(bookclub: Any, member: str = "Alice", body: str = "Kathy remembers Hailsham.") -> None:
    guild = bookclub.double.guild_a
    opened = await bookclub.double.slash(guild, guild.member(member), "review write", timeout=5.0)
    values = {"Title": "Never Let Me Go", "Author": "Kazuo Ishiguro", "Rating (1–5)": "4", "Review": body}
    submitted = await bookclub.double.submit_modal(opened, values, timeout=5.0)
    await submitted.reply(timeout=10.0)


def posts(bookclub: Any, channel: str = "reviews") -> list[Any]:
    return bookclub.double.bot_messages(bookclub.double.guild_a.channel(channel))


def review_posts(bookclub: Any) -> list[Any]:
    channel = bookclub.double.guild_a.channel("reviews")
    return bookclub.double.find_requests("POST", rf"/channels/{channel.id}/messages$")


async def test_a_rate_limited_post_waits_and_goes_out_once(bookclub: Any) -> None:
    await set_up(bookclub)
    channel = bookclub.double.guild_a.channel("reviews")
    limited = bookclub.double.fail_next("POST", rf"/channels/{channel.id}/messages$", 429,
                                        {"message": "You are being rate limited.", "retry_after": 0.2})
    await write(bookclub)
    await eventually(lambda: _done(bookclub, ["announced"]))
    await asyncio.sleep(QUIET)
    assert limited.hits == 1
    assert len(posts(bookclub)) == 1 and [r.status for r in review_posts(bookclub)] == [429, 200]


async def test_discord_server_errors_are_retried_by_the_job_and_the_queue_keeps_its_order(bookclub: Any) -> None:
    await set_up(bookclub)
    channel = bookclub.double.guild_a.channel("reviews")
    # 503 is not retried inside discord.py: the scheduler's own backoff has to bring the reviews out.
    bookclub.double.fail_next("POST", rf"/channels/{channel.id}/messages$", 503, {"message": "Service Unavailable"},
                              times=2)
    await write(bookclub, "Alice", "First, from Alice.")
    await eventually(lambda: _failed_once(bookclub))
    await write(bookclub, "Bob", "Second, from Bob.")
    await pass_time(bookclub, timedelta(minutes=2), 4)
    await eventually(lambda: _done(bookclub, ["announced", "announced"]))
    await asyncio.sleep(QUIET)
    texts = [post.text() for post in posts(bookclub)]
    assert len(texts) == 2 and "Alice's review" in texts[0] and "Bob's review" in texts[1]


async def test_a_lost_permission_keeps_the_queue_tells_moderators_once_and_recovers(bookclub: Any) -> None:
    await set_up(bookclub, weekly=True)
    double, guild = bookclub.double, bookclub.double.guild_a
    await write(bookclub)
    double.set_overwrite(guild.channel("reviews"), guild.role("Bookclub"),
                         deny=discord.Permissions(send_messages=True))
    for week in range(3):
        bookclub.clock.set(bookclub.clock.now().replace(hour=10, minute=1) + timedelta(weeks=week and 1))
        # The slot's job records its outcome (and next week's slot) a moment after Discord refuses the post.
        await eventually(lambda: caught_up(bookclub))
    assert posts(bookclub) == [] and await statuses(bookclub) in (["queued"], ["announcing"])
    notices = posts(bookclub, "announcements")
    assert len(notices) == 1, [notice.text() for notice in notices]
    assert "/review announce-now" in notices[0].text() and double.pings() == []
    # Refused once a week at most, not retried in a loop.
    assert len([r for r in review_posts(bookclub) if r.status == 403]) <= 3
    job = await bookclub.store.jobs.get(guild.id, "review_slot", "weekly")
    assert job is not None and job.status == "pending" and job.due_at > bookclub.clock.now()

    double.set_overwrite(guild.channel("reviews"), guild.role("Bookclub"))
    # /review announce-now checks the bot's cached permissions: wait until the gateway has brought the change.
    reviews = guild.channel("reviews")
    assert await double.wait_until(lambda: _may_post(bookclub, reviews.id), 20.0)
    assert "Announcing 1 queued review" in await run(bookclub, "Mod", "review announce-now")
    await eventually(lambda: _done(bookclub, ["announced"]))
    await asyncio.sleep(QUIET)
    assert len(posts(bookclub)) == 1 and len(posts(bookclub, "announcements")) == 1


async def test_a_job_that_keeps_failing_is_given_up_without_stopping_the_others(bookclub: Any) -> None:
    await set_up(bookclub)
    channel = bookclub.double.guild_a.channel("reviews")
    bookclub.double.fail_next("POST", rf"/channels/{channel.id}/messages$", 503, {"message": "Service Unavailable"},
                              times=MAX_ATTEMPTS)
    await write(bookclub)
    await eventually(lambda: caught_up(bookclub))
    await pass_time(bookclub, timedelta(hours=1), MAX_ATTEMPTS + 2)
    attempts = len(review_posts(bookclub))
    assert attempts <= MAX_ATTEMPTS
    assert await statuses(bookclub) in (["queued"], ["announcing"]), "the review is kept for a later slot"
    assert "Never Let Me Go" in await run(bookclub, "Mod", "review queue")
    assert "Announcing 1 queued review" in await run(bookclub, "Mod", "review announce-now")
    await eventually(lambda: _done(bookclub, ["announced"]))
    assert len(posts(bookclub)) == 1


async def test_a_dropped_gateway_is_resumed_and_the_bot_goes_on(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    double.drop_gateway()
    await write(bookclub)
    await eventually(lambda: _done(bookclub, ["announced"]))
    assert "Book club settings" in await run(bookclub, "Mod", "config show")
    assert len(double.sessions) == 1 and double.sessions[0].resumes >= 1
    double.drop_gateway(resumable=False)
    # A session that cannot be resumed is identified afresh, after discord.py's own pause of a few seconds.
    assert await double.wait_until(lambda: len(double.sessions) == 2 and bookclub.bot.is_ready(), 30)
    assert "Book club settings" in await run(bookclub, "Mod", "config show")
    assert len(double.sessions) == 2 and len(posts(bookclub)) == 1
    assert guild.id in {g.id for g in bookclub.bot.guilds}


async def test_an_answer_that_discord_refuses_once_does_not_stop_the_next_command(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    double.fail_next("POST", r"/interactions/\d+/[^/]+/callback", 500, {"message": "Internal Server Error"})
    ix = await double.slash(guild, guild.member("Mod"), "config show", timeout=8.0)
    assert "Book club settings" in (await ix.reply(timeout=8.0)).text()
    assert "Book club settings" in await run(bookclub, "Mod", "config show")


async def _done(bookclub: Any, expected: list[str]) -> bool:
    return await statuses(bookclub) == expected


def _may_post(bookclub: Any, channel_id: int) -> bool:
    """Whether the bot's own cache says it may post embeds in the channel."""
    channel = bookclub.bot.get_channel(channel_id)
    if channel is None:
        return False
    granted = channel.permissions_for(channel.guild.me)
    return granted.send_messages and granted.embed_links


async def _failed_once(bookclub: Any) -> bool:
    return any(r.status == 503 for r in review_posts(bookclub))


@pytest.mark.sqlite_only
async def test_a_database_held_by_another_program_delays_or_refuses_a_write_cleanly(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "club add", title="Hamnet", author="Maggie O'Farrell", started="2026-01-01")
    other = sqlite3.connect(bookclub.settings.database_path, isolation_level=None, check_same_thread=False)
    try:
        # Held for a moment: the write waits for it and goes through.
        # Off the event loop, so a write the bot is finishing can finish.
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.3, other.execute, "ROLLBACK")
        assert "You rated **Hamnet** 4★" in await run(bookclub, "Alice", "rate", book="Hamnet", stars=4)

        # Held for longer than the bot waits (shortened here from its 2 s): a clear line, nothing written.
        await bookclub.store.db.conn.execute("PRAGMA busy_timeout = 200")
        # Off the event loop, so a write the bot is finishing can finish.
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
        ix = await bookclub.double.slash(guild, guild.member("Bob"), "rate", book="Hamnet", stars=2)
        answer = await ix.reply()
        assert answer.ephemeral and answer.text() == BUSY
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert "Club: 4★ from 2 ratings." in await run(bookclub, "Carol", "rate", book="Hamnet", stars=4)
    assert "Club: 3★ from 3 ratings." in await run(bookclub, "Bob", "rate", book="Hamnet", stars=1)
