"""The one source of "now": real in production, moved by hand in tests."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock(Clock):
    """A clock that only moves when told to; sleeping yields briefly so loops stay responsive."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self.moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        self.moved.set()

    def set(self, when: datetime) -> None:
        self._now = when
        self.moved.set()

    async def sleep(self, seconds: float) -> None:
        self.moved.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.moved.wait(), timeout=min(seconds, 0.05))
