"""The real `python -m bot` as a child process against the loopback Discord, for tests that must kill it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import pytest

from tests.databases import new_database
from tests.discord_double import DiscordDouble
from tests.e2e.helpers import SETTLE

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# Variables of the operator's own environment that must not point the child at a real Discord or model.
FOREIGN_PREFIXES = ("DISCORD_", "OPENAI_")


class BotProcess:
    """One bot process at a time over one database; start it again after `kill()` or `stop()` to restart."""

    def __init__(self, double: DiscordDouble, database: Path | str, logs: Path) -> None:
        self.double = double
        self.database = database
        self.logs = logs
        self.starts = 0
        # Settings of the operator's .env for the next start, e.g. {"MESSAGE_CONTENT_INTENT": "true"}.
        self.extra_env: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._files: list[IO[bytes]] = []

    def env(self) -> dict[str, str]:
        kept = {name: value for name, value in os.environ.items() if not name.startswith(FOREIGN_PREFIXES)}
        return {
            **kept,
            **self.double.env(),
            # A SQLite file, or a PostgreSQL database under `make test-postgres` (tests/databases.py).
            **({"DATABASE_PATH": str(self.database), "DATABASE_URL": ""} if isinstance(self.database, Path)
               else {"DATABASE_URL": self.database}),
            "OPENLIBRARY_BASE_URL": "http://127.0.0.1:9",
            # Blank wins over a key an operator may keep in .env: the child answers offline.
            "OPENAI_API_KEY": "",
            "LOG_LEVEL": "INFO",
            **self.extra_env,
        }

    @property
    def database_file(self) -> Path:
        """The SQLite file, for a test of SQLite's own mechanics (marked `sqlite_only`)."""
        assert isinstance(self.database, Path), "a SQLite-only test ran on another engine"
        return self.database

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Starts the bot and returns once the double has sent READY on a new gateway session."""
        sessions = len(self.double.sessions)
        process = self._spawn()

        def ready_or_dead() -> bool:
            if process.poll() is not None:
                return True
            new = self.double.sessions[sessions:]
            return any(s.connection is not None and s.connection.alive and s.connection.ready for s in new)

        await self.double.wait_until(ready_or_dead, timeout)
        if process.poll() is not None:
            raise AssertionError(f"the bot exited with status {process.returncode}:\n{self.output()}")
        if not ready_or_dead():
            self.kill()
            raise AssertionError(f"the bot was not READY on the gateway within {timeout}s:\n{self.output()}")

    async def run_until_exit(self, timeout: float = START_TIMEOUT) -> int:
        """Starts the bot expecting it to refuse to start; returns its exit status once it has exited."""
        process = self._spawn()
        if not await self.double.wait_until(lambda: process.poll() is not None, timeout):
            self.kill()
            raise AssertionError(f"the bot was still running after {timeout}s:\n{self.output()}")
        return process.returncode

    def errors(self) -> list[str]:
        """The lines the last run printed on standard error."""
        return (self.logs / f"bot-{self.starts}.err").read_text(errors="replace").splitlines()

    def _spawn(self) -> subprocess.Popen[bytes]:
        if self.running:
            raise RuntimeError("the bot process is already running")
        self._close_files()
        self.starts += 1
        stdout = (self.logs / f"bot-{self.starts}.out").open("wb")
        stderr = (self.logs / f"bot-{self.starts}.err").open("wb")
        self._files = [stdout, stderr]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=REPO_ROOT, env=self.env(), stdout=stdout, stderr=stderr,
        )
        return self._process

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine or the supervisor pulls the plug."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
        self._process.wait()

    async def stop(self, timeout: float = STOP_TIMEOUT, sig: signal.Signals = signal.SIGINT) -> int | None:
        """Ctrl-C (or `sig`: SIGTERM is how systemd and docker stop it); killed if it does not exit in time.
        Returns the exit status."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(sig)
            await self.double.wait_until(lambda: process.poll() is not None, timeout)
        self.kill()
        return process.returncode

    def output(self) -> str:
        """Everything every run so far printed, for a failing test to show."""
        parts = []
        for run in range(1, self.starts + 1):
            for stream in ("out", "err"):
                path = self.logs / f"bot-{run}.{stream}"
                if path.exists() and path.stat().st_size:
                    parts.append(f"--- run {run} std{stream} ---\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(parts)

    def _close_files(self) -> None:
        for file in self._files:
            with contextlib.suppress(OSError):
                file.close()
        self._files = []

    def close(self) -> None:
        self.kill()
        self._close_files()


async def crash_while_held(process: BotProcess, method: str, path: str,
                           then: Callable[[], Awaitable[object]] | None = None) -> None:
    """Starts the bot (and does `then`), lets Discord take the first matching request, and SIGKILLs the bot
    before it sees the answer."""
    hold = process.double.hold(method, path)
    await process.start()
    try:
        if then is not None:
            await then()
        try:
            await hold.wait_hit(timeout=SETTLE)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{process.output()}") from None
        process.kill()
    finally:
        hold.release()


@asynccontextmanager
async def bot_process_over(double: DiscordDouble, database: Path | str, logs: Path) -> AsyncIterator[BotProcess]:
    """A bot process over `database`, logging into `logs`; killed at the end whatever the test did."""
    logs.mkdir()
    process = BotProcess(double, database, logs)
    try:
        yield process
    finally:
        process.close()
        # Captured, so pytest shows it only when the test failed.
        print(process.output())
    assert double.invalid_bodies == [], f"the bot sent bodies Discord would refuse: {double.invalid_bodies}"


@pytest.fixture
async def bot_process(double: DiscordDouble, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """A bot process over a fresh database."""
    async with bot_process_over(double, new_database(tmp_path), tmp_path / "logs") as process:
        yield process
