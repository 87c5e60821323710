"""/config feed-add cannot make the bot fetch from its own machine or network, and a feed that fails says so plainly:
no connection error's text reaches the server (it would tell a moderator which hosts and ports answer)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.services.feeds import PRIVATE, UNREACHABLE
from tests.doubles.feed_server import FakeBlog
from tests.e2e.conftest import BookClub
from tests.e2e.helpers import eventually
from tests.e2e.test_fuzz import snapshot


@pytest.fixture
async def blog() -> AsyncIterator[FakeBlog]:
    async with FakeBlog() as server:
        server.publish("Piranesi by Susanna Clarke")
        yield server


async def feed_add(bookclub: BookClub, url: str) -> str:
    guild = bookclub.double.guild_a
    answer = await (await bookclub.double.slash(guild, guild.member("Mod"), "config feed-add", url=url)).reply()
    assert answer.ephemeral
    return answer.text()


async def test_a_feed_on_loopback_or_with_credentials_is_refused_and_nothing_stored(bookclub: BookClub,
                                                                                   blog: FakeBlog) -> None:
    before = await snapshot(bookclub)
    port = blog.feed_url.split(":")[2].split("/")[0]
    for url in (blog.feed_url, f"http://localhost:{port}/feed/", f"http://[::ffff:127.0.0.1]:{port}/feed/",
                "http://169.254.169.254/latest/meta-data/"):
        assert await feed_add(bookclub, url) == f"I can't follow that feed: {PRIVATE}. Nothing was added.", url
    assert await feed_add(bookclub, "https://reader:hunter2@club.blog/feed") == (
        "A feed address must not contain a user name or password. Nothing was added.")
    assert await snapshot(bookclub) == before
    assert blog.served == []


async def test_a_private_feed_stored_earlier_is_not_fetched(bookclub: BookClub, blog: FakeBlog) -> None:
    """A feed added before the check existed (or by editing the database) is refused by the poll itself."""
    guild = bookclub.double.guild_a
    feed = await bookclub.store.feeds.add(guild.id, blog.feed_url)
    assert feed is not None
    await bookclub.bot.services.reviews.feed_added(guild.id, feed.id)

    async def refused() -> bool:
        (stored,) = await bookclub.store.feeds.list(guild.id)
        return stored.consecutive_failures == 1

    await eventually(refused)
    (stored,) = await bookclub.store.feeds.list(guild.id)
    assert stored.last_error == PRIVATE and blog.served == []


@pytest.mark.parametrize("private_feeds", [True], ids=["loopback-allowed"])
async def test_an_unreachable_feed_is_reported_without_the_connection_error(bookclub: BookClub) -> None:
    guild = bookclub.double.guild_a
    async with FakeBlog() as gone:
        url = gone.feed_url
    assert (await feed_add(bookclub, url)).startswith("Added the feed")

    async def failed() -> bool:
        (stored,) = await bookclub.store.feeds.list(guild.id)
        return stored.consecutive_failures == 1

    await eventually(failed)
    (stored,) = await bookclub.store.feeds.list(guild.id)
    assert stored.last_error == UNREACHABLE
    shown = (await (await bookclub.double.slash(guild, guild.member("Mod"), "config show")).reply()).text()
    assert f"failing: {UNREACHABLE}" in shown and "Connect" not in shown and "Errno" not in shown
