"""Per-member rate limits: how often in a window one member may run what posts publicly or calls a model."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Past this many keys, those whose window has passed are dropped, so a busy bot's memory stays bounded.
PRUNE_AT = 10_000


@dataclass(frozen=True)
class Limit:
    """At most `rate` uses in any window of `per`; `name` keeps limits that share a key apart."""

    name: str
    rate: int
    per: timedelta


class Cooldowns:
    """Sliding windows of recent uses, one per key (limit, guild, member), timed by the caller's clock."""

    def __init__(self) -> None:
        self._uses: dict[Hashable, deque[datetime]] = {}
        self._longest = timedelta(0)

    def hit(self, key: Hashable, limit: Limit, now: datetime) -> float | None:
        """Counts one use and returns None; at the limit counts nothing and returns the seconds until the next."""
        uses = self._uses.setdefault((limit.name, key), deque())
        while uses and uses[0] <= now - limit.per:
            uses.popleft()
        if len(uses) >= limit.rate:
            return max((uses[0] + limit.per - now).total_seconds(), 0.0)
        uses.append(now)
        self._longest = max(self._longest, limit.per)
        if len(self._uses) > PRUNE_AT:
            self._prune(now)
        return None

    def _prune(self, now: datetime) -> None:
        stale = [key for key, uses in self._uses.items() if not uses or uses[-1] <= now - self._longest]
        for key in stale:
            del self._uses[key]
