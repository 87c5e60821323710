"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from bot.clock import ManualClock
from bot.store import Store

# CI (which sets CI=true) runs every property with the same examples and no saved ones, so a red build is the
# change's fault and can be reproduced; a developer's run keeps drawing new examples, which is how new failing cases
# are found. A failure prints the blob that replays it (`@reproduce_failure`).
settings.register_profile("ci", derandomize=True, print_blob=True, database=None, deadline=None)
settings.register_profile("local", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "local")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A real, migrated SQLite file in a temporary folder."""
    async with Store(tmp_path / "bookclub.db") as opened:
        await opened.migrate()
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
