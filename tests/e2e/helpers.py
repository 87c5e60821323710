"""Small waits and reads that several end-to-end test files share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.store.db import to_db_time

# Generous: CI runs the suite on a busy two-core machine, and a wait ends as soon as its condition holds.
SETTLE = 20.0


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = SETTLE) -> None:
    """Wait until the bot's bookkeeping (which follows its posts by a moment) satisfies `check`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the bot did not get there"
        await asyncio.sleep(0.02)


async def caught_up(bookclub: Any) -> bool:
    """Whether the bot has done everything its clock made due: no job is running and none is pending and due.

    A job's outcome (done, rescheduled, or a retry at a backoff counted from the clock) is written a moment after
    its last Discord call, so this is what to wait for before reading a job, or before moving the clock again.
    """
    row = await bookclub.store.db.fetch_one(
        "SELECT COUNT(*) AS n FROM jobs WHERE status = 'running' OR (status = 'pending' AND due_at <= ?)",
        (to_db_time(bookclub.clock.now()),),
    )
    return row is not None and row["n"] == 0


async def pass_time(bookclub: Any, step: timedelta, times: int) -> None:
    """Moves the clock in steps, each once the bot has run and recorded everything the last one made due.

    Moving on while a job still runs would let it count its retry from a later clock, past the last step, so that
    the retry never comes; waiting makes each step see exactly the work of the one before.
    """
    for _ in range(times):
        bookclub.clock.advance(step)
        await eventually(lambda: caught_up(bookclub))


async def statuses(bookclub: Any) -> list[str]:
    """The status of every review of Guild A, oldest first."""
    rows = await bookclub.store.db.fetch_all("SELECT status FROM reviews WHERE guild_id = ? ORDER BY id",
                                             (bookclub.double.guild_a.id,))
    return [row["status"] for row in rows]
