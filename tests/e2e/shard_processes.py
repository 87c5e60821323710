"""Several real `python -m bot` processes, each on its own shard range, over one database and one loopback Discord:
for tests that kill one of them and count what each guild was posted.

The database is one parameter, `database`: a SQLite file's path, or a PostgreSQL URL under `make test-postgres`
(`tests/databases.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.domain.shards import Shards
from bot.store import Store
from tests.discord_double import DiscordDouble
from tests.e2e.process import BotProcess

# Generous: the machine is shared, and a restart replays a whole start-up.
SETTLE = 20.0


@asynccontextmanager
async def open_database(database: Path | str) -> AsyncIterator[Store]:
    """The shared database, opened beside the processes (SQLite's WAL, or PostgreSQL, lets the test read and write
    while they run)."""
    async with Store(database) as store:
        yield store


class ShardProcess(BotProcess):
    """`python -m bot` with SHARD_COUNT and SHARD_IDS for `shards`."""

    def __init__(self, double: DiscordDouble, database: Path | str, logs: Path, shards: Shards) -> None:
        super().__init__(double, database, logs)
        self.shards = shards
        self.extra_env = {
            "SHARD_COUNT": str(shards.count),
            "SHARD_IDS": ",".join(map(str, shards.ids)),
        }


@asynccontextmanager
async def shard_processes(double: DiscordDouble, database: Path | str, logs: Path,
                          ranges: list[Shards]) -> AsyncIterator[list[ShardProcess]]:
    """One process per shard range, not started yet (`start()` each), all killed at the end whatever the test did;
    their output is printed, which pytest shows for a failing test."""
    processes = []
    for shards in ranges:
        folder = logs / f"shards-{'-'.join(map(str, shards.ids))}-of-{shards.count}"
        folder.mkdir(parents=True)
        processes.append(ShardProcess(double, database, folder, shards))
    try:
        yield processes
    finally:
        for process in processes:
            process.close()
            print(f"=== {process.shards} ===\n{process.output()}")
    assert double.invalid_bodies == [], f"a bot sent bodies Discord would refuse: {double.invalid_bodies}"


async def settled(processes: list[ShardProcess], database: Path | str,
                  check: Callable[[Store], Awaitable[bool]]) -> None:
    """Waits until the shared database says what `check` wants: a process's mark follows its post by a moment."""
    async with open_database(database) as store:
        deadline = asyncio.get_running_loop().time() + SETTLE
        while not await check(store):
            if asyncio.get_running_loop().time() >= deadline:
                output = "\n".join(process.output() for process in processes)
                raise AssertionError(f"the processes did not settle:\n{output}")
            await asyncio.sleep(0.05)
