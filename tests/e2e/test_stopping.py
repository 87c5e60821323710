"""Starting and stopping the bot as operators do: Ctrl-C in a terminal, SIGTERM from systemd or docker, at any
moment of its start-up, stops it at once with status 0; a start Discord refuses ends with one line that says why."""

from __future__ import annotations

import asyncio
import signal
import sqlite3

import pytest

from tests.discord_double import DiscordDouble
from tests.e2e.process import BotProcess, bot_process

__all__ = ["bot_process"]

SIGNALS = [signal.SIGINT, signal.SIGTERM]


@pytest.mark.parametrize("sig", SIGNALS, ids=["ctrl-c", "sigterm"])
async def test_a_stop_right_after_ready_ends_the_bot_cleanly(double: DiscordDouble, bot_process: BotProcess,
                                                             sig: signal.Signals) -> None:
    # Three times: the signal lands while discord.py is still finishing its gateway handshake, the moment a
    # Ctrl-C used to be swallowed (Python 3.11's wait_for) and the bot ran on.
    for _ in range(3):
        await bot_process.start()
        assert await bot_process.stop(sig=sig) == 0, bot_process.output()
    output = bot_process.output()
    assert output.count(f"{sig.name} received; stopping") == 3 and output.count("INFO    bot: stopped") == 3
    assert "Traceback" not in output


@pytest.mark.sqlite_only
@pytest.mark.parametrize("sig", SIGNALS, ids=["ctrl-c", "sigterm"])
async def test_a_stop_while_waiting_for_a_held_database_ends_the_bot(double: DiscordDouble, bot_process: BotProcess,
                                                                     sig: signal.Signals) -> None:
    await bot_process.start()
    assert await bot_process.stop() == 0
    other = sqlite3.connect(bot_process.database, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        starting = asyncio.create_task(bot_process.start())
        assert await double.wait_until(lambda: "waiting for it" in bot_process.output(), 20.0), bot_process.output()
        assert await bot_process.stop(sig=sig) == 0, bot_process.output()
        with pytest.raises(AssertionError, match="exited with status 0"):
            await starting
    finally:
        other.close()
    output = bot_process.output()
    assert "logging in" not in output.split("waiting for it")[-1], "it stopped without logging in"
    assert output.rstrip().endswith("INFO    bot: stopped") and "Traceback" not in output


async def test_a_refused_message_content_intent_ends_with_one_line_saying_where_to_enable_it(
    double: DiscordDouble, bot_process: BotProcess
) -> None:
    double.gateway.allowed_privileged_intents = 0
    bot_process.extra_env = {"MESSAGE_CONTENT_INTENT": "true"}
    with pytest.raises(AssertionError, match="exited with status 2"):
        await bot_process.start()
    output = bot_process.output()
    assert "Privileged Gateway Intents" in output and "MESSAGE_CONTENT_INTENT=false" in output
    assert "Traceback" not in output
