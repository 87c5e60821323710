"""End-to-end interaction latency through the loopback Discord: /ask, /spoiler and /config show of the bot
against a bare discord.py bot answering /ping with "pong", both connected to the same double in the same run.

Run with `make bench` or `.venv/bin/python -m benchmarks.latency [--rounds N]` from the repository root.
The target (PRODUCT.md) is within 1.5× of the bare bot. Each round sends /ask, /ping, /spoiler, /ping,
/config show, /ping one after the other, so noise on the shared machine hits both bots alike. A figure is
the time from the member's `double.slash(...)` to the acknowledgement, and to the first visible answer
(the same moment unless the command defers, as /ask does when its answer takes over half a second).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.ask import build, questions
from benchmarks.harness import Running, both_bots, percentile, quiet_logging, summary, verdict
from bot.store import Store
from tests.discord_double import DiscordDouble, Interaction

TARGET_RATIO = 1.5
# The members asking and posting spoilers take turns, each at most this often in the whole run, as in a club where
# many members each do a little: one member doing it all would meet the per-member cooldowns (5 /spoiler a minute)
# within seconds, and the figures would time refusals instead of answers.
USES_PER_READER = 4
SPOILER_TEXTS = ["Ruth dies at the end", "Kathy finds the tape in Norfolk", "the letters were never sent",
                 "he was the stranger on the bridge all along", "the orchard burns down in chapter 22"]


@dataclass
class Timings:
    ack: list[float] = field(default_factory=list)
    answer: list[float] = field(default_factory=list)


async def timed(send: Callable[[], Awaitable[Interaction]], timings: Timings | None) -> None:
    started = time.perf_counter()
    interaction = await send()
    acknowledged = time.perf_counter()
    await interaction.reply()
    answered = time.perf_counter()
    if timings is not None:
        timings.ack.append((acknowledged - started) * 1000)
        timings.answer.append((answered - started) * 1000)


async def run(running: Running, asked: list[tuple[str, int]], rounds: int, warm_up: int,
              rng: random.Random) -> dict[str, Timings]:
    double = running.double
    guild = double.guild_a
    alice, mod = guild.member("Alice"), guild.member("Mod")
    readers = [double.add_member(guild, f"Reader {number}")
               for number in range(math.ceil((warm_up + rounds) / USES_PER_READER))]
    figures = {name: Timings() for name in ("/ask", "/spoiler", "/config show", "/ping")}

    async def club(name: str, send: Callable[[], Awaitable[Interaction]], keep: bool) -> None:
        running.to_club()
        await timed(send, figures[name] if keep else None)
        running.to_bare()
        await timed(lambda: double.slash(guild, alice, "ping"), figures["/ping"] if keep else None)

    for number in range(warm_up + rounds):
        keep = number >= warm_up
        question = asked[number % len(asked)][0]
        reader = readers[number % len(readers)]
        await club("/ask", lambda q=question, r=reader: double.slash(guild, r, "ask", question=q), keep)
        text, label = rng.choice(SPOILER_TEXTS), f"ch. {rng.randint(1, 40)}"
        await club("/spoiler", lambda t=text, lb=label, r=reader: double.slash(guild, r, "spoiler", text=t, label=lb),
                   keep)
        await club("/config show", lambda: double.slash(guild, mod, "config show"), keep)
    return figures


async def main() -> int:
    parser = argparse.ArgumentParser(description="Interaction latency of the bot against a bare discord.py bot.")
    parser.add_argument("--rounds", type=int, default=300, help="measured requests per bot command")
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--books", type=int, default=10_000)
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    quiet_logging()
    rng = random.Random(arguments.seed)
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bookclub.db"
        async with DiscordDouble.with_default_world(check_bodies=False) as double:
            async with Store(database) as store:
                await store.migrate()
                authors, titles = await build(store, arguments.books, arguments.reviews, rng, guild=double.guild_a.id)
            print(f"history: {arguments.books:,} books, {arguments.reviews:,} reviews in the guild asked about")
            asked = questions(authors, titles, 500, rng)
            async with both_bots(double, database) as running:
                figures = await run(running, asked, arguments.rounds, arguments.warm_up, rng)
            assert double.unhandled == [], double.unhandled
    bare = figures.pop("/ping")
    bare_p50, bare_p95 = statistics.median(bare.answer), percentile(bare.answer, 0.95)
    print(f"bare bot /ping → pong:  {summary(bare.answer)}")
    ok = True
    for name, timings in figures.items():
        p50, p95 = statistics.median(timings.answer), percentile(timings.answer, 0.95)
        ratio = p50 / bare_p50
        ok = ok and ratio <= TARGET_RATIO
        print(f"bot {name}: acknowledged {summary(timings.ack)}")
        print(f"bot {name}: answered     {summary(timings.answer)}")
        print(f"    ratio to bare: p50 {ratio:.2f}×, p95 {p95 / bare_p95:.2f}× "
              f"(target p50 ≤ {TARGET_RATIO}×): {verdict(ratio <= TARGET_RATIO)}; "
              f"added to a round trip: {p50 - bare_p50:.1f} ms at p50")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
