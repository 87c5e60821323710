"""200 interactions sent at once through the loopback Discord: all acknowledged, and how long the last ones wait.

Run with `make bench` or `.venv/bin/python -m benchmarks.burst [--burst N] [--rounds N]` from the repository root.
The target (PRODUCT.md) is every interaction acknowledged well inside Discord's 3-second window; this script
asks for p99 under 1.5 s. Each round sends a burst of /config show (a moderator check and two reads of the
store), a burst of /club history (a deferral, then a page of 10,000 books) and a burst of /ping to the bare
bot, all to the same double in the same run, one bot at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.ask import build
from benchmarks.harness import Running, both_bots, percentile, quiet_logging, verdict
from bot.store import Store
from tests.discord_double import DiscordDouble, Interaction, InteractionTimeout

ACK_WINDOW_MS = 3000.0
TARGET_P99_MS = 1500.0
# Long enough to see how late a slow acknowledgement is, instead of only that it missed Discord's window.
WAIT_SECONDS = 30.0


@dataclass
class Figures:
    acknowledged: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    missing: int = 0


async def burst(size: int, send: Callable[[], Awaitable[Interaction]], figures: Figures) -> None:
    """Sends `size` interactions at once and waits for every answer, recording when each was acknowledged."""
    started = time.perf_counter()

    async def one() -> None:
        try:
            interaction = await send()
            figures.acknowledged.append((time.perf_counter() - started) * 1000)
            # Every answer lands before the next burst, so one burst's follow-ups never slow the next one.
            await interaction.reply(timeout=WAIT_SECONDS)
            figures.answered.append((time.perf_counter() - started) * 1000)
        except InteractionTimeout:
            figures.missing += 1

    await asyncio.gather(*(one() for _ in range(size)))


async def run(running: Running, size: int, rounds: int) -> dict[str, Figures]:
    double = running.double
    guild = double.guild_a
    alice, mod = guild.member("Alice"), guild.member("Mod")
    commands: list[tuple[str, Callable[[], None], Callable[[], Awaitable[Interaction]]]] = [
        ("bot /config show", running.to_club, lambda: double.slash(guild, mod, "config show", timeout=WAIT_SECONDS)),
        ("bot /club history", running.to_club, lambda: double.slash(guild, alice, "club history",
                                                                     timeout=WAIT_SECONDS)),
        ("bare /ping", running.to_bare, lambda: double.slash(guild, alice, "ping", timeout=WAIT_SECONDS)),
    ]
    figures = {name: Figures() for name, _, _ in commands}
    for _ in range(rounds):
        for name, deliver, send in commands:
            deliver()
            await burst(size, send, figures[name])
    return figures


async def main() -> int:
    parser = argparse.ArgumentParser(description="A burst of interactions: all acknowledged, p99 time to ack.")
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--books", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=100_000)
    arguments = parser.parse_args()
    quiet_logging()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bookclub.db"
        async with DiscordDouble.with_default_world(check_bodies=False) as double:
            async with Store(database) as store:
                await store.migrate()
            build(database, arguments.books, arguments.reviews, random.Random(7), guild=double.guild_a.id)
            async with both_bots(double, database) as running:
                # One of each first, so the figures are of a running bot, not of its first call.
                running.to_club()
                await (await double.slash(double.guild_a, double.guild_a.member("Alice"), "club history")).reply()
                figures = await run(running, arguments.burst, arguments.rounds)
            assert double.unhandled == [], double.unhandled
    print(f"{arguments.rounds} bursts of {arguments.burst} interactions sent at once, per command")
    ok = True
    for name, figure in figures.items():
        timings = figure.acknowledged
        inside = sum(t <= ACK_WINDOW_MS for t in timings)
        p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
        passed = figure.missing == 0 and inside == len(timings) and p99 <= TARGET_P99_MS
        ok = ok and passed
        print(f"{name}: acknowledged {len(timings)}/{len(timings) + figure.missing}, {inside} inside 3 s; "
              f"p50={p50:.0f} ms p99={p99:.0f} ms max={max(timings):.0f} ms "
              f"(target all inside 3 s, p99 ≤ {TARGET_P99_MS:.0f} ms): {verdict(passed)}")
        print(f"    last answer of a burst shown after {max(figure.answered):.0f} ms "
              f"(answered p50={percentile(figure.answered, 0.5):.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
