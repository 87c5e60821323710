"""Scheduled work as rows: claimed in a transaction, finished, rescheduled or retried when the scheduler says."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bot.domain.shards import Shards
from bot.store.db import from_db_time, to_db_time
from bot.store.engine import AnyDatabase
from bot.store.sharding import on_shards_clause


class Job(BaseModel):
    id: int
    guild_id: int
    kind: str
    key: str
    payload: dict[str, Any]
    due_at: datetime
    status: str
    attempts: int
    last_error: str | None = None


def _job(row: Any) -> Job:
    data: dict[str, Any] = {key: row[key] for key in row.keys()}  # noqa: SIM118
    return Job(
        id=data["id"], guild_id=data["guild_id"], kind=data["kind"], key=data["key"],
        payload=json.loads(data["payload"]), due_at=from_db_time(data["due_at"]), status=data["status"],
        attempts=data["attempts"], last_error=data["last_error"],
    )


class JobRepository:
    """The jobs table. A job is unique per (guild, kind, key): scheduling it again moves it."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def schedule(
        self, guild_id: int, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> Job:
        """Creates the job, or re-arms it (pending, attempts reset) at the new time."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO jobs (guild_id, kind, key, payload, due_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, kind, key) DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at, "
                "status = 'pending', attempts = 0, last_error = NULL, claimed_at = NULL, finished_at = NULL",
                (guild_id, kind, key, json.dumps(payload or {}), to_db_time(due_at)),
            )
        job = await self.get(guild_id, kind, key)
        if job is None:
            raise RuntimeError("a scheduled job vanished")
        return job

    async def get(self, guild_id: int, kind: str, key: str) -> Job | None:
        row = await self._db.fetch_one(
            "SELECT * FROM jobs WHERE guild_id = ? AND kind = ? AND key = ?", (guild_id, kind, key)
        )
        return _job(row) if row else None

    async def list_for_guild(self, guild_id: int) -> list[Job]:
        rows = await self._db.fetch_all("SELECT * FROM jobs WHERE guild_id = ? ORDER BY due_at, id", (guild_id,))
        return [_job(row) for row in rows]

    async def cancel(self, guild_id: int, kind: str, key: str) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM jobs WHERE guild_id = ? AND kind = ? AND key = ? AND status != 'running'",
                (guild_id, kind, key),
            )
            return cursor.rowcount > 0

    async def claim_due(self, now: datetime, limit: int = 20, *, busy_guilds: Collection[int] = (),
                        shards: Shards | None = None) -> list[Job]:
        """Marks up to `limit` due pending jobs as running and returns them, across all guilds on `shards` (every
        guild when None) but `busy_guilds`. Processes claiming at once never get the same job: SQLite has one
        writer at a time, and PostgreSQL skips the rows another process's claim has locked.

        This is the scheduler's view; everything a job does afterwards is scoped by the job's guild.
        """
        busy = _not_in("guild_id", busy_guilds)
        on_shards, shard_params = on_shards_clause(shards)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, claimed_at = ? "  # noqa: S608
                f"WHERE id IN (SELECT id FROM jobs WHERE status = 'pending' AND due_at <= ?{busy}{on_shards} "
                f"ORDER BY due_at, id LIMIT ?{self._db.claim_lock}) AND status = 'pending' "
                "RETURNING *",
                (to_db_time(now), to_db_time(now), *busy_guilds, *shard_params, limit),
            )
            rows = await cursor.fetchall()
            await cursor.close()
        return sorted((_job(row) for row in rows), key=lambda job: (job.due_at, job.id))

    async def next_due_at(self, *, busy_guilds: Collection[int] = (), shards: Shards | None = None
                          ) -> datetime | None:
        busy = _not_in("guild_id", busy_guilds)
        on_shards, shard_params = on_shards_clause(shards)
        row = await self._db.fetch_one(
            f"SELECT MIN(due_at) AS due FROM jobs WHERE status = 'pending'{busy}{on_shards}",  # noqa: S608
            (*busy_guilds, *shard_params),
        )
        return from_db_time(row["due"]) if row and row["due"] else None

    async def release_interrupted(self, *, still_running: Collection[int] = (), shards: Shards | None = None) -> int:
        """Jobs left running by a process that died, or whose outcome could not be recorded, run again (handlers
        are idempotent); `still_running` are jobs this process is running now.

        Only the jobs of guilds on `shards`: another process's shards' running jobs are its own, alive or not, and
        releasing them would let this process run them a second time while it still does.
        """
        running = _not_in("id", still_running)
        on_shards, shard_params = on_shards_clause(shards)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE jobs SET status = 'pending' WHERE status = 'running'{running}{on_shards}",  # noqa: S608
                (*still_running, *shard_params),
            )
            return cursor.rowcount

    async def finish(self, job: Job, now: datetime, next_due: datetime | None = None) -> None:
        """Done, or pending again at `next_due` for recurring work."""
        async with self._db.transaction() as conn:
            if next_due is None:
                await conn.execute(
                    "UPDATE jobs SET status = 'done', finished_at = ?, last_error = NULL WHERE id = ? AND guild_id = ?",
                    (to_db_time(now), job.id, job.guild_id),
                )
            else:
                await conn.execute(
                    "UPDATE jobs SET status = 'pending', due_at = ?, attempts = 0, finished_at = ?, last_error = NULL "
                    "WHERE id = ? AND guild_id = ?",
                    (to_db_time(next_due), to_db_time(now), job.id, job.guild_id),
                )

    async def fail(self, job: Job, error: str, retry_at: datetime | None, now: datetime) -> None:
        """Records the error; retried at `retry_at`, or given up when None."""
        async with self._db.transaction() as conn:
            if retry_at is None:
                await conn.execute(
                    "UPDATE jobs SET status = 'failed', last_error = ?, finished_at = ? WHERE id = ? AND guild_id = ?",
                    (error[:1000], to_db_time(now), job.id, job.guild_id),
                )
            else:
                await conn.execute(
                    "UPDATE jobs SET status = 'pending', last_error = ?, due_at = ? WHERE id = ? AND guild_id = ?",
                    (error[:1000], to_db_time(retry_at), job.id, job.guild_id),
                )


class StateRepository:
    """The bot's own key-value state (not guild data), such as the hash of the last synced command tree."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        row = await self._db.fetch_one("SELECT value FROM bot_state WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def set(self, key: str, value: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO bot_state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def delete(self, key: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM bot_state WHERE key = ?", (key,))


def _not_in(column: str, values: Collection[int]) -> str:
    """An `AND column NOT IN (?, …)` clause for these values (bound separately), or nothing when there are none."""
    return f" AND {column} NOT IN ({', '.join('?' * len(values))})" if values else ""
