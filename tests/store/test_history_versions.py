"""The name index is rebuilt when its version moves: every table it reads must move the version on every write."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from bot.services.asker import HistoryIndex
from bot.store import Store
from tests.databases import sqlite_database

# SQLite's own mechanics; tests/store/test_postgres.py covers PostgreSQL's.
pytestmark = pytest.mark.sqlite_only

GUILD = 111
# The tables that say which version of a guild's history the index was built from, not what it holds.
VERSION_TABLES = {"history_versions", "sqlite_master", "sqlite_temp_master"}


async def tables_read_by_the_index(store: Store) -> set[str]:
    """Every table SQLite reads while the index builds a guild's snapshot, as its authorizer reports them."""
    read: set[str] = set()

    def authorizer(action: int, table: str | None, *_: Any) -> int:
        if action == sqlite3.SQLITE_READ and table:
            read.add(table)
        return sqlite3.SQLITE_OK

    readers = sqlite_database(store)._readers
    for reader in readers:
        await reader.set_authorizer(authorizer)
    try:
        await HistoryIndex(store.history).get(GUILD)
    finally:
        for reader in readers:
            await reader.set_authorizer(None)
    return read - VERSION_TABLES


async def triggers_moving_the_version(store: Store) -> dict[str, set[str]]:
    """For each table, the writes (INSERT, UPDATE, DELETE) that have a trigger writing history_versions."""
    rows = await store.db.fetch_all("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
    found: dict[str, set[str]] = {}
    for row in rows:
        sql = " ".join(row["sql"].split()).upper()
        if "HISTORY_VERSIONS" in sql:
            event = next(word for word in ("INSERT", "UPDATE", "DELETE") if f" {word} " in sql.split(" BEGIN ")[0])
            found.setdefault(row["tbl_name"], set()).add(event)
    return found


async def test_every_table_the_name_index_reads_moves_its_version_on_every_write(store: Store) -> None:
    read = await tables_read_by_the_index(store)
    assert {"books", "reads", "ratings", "reviews"} <= read
    triggers = await triggers_moving_the_version(store)
    missing = {table: {"INSERT", "UPDATE", "DELETE"} - triggers.get(table, set()) for table in read}
    assert {table: events for table, events in missing.items() if events} == {}
