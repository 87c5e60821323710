"""Pytest fixtures for the loopback Discord; the project's conftest imports `double` from here."""

from collections.abc import AsyncIterator

import pytest

from .double import DiscordDouble


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    """A started double with the default world (two guilds, club channels, Mod/Alice/Bob/Carol), closed after."""
    async with DiscordDouble.with_default_world() as started:
        yield started
