"""/config through the loopback Discord: moderators set the club up, members cannot, bad values change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord
import pytest

from bot.bot import BookClubBot
from bot.settings import Settings
from tests.discord_double import ActionRefused
from tests.e2e.conftest import READY_TIMEOUT


async def run(bookclub: Any, member: str, command: str, guild: Any = None, **options: Any) -> Any:
    guild = guild or bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    return await ix.reply(timeout=10.0)


@asynccontextmanager
async def restarted(bookclub: Any, settings: Settings) -> AsyncIterator[BookClubBot]:
    """The bot started again on the same database, as after a deploy."""
    async with aiohttp.ClientSession() as session:
        bot = BookClubBot(settings=settings, store=bookclub.store, clock=bookclub.clock, http_session=session,
                          guild_ready_timeout=0.05)
        runner = asyncio.create_task(bot.start(bookclub.double.token))
        try:
            ready = asyncio.ensure_future(bot.wait_until_ready())
            done, _ = await asyncio.wait([runner, ready], timeout=READY_TIMEOUT,
                                         return_when=asyncio.FIRST_COMPLETED)
            if runner in done:
                runner.result()
            assert bot.is_ready()
            yield bot
        finally:
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)


def command_syncs(bookclub: Any) -> list[Any]:
    return bookclub.double.find_requests("PUT", r"/applications/\d+/commands$")


async def test_commands_are_registered_once_and_not_again_after_a_restart_with_the_same_tree(bookclub: Any) -> None:
    assert len(command_syncs(bookclub)) == 1
    registered = {command["name"] for command in bookclub.double.global_commands}
    assert {"config", "review", "discuss", "progress", "spoiler", "nominate", "poll", "club", "rate", "ask",
            "Hide as spoiler"} <= registered
    await bookclub.bot.close()
    async with restarted(bookclub, bookclub.settings):
        assert len(command_syncs(bookclub)) == 1
        guild = bookclub.double.guild_a
        shown = await bookclub.double.slash(guild, guild.member("Mod"), "config show")
        assert "Book club settings" in (await shown.reply()).text()


async def test_with_a_development_guild_commands_go_to_that_guild_only(bookclub: Any) -> None:
    await bookclub.bot.close()
    guild = bookclub.double.guild_b
    settings = bookclub.settings.model_copy(update={"dev_guild_id": guild.id})
    async with restarted(bookclub, settings):
        synced = bookclub.double.find_requests("PUT", rf"/applications/\d+/guilds/{guild.id}/commands$")
        assert len(synced) == 1
        assert "config" in {command["name"] for command in bookclub.double.guild_commands[guild.id]}
        assert len(command_syncs(bookclub)) == 1


async def test_a_moderator_sets_channels_schedule_and_role_and_sees_them_in_one_embed(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    saved = await run(bookclub, "Mod", "config channels", reviews=guild.channel("reviews"),
                      discussions=guild.channel("discussions"), polls=guild.channel("polls"),
                      announcements=guild.channel("announcements"))
    assert saved.ephemeral and saved.text().startswith("Saved.")
    choices = await bookclub.double.autocomplete(guild, guild.member("Mod"), "config schedule", focused="timezone",
                                                 weekday=4, time="18:00", timezone="london")
    assert "Europe/London" in [choice["value"] for choice in choices]
    scheduled = await run(bookclub, "Mod", "config schedule", weekday=4, time="18:00", timezone="Europe/London")
    # The clock stands at Monday 2 March 2026, 09:00 UTC: the next Friday 18:00 in London is 6 March.
    assert "Fridays at 18:00 (Europe/London)" in scheduled.text()
    assert "<t:1772820000:F>" in scheduled.text()
    role = await run(bookclub, "Mod", "config moderator-role", role=guild.role("Bookclub"))
    assert "now count as moderators" in role.text()
    shown = (await run(bookclub, "Mod", "config show")).text()
    for expected in (f"<#{guild.channel('reviews').id}>", f"<#{guild.channel('discussions').id}>",
                     f"<#{guild.channel('polls').id}>", f"<#{guild.channel('announcements').id}>",
                     "Fridays at 18:00 (Europe/London)", "Europe/London", f"<@&{guild.role('Bookclub').id}>"):
        assert expected in shown
    assert bookclub.double.pings() == []


async def test_a_plain_member_cannot_see_or_run_config_and_nothing_is_stored(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    with pytest.raises(ActionRefused):
        await bookclub.double.slash(guild, guild.member("Alice"), "config channels", reviews=guild.channel("reviews"))
    config = await bookclub.store.config.get(guild.id)
    assert config.channel_id("reviews") is None


@pytest.mark.parametrize(("options", "error"), [
    ({"time": "25:99", "timezone": "Europe/London"}, "24-hour time like 18:00"),
    ({"time": "18:00", "timezone": "Mars/Olympus"}, "isn't a time zone I know"),
    ({"time": "six pm", "timezone": "UTC"}, "24-hour time like 18:00"),
])
async def test_a_bad_time_or_time_zone_is_explained_and_changes_nothing(bookclub: Any, options: dict[str, str],
                                                                        error: str) -> None:
    guild = bookclub.double.guild_a
    answer = await run(bookclub, "Mod", "config schedule", weekday=2, **options)
    assert answer.ephemeral and error in answer.text()
    assert len(answer.text()) < 300
    config = await bookclub.store.config.get(guild.id)
    assert not config.has_schedule
    assert "not set" in (await run(bookclub, "Mod", "config show")).text()


async def test_a_channel_the_bot_cannot_post_in_is_named_with_the_missing_permission(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    answer = await run(bookclub, "Mod", "config channels", reviews=guild.channel("reviews"),
                       announcements=guild.channel("locked"))
    text = answer.text()
    assert answer.ephemeral and "Nothing was changed" in text
    assert f"<#{guild.channel('locked').id}> (announcements): I'm missing Send Messages" in text
    config = await bookclub.store.config.get(guild.id)
    assert config.channel_id("reviews") is None and config.channel_id("announcements") is None


async def test_a_polls_channel_where_the_bot_may_not_send_polls_is_named_with_that_permission(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    polls = guild.channel("polls")
    bookclub.double.set_overwrite(polls, bookclub.double.bot_member(guild), deny=discord.Permissions(send_polls=True))
    answer = await run(bookclub, "Mod", "config channels", polls=polls)
    assert answer.ephemeral and "Nothing was changed" in answer.text()
    assert f"<#{polls.id}> (polls): I'm missing Create Polls." in answer.text()
    assert (await bookclub.store.config.get(guild.id)).channel_id("polls") is None


async def test_feeds_are_validated_listed_and_removed(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    for bad in ("ftp://club.blog/feed", "club blog", "javascript:alert(1)"):
        answer = await run(bookclub, "Mod", "config feed-add", url=bad)
        assert answer.ephemeral and "http://" in answer.text()
    added = await run(bookclub, "Mod", "config feed-add", url="https://club.blog/feed")
    assert "Added the feed" in added.text() and "newest post" in added.text()
    twice = await run(bookclub, "Mod", "config feed-add", url="https://club.blog/feed")
    assert "already added" in twice.text()
    assert [feed.url for feed in await bookclub.store.feeds.list(guild.id)] == ["https://club.blog/feed"]
    choices = await bookclub.double.autocomplete(guild, guild.member("Mod"), "config feed-remove", focused="url",
                                                 url="club")
    assert [choice["value"] for choice in choices] == ["https://club.blog/feed"]
    assert "https://club.blog/feed" in (await run(bookclub, "Mod", "config show")).text()
    removed = await run(bookclub, "Mod", "config feed-remove", url="https://club.blog/feed")
    assert "Removed" in removed.text()
    unknown = await run(bookclub, "Mod", "config feed-remove", url="https://club.blog/feed")
    assert "isn't in this server's list" in unknown.text()
    assert await bookclub.store.feeds.list(guild.id) == []


async def test_one_server_never_sees_another_servers_settings(bookclub: Any) -> None:
    a, b = bookclub.double.guild_a, bookclub.double.guild_b
    await run(bookclub, "Mod", "config channels", a, reviews=a.channel("reviews"))
    await run(bookclub, "Mod", "config schedule", a, weekday=0, time="19:30", timezone="America/New_York")
    await run(bookclub, "Mod", "config feed-add", a, url="https://a.example/feed")
    shown_b = (await run(bookclub, "Mod", "config show", b)).text()
    assert str(a.channel("reviews").id) not in shown_b
    assert "America/New_York" not in shown_b and "a.example" not in shown_b
    choices = await bookclub.double.autocomplete(b, b.member("Mod"), "config feed-remove", focused="url", url="")
    assert choices == []
