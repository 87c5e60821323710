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

POSTGRES_ENV = "BOOKCLUB_TEST_POSTGRES"
# What a broken constraint raises, on either engine.
INTEGRITY_ERRORS: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
_TEMPLATE = "bookclub_template"
_template_lock = threading.Lock()
_template_ready = False


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
    import asyncpg

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
    import asyncpg

    from bot.store import Store

    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}"')
        await admin.execute(f'CREATE DATABASE "{_TEMPLATE}" TEMPLATE template0')
    finally:
        await admin.close()
    async with Store(_database_url(server, _TEMPLATE)) as store:
        await store.migrate()
