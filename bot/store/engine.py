"""Either engine's database, as the repositories see it: SQLite (the default) or PostgreSQL (past one machine)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from bot.store.db import Database

if TYPE_CHECKING:
    import aiosqlite

    # Imported only where PostgreSQL is configured: an embedded bot never loads the driver.
    from bot.store.postgres import Connection, PgDatabase

AnyDatabase: TypeAlias = "Database | PgDatabase"
# The connection a transaction gives its block.
AnyConnection: TypeAlias = "aiosqlite.Connection | Connection"

SQLITE_PREFIX = "sqlite:///"


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def sqlite_path(url: str) -> Path | None:
    """The file a `sqlite:///relative/path` or `sqlite:////absolute/path` URL names, else None."""
    return Path(url.removeprefix(SQLITE_PREFIX)) if url.startswith(SQLITE_PREFIX) else None


def open_database(target: Path | str, *, readonly: bool = False) -> AnyDatabase:
    """The database a DATABASE_URL (or a plain SQLite path) names."""
    if isinstance(target, str):
        if is_postgres_url(target):
            from bot.store.postgres import PgDatabase

            return PgDatabase(target, readonly=readonly)
        if (path := sqlite_path(target)) is not None:
            return Database(path, readonly=readonly)
        if "://" in target:
            raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")
    return Database(target, readonly=readonly)


class _Cursor(Protocol):
    async def fetchone(self) -> Any: ...

    async def close(self) -> None: ...


async def new_id(cursor: _Cursor) -> int:
    """The id that an `INSERT … RETURNING id` made (both engines number rows themselves)."""
    row = await cursor.fetchone()
    await cursor.close()
    if row is None:
        raise RuntimeError("an insert returned no id")
    return int(row["id"])
