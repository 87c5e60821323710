"""Moving a club's database to another engine or file: every table copied into an empty database at the same schema
version, in one transaction, and verified table by table (row counts and checksums) before it is committed."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiosqlite
import asyncpg

from bot.store.db import BUSY_TIMEOUT_SECONDS, StoreError, migration_files
from bot.store.engine import is_postgres_url, open_database, redact_url, sqlite_path

# Rows read and written at a time: a 100,000-review club is never held in memory at once.
BATCH_ROWS = 5000
CONNECT_TIMEOUT_SECONDS = 10

# Every table that is moved, each after the tables its foreign keys point at. tests/store/test_move.py fails when a
# migration adds a table that is missing here, or orders one before its parent.
TABLES = (
    "guild_config", "feeds", "jobs", "bot_state", "catalogue_cache",
    "books", "reads", "ratings", "reviews", "feed_entries",
    "discussions", "discussion_sections", "reading_progress", "spoiler_terms", "spoiler_webhooks", "spoiler_notices",
    "polls", "poll_candidates", "ballots", "nominations", "nominators",
    "meetings", "meeting_reminders", "club_posts",
    "history_versions", "guard_versions",
)
# Per-guild counters that triggers on other tables move: the copy's own inserts move them in the destination too, so
# they are copied last, replacing what those inserts made with the source's values.
COUNTERS = frozenset({"history_versions", "guard_versions"})
# Not the club's data: the migration runner's record, set on the destination by migrating it, and SQLite's own
# tables and the FTS5 index's shadow tables, which the destination's triggers (or PostgreSQL's indexes) rebuild.
_NOT_MOVED_PREFIXES = ("schema_migrations", "sqlite_", "books_fts", "reviews_fts")


class MoveError(Exception):
    """The move was refused or failed, and the destination holds nothing of it; the message says why."""


class BadTarget(MoveError):
    """A URL or path on the command line cannot name a database (a usage error)."""


@dataclass(frozen=True)
class TableResult:
    name: str
    rows: int
    checksum: str
    copied_rows: int
    copied_checksum: str

    @property
    def ok(self) -> bool:
        return self.rows == self.copied_rows and self.checksum == self.copied_checksum


class VerificationFailed(MoveError):
    """The destination's rows differ from the source's after the copy; it was rolled back."""

    def __init__(self, results: list[TableResult]) -> None:
        bad = ", ".join(result.name for result in results if not result.ok)
        super().__init__(f"the copy differs from the source in {bad}; it was rolled back")
        self.results = results


@dataclass(frozen=True)
class MoveReport:
    source: str
    destination: str
    tables: list[TableResult]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(result.rows for result in self.tables)


# -- the checksum ------------------------------------------------------------------------------------------------


def _render(value: object) -> bytes:
    """A value as the same bytes from either engine's driver: its kind, then its text (length-prefixed where it can
    hold any character), so that no two different rows render alike."""
    if value is None:
        return b"n;"
    if isinstance(value, bool):
        return b"i%d;" % int(value)
    if isinstance(value, int):
        return b"i%d;" % value
    if isinstance(value, str):
        encoded = value.encode("utf-8", "surrogatepass")
        return b"s%d:%s" % (len(encoded), encoded)
    if isinstance(value, bytes):
        return b"b%d:%s" % (len(value), value)
    if isinstance(value, float):
        return b"f%s;" % repr(value).encode()
    raise MoveError(f"a value of type {type(value).__name__} cannot be compared between the engines")


class Checksum:
    """SHA-256 over a table's rows in primary-key order, and their count."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.rows = 0

    def add(self, rows: Sequence[Sequence[object]]) -> None:
        for row in rows:
            self._hash.update(b"".join(_render(value) for value in row) + b"\n")
        self.rows += len(rows)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


# -- the two engines ---------------------------------------------------------------------------------------------


