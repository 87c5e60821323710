"""Reviews: the queue of members' and blogs' reviews, their exactly-once announcement, and the published list."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from bot.store.db import from_db_time, to_db_time
from bot.store.engine import AnyDatabase, new_id

ReviewStatus = Literal["queued", "announcing", "announced"]
ReviewSource = Literal["member", "feed", "import"]

_SELECT = (
    "SELECT r.id, r.guild_id, r.book_id, b.title AS book_title, b.author AS book_author, b.cover_url, r.member_id, "
    "r.reviewer_name, r.rating, r.body, r.spoilers, r.source, r.feed_id, r.entry_guid, r.link, r.status, "
    "r.channel_id, r.message_ids, r.created_at, r.announced_at "
    "FROM reviews r JOIN books b ON b.id = r.book_id AND b.guild_id = r.guild_id "
)


class Review(BaseModel):
    """A review with the book it is about."""

    id: int
    guild_id: int
    book_id: int
    book_title: str
    book_author: str
    cover_url: str | None = None
    member_id: int | None = None
    reviewer_name: str
    rating: int | None = None
    body: str
    spoilers: str | None = None
    source: ReviewSource
    feed_id: int | None = None
    entry_guid: str | None = None
    link: str | None = None
    status: ReviewStatus
    channel_id: int | None = None
    message_ids: list[int]
    created_at: datetime
    announced_at: datetime | None = None

    @property
    def book_label(self) -> str:
        """"Title by Author", or the title alone when the author is unknown (as `Book.label`)."""
        return f"{self.book_title} by {self.book_author}" if self.book_author else self.book_title


class FeedReview(BaseModel):
    """A blog post about to join the queue."""

    entry_key: str
    book_id: int
    reviewer_name: str
    body: str
    link: str | None = None


def _review(row: Any) -> Review:
    data: dict[str, Any] = {key: row[key] for key in row.keys()}  # noqa: SIM118
    data["message_ids"] = json.loads(data["message_ids"]) if data["message_ids"] else []
    data["created_at"] = from_db_time(data["created_at"])
    data["announced_at"] = from_db_time(data["announced_at"]) if data["announced_at"] else None
    return Review(**data)


def _filters(book_id: int | None, member_id: int | None) -> tuple[str, list[int]]:
    sql, params = "", []
    if book_id is not None:
        sql += " AND r.book_id = ?"
        params.append(book_id)
    if member_id is not None:
        sql += " AND r.member_id = ?"
        params.append(member_id)
    return sql, params


class ReviewRepository:
    """One guild's reviews. A review goes queued → announcing (posting started) → announced (every part posted)."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def get(self, guild_id: int, review_id: int) -> Review | None:
        row = await self._db.fetch_one(_SELECT + "WHERE r.guild_id = ? AND r.id = ?", (guild_id, review_id))
        return _review(row) if row else None

    async def queue_review(
        self, guild_id: int, book_id: int, *, member_id: int, reviewer_name: str, rating: int, body: str,
        spoilers: str | None, now: datetime,
    ) -> Review:
        """Stores a member's review, queued for the next announcement."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO reviews (guild_id, book_id, member_id, reviewer_name, rating, body, spoilers, source, "
                "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'member', 'queued', ?) RETURNING id",
                (guild_id, book_id, member_id, reviewer_name, rating, body, spoilers or None, to_db_time(now)),
            )
            review_id = await new_id(cursor)
        review = await self.get(guild_id, review_id)
        if review is None:
            raise RuntimeError("a stored review vanished")
        return review

    async def seen_entries(self, guild_id: int, feed_id: int, keys: Sequence[str]) -> set[str]:
        """Which of these feed entries were seen before, whether they were queued or passed over."""
        seen: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            rows = await self._db.fetch_all(
                f"SELECT entry_key FROM feed_entries WHERE guild_id = ? AND feed_id = ? "  # noqa: S608
                f"AND entry_key IN ({', '.join('?' * len(chunk))})",
                (guild_id, feed_id, *chunk),
            )
            seen.update(str(row["entry_key"]) for row in rows)
        return seen

    async def take_feed_entries(
        self, guild_id: int, feed_id: int, queue: Sequence[FeedReview], pass_over: Sequence[str], now: datetime,
    ) -> list[Review]:
        """Queues the given posts and remembers every entry as seen, in one transaction; returns what was queued.

        An entry seen before (say, by a poll that raced this one) is neither queued nor counted again.
        """
        stamp = to_db_time(now)
        queued_ids: list[int] = []
        async with self._db.transaction() as conn:
            for key in pass_over:
                await conn.execute(
                    "INSERT INTO feed_entries (guild_id, feed_id, entry_key, seen_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (guild_id, feed_id, key, stamp),
                )
            for post in queue:
                cursor = await conn.execute(
                    "INSERT INTO feed_entries (guild_id, feed_id, entry_key, seen_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (guild_id, feed_id, post.entry_key, stamp),
                )
                if cursor.rowcount == 0:
                    continue
                cursor = await conn.execute(
                    "INSERT INTO reviews (guild_id, book_id, reviewer_name, body, source, feed_id, entry_guid, link, "
                    "status, created_at) VALUES (?, ?, ?, ?, 'feed', ?, ?, ?, 'queued', ?) "
                    "ON CONFLICT (guild_id, feed_id, entry_guid) DO NOTHING RETURNING id",
                    (guild_id, post.book_id, post.reviewer_name, post.body, feed_id, post.entry_key, post.link, stamp),
                )
                created = await cursor.fetchone()
                await cursor.close()
                if created is None:
                    continue
                review_id = int(created["id"])
                await conn.execute(
                    "UPDATE feed_entries SET review_id = ? WHERE guild_id = ? AND feed_id = ? AND entry_key = ?",
                    (review_id, guild_id, feed_id, post.entry_key),
                )
                queued_ids.append(review_id)
        reviews = [await self.get(guild_id, review_id) for review_id in queued_ids]
        return [review for review in reviews if review is not None]

    async def queued(self, guild_id: int) -> list[Review]:
        """Reviews waiting to be announced, oldest first, including any whose announcement was interrupted."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE r.guild_id = ? AND r.status IN ('queued', 'announcing') ORDER BY r.id", (guild_id,)
        )
        return [_review(row) for row in rows]

    async def mark_announcing(self, guild_id: int, review_id: int, channel_id: int) -> Review | None:
        """Posting starts; the channel is kept from the first attempt so a re-run looks in the same place.

        None when the review is already announced (or gone): nothing is to be posted.
        """
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE reviews SET status = 'announcing', channel_id = COALESCE(channel_id, ?) "
                "WHERE guild_id = ? AND id = ? AND status IN ('queued', 'announcing')",
                (channel_id, guild_id, review_id),
            )
            changed = cursor.rowcount
        return await self.get(guild_id, review_id) if changed else None

    async def record_messages(self, guild_id: int, review_id: int, message_ids: Sequence[int]) -> None:
        """The announcement's messages posted so far, one per part in order."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE reviews SET message_ids = ? WHERE guild_id = ? AND id = ?",
                (json.dumps(list(message_ids)), guild_id, review_id),
            )

    async def mark_announced(self, guild_id: int, review_id: int, message_ids: Sequence[int], now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE reviews SET status = 'announced', message_ids = ?, announced_at = ? "
                "WHERE guild_id = ? AND id = ?",
                (json.dumps(list(message_ids)), to_db_time(now), guild_id, review_id),
            )

    async def delete(self, guild_id: int, review_id: int, *, statuses: Sequence[ReviewStatus]) -> bool:
        """Deletes the review if its status is one of `statuses` (checked in the same statement, so a review the
        announcer has just taken is not deleted from under it); True when it was."""
        marks = ", ".join("?" for _ in statuses)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                f"DELETE FROM reviews WHERE guild_id = ? AND id = ? AND status IN ({marks})",  # noqa: S608
                (guild_id, review_id, *statuses),
            )
            return cursor.rowcount > 0

    async def latest(self, guild_id: int, *, member_id: int | None = None, limit: int = 25) -> list[Review]:
        """Reviews in any state, newest first: the member's own, or everyone's when no member is given."""
        where, params = _filters(None, member_id)
        rows = await self._db.fetch_all(
            _SELECT + f"WHERE r.guild_id = ?{where} ORDER BY r.id DESC LIMIT ?",
            (guild_id, *params, limit),
        )
        return [_review(row) for row in rows]

    async def published(
        self, guild_id: int, *, book_id: int | None = None, member_id: int | None = None, offset: int = 0,
        limit: int = 5,
    ) -> list[Review]:
        """Announced reviews, by one book or member when given, newest first."""
        where, params = _filters(book_id, member_id)
        rows = await self._db.fetch_all(
            _SELECT + f"WHERE r.guild_id = ? AND r.status = 'announced'{where} "
            "ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?",
            (guild_id, *params, limit, offset),
        )
        return [_review(row) for row in rows]

    async def count_published(self, guild_id: int, *, book_id: int | None = None, member_id: int | None = None) -> int:
        where, params = _filters(book_id, member_id)
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM reviews r WHERE r.guild_id = ? AND r.status = 'announced'{where}",  # noqa: S608
            (guild_id, *params),
        )
        return int(row["n"]) if row else 0
