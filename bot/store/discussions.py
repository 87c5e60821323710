"""Discussions of a book: their threads and sections, members' progress, spoiler terms and re-posting webhooks."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from bot.domain.sections import Section
from bot.store.db import from_db_time, to_db_time
from bot.store.engine import AnyDatabase


class SectionThread(BaseModel):
    """A section of the book and the private thread where it may be discussed."""

    position: int
    name: str
    first_chapter: int | None = None
    last_chapter: int | None = None
    thread_id: int
    # The day (club time zone) by which the club means to have read this section, when a moderator set one.
    target_date: date | None = None

    @property
    def section(self) -> Section:
        return Section(self.name, self.first_chapter, self.last_chapter)


class Discussion(BaseModel):
    """A book under discussion: its spoiler-free thread and its section threads in reading order."""

    id: int
    guild_id: int
    book_id: int
    title: str
    author: str
    channel_id: int
    thread_id: int
    started_by: int
    created_at: datetime
    sections: list[SectionThread]
    ended_at: datetime | None = None
    ended_by: int | None = None

    @property
    def label(self) -> str:
        return f"{self.title} by {self.author}" if self.author else self.title

    @property
    def ended(self) -> bool:
        """Ended with /discuss end: its threads are archived and locked, and it may be started again."""
        return self.ended_at is not None

    def section_due_by(self, day: date) -> SectionThread | None:
        """The furthest section the club means to have read by `day` (say, a meeting's date), if any has a date."""
        due = [section for section in self.sections if section.target_date is not None and section.target_date <= day]
        return due[-1] if due else None


class Progress(BaseModel):
    """The furthest section (1-based position) a member has read in a discussion."""

    discussion_id: int
    member_id: int
    position: int
    updated_at: datetime


class ProgressChange(BaseModel):
    """A member's progress before and after recording a section."""

    previous: int | None
    current: int


_DISCUSSION_COLUMNS = (
    "d.id, d.guild_id, d.book_id, b.title, b.author, d.channel_id, d.thread_id, d.started_by, d.created_at, "
    "d.ended_at, d.ended_by"
)

_SECTION_COLUMNS = "discussion_id, position, name, first_chapter, last_chapter, thread_id, target_date"


class DiscussionRepository:
    """One guild's discussions; every statement is scoped by guild_id."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def create(self, guild_id: int, book_id: int, *, channel_id: int, thread_id: int,
                     sections: Sequence[tuple[Section, int]], started_by: int, at: datetime,
                     target_dates: Sequence[date | None] = ()) -> Discussion | None:
        """Records a discussion and its (section, thread id) pairs, with each section's target date when given.

        None when the book is under discussion already. A discussion that ended is opened again in place (same
        id, spoiler terms kept): its new threads and sections replace the old, and members' progress starts over,
        since they join the new section threads with /progress.
        """
        dates = list(target_dates) or [None] * len(sections)
        if len(dates) != len(sections):
            raise ValueError("one target date (or None) per section")
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO discussions (guild_id, book_id, channel_id, thread_id, started_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, book_id) DO UPDATE SET "
                "channel_id = excluded.channel_id, thread_id = excluded.thread_id, started_by = excluded.started_by, "
                "created_at = excluded.created_at, ended_at = NULL, ended_by = NULL "
                "WHERE discussions.ended_at IS NOT NULL",
                (guild_id, book_id, channel_id, thread_id, started_by, to_db_time(at)),
            )
            if cursor.rowcount == 0:
                return None
            cursor = await conn.execute(
                "SELECT id FROM discussions WHERE guild_id = ? AND book_id = ?", (guild_id, book_id)
            )
            row = await cursor.fetchone()
            await cursor.close()
            if row is None:
                raise RuntimeError("a stored discussion vanished")
            discussion_id = int(row["id"])
            for table in ("discussion_sections", "reading_progress"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE guild_id = ? AND discussion_id = ?",  # noqa: S608
                    (guild_id, discussion_id),
                )
            await conn.executemany(
                "INSERT INTO discussion_sections (discussion_id, guild_id, position, name, first_chapter, "
                "last_chapter, thread_id, target_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (discussion_id, guild_id, position, section.name, section.first_chapter, section.last_chapter,
                     section_thread_id, day.isoformat() if day else None)
                    for position, ((section, section_thread_id), day) in enumerate(zip(sections, dates, strict=True),
                                                                                   start=1)
                ],
            )
        return await self.get(guild_id, discussion_id)

    async def end(self, guild_id: int, discussion_id: int, *, ended_by: int, at: datetime) -> Discussion | None:
        """Marks the discussion ended; None when the guild has no such discussion or it has ended already."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE discussions SET ended_at = ?, ended_by = ? WHERE guild_id = ? AND id = ? AND ended_at IS NULL",
                (to_db_time(at), ended_by, guild_id, discussion_id),
            )
            changed = cursor.rowcount
        return await self.get(guild_id, discussion_id) if changed else None

    async def get(self, guild_id: int, discussion_id: int) -> Discussion | None:
        found = await self._select(guild_id, "AND d.id = ?", (discussion_id,))
        return found[0] if found else None

    async def for_book(self, guild_id: int, book_id: int) -> Discussion | None:
        found = await self._select(guild_id, "AND d.book_id = ?", (book_id,))
        return found[0] if found else None

    async def list(self, guild_id: int) -> builtins.list[Discussion]:
        """Every discussion of the guild, newest first."""
        return await self._select(guild_id, "", ())

    async def _select(self, guild_id: int, where: str, params: tuple[Any, ...]) -> builtins.list[Discussion]:
        rows = await self._db.fetch_all(
            f"SELECT {_DISCUSSION_COLUMNS} FROM discussions d JOIN books b ON b.id = d.book_id "  # noqa: S608
            f"WHERE d.guild_id = ? {where} ORDER BY d.created_at DESC, d.id DESC",
            (guild_id, *params),
        )
        if not rows:
            return []
        ids = [int(row["id"]) for row in rows]
        marks = ", ".join("?" for _ in ids)
        section_rows = await self._db.fetch_all(
            f"SELECT {_SECTION_COLUMNS} FROM discussion_sections WHERE guild_id = ? AND discussion_id IN ({marks}) "  # noqa: S608
            "ORDER BY discussion_id, position",
            (guild_id, *ids),
        )
        sections: dict[int, builtins.list[SectionThread]] = {}
        for row in section_rows:
            sections.setdefault(int(row["discussion_id"]), []).append(SectionThread(
                position=row["position"], name=row["name"], first_chapter=row["first_chapter"],
                last_chapter=row["last_chapter"], thread_id=row["thread_id"],
                target_date=date.fromisoformat(row["target_date"]) if row["target_date"] else None,
            ))
        return [
            Discussion(
                id=row["id"], guild_id=row["guild_id"], book_id=row["book_id"], title=row["title"],
                author=row["author"], channel_id=row["channel_id"], thread_id=row["thread_id"],
                started_by=row["started_by"], created_at=from_db_time(row["created_at"]),
                sections=sections.get(int(row["id"]), []),
                ended_at=from_db_time(row["ended_at"]) if row["ended_at"] else None, ended_by=row["ended_by"],
            )
            for row in rows
        ]

    # -- reading progress -------------------------------------------------------------------------

    async def record_progress(self, guild_id: int, discussion_id: int, member_id: int, position: int,
                              at: datetime) -> ProgressChange | None:
        """Moves the member's progress forward to `position` (never back); None when there is no such discussion
        or it has ended."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT 1 FROM discussions WHERE guild_id = ? AND id = ? AND ended_at IS NULL",
                (guild_id, discussion_id),
            )
            running = await cursor.fetchone() is not None
            await cursor.close()
            if not running:
                return None
            cursor = await conn.execute(
                "SELECT position FROM reading_progress WHERE guild_id = ? AND discussion_id = ? AND member_id = ?",
                (guild_id, discussion_id, member_id),
            )
            row = await cursor.fetchone()
            await cursor.close()
            previous = int(row["position"]) if row else None
            await conn.execute(
                "INSERT INTO reading_progress (discussion_id, guild_id, member_id, position, updated_at) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (discussion_id, member_id) DO UPDATE SET position = excluded.position, "
                "updated_at = excluded.updated_at WHERE excluded.position > reading_progress.position",
                (discussion_id, guild_id, member_id, position, to_db_time(at)),
            )
        return ProgressChange(previous=previous, current=max(position, previous or 0))

    async def progress(self, guild_id: int, member_id: int) -> builtins.list[Progress]:
        """The member's progress in every discussion of the guild."""
        rows = await self._db.fetch_all(
            "SELECT discussion_id, member_id, position, updated_at FROM reading_progress "
            "WHERE guild_id = ? AND member_id = ? ORDER BY discussion_id",
            (guild_id, member_id),
        )
        return [
            Progress(discussion_id=row["discussion_id"], member_id=row["member_id"], position=row["position"],
                     updated_at=from_db_time(row["updated_at"]))
            for row in rows
        ]

    # -- spoiler terms ----------------------------------------------------------------------------

    async def set_terms(self, guild_id: int, discussion_id: int, terms: Sequence[str]) -> bool:
        """Replaces the discussion's spoiler terms; False when the guild has no such discussion."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT 1 FROM discussions WHERE guild_id = ? AND id = ?", (guild_id, discussion_id)
            )
            exists = await cursor.fetchone() is not None
            await cursor.close()
            if not exists:
                return False
            await conn.execute(
                "DELETE FROM spoiler_terms WHERE guild_id = ? AND discussion_id = ?", (guild_id, discussion_id)
            )
            await conn.executemany(
                "INSERT INTO spoiler_terms (discussion_id, guild_id, position, term) VALUES (?, ?, ?, ?)",
                [(discussion_id, guild_id, position, term) for position, term in enumerate(terms, start=1)],
            )
        return True

    async def terms(self, guild_id: int, discussion_id: int) -> builtins.list[str]:
        rows = await self._db.fetch_all(
            "SELECT term FROM spoiler_terms WHERE guild_id = ? AND discussion_id = ? ORDER BY position",
            (guild_id, discussion_id),
        )
        return [str(row["term"]) for row in rows]

    async def guard_version(self, guild_id: int) -> int:
        """A counter that moves whenever the guild's discussions, sections or spoiler terms change (SQL triggers)."""
        rows = await self._db.fetch_versions(
            "guard_versions", "SELECT version FROM guard_versions WHERE guild_id = ?", guild_id
        )
        return int(rows[0]["version"]) if rows else 0

    async def all_terms(self, guild_id: int) -> dict[int, builtins.list[str]]:
        """Every discussion's spoiler terms, by discussion id."""
        rows = await self._db.fetch_all(
            "SELECT discussion_id, term FROM spoiler_terms WHERE guild_id = ? ORDER BY discussion_id, position",
            (guild_id,),
        )
        terms: dict[int, builtins.list[str]] = {}
        for row in rows:
            terms.setdefault(int(row["discussion_id"]), []).append(str(row["term"]))
        return terms

    # -- re-posting webhooks and notices ----------------------------------------------------------

    async def webhook_id(self, guild_id: int, channel_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT webhook_id FROM spoiler_webhooks WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
        )
        return int(row["webhook_id"]) if row else None

    async def remember_webhook(self, guild_id: int, channel_id: int, webhook_id: int, at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO spoiler_webhooks (guild_id, channel_id, webhook_id, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, channel_id) DO UPDATE SET webhook_id = excluded.webhook_id, "
                "created_at = excluded.created_at",
                (guild_id, channel_id, webhook_id, to_db_time(at)),
            )

    async def forget_webhook(self, guild_id: int, channel_id: int, webhook_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM spoiler_webhooks WHERE guild_id = ? AND channel_id = ? AND webhook_id = ?",
                (guild_id, channel_id, webhook_id),
            )

    async def first_notice(self, guild_id: int, member_id: int, at: datetime) -> bool:
        """True the first time a member's message is hidden by the guard in this guild, False afterwards."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO spoiler_notices (guild_id, member_id, told_at) VALUES (?, ?, ?) "
                "ON CONFLICT (guild_id, member_id) DO NOTHING",
                (guild_id, member_id, to_db_time(at)),
            )
            return cursor.rowcount > 0
