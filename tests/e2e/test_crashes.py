"""Exactly once across real crashes: the bot process is SIGKILLed between a post and its mark, then restarted.

Each scheduled side effect is interrupted at its worst moment: Discord has taken the post (the double
records it, then holds its answer) and the bot has neither the message id nor its mark in the database.
The subprocess keeps the real clock, so a job is made due by moving its `due_at` while the bot is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store import Store
from cogs.reviews import REVIEW_SLOT, WEEKLY
from tests.discord_double import DiscordDouble, Guild
from tests.domain.discord_markdown import shown_text
from tests.e2e.process import BotProcess, bot_process

__all__ = ["bot_process"]

# Generous: the machine is shared, and a restart replays a whole start-up.
SETTLE = 20.0
FIELDS = {"title": "Title", "author": "Author", "rating": "Rating (1–5)", "body": "Review",
          "spoilers": "Spoilers (optional, always hidden)"}


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

        async def holds() -> bool:
            return await check(store)

        deadline = asyncio.get_running_loop().time() + SETTLE
        while not await holds():
            assert asyncio.get_running_loop().time() < deadline, f"the bot did not settle:\n{process.output()}"
            await asyncio.sleep(0.05)


async def crash_while_held(process: BotProcess, method: str, path: str) -> Any:
    """Starts the bot, lets Discord take the first matching request, SIGKILLs the bot before it sees the answer."""
    hold = process.double.hold(method, path)
    await process.start()
    try:
        held = await hold.wait_hit(timeout=SETTLE)
        process.kill()
    finally:
        hold.release()
    return held


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
    opened = await double.slash(guild, guild.member("Alice"), "review write", timeout=10.0)
    submitted = await double.submit_modal(opened, {FIELDS["title"]: "Never Let Me Go",
                                                   FIELDS["author"]: "Kazuo Ishiguro", FIELDS["rating"]: "5",
                                                   FIELDS["body"]: "Quietly devastating."}, timeout=10.0)
    assert "Saved." in (await submitted.reply(timeout=10.0)).text()
    bot_process.kill()

    async with database(bot_process) as store:
        (review,) = await store.reviews.queued(guild.id)
        # The slot came while the bot was down: it is due the moment the bot is back.
        await store.jobs.schedule(guild.id, REVIEW_SLOT, WEEKLY, datetime.now(UTC) - timedelta(minutes=1))

    await crash_while_held(bot_process, "POST", rf"/channels/{reviews.id}/messages$")
    (posted,) = bot_posts(double, guild, "reviews")
    async with database(bot_process) as store:
        stored = await store.reviews.get(guild.id, review.id)
        assert stored is not None and stored.status != "announced" and stored.message_ids == []

    await bot_process.start()

    async def announced(store: Store) -> bool:
        done = await store.reviews.get(guild.id, review.id)
        return done is not None and done.status == "announced"

    await settled(bot_process, announced)
    assert [message.id for message in bot_posts(double, guild, "reviews")] == [posted.id]
    assert "Never Let Me Go" in posted.text()
    async with database(bot_process) as store:
        done = await store.reviews.get(guild.id, review.id)
        assert done is not None and done.message_ids == [posted.id]
    listed = await run(double, "Carol", "review list")
    assert "Never Let Me Go" in listed and "Quietly devastating." in listed
    assert double.pings() == []