def _quoted(name: str) -> str:
    """An identifier (the names come from TABLES and the schema itself, never from input) quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


def _select(table: str, columns: list[str], keys: list[str]) -> str:
    return f"SELECT {', '.join(map(_quoted, columns))} FROM {_quoted(table)} ORDER BY {', '.join(keys)}"  # noqa: S608


class _SqliteSide:
    """A SQLite file, read in one snapshot (the source) or written in one transaction (the destination)."""

    def __init__(self, path: Path, conn: aiosqlite.Connection) -> None:
        self.label = str(path)
        self._conn = conn

    @classmethod
    async def connect(cls, path: Path) -> _SqliteSide:
        # mode=rw: a missing file is an error, never a new empty database. The source is not written, but a
        # read-only connection could not remove the -wal and -shm files it makes beside a stopped bot's database.
        uri = f"{path.resolve().as_uri()}?mode=rw"  # noqa: ASYNC240 (a path's name, not a read)
        try:
            conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as error:
            raise MoveError(f"cannot open {path} ({error})") from error
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        except sqlite3.Error as error:
            await conn.close()
            raise MoveError(f"cannot read {path} as a database ({error})") from error
        return cls(path, conn)

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._conn.execute_fetchall(sql, tuple(params)))

    async def tables(self) -> set[str]:
        rows = await self._all("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}

    async def versions(self) -> set[int] | None:
        if "schema_migrations" not in await self.tables():
            return None
        return {int(row[0]) for row in await self._all("SELECT version FROM schema_migrations")}

    async def columns(self, table: str) -> list[str]:
        return [row[0] for row in await self._all("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))]

    async def primary_key(self, table: str) -> list[str]:
        rows = await self._all("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table,))
        return [row[0] for row in rows]

    async def has_rows(self, table: str) -> bool:
        return bool(await self._all(f"SELECT 1 FROM {_quoted(table)} LIMIT 1"))  # noqa: S608

    async def rows(self, table: str, columns: list[str], order: list[str]) -> AsyncIterator[list[tuple[Any, ...]]]:
        # SQLite compares text byte by byte (BINARY), as PostgreSQL's "C" collation does.
        cursor = await self._conn.execute(_select(table, columns, [f"{_quoted(name)} NULLS FIRST" for name in order]))
        try:
            while batch := await cursor.fetchmany(BATCH_ROWS):
                yield [tuple(row) for row in batch]
        finally:
            await cursor.close()

    async def begin(self) -> None:
        """The destination's one transaction, with the write lock taken at once."""
        await self._conn.execute("BEGIN IMMEDIATE")

    async def begin_snapshot(self) -> None:
        """The source's one snapshot: every table is read as it was at the first read."""
        await self._conn.execute("BEGIN")

    async def commit(self) -> None:
        await self._conn.execute("COMMIT")

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await self._conn.execute("ROLLBACK")

    async def clear(self, table: str) -> None:
        await self._conn.execute(f"DELETE FROM {_quoted(table)}")  # noqa: S608

    async def insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        await self._conn.executemany(
            f"INSERT INTO {_quoted(table)} ({', '.join(map(_quoted, columns))}) VALUES ({marks})", rows  # noqa: S608
        )

    async def reset_ids(self, tables: Sequence[str]) -> None:
        """Nothing to do: SQLite numbers a new row after the largest id in the table."""

    async def pause_triggers(self, tables: Sequence[str]) -> None:
        """Nothing to pause: SQLite's triggers also fill the full-text index, and each counter update is in place."""

    async def resume_triggers(self, tables: Sequence[str]) -> None:
        """Nothing was paused."""

    async def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            await self.rollback()
        await self._conn.close()


