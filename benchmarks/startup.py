"""Start-up to READY with a 100 MB database, and resident memory after READY with 100 guilds, against the bare bot.

Run with `make bench` or `.venv/bin/python -m benchmarks.startup [--rounds N]` from the repository root.
`python -m bot` and the bare bot (benchmarks/bare_bot.py) run as subprocesses against one loopback Discord whose
world has 100 guilds, started in turn, round after round. A figure is the median over the rounds of: the time
from spawning the process to its IDENTIFY (the double then sends READY and the 100 GUILD_CREATEs), the time to
discord.py's on_ready (which comes 2 s after the last GUILD_CREATE, discord.py's default `guild_ready_timeout`,
in both bots), and VmRSS one second after on_ready. PRODUCT.md sets no figure here; this script holds both to the
interaction target's 1.5× of the bare bot: the time to the gateway READY (answered at once to IDENTIFY) and VmRSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.ask import build
from benchmarks.harness import add_club_guild, quiet_logging, verdict
from bot.store import Store
from tests.discord_double import DiscordDouble

ROOT = Path(__file__).resolve().parents[1]
BARE_BOT = ROOT / "benchmarks" / "bare_bot.py"
TARGET_RATIO = 1.5
GUILDS = 100
START_TIMEOUT = 60.0
SETTLE_SECONDS = 1.0


@dataclass
class Startup:
    identified_s: float
    ready_s: float
    rss_mb: float


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def start_once(double: DiscordDouble, command: list[str], env: dict[str, str], folder: Path) -> Startup:
    """Spawns the bot, times its IDENTIFY and its "ready as" log line, reads its memory, then stops it."""
    known = len(double.sessions)
    started = time.perf_counter()
    # The folder holds no .env, so only the variables given here configure the bot.
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=folder, stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    identified: list[float] = []
    lines: list[str] = []

    def has_identified() -> bool:
        if len(double.sessions) > known and not identified:
            identified.append(time.perf_counter())
        return bool(identified)

    try:
        watcher = asyncio.create_task(double.wait_until(has_identified, START_TIMEOUT))
        while True:
            line = (await asyncio.wait_for(process.stderr.readline(), START_TIMEOUT)).decode()
            if not line:
                raise RuntimeError(f"{command} exited before READY:\n{''.join(lines)}")
            lines.append(line)
            if " ready as " in line:
                ready = time.perf_counter()
                break
        if not await watcher:
            raise RuntimeError(f"{command} never identified")
        if f"in {len(double.guilds)} guild(s)" not in line:
            raise RuntimeError(f"{command} was ready without every guild: {line}")
        await asyncio.sleep(SETTLE_SECONDS)
        rss = resident_mb(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        drain = asyncio.create_task(process.stderr.read())
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        await drain
    return Startup(identified[0] - started, ready - started, rss)


def median(runs: list[Startup]) -> Startup:
    return Startup(statistics.median(s.identified_s for s in runs), statistics.median(s.ready_s for s in runs),
                   statistics.median(s.rss_mb for s in runs))


async def history(path: Path, books: int, reviews: int) -> None:
    """The ask benchmark's history at the given size, its WAL folded in."""
    async with Store(path) as store:
        await store.migrate()
        await build(store, books, reviews, random.Random(7))
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def main() -> int:
    parser = argparse.ArgumentParser(description="Start-up time and memory of `python -m bot` against a bare bot.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--books", type=int, default=20_000)
    parser.add_argument("--reviews", type=int, default=200_000)
    arguments = parser.parse_args()
    quiet_logging()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        database = folder / "bookclub.db"
        await history(database, arguments.books, arguments.reviews)
        size = database.stat().st_size / 1e6
        print(f"database: {size:.0f} MB ({arguments.books:,} books, {arguments.reviews:,} reviews)")
        async with DiscordDouble(check_bodies=False) as double:
            for number in range(GUILDS):
                add_club_guild(double, f"Club {number + 1}")
            base = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **double.env()}
            club_env = {**base, "DATABASE_PATH": str(database), "LOG_LEVEL": "INFO",
                        "OPENLIBRARY_BASE_URL": "http://127.0.0.1:9"}
            club = [sys.executable, "-m", "bot"]
            bare = [sys.executable, str(BARE_BOT)]
            # The first start of each syncs the command tree and fills the page cache; it is not counted.
            await start_once(double, club, club_env, folder)
            await start_once(double, bare, base, folder)
            figures: dict[str, list[Startup]] = {"bot": [], "bare": []}
            for _ in range(arguments.rounds):
                figures["bot"].append(await start_once(double, club, club_env, folder))
                figures["bare"].append(await start_once(double, bare, base, folder))
            assert double.unhandled == [], double.unhandled
    ours, theirs = median(figures["bot"]), median(figures["bare"])
    print(f"{GUILDS} guilds, medians of {arguments.rounds} starts each")
    for label, figure in (("bot (python -m bot)", ours), ("bare bot", theirs)):
        print(f"{label}: IDENTIFY after {figure.identified_s:.2f} s, on_ready after {figure.ready_s:.2f} s, "
              f"VmRSS {figure.rss_mb:.0f} MB")
    ratio = ours.identified_s / theirs.identified_s
    memory = ours.rss_mb / theirs.rss_mb
    start_ok, memory_ok = ratio <= TARGET_RATIO, memory <= TARGET_RATIO
    print(f"start-up to READY: {ratio:.2f}× the bare bot; to on_ready {ours.ready_s / theirs.ready_s:.2f}× "
          f"(target ≤ {TARGET_RATIO}× to READY): {verdict(start_ok)}")
    print(f"memory after READY: {memory:.2f}× the bare bot (target ≤ {TARGET_RATIO}×): {verdict(memory_ok)}")
    return 0 if start_ok and memory_ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
