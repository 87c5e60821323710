"""Per-guild configuration: channels, the weekly slot, time zone, moderator role and feeds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from bot.domain.shards import Shards
from bot.store.db import from_db_time, to_db_time
from bot.store.engine import AnyDatabase
from bot.store.sharding import on_shards_clause

CHANNEL_KINDS = ("reviews", "discussions", "polls", "announcements")
# A guild's time zone until a moderator sets one with /config schedule (the column's default).
DEFAULT_TIMEZONE = "UTC"


class GuildConfig(BaseModel):
    guild_id: int
    reviews_channel_id: int | None = None
    discussions_channel_id: int | None = None
    polls_channel_id: int | None = None
    announcements_channel_id: int | None = None
    schedule_weekday: int | None = None
    schedule_time: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    moderator_role_id: int | None = None

    @property
    def has_schedule(self) -> bool:
        return self.schedule_weekday is not None and self.schedule_time is not None

    def channel_id(self, kind: str) -> int | None:
        if kind not in CHANNEL_KINDS:
            raise ValueError(f"unknown channel kind {kind!r}")
        return getattr(self, f"{kind}_channel_id")


class Feed(BaseModel):
    id: int
    guild_id: int
    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    polled_once: bool = False
    consecutive_failures: int = 0
    failure_reported: bool = False
    last_error: str | None = None
    last_polled_at: datetime | None = None
    added_at: datetime


def _now() -> str:
    return to_db_time(datetime.now(UTC))


class ConfigRepository:
    """Reads and writes one guild's settings; every statement is scoped by guild_id."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildConfig:
        row = await self._db.fetch_one("SELECT * FROM guild_config WHERE guild_id = ?", (guild_id,))
        if row is None:
            return GuildConfig(guild_id=guild_id)
        return GuildConfig(**{key: row[key] for key in row.keys() if key != "updated_at"})  # noqa: SIM118

    async def timezone(self, guild_id: int) -> str | None:
        """The guild's time zone, None when it never set one (UTC); read by key on the event loop, as every
        question and every dated command reads it."""
        rows = await self._db.fetch_quick("SELECT timezone FROM guild_config WHERE guild_id = ?", (guild_id,))
        return rows[0]["timezone"] if rows else None

    async def set_channels(self, guild_id: int, channels: dict[str, int]) -> GuildConfig:
        """Stores the given channel kinds and leaves the others as they were."""
        for kind in channels:
            if kind not in CHANNEL_KINDS:
                raise ValueError(f"unknown channel kind {kind!r}")
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_config (guild_id, updated_at) VALUES (?, ?) ON CONFLICT (guild_id) DO NOTHING",
                (guild_id, _now()),
            )
            for kind, channel_id in channels.items():
                await conn.execute(
                    f"UPDATE guild_config SET {kind}_channel_id = ?, updated_at = ? WHERE guild_id = ?",  # noqa: S608
                    (channel_id, _now(), guild_id),
                )
        return await self.get(guild_id)

    async def set_schedule(self, guild_id: int, weekday: int, time: str, timezone: str) -> GuildConfig:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_config (guild_id, schedule_weekday, schedule_time, timezone, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
                "schedule_weekday = excluded.schedule_weekday, schedule_time = excluded.schedule_time, "
                "timezone = excluded.timezone, updated_at = excluded.updated_at",
                (guild_id, weekday, time, timezone, _now()),
            )
        return await self.get(guild_id)

    async def set_moderator_role(self, guild_id: int, role_id: int | None) -> GuildConfig:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_config (guild_id, moderator_role_id, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET moderator_role_id = excluded.moderator_role_id, "
                "updated_at = excluded.updated_at",
                (guild_id, role_id, _now()),
            )
        return await self.get(guild_id)

    async def guild_ids(self, *, shards: Shards | None = None) -> list[int]:
        """The guilds with settings, of those on `shards` (every guild when None)."""
        on_shards, params = on_shards_clause(shards)
        rows = await self._db.fetch_all(
            f"SELECT guild_id FROM guild_config WHERE 1 = 1{on_shards} ORDER BY guild_id", params  # noqa: S608
        )
        return [int(row["guild_id"]) for row in rows]


def _feed(row: Any) -> Feed:
    data: dict[str, Any] = {key: row[key] for key in row.keys()}  # noqa: SIM118
    data["last_polled_at"] = from_db_time(data["last_polled_at"]) if data["last_polled_at"] else None
    data["added_at"] = from_db_time(data["added_at"])
    return Feed(**data)


class FeedRepository:
    """The club blog feeds of one guild and their polling state."""

    MAX_PER_GUILD = 10

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def list(self, guild_id: int) -> list[Feed]:
        rows = await self._db.fetch_all("SELECT * FROM feeds WHERE guild_id = ? ORDER BY id", (guild_id,))
        return [_feed(row) for row in rows]

    async def get(self, guild_id: int, feed_id: int) -> Feed | None:
        row = await self._db.fetch_one("SELECT * FROM feeds WHERE guild_id = ? AND id = ?", (guild_id, feed_id))
        return _feed(row) if row else None

    async def add(self, guild_id: int, url: str) -> Feed | None:
        """Adds the feed; None when this guild already has it."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO feeds (guild_id, url, added_at) VALUES (?, ?, ?) ON CONFLICT (guild_id, url) DO NOTHING "
                "RETURNING id",
                (guild_id, url, _now()),
            )
            row = await cursor.fetchone()
            await cursor.close()
        return await self.get(guild_id, int(row["id"])) if row else None

    async def remove(self, guild_id: int, url: str) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM feeds WHERE guild_id = ? AND url = ?", (guild_id, url))
            return cursor.rowcount > 0

    async def record_success(
        self, guild_id: int, feed_id: int, *, title: str | None, etag: str | None, last_modified: str | None,
        polled_at: datetime,
    ) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE feeds SET title = COALESCE(?, title), etag = ?, last_modified = ?, polled_once = 1, "
                "consecutive_failures = 0, failure_reported = 0, last_error = NULL, last_polled_at = ? "
                "WHERE guild_id = ? AND id = ?",
                (title, etag, last_modified, to_db_time(polled_at), guild_id, feed_id),
            )

    async def record_failure(self, guild_id: int, feed_id: int, error: str, polled_at: datetime) -> Feed | None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE feeds SET consecutive_failures = consecutive_failures + 1, last_error = ?, last_polled_at = ? "
                "WHERE guild_id = ? AND id = ?",
                (error[:500], to_db_time(polled_at), guild_id, feed_id),
            )
        return await self.get(guild_id, feed_id)

    async def mark_failure_reported(self, guild_id: int, feed_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE feeds SET failure_reported = 1 WHERE guild_id = ? AND id = ?", (guild_id, feed_id)
            )
