"""Two real bot processes on shards {0} and {1} of 2, sharing one database and one loopback Discord: every
scheduled post happens exactly once, by the process of its guild's shard, even when one process is killed with -9
in the middle of its post while the other starts.

The processes keep the real clock, so a review slot is made due by moving its job's `due_at` while they are down.
The shared database is a SQLite file under `make test`, and a PostgreSQL database under `make test-postgres`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.shards import Shards
from bot.store import Store
from tests.databases import new_database
from tests.discord_double import DiscordDouble, Guild
from tests.domain.discord_markdown import shown_text
from tests.e2e.process import crash_while_held
from tests.e2e.shard_processes import ShardProcess, open_database, settled, shard_processes
from tests.e2e.two_guilds import REVIEWS, review_posts
from tests.e2e.two_guilds import configure_and_write as configure_for_reviews

SLOT = ("review_slot", "weekly")


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    """Guild A on shard 0 and Guild B on shard 1 of 2."""
    async with DiscordDouble.with_default_world(shards=2) as started:
        yield started


@pytest.fixture
def database(tmp_path: Path) -> Path | str:
    """The database both processes share: a SQLite file, or a PostgreSQL database under `make test-postgres`."""
    return new_database(tmp_path)


async def run(double: DiscordDouble, guild: Guild, who: str, command: str, **options: Any) -> str:
    ix = await double.slash(guild, guild.member(who), command, timeout=10.0, **options)
    return shown_text((await ix.reply(timeout=10.0)).text())


async def configure_and_write(double: DiscordDouble, guild: Guild) -> None:
    """Channels, a slot days away (the real clock never reaches it), and one review waiting for it."""
    slot = datetime.now(UTC) + timedelta(days=3)
    await configure_for_reviews(double, guild, weekday=slot.weekday(), time="12:00")


async def announced(store: Store, guild: Guild) -> bool:
    """The guild's review is marked posted and its slot is rescheduled for next week."""
    reviews = await store.reviews.latest(guild.id)
    job = await store.jobs.get(guild.id, *SLOT)
    return (bool(reviews) and all(review.status == "announced" for review in reviews)
            and job is not None and job.status == "pending" and job.due_at > datetime.now(UTC))


async def test_each_scheduled_post_happens_once_by_its_shards_process_across_a_kill(
    double: DiscordDouble, database: Path | str, tmp_path: Path
) -> None:
    guild_a, guild_b = double.guild_a, double.guild_b
    async with shard_processes(double, database, tmp_path / "logs",
                               [Shards(2, (0,)), Shards(2, (1,))]) as (first, second):
        await first.start()
        await second.start()
        assert "running shards 0 of 2" in first.output() and "running shards 1 of 2" in second.output()
        for guild in (guild_a, guild_b):
            await configure_and_write(double, guild)
        first.kill()
        second.kill()
        async with open_database(database) as store:
            for guild in (guild_a, guild_b):
                # The slot came while both were down: it is due the moment a process of its shard is back.
                await store.jobs.schedule(guild.id, *SLOT, datetime.now(UTC) - timedelta(minutes=1))

        # Shard 1's process comes back, posts Guild B's review and is killed before it hears that Discord took it.
        await kill_mid_post(second, guild_b)
        (posted_b,) = review_posts(double, guild_b)
        async with open_database(database) as store:
            job_a, job_b = await store.jobs.get(guild_a.id, *SLOT), await store.jobs.get(guild_b.id, *SLOT)
            assert job_a is not None and job_a.status == "pending", "shard 1's process took shard 0's work"
            assert job_b is not None and job_b.status == "running"
        assert review_posts(double, guild_a) == []

        # Shard 0's process starts meanwhile: it posts Guild A's review and leaves Guild B's interrupted job alone.
        await first.start()
        await settled([first, second], database, lambda store: announced(store, guild_a))
        async with open_database(database) as store:
            job_b = await store.jobs.get(guild_b.id, *SLOT)
            assert job_b is not None and job_b.status == "running", "shard 0's process released shard 1's job"
        assert len(review_posts(double, guild_b)) == 1

        # Shard 1's process is back: it finds its post and marks it, without posting it again.
        await second.start()
        await settled([first, second], database, lambda store: announced(store, guild_b))
        assert [len(review_posts(double, guild)) for guild in (guild_a, guild_b)] == [1, 1]
        assert [message.id for message in review_posts(double, guild_b)] == [posted_b.id]
        for guild in (guild_a, guild_b):
            assert REVIEWS[guild.name][0] in review_posts(double, guild)[0].text()
            assert REVIEWS[guild.name][0] in await run(double, guild, "Carol", "review list")
    assert double.pings() == []


async def kill_mid_post(process: ShardProcess, guild: Guild) -> None:
    """Starts the process, lets Discord take its first post to the guild's reviews channel and SIGKILLs it before
    it sees the answer."""
    await crash_while_held(process, "POST", rf"/channels/{guild.channel('reviews').id}/messages$")
