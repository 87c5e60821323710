"""Small waits and reads that several end-to-end test files share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait until the bot's bookkeeping (which follows its posts by a moment) satisfies `check`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the bot did not get there"
        await asyncio.sleep(0.02)


async def statuses(bookclub: Any) -> list[str]:
    """The status of every review of Guild A, oldest first."""
    rows = await bookclub.store.db.fetch_all("SELECT status FROM reviews WHERE guild_id = ? ORDER BY id",
                                             (bookclub.double.guild_a.id,))
    return [row["status"] for row in rows]
