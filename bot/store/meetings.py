"""Meetings (mirrors of Discord scheduled events), the reminders posted for them, and per-guild club posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from bot.domain.books import Book
from bot.domain.shards import Shards
from bot.store.db import from_db_time, to_db_time
from bot.store.engine import AnyDatabase
from bot.store.sharding import on_shards_clause

Repeat = Literal["none", "weekly", "biweekly", "monthly"]
MeetingStatus = Literal["scheduled", "ended", "cancelled"]
ReminderKind = Literal["day", "hour"]


class Meeting(BaseModel):
    id: int
    guild_id: int
    event_id: int | None = None
    starts_at: datetime
    ends_at: datetime
    timezone: str
    channel_id: int | None = None
    location: str | None = None
    book: Book | None = None
    section: str | None = None
    repeat: Repeat = "none"
    status: MeetingStatus = "scheduled"
    previous_id: int | None = None
    created_by: int
    created_at: datetime


class PostedReminder(BaseModel):
    meeting_id: int
    kind: ReminderKind
    starts_at: datetime
    channel_id: int
    message_id: int


class ClubPosts(BaseModel):
    guild_id: int
    reminder_role_id: int | None = None
    reading_now_channel_id: int | None = None
    reading_now_message_id: int | None = None


_COLUMNS = (
    "m.id, m.guild_id, m.event_id, m.starts_at, m.ends_at, m.timezone, m.channel_id, m.location, m.section, "
    "m.repeat, m.status, m.previous_id, m.created_by, m.created_at, b.id AS b_id, b.title AS b_title, "
    "b.author AS b_author, b.year AS b_year, b.work_key AS b_work_key, b.isbn13 AS b_isbn13, b.cover_url AS b_cover"
)
_FROM = "FROM meetings m LEFT JOIN books b ON b.id = m.book_id AND b.guild_id = m.guild_id"


def _meeting(row: Any) -> Meeting:
    book = None
    if row["b_id"] is not None:
        book = Book(id=row["b_id"], guild_id=row["guild_id"], title=row["b_title"], author=row["b_author"],
                    year=row["b_year"], work_key=row["b_work_key"], isbn13=row["b_isbn13"], cover_url=row["b_cover"])
    return Meeting(
        id=row["id"], guild_id=row["guild_id"], event_id=row["event_id"], starts_at=from_db_time(row["starts_at"]),
        ends_at=from_db_time(row["ends_at"]), timezone=row["timezone"], channel_id=row["channel_id"],
        location=row["location"], book=book, section=row["section"], repeat=row["repeat"], status=row["status"],
        previous_id=row["previous_id"], created_by=row["created_by"], created_at=from_db_time(row["created_at"]),
    )


class MeetingRepository:
    """One guild's meetings and reminders; every statement is scoped by guild_id."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def create(
        self, guild_id: int, *, starts_at: datetime, ends_at: datetime, timezone: str, channel_id: int | None,
        location: str | None, book_id: int | None, section: str | None, repeat: Repeat, created_by: int,
        now: datetime, previous_id: int | None = None,
    ) -> Meeting:
        """A new meeting; the occurrence after `previous_id` is created once, however often this runs."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO meetings (guild_id, starts_at, ends_at, timezone, channel_id, location, book_id, section, "
                "repeat, previous_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, previous_id) DO NOTHING RETURNING id",
                (guild_id, to_db_time(starts_at), to_db_time(ends_at), timezone, channel_id, location, book_id,
                 section, repeat, previous_id, created_by, to_db_time(now)),
            )
            row = await cursor.fetchone()
            await cursor.close()
        meeting = (await self.get(guild_id, int(row[0])) if row is not None
                   else await self.next_of(guild_id, previous_id or 0))
        if meeting is None:
            raise RuntimeError("a created meeting vanished")
        return meeting

    async def get(self, guild_id: int, meeting_id: int) -> Meeting | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} {_FROM} WHERE m.guild_id = ? AND m.id = ?",
                                       (guild_id, meeting_id))
        return _meeting(row) if row else None

    async def by_event(self, guild_id: int, event_id: int) -> Meeting | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} {_FROM} WHERE m.guild_id = ? AND m.event_id = ?", (guild_id, event_id)
        )
        return _meeting(row) if row else None

    async def next_of(self, guild_id: int, previous_id: int) -> Meeting | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} {_FROM} WHERE m.guild_id = ? AND m.previous_id = ?", (guild_id, previous_id)
        )
        return _meeting(row) if row else None

    async def scheduled(self, guild_id: int, *, limit: int = 25) -> list[Meeting]:
        """Meetings not yet ended or cancelled, soonest first."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} {_FROM} WHERE m.guild_id = ? AND m.status = 'scheduled' "
            "ORDER BY m.starts_at, m.id LIMIT ?",
            (guild_id, limit),
        )
        return [_meeting(row) for row in rows]

    async def guilds_with_meetings(self, *, shards: Shards | None = None) -> list[int]:
        """The guilds with scheduled meetings, of those on `shards` (every guild when None)."""
        on_shards, params = on_shards_clause(shards)
        rows = await self._db.fetch_all(
            f"SELECT DISTINCT guild_id FROM meetings WHERE status = 'scheduled'{on_shards} ORDER BY guild_id",  # noqa: S608
            params,
        )
        return [int(row["guild_id"]) for row in rows]

    async def set_event(self, guild_id: int, meeting_id: int, event_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("UPDATE meetings SET event_id = ? WHERE guild_id = ? AND id = ?",
                               (event_id, guild_id, meeting_id))

    async def move(self, guild_id: int, meeting_id: int, *, starts_at: datetime, ends_at: datetime,
                   channel_id: int | None, location: str | None) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE meetings SET starts_at = ?, ends_at = ?, channel_id = ?, location = ? "
                "WHERE guild_id = ? AND id = ?",
                (to_db_time(starts_at), to_db_time(ends_at), channel_id, location, guild_id, meeting_id),
            )

    async def set_status(self, guild_id: int, meeting_id: int, status: MeetingStatus) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("UPDATE meetings SET status = ? WHERE guild_id = ? AND id = ?",
                               (status, guild_id, meeting_id))

    async def delete(self, guild_id: int, meeting_id: int) -> None:
        """Forgets a meeting whose event could not be created."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM meetings WHERE guild_id = ? AND id = ?", (guild_id, meeting_id))

    async def reminder(self, guild_id: int, meeting_id: int, kind: ReminderKind,
                       starts_at: datetime) -> PostedReminder | None:
        row = await self._db.fetch_one(
            "SELECT * FROM meeting_reminders WHERE guild_id = ? AND meeting_id = ? AND kind = ? AND starts_at = ?",
            (guild_id, meeting_id, kind, to_db_time(starts_at)),
        )
        if row is None:
            return None
        return PostedReminder(meeting_id=row["meeting_id"], kind=row["kind"], starts_at=from_db_time(row["starts_at"]),
                              channel_id=row["channel_id"], message_id=row["message_id"])

    async def record_reminder(self, guild_id: int, meeting_id: int, kind: ReminderKind, starts_at: datetime,
                              channel_id: int, message_id: int, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO meeting_reminders (guild_id, meeting_id, kind, starts_at, channel_id, message_id, "
                "posted_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, meeting_id, kind, to_db_time(starts_at), channel_id, message_id, to_db_time(now)),
            )

    async def club_posts(self, guild_id: int) -> ClubPosts:
        row = await self._db.fetch_one("SELECT * FROM club_posts WHERE guild_id = ?", (guild_id,))
        if row is None:
            return ClubPosts(guild_id=guild_id)
        return ClubPosts(**{key: row[key] for key in row.keys()})  # noqa: SIM118

    async def set_reminder_role(self, guild_id: int, role_id: int | None) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO club_posts (guild_id, reminder_role_id) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET reminder_role_id = excluded.reminder_role_id",
                (guild_id, role_id),
            )

    async def set_reading_now(self, guild_id: int, channel_id: int | None, message_id: int | None) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO club_posts (guild_id, reading_now_channel_id, reading_now_message_id) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET reading_now_channel_id = excluded.reading_now_channel_id, "
                "reading_now_message_id = excluded.reading_now_message_id",
                (guild_id, channel_id, message_id),
            )
