"""The per-member rate limit: a sliding window on the caller's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import cooldowns
from bot.domain.cooldowns import Cooldowns, Limit

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
THREE_A_MINUTE = Limit("spoiler", 3, timedelta(minutes=1))


def test_the_use_past_the_rate_waits_until_the_oldest_leaves_the_window() -> None:
    limits = Cooldowns()
    for second in (0, 10, 20):
        assert limits.hit(1, THREE_A_MINUTE, START + timedelta(seconds=second)) is None
    assert limits.hit(1, THREE_A_MINUTE, START + timedelta(seconds=30)) == 30.0
    # A refused use is not counted: the window still ends a minute after the first use.
    assert limits.hit(1, THREE_A_MINUTE, START + timedelta(seconds=59)) == 1.0
    assert limits.hit(1, THREE_A_MINUTE, START + timedelta(seconds=60)) is None


def test_members_and_limits_are_counted_apart() -> None:
    limits = Cooldowns()
    other = Limit("ask", 1, timedelta(minutes=1))
    for _ in range(3):
        assert limits.hit(1, THREE_A_MINUTE, START) is None
    assert limits.hit(2, THREE_A_MINUTE, START) is None
    assert limits.hit(1, other, START) is None
    assert limits.hit(1, THREE_A_MINUTE, START) is not None


def test_keys_whose_window_passed_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cooldowns, "PRUNE_AT", 10)
    limits = Cooldowns()
    for member in range(11):
        limits.hit(member, THREE_A_MINUTE, START)
    later = START + timedelta(minutes=2)
    limits.hit("late", THREE_A_MINUTE, later)
    assert len(limits._uses) == 1  # pyright: ignore[reportPrivateUsage]
