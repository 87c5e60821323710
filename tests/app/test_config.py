"""/config's use cases on a real store: the weekly slot, the moderator role and feeds, refused before any change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app.config import ConfigService
from bot.clock import ManualClock
from bot.errors import UserError
from bot.store import Store

GUILD_A, GUILD_B = 111, 222


async def test_the_slot_is_checked_then_saved_with_its_next_time(store: Store, clock: ManualClock) -> None:
    service = ConfigService(store, clock)
    with pytest.raises(UserError, match="isn't a time zone I know"):
        await service.set_schedule(GUILD_A, 0, "18:00", "Mars/Olympus")
    with pytest.raises(UserError, match="24-hour time"):
        await service.set_schedule(GUILD_A, 0, "25:99", "UTC")
    assert not (await service.get(GUILD_A)).has_schedule
    # 2 March 2026 is a Monday; the slot is Wednesdays at 18:00 in London (UTC in March).
    config, upcoming = await service.set_schedule(GUILD_A, 2, " 18:00", " Europe/London ")
    assert (config.schedule_time, config.timezone) == ("18:00", "Europe/London")
    assert upcoming == datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    assert (await service.show(GUILD_A)).next_slot == upcoming
    assert (await service.show(GUILD_B)).next_slot is None


async def test_an_unknown_time_zone_is_quoted_back_without_its_direction_controls(store: Store,
                                                                                   clock: ManualClock) -> None:
    service = ConfigService(store, clock)
    with pytest.raises(UserError) as refused:
        await service.set_schedule(GUILD_A, 0, "18:00", "\u202eMars/Olympus\u2066")
    assert "Olympus" in str(refused.value)
    assert "\u202e" not in str(refused.value) and "\u2066" not in str(refused.value), "it would show reversed"
    assert not (await service.get(GUILD_A)).has_schedule


async def test_the_moderator_role_and_feeds_stay_in_their_server(store: Store, clock: ManualClock) -> None:
    service = ConfigService(store, clock, allow_private_feeds=True)
    await service.set_moderator_role(GUILD_A, 77)
    assert await service.is_moderator_role(GUILD_A, [5, 77])
    assert not await service.is_moderator_role(GUILD_B, [5, 77])
    for bad, message in (("ftp://club.blog/feed", "web address"), ("https://me:secret@club.blog/feed", "password"),
                         ("https://club.blog/" + "x" * 500, "too long")):
        with pytest.raises(UserError, match=message):
            await service.add_feed(GUILD_A, bad)
    feed = await service.add_feed(GUILD_A, " http://127.0.0.1:9/feed ")
    assert feed.url == "http://127.0.0.1:9/feed"
    with pytest.raises(UserError, match="already added"):
        await service.add_feed(GUILD_A, "http://127.0.0.1:9/feed")
    with pytest.raises(UserError, match="isn't in this server's list"):
        await service.remove_feed(GUILD_B, "http://127.0.0.1:9/feed")
    assert await service.remove_feed(GUILD_A, "http://127.0.0.1:9/feed ") == "http://127.0.0.1:9/feed"
    assert await service.feeds(GUILD_A) == []


async def test_a_private_feed_address_is_refused_unless_allowed(store: Store, clock: ManualClock) -> None:
    with pytest.raises(UserError, match="I can't follow that feed"):
        await ConfigService(store, clock).add_feed(GUILD_A, "http://127.0.0.1:9/feed")
    assert await store.feeds.list(GUILD_A) == []