class _PgSide:
    """A PostgreSQL database, read in one snapshot (the source) or written in one transaction (the destination)."""

    def __init__(self, url: str, conn: asyncpg.Connection) -> None:
        self.label = redact_url(url)
        self._conn = conn
        self._transaction: Any = None
        self._text_columns: dict[str, set[str]] = {}

    @classmethod
    async def connect(cls, url: str) -> _PgSide:
        try:
            conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS,
                                         server_settings={"application_name": "bookclub-migrate-db"})
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            hint = "; create it first (createdb)" if isinstance(error, asyncpg.InvalidCatalogNameError) else ""
            raise MoveError(f"cannot connect to {redact_url(url)} ({_describe(error)}){hint}") from error
        return cls(url, conn)

    async def tables(self) -> set[str]:
        rows = await self._conn.fetch("SELECT table_name FROM information_schema.tables "
                                      "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
        return {row[0] for row in rows}

    async def versions(self) -> set[int] | None:
        if "schema_migrations" not in await self.tables():
            return None
        return {int(row[0]) for row in await self._conn.fetch("SELECT version FROM schema_migrations")}

    async def columns(self, table: str) -> list[str]:
        rows = await self._conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position", table,
        )
        self._text_columns[table] = {row[0] for row in rows if row[1] in ("text", "character varying")}
        return [row[0] for row in rows]

    async def primary_key(self, table: str) -> list[str]:
        rows = await self._conn.fetch(
            "SELECT a.attname FROM pg_index i "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.n", _quoted(table),
        )
        return [row[0] for row in rows]

    async def has_rows(self, table: str) -> bool:
        return bool(await self._conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_quoted(table)})"))  # noqa: S608

    async def rows(self, table: str, columns: list[str], order: list[str]) -> AsyncIterator[list[tuple[Any, ...]]]:
        if table not in self._text_columns:
            await self.columns(table)
        text = self._text_columns[table]
        # Text in byte order ("C"), as SQLite sorts it: the database's own collation would order it otherwise.
        collate = ' COLLATE "C"'
        keys = [f"{_quoted(name)}{collate if name in text else ''} NULLS FIRST" for name in order]
        cursor = await self._conn.cursor(_select(table, columns, keys))
        while batch := await cursor.fetch(BATCH_ROWS):
            yield [tuple(row) for row in batch]

    async def begin(self) -> None:
        self._transaction = self._conn.transaction()
        await self._transaction.start()

    async def begin_snapshot(self) -> None:
        self._transaction = self._conn.transaction(isolation="repeatable_read", readonly=True)
        await self._transaction.start()

    async def commit(self) -> None:
        transaction, self._transaction = self._transaction, None
        await transaction.commit()

    async def rollback(self) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await transaction.rollback()

    async def clear(self, table: str) -> None:
        await self._conn.execute(f"DELETE FROM {_quoted(table)}")  # noqa: S608

    async def insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        await self._conn.copy_records_to_table(table, records=rows, columns=columns)

    async def reset_ids(self, tables: Sequence[str]) -> None:
        """Moves each identity column's sequence past the largest id copied, so the next insert does not collide."""
        rows = await self._conn.fetch("SELECT table_name, column_name FROM information_schema.columns "
                                      "WHERE table_schema = current_schema() AND is_identity = 'YES'")
        for table, column in rows:
            if table in tables:
                next_id = f"COALESCE(MAX({_quoted(column)}), 0) + 1"
                await self._conn.execute(
                    f"SELECT setval(pg_get_serial_sequence($1, $2), {next_id}, false) FROM {_quoted(table)}",  # noqa: S608
                    _quoted(table), column,
                )

    async def pause_triggers(self, tables: Sequence[str]) -> None:
        """Stops the counters' triggers for the copy (the counters are copied with the rest): each copied row bumped
        the same counter row again, a new row version each time in one transaction, which made a 20,000-read club's
        move take minutes. Undone by `resume_triggers`, or with the transaction; foreign keys are still checked."""
        for table in tables:
            await self._conn.execute(f"ALTER TABLE {_quoted(table)} DISABLE TRIGGER USER")

    async def resume_triggers(self, tables: Sequence[str]) -> None:
        for table in tables:
            await self._conn.execute(f"ALTER TABLE {_quoted(table)} ENABLE TRIGGER USER")

    async def close(self) -> None:
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await self.rollback()
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await self._conn.close()


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


# -- naming the two databases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    url: str
    path: Path | None  # a SQLite file, else PostgreSQL

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else redact_url(self.url)

    def identity(self) -> tuple[object, ...]:
        """What two spellings of the same database share."""
        if self.path is not None:
            return ("sqlite", self.path.resolve())
        parts = urlsplit(self.url)
        return ("postgresql", (parts.hostname or "localhost").lower(), parts.port or 5432,
                parts.path.lstrip("/") or parts.username)


def _target(url: str, option: str) -> _Target:
    if is_postgres_url(url):
        try:
            parts = urlsplit(url)
            _ = parts.port
        except ValueError as error:
            raise BadTarget(f"{option} {redact_url(url)} is not a valid PostgreSQL URL ({error})") from None
        if not parts.hostname and not parts.path.strip("/"):
            raise BadTarget(f"{option} {redact_url(url)} names no server or database")
        return _Target(url, None)
    path = sqlite_path(url)
    if path is None or not str(path).strip() or str(path) == ".":
        raise BadTarget(f"{option} must be sqlite:///relative/path, sqlite:////absolute/path or postgresql://…, "
                        f"not {redact_url(url)!r}")
    return _Target(url, path)


async def _connect(target: _Target) -> _SqliteSide | _PgSide:
    if target.path is not None:
        return await _SqliteSide.connect(target.path)
    return await _PgSide.connect(target.url)


def _numbers(versions: set[int]) -> str:
    return ", ".join(f"{version:04d}" for version in sorted(versions))


# -- the move ----------------------------------------------------------------------------------------------------


async def move(source_url: str, destination_url: str) -> MoveReport:
    """Copies the club's database at `source_url` into the empty one at `destination_url` (migrated first to the
    same schema), verified by row counts and checksums per table; all of it, or nothing on any error."""
    try:
        return await _move(source_url, destination_url)
    except MoveError:
        raise
    except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as error:
        raise MoveError(f"the move failed ({_describe(error)})") from error


async def _move(source_url: str, destination_url: str) -> MoveReport:
    started = time.perf_counter()
    source_target = _target(source_url, "--from")
    destination_target = _target(destination_url, "--to")
    if source_target.identity() == destination_target.identity():
        raise BadTarget("--from and --to name the same database")
    if source_target.path is not None and not source_target.path.is_file():
        raise BadTarget(f"there is no database at {source_target.path} (--from)")
    source = await _connect(source_target)
    try:
        await source.begin_snapshot()
        await _check_source(source)
        created = destination_target.path is not None and not destination_target.path.exists()
        try:
            results = await _into(source, destination_target)
        except BaseException:
            if created and destination_target.path is not None:
                for suffix in ("", "-wal", "-shm"):
                    destination_target.path.with_name(destination_target.path.name + suffix).unlink(missing_ok=True)
            raise
    finally:
        await source.close()
    return MoveReport(source_target.label, destination_target.label, results, time.perf_counter() - started)


