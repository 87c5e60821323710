"""Discord failing at the worst moment, through the loopback Discord: rate limits and server errors in the middle of
the weekly queue, a lost permission at the slot or at a poll's close, a dropped gateway while members talk, and a
refused answer: nothing is lost, nothing is posted twice, nothing is retried for ever and the bot goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import discord
import pytest

from bot.scheduler import Scheduler
from tests.domain.discord_markdown import hidden_text, shown_text
from tests.e2e.helpers import caught_up, eventually, pass_time, statuses

SERVER_ERROR = {"message": "503: Service Unavailable", "code": 0}
LOCKED = discord.Permissions(send_messages=True)
QUIET = 0.3


async def run(bookclub: Any, who: str, command: str, **options: Any) -> str:
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(who), command, timeout=5.0, **options)
    return shown_text((await ix.reply(timeout=10.0)).text())


async def weekly_reviews(bookclub: Any, *writers: str) -> None:
    """Reviews and announcements channels, a Monday 10:00 UTC slot (the clock stands at 09:00), one review each."""
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", reviews=guild.channel("reviews"),
              announcements=guild.channel("announcements"))
    await run(bookclub, "Mod", "config schedule", weekday=0, time="10:00", timezone="UTC")
    for writer in writers:
        opened = await bookclub.double.slash(guild, guild.member(writer), "review write", timeout=5.0)
        values = {"Title": "Never Let Me Go", "Author": "Kazuo Ishiguro", "Rating (1–5)": "4",
                  "Review": f"Hailsham, as {writer} saw it."}
        await (await bookclub.double.submit_modal(opened, values, timeout=5.0)).reply(timeout=10.0)


def slot(bookclub: Any, weeks: int = 0) -> datetime:
    """Just past this Monday's 10:00 slot, or a later week's."""
    start: datetime = bookclub.clock.now()
    return start.replace(hour=10, minute=1, second=0, microsecond=0) + timedelta(weeks=weeks)


def posts(bookclub: Any, channel: str) -> list[Any]:
    return bookclub.double.bot_messages(bookclub.double.guild_a.channel(channel))


def review_requests(bookclub: Any) -> list[Any]:
    channel = bookclub.double.guild_a.channel("reviews")
    return bookclub.double.find_requests("POST", rf"/channels/{channel.id}/messages$")


def all_announced(bookclub: Any, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await statuses(bookclub) == ["announced"] * count
    return check


def reviewers(bookclub: Any) -> list[str]:
    return [next(w for w in ("Alice", "Bob", "Carol") if f"{w}'s review" in post.text())
            for post in posts(bookclub, "reviews")]


async def test_a_rate_limit_at_the_weekly_slot_is_waited_out_and_the_queue_goes_out_once_in_order(
        bookclub: Any) -> None:
    await weekly_reviews(bookclub, "Alice", "Bob")
    channel = bookclub.double.guild_a.channel("reviews")
    limited = bookclub.double.fail_next("POST", rf"/channels/{channel.id}/messages$", 429,
                                        {"message": "You are being rate limited.", "retry_after": 0.2, "global": False})
    bookclub.clock.set(slot(bookclub))
    await eventually(all_announced(bookclub, 2))
    await asyncio.sleep(QUIET)
    assert limited.hits == 1
    assert [r.status for r in review_requests(bookclub)] == [429, 200, 200]
    assert reviewers(bookclub) == ["Alice", "Bob"]


async def test_server_errors_in_the_middle_of_the_queue_are_retried_without_reposting_or_reordering(
        bookclub: Any) -> None:
    double = bookclub.double
    await weekly_reviews(bookclub, "Alice", "Bob", "Carol")
    channel = double.guild_a.channel("reviews")
    path = rf"/channels/{channel.id}/messages$"
    first = double.hold("POST", path)
    bookclub.clock.set(slot(bookclub))
    await first.wait_hit()
    # Alice's review is out; Bob's meets a 500 (discord.py retries it itself), then 502 and 503s that outlast it.
    double.fail_next("POST", path, 500, {"message": "500: Internal Server Error", "code": 0})
    double.fail_next("POST", path, 502, {"message": "502: Bad Gateway", "code": 0})
    double.fail_next("POST", path, 503, SERVER_ERROR, times=2)
    first.release()
    await eventually(lambda: _answered(bookclub, 503))
    assert await statuses(bookclub) in (["announced", "queued", "queued"], ["announced", "announcing", "queued"])
    await pass_time(bookclub, timedelta(minutes=2), 4)
    await eventually(all_announced(bookclub, 3))
    await asyncio.sleep(QUIET)
    assert reviewers(bookclub) == ["Alice", "Bob", "Carol"]
    assert [r.status for r in review_requests(bookclub)] == [200, 500, 502, 503, 503, 200, 200]


async def test_an_outage_longer_than_the_retries_does_not_end_the_weekly_slot(bookclub: Any) -> None:
    await weekly_reviews(bookclub, "Alice")
    channel = bookclub.double.guild_a.channel("reviews")
    outage = bookclub.double.fail_next("POST", rf"/channels/{channel.id}/messages$", 503, SERVER_ERROR,
                                       times=Scheduler.MAX_ATTEMPTS + 5)
    bookclub.clock.set(slot(bookclub))
    await eventually(lambda: caught_up(bookclub))
    await pass_time(bookclub, timedelta(minutes=30), 12)
    await pass_time(bookclub, timedelta(hours=6), 4)
    assert 1 < outage.hits <= Scheduler.MAX_ATTEMPTS, "retried with backoff, and not for ever"
    assert await statuses(bookclub) in (["queued"], ["announcing"])
    job = await bookclub.store.jobs.get(bookclub.double.guild_a.id, "review_slot", "weekly")
    assert job is not None and job.status == "pending" and job.due_at > bookclub.clock.now(), "the slot comes round"

    outage.times = outage.hits  # Discord is back.
    bookclub.clock.set(slot(bookclub, weeks=1))
    await eventually(all_announced(bookclub, 1))
    await asyncio.sleep(QUIET)
    assert reviewers(bookclub) == ["Alice"]


async def test_the_bot_member_losing_send_messages_keeps_the_queue_until_the_next_slot(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await weekly_reviews(bookclub, "Alice")
    double.set_overwrite(guild.channel("reviews"), double.bot_member(guild), deny=LOCKED)
    bookclub.clock.set(slot(bookclub))
    await eventually(lambda: caught_up(bookclub))
    # Several backoff periods and two more slots pass: refused at most once a slot.
    await pass_time(bookclub, timedelta(minutes=20), 6)
    bookclub.clock.set(slot(bookclub, weeks=1))
    await eventually(lambda: caught_up(bookclub))
    bookclub.clock.set(slot(bookclub, weeks=1))
    await eventually(lambda: caught_up(bookclub))
    refused = [r for r in review_requests(bookclub) if r.status == 403]
    assert 1 <= len(refused) <= 3 and posts(bookclub, "reviews") == []
    assert await statuses(bookclub) in (["queued"], ["announcing"])
    [notice] = posts(bookclub, "announcements")
    assert "/review announce-now" in notice.text() and double.pings() == []

    double.set_overwrite(guild.channel("reviews"), double.bot_member(guild))
    await asyncio.sleep(QUIET)
    bookclub.clock.set(slot(bookclub, weeks=1))
    await eventually(all_announced(bookclub, 1))
    await asyncio.sleep(QUIET)
    assert reviewers(bookclub) == ["Alice"] and len(posts(bookclub, "announcements")) == 1


async def test_a_locked_announcements_channel_still_records_the_winner_and_tells_the_moderators_once(
        bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", polls=guild.channel("polls"),
              announcements=guild.channel("announcements"))
    for member, title, author in (("Alice", "Piranesi", "Susanna Clarke"), ("Bob", "Hamnet", "Maggie O'Farrell")):
        assert (await run(bookclub, member, "nominate add", title=title, author=author)).startswith("You nominated")
    await run(bookclub, "Mod", "poll start", closes_in="1h")
    [poll_message] = posts(bookclub, "polls")
    for member in ("Alice", "Bob", "Carol"):
        await double.vote_native(poll_message, 2, guild.member(member))
    double.set_overwrite(guild.channel("announcements"), guild.role("Bookclub"), deny=LOCKED)

    bookclub.clock.advance(timedelta(hours=1))
    notice = await double.wait_for_message(guild.channel("polls"), lambda m: "Next read" in m.text())
    await pass_time(bookclub, timedelta(hours=1), 8)
    await asyncio.sleep(QUIET)
    announcements = guild.channel("announcements")
    assert notice.content.startswith(f"I could not post the result in <#{announcements.id}>: Missing Permissions")
    assert notice.embeds[0]["title"] == "Next read: Hamnet"
    assert len([m for m in posts(bookclub, "polls") if "Next read" in m.text()]) == 1
    assert posts(bookclub, "announcements") == []
    assert len(double.find_requests("POST", rf"/channels/{announcements.id}/messages$")) == 1
    assert "Hamnet by Maggie O'Farrell: planned" in await run(bookclub, "Bob", "club history")
    assert "Hamnet" in await run(bookclub, "Carol", "poll results")
    assert double.pings() == []


async def test_poll_close_in_a_locked_polls_channel_tells_the_moderator_what_happened_and_keeps_the_winner(
        bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", polls=guild.channel("polls"))
    for member, title, author in (("Alice", "Piranesi", "Susanna Clarke"), ("Bob", "Hamnet", "Maggie O'Farrell")):
        await run(bookclub, member, "nominate add", title=title, author=author)
    await run(bookclub, "Mod", "poll start", closes_in="1h")
    [poll_message] = posts(bookclub, "polls")
    await double.vote_native(poll_message, 1, guild.member("Carol"))
    double.set_overwrite(guild.channel("polls"), guild.role("Bookclub"), deny=LOCKED)

    answer = await run(bookclub, "Mod", "poll close")
    polls = guild.channel("polls")
    assert answer.startswith("Poll #1 is closed and /poll results shows its result, but I could not post the result "
                             f"in <#{polls.id}>: Missing Permissions.")
    await pass_time(bookclub, timedelta(hours=1), 6)
    assert len([r for r in double.find_requests("POST", rf"/channels/{polls.id}/messages$") if r.status == 403]) <= 2
    assert "Piranesi by Susanna Clarke: planned" in await run(bookclub, "Bob", "club history")
    assert "Next read: Piranesi" in await run(bookclub, "Alice", "poll results")


async def test_hide_as_spoiler_that_discord_fails_to_finish_leaves_no_second_copy(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    message = await double.post_message(general, guild.member("Alice"), "Ruth dies in the end")
    # The hidden copy goes up, then taking the original down fails with an error discord.py does not retry.
    double.fail_next("DELETE", rf"/channels/{general.id}/messages/{message.id}$", 503, SERVER_ERROR)
    ix = await double.message_command(guild, guild.member("Alice"), "Hide as spoiler", message)
    answer = await ix.reply(timeout=10.0)
    assert answer.ephemeral and "nothing was changed" in answer.text()
    assert not message.deleted
    assert [m.content for m in double.messages(general)] == ["Ruth dies in the end"]

    again = await double.message_command(guild, guild.member("Alice"), "Hide as spoiler", message)
    assert (await again.reply(timeout=10.0)).text().startswith("Hidden") and message.deleted
    [repost] = [m for m in double.messages(general) if not m.deleted]
    assert hidden_text(repost.content) == "Ruth dies in the end"


async def test_a_long_message_hidden_half_way_when_discord_refuses_leaves_no_partial_copy(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    text = "||Tommy|| `shouts` " * 105
    message = await double.post_message(general, guild.member("Alice"), text[:2000])
    first_part = double.hold("POST", r"/webhooks/\d+/[^/]+$")
    ix = await double.message_command(guild, guild.member("Alice"), "Hide as spoiler", message)
    await first_part.wait_hit()
    # A moderator deletes the webhook between the two parts (discord.py retries a webhook's 5xx itself).
    double.fail_next("POST", r"/webhooks/\d+/[^/]+$", 404, {"message": "Unknown Webhook", "code": 10015})
    first_part.release()
    answer = await ix.reply(timeout=10.0)
    assert answer.ephemeral and not answer.text().startswith("Hidden")
    assert not message.deleted
    assert [m.content for m in double.messages(general) if not m.deleted] == [text[:2000]]


@pytest.mark.parametrize("message_content", [True])
async def test_a_dropped_gateway_is_resumed_and_a_spoiler_sent_meanwhile_is_still_hidden(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", discussions=guild.channel("discussions"))
    await run(bookclub, "Mod", "discuss start", book="Never Let Me Go by Kazuo Ishiguro", sections="Part 1, Part 2")
    await run(bookclub, "Mod", "discuss spoiler-terms", book="Never Let Me Go", terms="Tommy")
    [spoiler_free] = [t for t in double.threads(guild.channel("discussions")) if "spoiler-free" in t.name]

    double.drop_gateway()
    missed = await double.post_message(spoiler_free, guild.member("Bob"), "Can't believe TOMMY's temper!")
    assert await double.wait_until(lambda: missed.deleted)
    [repost] = [m for m in double.messages(spoiler_free) if m.webhook_id is not None]
    assert hidden_text(repost.content) == "Can't believe TOMMY's temper!"
    assert len(double.sessions) == 1 and double.sessions[0].resumes == 1
    assert double.connections[-1].path == "/gateway-resume"
    recorded = await run(bookclub, "Alice", "progress", section="Part 1")
    assert recorded.startswith("Recorded: you've read up to Part 1 of Never Let Me Go")
    assert double.pings() == []


async def test_a_deferred_answer_refused_once_by_discord_still_reaches_the_member(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", polls=guild.channel("polls"))
    await run(bookclub, "Alice", "nominate add", title="Piranesi", author="Susanna Clarke")
    await run(bookclub, "Bob", "nominate add", title="Hamnet", author="Maggie O'Farrell")
    await run(bookclub, "Mod", "poll start", closes_in="1h")
    [poll_message] = posts(bookclub, "polls")
    await double.vote_native(poll_message, 1, guild.member("Carol"))
    # /poll close defers, then answers through the interaction webhook: that answer is refused once.
    refused = double.fail_next("POST", r"/webhooks/\d+/[^/]+$", 500, {"message": "500: Internal Server Error"})
    closed = await run(bookclub, "Mod", "poll close")
    assert refused.hits == 1 and "the winner is Piranesi" in closed
    assert len([m for m in posts(bookclub, "polls") if "Next read: Piranesi" in m.text()]) == 1
    assert "Next read: Piranesi" in await run(bookclub, "Carol", "poll results")


async def _answered(bookclub: Any, status: int) -> bool:
    return any(r.status == status for r in review_requests(bookclub))
