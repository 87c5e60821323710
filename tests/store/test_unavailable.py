"""A write the database cannot take just now raises the store's own error, which every layer above can name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

import bot.store.db
from bot.errors import StoreBusy, StoreFull, StoreUnavailable
from bot.store import Store
from tests.databases import sqlite_database

# SQLite's own mechanics; tests/store/test_postgres.py covers PostgreSQL's.
pytestmark = pytest.mark.sqlite_only

GUILD = 111


async def test_a_write_held_up_by_another_program_raises_store_busy_and_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No waiting for the other program's lock: the test need not sit out the busy timeout.
    monkeypatch.setattr(bot.store.db, "BUSY_TIMEOUT_SECONDS", 0)
    async with Store(tmp_path / "bookclub.db") as store:
        await store.migrate()
        async with aiosqlite.connect(tmp_path / "bookclub.db", isolation_level=None) as other:
            await other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreBusy) as raised:
                await store.config.set_moderator_role(GUILD, 42)
            await other.execute("ROLLBACK")
        # Still the sqlite3 error it stands for, so that older handlers keep catching it.
        assert isinstance(raised.value, StoreUnavailable) and isinstance(raised.value, sqlite3.OperationalError)
        assert (await store.config.get(GUILD)).moderator_role_id is None


async def test_a_write_with_no_room_raises_store_full_and_works_once_there_is_room(store: Store) -> None:
    conn = sqlite_database(store).conn
    pages = (await (await conn.execute("PRAGMA page_count")).fetchone() or [0])[0]
    await conn.execute(f"PRAGMA max_page_count = {pages}")
    try:
        with pytest.raises(StoreFull):
            for number in range(200):
                await store.books.find_or_create(GUILD, f"A long title to fill the pages {number} " * 6, "Author")
    finally:
        await conn.execute("PRAGMA max_page_count = 4294967294")
    book, created = await store.books.find_or_create(GUILD, "Piranesi", "Susanna Clarke")
    assert created and await store.books.get(GUILD, book.id) == book
