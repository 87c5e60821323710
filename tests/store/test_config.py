"""Guild configuration and feeds on a real SQLite file, each guild seeing only its own rows."""

from __future__ import annotations

from bot.store import Store

GUILD_A, GUILD_B = 111, 222


async def test_an_unconfigured_guild_reads_as_defaults(store: Store) -> None:
    config = await store.config.get(GUILD_A)
    assert config.reviews_channel_id is None and not config.has_schedule and config.timezone == "UTC"


async def test_setting_some_channels_keeps_the_others(store: Store) -> None:
    await store.config.set_channels(GUILD_A, {"reviews": 1, "polls": 2})
    config = await store.config.set_channels(GUILD_A, {"polls": 3, "announcements": 4})
    assert (config.reviews_channel_id, config.polls_channel_id, config.announcements_channel_id) == (1, 3, 4)


async def test_schedule_and_role_are_stored(store: Store) -> None:
    await store.config.set_schedule(GUILD_A, 4, "18:00", "Europe/London")
    config = await store.config.set_moderator_role(GUILD_A, 77)
    assert (config.schedule_weekday, config.schedule_time, config.timezone) == (4, "18:00", "Europe/London")
    assert config.moderator_role_id == 77 and config.has_schedule


async def test_one_guild_never_sees_another_guilds_configuration(store: Store) -> None:
    await store.config.set_channels(GUILD_A, {"reviews": 1})
    await store.config.set_schedule(GUILD_A, 0, "09:00", "Asia/Tokyo")
    await store.feeds.add(GUILD_A, "https://a.example/feed")
    other = await store.config.get(GUILD_B)
    assert other.reviews_channel_id is None and not other.has_schedule
    assert await store.feeds.list(GUILD_B) == []
    assert not await store.feeds.remove(GUILD_B, "https://a.example/feed")
    assert len(await store.feeds.list(GUILD_A)) == 1


async def test_feeds_are_unique_per_guild_and_track_failures(store: Store, clock) -> None:
    feed = await store.feeds.add(GUILD_A, "https://blog.example/feed")
    assert feed is not None
    assert await store.feeds.add(GUILD_A, "https://blog.example/feed") is None
    assert await store.feeds.add(GUILD_B, "https://blog.example/feed") is not None
    failed = await store.feeds.record_failure(GUILD_A, feed.id, "timeout", clock.now())
    assert failed is not None and failed.consecutive_failures == 1 and failed.last_error == "timeout"
    await store.feeds.record_success(GUILD_A, feed.id, title="Blog", etag='"x"', last_modified=None,
                                     polled_at=clock.now())
    healed = await store.feeds.get(GUILD_A, feed.id)
    assert healed is not None and healed.consecutive_failures == 0 and healed.etag == '"x"' and healed.polled_once
