"""The migration runner on real SQLite files: from empty, idempotent, refusing a newer database."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiosqlite
import pytest

from bot.store import Store, StoreError
from bot.store.db import MIGRATIONS_DIR, Database, migration_files
from tests.databases import sqlite_database

# SQLite's own mechanics; tests/store/test_postgres.py covers PostgreSQL's.
pytestmark = pytest.mark.sqlite_only


async def test_migrates_an_empty_file_to_the_latest_version(tmp_path: Path) -> None:
    async with Store(tmp_path / "new.db") as store:
        applied = await store.migrate()
        assert applied == [version for version, _ in migration_files()]
        assert await store.db.schema_version() == applied[-1]
        tables = {row["name"] for row in await store.db.fetch_all("SELECT name FROM sqlite_master")}
        assert {"guild_config", "feeds", "jobs", "schema_migrations"} <= tables
        mode = await store.db.fetch_one("PRAGMA journal_mode")
        assert mode is not None and mode[0] == "wal"
        keys = await store.db.fetch_one("PRAGMA foreign_keys")
        assert keys is not None and keys[0] == 1


async def test_running_again_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    async with Store(path) as store:
        await store.migrate()
    async with Store(path) as store:
        assert await store.migrate() == []


async def test_a_database_newer_than_the_code_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    async with Store(path) as store:
        await store.migrate()
    async with aiosqlite.connect(path) as conn:
        await conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', '2030-01-01')")
        await conn.commit()
    async with Store(path) as store:
        with pytest.raises(StoreError, match="newer than this code"):
            await store.migrate()


async def test_a_failing_migration_leaves_nothing_half_applied(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_ok.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_broken.sql").write_text("CREATE TABLE b (x INTEGER);\nTHIS IS NOT SQL;")
    db = Database(tmp_path / "broken.db")
    await db.open()
    try:
        with pytest.raises(StoreError, match=r"0002_broken\.sql"):
            await db.migrate(folder)
        assert await db.schema_version() == 1
        names = {row["name"] for row in await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "a" in names and "b" not in names
    finally:
        await db.close()


def test_the_shipped_migrations_are_numbered_from_one_in_order() -> None:
    # Gaps are fine: parallel branches each take the numbers assigned to them, and a lower number that lands
    # later is still applied (below).
    versions = [version for version, _ in migration_files(MIGRATIONS_DIR)]
    assert versions[0] == 1 and versions == sorted(set(versions))


async def test_a_missing_lower_numbered_migration_is_applied_after_a_later_one(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0003_third.sql").write_text("CREATE TABLE c (x INTEGER);")
    db = Database(tmp_path / "gap.db")
    await db.open()
    try:
        assert await db.migrate(folder) == [1, 3]
        (folder / "0002_second.sql").write_text("CREATE TABLE b (x INTEGER);")
        assert await db.migrate(folder) == [2]
        names = {row["name"] for row in await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"a", "b", "c"} <= names
    finally:
        await db.close()


async def test_a_writer_cancelled_while_beginning_leaves_no_transaction_open(tmp_path: Path) -> None:
    async with Store(tmp_path / "cancel.db") as store:
        await store.migrate()

        async def write() -> None:
            async with store.db.transaction() as conn:
                await conn.execute("INSERT INTO bot_state (key, value) VALUES ('k', 'v')")

        for _ in range(20):
            task = asyncio.create_task(write())
            await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with store.db.transaction() as conn:
            await conn.execute("INSERT OR REPLACE INTO bot_state (key, value) VALUES ('after', 'ok')")
        assert not sqlite_database(store).conn.in_transaction
