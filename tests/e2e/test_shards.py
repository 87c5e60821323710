"""Shards through the loopback Discord: one bot over both shards, and two bots over one shard each sharing one
database, each answering its own guilds and running their scheduled posts exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.bot import BookClubBot, ShardedBookClubBot, create_bot
from bot.clock import ManualClock
from bot.domain.shards import Shards, shard_of
from bot.store import Store
from tests.databases import new_database
from tests.discord_double import DiscordDouble, Guild
from tests.discord_double.gateway import GatewaySession
from tests.e2e.conftest import READY_TIMEOUT, test_settings
from tests.e2e.helpers import SETTLE, eventually
from tests.e2e.two_guilds import FIELDS, REVIEWS, configure_and_write, review_posts

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLOT = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    """Guild A on shard 0 and Guild B on shard 1 of 2."""
    async with DiscordDouble.with_default_world(shards=2) as started:
        yield started


@asynccontextmanager
async def sharded_bot(double: DiscordDouble, database: Path | str, clock: ManualClock, shards: Shards
                      ) -> AsyncIterator[ShardedBookClubBot]:
    """The real bot over `shards`, with its own connection to the shared database, started until READY; its REST
    requests carry the shards in their User-Agent, so the test can tell which process made them."""
    settings = test_settings(double, database, message_content=False)
    async with Store(database) as store, aiohttp.ClientSession() as session:
        bot = ShardedBookClubBot(shards=shards, settings=settings, store=store, clock=clock, http_session=session,
                                 guild_ready_timeout=0.05, identify_spacing=0)
        bot.http.user_agent = f"{bot.http.user_agent} {tag(shards)}"
        runner = asyncio.create_task(bot.start(double.token))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), READY_TIMEOUT)
            yield bot
        finally:
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)
    assert double.unhandled == [] and double.invalid_bodies == []


def tag(shards: Shards) -> str:
    return f"shards/{','.join(map(str, shards.ids))}"


async def run(double: DiscordDouble, guild: Guild, who: str, command: str, **options: Any) -> str:
    ix = await double.slash(guild, guild.member(who), command, timeout=10.0, **options)
    return (await ix.reply(timeout=10.0)).text()


def posted_by(double: DiscordDouble, guild: Guild) -> list[str]:
    """Which process made each post to the guild's reviews channel (its User-Agent's shard tag)."""
    path = f"/channels/{guild.channel('reviews').id}/messages"
    return [request.headers.get("User-Agent", "").rsplit(" ", 1)[-1] for request in double.requests
            if request.method == "POST" and request.path.endswith(path)]


def interactions_sent(session: GatewaySession) -> set[int]:
    return {int(frame["d"]["guild_id"]) for frame in session.buffer if frame["t"] == "INTERACTION_CREATE"}


async def slot_rearmed(store: Store, guild: Guild, after: datetime) -> bool:
    job = await store.jobs.get(guild.id, "review_slot", "weekly")
    return job is not None and job.status == "pending" and job.due_at > after


def test_the_guilds_are_on_both_shards(double: DiscordDouble) -> None:
    assert [shard_of(g.id, 2) for g in (double.guild_a, double.guild_b)] == [0, 1]


async def test_the_settings_choose_the_sharded_bot_only_when_asked(double: DiscordDouble, tmp_path: Path,
                                                                   clock: ManualClock) -> None:
    plain = test_settings(double, tmp_path / "bookclub.db", message_content=False)
    sharded = plain.model_copy(update={"shard_count": 4, "shard_ids": (1, 3)})
    async with Store(plain.database_path) as store, aiohttp.ClientSession() as session:
        one = create_bot(settings=plain, store=store, clock=clock, http_session=session)
        many = create_bot(settings=sharded, store=store, clock=clock, http_session=session)
    assert type(one) is BookClubBot and one.shard_range is None and one.shard_count is None
    assert isinstance(many, ShardedBookClubBot)
    assert (many.shard_count, many.shard_ids, many.scheduler.shards) == (4, [1, 3], Shards(4, (1, 3)))


async def test_one_bot_over_both_shards_serves_and_posts_for_both_guilds(double: DiscordDouble, tmp_path: Path,
                                                                         clock: ManualClock,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    clock.set(MONDAY)
    caplog.set_level("INFO", logger="bot.bot")
    async with sharded_bot(double, new_database(tmp_path), clock, Shards.all_of(2)) as bot:
        assert "running shards 0,1 of 2" in caplog.messages
        assert sorted(tuple(s.shard or ()) for s in double.sessions) == [(0, 2), (1, 2)]
        assert {g.id: g.shard_id for g in bot.guilds} == {double.guild_a.id: 0, double.guild_b.id: 1}
        for guild in (double.guild_a, double.guild_b):
            await configure_and_write(double, guild)
        clock.set(SLOT)
        for guild in (double.guild_a, double.guild_b):
            await eventually(lambda guild=guild: slot_rearmed(bot.store, guild, SLOT))
            (post,) = review_posts(double, guild)
            assert REVIEWS[guild.name][0] in post.text()


async def test_two_bots_on_one_shard_each_answer_their_own_guilds_and_post_once(double: DiscordDouble,
                                                                                tmp_path: Path,
                                                                                clock: ManualClock) -> None:
    clock.set(MONDAY)
    database = new_database(tmp_path)
    first, second = Shards(2, (0,)), Shards(2, (1,))
    guild_a, guild_b = double.guild_a, double.guild_b
    async with sharded_bot(double, database, clock, second) as bot_b:
        async with sharded_bot(double, database, clock, first) as bot_a:
            assert [g.id for g in bot_a.guilds] == [guild_a.id] and [g.id for g in bot_b.guilds] == [guild_b.id]
            for guild in (guild_a, guild_b):
                await configure_and_write(double, guild)
            on = {s.shard[0]: s for s in double.sessions if s.shard}
            assert (interactions_sent(on[0]), interactions_sent(on[1])) == ({guild_a.id}, {guild_b.id})

            clock.set(SLOT)
            await eventually(lambda: slot_rearmed(bot_a.store, guild_a, SLOT))
            await eventually(lambda: slot_rearmed(bot_b.store, guild_b, SLOT))
            assert (posted_by(double, guild_a), posted_by(double, guild_b)) == ([tag(first)], [tag(second)])
            await write_another(double, guild_b)

        # Next week shard 0's bot is down, and comes back while shard 1's bot is in the middle of its post: it
        # releases only its own shard's interrupted work, so it neither takes over nor repeats Guild B's post.
        hold = double.hold("POST", rf"/channels/{guild_b.channel('reviews').id}/messages$")
        next_slot = SLOT + timedelta(days=7)
        clock.set(next_slot)
        await hold.wait_hit(timeout=SETTLE)
        async with sharded_bot(double, database, clock, first) as restarted:
            held = await restarted.store.jobs.get(guild_b.id, "review_slot", "weekly")
            assert held is not None and held.status == "running"
            hold.release()
            await eventually(lambda: slot_rearmed(bot_b.store, guild_b, next_slot))
            await eventually(lambda: slot_rearmed(restarted.store, guild_a, next_slot))
    assert [len(review_posts(double, guild)) for guild in (guild_a, guild_b)] == [1, 2]
    assert posted_by(double, guild_b) == [tag(second), tag(second)]


async def write_another(double: DiscordDouble, guild: Guild) -> None:
    """A second review for next week's slot."""
    opened = await double.slash(guild, guild.member("Bob"), "review write", timeout=10.0)
    submitted = await double.submit_modal(opened, {FIELDS["title"]: "Beloved", FIELDS["author"]: "Toni Morrison",
                                                   FIELDS["rating"]: "4", FIELDS["body"]: "Haunting."},
                                          timeout=10.0)
    assert "at the next review slot" in (await submitted.reply(timeout=10.0)).text()
