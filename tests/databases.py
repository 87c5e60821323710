"""The database a test runs on: a SQLite file by default; under `make test-postgres`, a new PostgreSQL database.

`make test-postgres` starts a throw-away server and names it in BOOKCLUB_TEST_POSTGRES; every test then gets a
database of its own, copied from a template that is migrated once per run (migrating takes longer than copying).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import uuid
from pathlib import Path

import asyncpg

from bot.store import Store
from bot.store.db import Database
from bot.store.engine import AnyDatabase

POSTGRES_ENV = "BOOKCLUB_TEST_POSTGRES"
# What a broken constraint raises, on either engine.
INTEGRITY_ERRORS: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
_TEMPLATE = "bookclub_template"
_template_lock = threading.Lock()
_template_ready = False


def sqlite_database(store: Store) -> Database:
    """The store's SQLite database, for a test of SQLite's own mechanics."""
    assert isinstance(store.db, Database), "a SQLite-only test ran on another engine"
    return store.db


async def table_names(db: AnyDatabase, *, with_column: str | None = None) -> list[str]:
    """The database's tables (those with `with_column` when given), in name order, on either engine."""
    if db.dialect == "postgresql":
        if with_column is None:
            rows = await db.fetch_all("SELECT table_name AS name FROM information_schema.tables "
                                      "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        else:
            rows = await db.fetch_all("SELECT table_name AS name FROM information_schema.columns "
                                      "WHERE table_schema = 'public' AND column_name = ?", (with_column,))
    elif with_column is None:
        rows = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = await db.fetch_all(
            "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' "
            "AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = ?)", (with_column,)
        )
    return sorted(str(row["name"]) for row in rows)


def server_url() -> str | None:
    """The throw-away server's URL (its `postgres` database), when the tests run on PostgreSQL."""
    return os.environ.get(POSTGRES_ENV) or None


def engine() -> str:
    return "postgresql" if server_url() else "sqlite"


def _database_url(server: str, name: str) -> str:
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


def new_database(tmp_path: Path, name: str = "bookclub", *, migrated: bool = True) -> Path | str:
    """A database no other test sees: a file under `tmp_path`, or a new PostgreSQL database (migrated unless
    `migrated=False`, which a test of the migrations themselves asks for)."""
    server = server_url()
    if server is None:
        return tmp_path / f"{name}.db"
    database = f"t_{uuid.uuid4().hex}"
    _run(_create(server, database, migrated))
    return _database_url(server, database)


def _run(coroutine: object) -> None:
    # asyncpg needs a loop, and a test's own loop may already be running: a thread of its own runs it.
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)  # type: ignore[arg-type]
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


async def _create(server: str, database: str, migrated: bool) -> None:
    global _template_ready
    if migrated:
        with _template_lock:
            if not _template_ready:
                await _make_template(server)
                _template_ready = True
    admin = await asyncpg.connect(server)
    try:
        template = _TEMPLATE if migrated else "template0"
        await admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    finally:
        await admin.close()


async def _make_template(server: str) -> None:
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}"')
        await admin.execute(f'CREATE DATABASE "{_TEMPLATE}" TEMPLATE template0')
    finally:
        await admin.close()
    async with Store(_database_url(server, _TEMPLATE)) as store:
        await store.migrate()