async def _check_source(source: _SqliteSide | _PgSide) -> None:
    versions = await source.versions()
    if versions is None:
        raise MoveError(f"{source.label} is not a club's database (it has no schema_migrations table)")
    known = {version for version, _ in migration_files()}
    if newer := versions - known:
        raise MoveError(f"{source.label} has migrations this version of the bot does not know ({_numbers(newer)}): "
                        "move it with the version that migrated it")
    if missing := known - versions:
        raise MoveError(f"{source.label} lacks migrations {_numbers(missing)}: start the bot on it once with this "
                        "version so that it migrates, stop it, then move it")
    tables = {name for name in await source.tables() if not name.startswith(_NOT_MOVED_PREFIXES)}
    if unknown := tables - set(TABLES):
        raise MoveError(f"{source.label} has tables this version does not know how to move: "
                        f"{', '.join(sorted(unknown))}")
    if absent := set(TABLES) - tables:
        raise MoveError(f"{source.label} lacks the tables {', '.join(sorted(absent))}, which its schema version has")


async def _check_destination_empty(destination: _SqliteSide | _PgSide) -> None:
    present = await destination.tables()
    holding = [table for table in TABLES if table in present and await destination.has_rows(table)]
    if holding:
        raise MoveError(f"{destination.label} already holds a club's data (in {', '.join(holding)}); "
                        "move into a new, empty database")


async def _into(source: _SqliteSide | _PgSide, target: _Target) -> list[TableResult]:
    # A SQLite file that does not exist yet is new and empty; any other destination is looked at before migrating
    # it, so that a refused one is left as it was.
    if target.path is None or target.path.exists():
        destination = await _connect(target)
        try:
            versions = await destination.versions()
            known = {version for version, _ in migration_files()}
            if versions is not None and (newer := versions - known):
                raise MoveError(f"{destination.label} has migrations this version of the bot does not know "
                                f"({_numbers(newer)})")
            await _check_destination_empty(destination)
        finally:
            await destination.close()
    await _migrate(target)
    destination = await _connect(target)
    try:
        if await destination.versions() != await source.versions():
            raise MoveError(f"{destination.label} did not migrate to the source's schema")
        await destination.begin()
        # Again inside the transaction: nothing may have written there since the check above.
        await _check_destination_empty(destination)
        results = await _copy(source, destination)
        if not all(result.ok for result in results):
            raise VerificationFailed(results)
        await destination.commit()
        return results
    finally:
        await destination.close()


async def _migrate(target: _Target) -> None:
    database = open_database(target.path if target.path is not None else target.url)
    try:
        await database.open()
        await database.migrate()
    except (StoreError, sqlite3.Error, asyncpg.PostgresError) as error:
        raise MoveError(f"cannot migrate {target.label} ({_describe(error)})") from error
    finally:
        await database.close()


async def _copy(source: _SqliteSide | _PgSide, destination: _SqliteSide | _PgSide) -> list[TableResult]:
    """Copies every table in order, then reads each back from the destination: the rows and checksum of each."""
    plans: list[tuple[str, list[str], list[str], Checksum]] = []
    await destination.pause_triggers(TABLES)
    for table in TABLES:
        columns = await source.columns(table)
        if set(columns) != set(await destination.columns(table)):
            raise MoveError(f"the table {table} has other columns in {destination.label} than in {source.label}")
        order = await source.primary_key(table) or columns
        if table in COUNTERS:
            await destination.clear(table)
        checksum = Checksum()
        async for batch in source.rows(table, columns, order):
            checksum.add(batch)
            await _write(destination, table, columns, batch)
        plans.append((table, columns, order, checksum))
    await destination.resume_triggers(TABLES)
    await destination.reset_ids(TABLES)
    results = []
    for table, columns, order, checksum in plans:
        copied = Checksum()
        async for batch in destination.rows(table, columns, order):
            copied.add(batch)
        results.append(TableResult(table, checksum.rows, checksum.hexdigest(), copied.rows, copied.hexdigest()))
    return results


async def _write(destination: _SqliteSide | _PgSide, table: str, columns: list[str],
                 rows: list[tuple[Any, ...]]) -> None:
    try:
        await destination.insert(table, columns, rows)
    except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise MoveError(f"cannot write the table {table} to {destination.label} ({_describe(error)})") from error
