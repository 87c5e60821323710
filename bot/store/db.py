"""The SQLite connections: pragmas, the one writer and its lock, the read-only readers, transactions, migrations."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StoreBusy, StoreFull, StoreUnavailable

log = logging.getLogger(__name__)

# Inside the package, so that an installed bot (a wheel) has them too.
MIGRATIONS_DIR = resources.files("bot.store") / "migrations"
# How long a write waits for another connection's lock before SQLite answers "database is locked".
BUSY_TIMEOUT_SECONDS = 2
# Read-only connections beside the writer: one long read (an export) leaves another for everyone else.
READERS = 2
# How long a read may hold the event loop (`Database.fetch_quick`) before it is moved to a reader's thread, and how
# many of SQLite's steps it takes between looks at the clock (a few microseconds' worth).
INLINE_BUDGET_SECONDS = 0.0005
_INLINE_CHECK_STEPS = 200
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StoreError(RuntimeError):
    """The database cannot be used as it is; the message says why and what to do."""


RESTORE_HELP = "Restore the latest backup as docs/operations.md says (Backup and restore)"
# Problems `quick_check` lists at most: the first few say enough to the operator.
_QUICK_CHECK_LINES = 3


def is_busy(error: sqlite3.OperationalError) -> bool:
    """SQLite's answer when another connection held the lock for longer than the busy timeout."""
    return str(error).startswith(("database is locked", "database is busy"))


def is_full(error: sqlite3.OperationalError) -> bool:
    """SQLITE_FULL: the disk (or the file's size limit) has no room for the write, which SQLite undid."""
    return error.sqlite_errorcode == sqlite3.SQLITE_FULL or str(error).startswith("database or disk is full")


def typed(error: sqlite3.OperationalError) -> sqlite3.OperationalError:
    """The store's own error for a busy or full database, else the error as it is."""
    if isinstance(error, StoreUnavailable):
        return error
    if is_busy(error):
        return StoreBusy(str(error))
    if is_full(error):
        return StoreFull(str(error))
    return error


def refuse_empty_file(path: Path) -> None:
    """A 0-byte file where the database should be is refused rather than started as a new, empty club.

    The bot writes the file's header the moment it opens it, so an empty file is something else's doing: a copy that
    failed, a full disk, a restore gone wrong. Starting on it would hide the club's records; the operator decides.
    """
    # A missing file is a new club; one that cannot be read is reported when the store opens it.
    with contextlib.suppress(OSError):
        if path.stat().st_size == 0:
            raise StoreError(
                f"the database {path} is an empty file (0 bytes), as a failed copy or a full disk leaves it. "
                f"{RESTORE_HELP}, or delete the file to start a new, empty club."
            )


def start_integrity_check(path: Path) -> concurrent.futures.Future[None]:
    """Refuses an empty file at once, then runs `check_integrity` in a thread of its own and returns its verdict.

    The check reads every page (~0.3 s per 100 MB), so it is started first and runs beside the rest of the start-up
    (importing discord.py, opening the store, logging in); the first write waits for it (`Store.migrate`).
    """
    refuse_empty_file(path)
    verdict: concurrent.futures.Future[None] = concurrent.futures.Future()

    def check() -> None:
        if not verdict.set_running_or_notify_cancel():
            return
        try:
            check_integrity(path)
        except BaseException as error:
            verdict.set_exception(error)
        else:
            verdict.set_result(None)

    # A daemon: a stop during the start-up does not wait for the check to finish reading.
    threading.Thread(target=check, name="quick_check", daemon=True).start()
    return verdict


def check_integrity(path: Path) -> None:
    """`PRAGMA quick_check` over its own read-only connection (run it in a thread: it reads every page).

    Raises StoreError naming the file when a page is damaged; a missing file is a new club and passes.
    """
    if not path.exists():
        return
    try:
        # Escaped as for the read-only Database: a '#' or '?' in the path must not open another file.
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            problems = [row[0] for row in conn.execute(f"PRAGMA quick_check({_QUICK_CHECK_LINES})")]
    except sqlite3.OperationalError as error:
        if is_busy(error):
            # Held by another program: the start-up waits for it and the next start checks again.
            log.warning("the database %s was busy; its integrity was not checked this time", path)
            return
        raise
    except sqlite3.DatabaseError as error:
        if "file is not a database" in str(error):
            raise StoreError(f"the database {path} cannot be opened ({error}). Check DATABASE_PATH; if it is the "
                             f"club's database, it is damaged: {RESTORE_HELP}.") from error
        problems = [str(error)]
    if problems != ["ok"]:
        raise StoreError(f"the database {path} is damaged (quick_check: {'; '.join(problems)}). {RESTORE_HELP}; "
                         "the damaged file is left as it is.")


def to_db_time(moment: datetime) -> str:
    """Fixed-width UTC ISO text, so that comparing strings compares instants."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def migration_files(directory: Traversable = MIGRATIONS_DIR) -> list[tuple[int, Traversable]]:
    files = []
    for path in sorted((item for item in directory.iterdir() if item.name.endswith(".sql")), key=lambda p: p.name):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise StoreError(f"migration file {path.name} is not named NNNN_name.sql")
        files.append((int(match.group(1)), path))
    versions = [version for version, _ in files]
    if len(set(versions)) != len(versions):
        raise StoreError("two migration files share a number")
    return files


class Database:
    """One writer connection, its transactions serialised by a lock, and a small pool of read-only connections.

    In WAL mode a reader sees the last committed state while the writer works, so reads take a reader and never
    wait for the writer's lock: a long write (an import's batch) holds up other writes only. A read-only Database
    (`readonly=True`) has the readers and no writer at all.
    """

    dialect = "sqlite"
    # What a claim of rows adds to its SELECT: nothing, as one writer at a time holds the whole file.
    claim_lock = ""

    def __init__(self, path: Path | str, *, readonly: bool = False, readers: int = READERS) -> None:
        if readers < 1:
            raise ValueError("a database needs at least one reader")
        self.path = Path(path)
        self.readonly = readonly
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._reader_count = readers
        self._readers: list[aiosqlite.Connection] = []
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        # The connection `fetch_quick` reads on in the event loop's own thread, and when its read must stop.
        self._inline: sqlite3.Connection | None = None
        self._inline_deadline = 0.0

    @property
    def conn(self) -> aiosqlite.Connection:
        """The writer connection."""
        if self.readonly:
            raise StoreError(f"the database {self.path} is open read-only here")
        if self._conn is None:
            raise StoreError("the database is not open")
        return self._conn

    async def open(self) -> None:
        try:
            if not self.readonly:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = await aiosqlite.connect(self.path, isolation_level=None)
                await self._configure(self._conn)
                await self._conn.execute("PRAGMA journal_mode = WAL")
                await self._conn.execute("PRAGMA synchronous = NORMAL")
            # After the writer: it creates the file and its WAL index, which a read-only connection cannot.
            for _ in range(self._reader_count):
                reader = await self._connect_readonly()
                self._readers.append(reader)
                self._idle.put_nowait(reader)
            # No busy timeout: a read that would have to wait answers "busy" at once (see `fetch_quick`).
            self._inline = sqlite3.connect(self._readonly_uri(), uri=True, isolation_level=None, timeout=0)
            self._inline.row_factory = sqlite3.Row
            self._inline.set_progress_handler(self._past_deadline, _INLINE_CHECK_STEPS)
            self._load_schema()
        except BaseException:
            # Not a database, say: close it, or its thread keeps the process from exiting.
            await self.close()
            raise

    def _readonly_uri(self) -> str:
        # Escaped: a '#' or '?' in the path would otherwise end the file name and open another database.
        return f"{self.path.resolve().as_uri()}?mode=ro"

    async def _connect_readonly(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self._readonly_uri(), uri=True, isolation_level=None)
        try:
            await self._configure(conn)
        except BaseException:
            await conn.close()
            raise
        return conn

    @staticmethod
    async def _configure(conn: aiosqlite.Connection) -> None:
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        await conn.execute("PRAGMA foreign_keys = ON")

    async def wait_until_writable(self, notice_every: float = 60.0) -> None:
        """Waits while another program holds the write lock (an open `sqlite3` shell, a stuck tool), saying so in
        the log, instead of failing the start-up's first write."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        next_notice = started
        while True:
            try:
                # Each try waits up to the busy timeout; nothing is written.
                await self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
                now = loop.time()
                if now >= next_notice:
                    log.warning("the database %s is locked by another program; waiting for it (%.0f s so far)",
                                self.path, now - started)
                    next_notice = now + notice_every
                continue
            await self.conn.execute("ROLLBACK")
            waited = loop.time() - started
            if waited >= 1.0:
                log.info("the database %s is free again after %.0f s", self.path, waited)
            return

    async def close(self) -> None:
        # Readers first: the last connection to close folds the WAL back into the file, which only the writer may.
        readers, self._readers = self._readers, []
        self._idle = asyncio.Queue()
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        for reader in readers:
            await reader.close()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction; taken immediately so that concurrent writers wait instead of failing."""
        conn = self.conn
        async with self._lock:
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                await self.conn.execute("COMMIT")
            except BaseException as error:
                # Shielded: a task cancelled at shutdown must not leave the shared connection inside a transaction.
                await asyncio.shield(self._rollback())
                if isinstance(error, sqlite3.OperationalError) and (unavailable := typed(error)) is not error:
                    raise unavailable from error
                raise

    async def _rollback(self) -> None:
        # Queued behind BEGIN on the connection's thread, so it undoes a BEGIN whose await was cancelled; when
        # BEGIN itself failed there is nothing to undo.
        with contextlib.suppress(sqlite3.OperationalError):
            await self.conn.execute("ROLLBACK")

    async def analyze(self, tables: Iterable[str]) -> None:
        """Nothing to do after a bulk write: the queries that need it name their index (`INDEXED BY`)."""

    @asynccontextmanager
    async def pinned(self) -> AsyncIterator[None]:
        """Runs the block on one connection, so that a TEMP table lasts from one transaction to the next: every
        write here is on the one writer already."""
        yield

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[aiosqlite.Connection]:
        if not self._readers:
            raise StoreError("the database is not open")
        reader = await self._idle.get()
        try:
            yield reader
        finally:
            # A cancelled read still finishes on the reader's thread; the next one queues behind it there.
            self._idle.put_nowait(reader)

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        # One hop to the connection's thread instead of three (execute, fetch, close): it is most of a read's cost.
        async with self._reader() as reader:
            try:
                return list(await reader.execute_fetchall(sql, tuple(params)))
            except sqlite3.OperationalError as error:
                if (unavailable := typed(error)) is not error:
                    raise unavailable from error
                raise

    async def fetch_quick(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """`fetch_all` for a read that usually takes microseconds (by key, or one book's or one member's rows),
        run on the event loop itself.

        Handing a read to a reader's thread and waking the loop for its result costs ~0.2 ms on busy cores, more
        than such a read. A read-only connection in WAL mode never waits for the writer, and this one has no busy
        timeout; a read that runs past `INLINE_BUDGET_SECONDS` is stopped, and a read SQLite would make wait (a
        connection recovering the WAL after a crash) refused, and either goes to a reader's thread instead.
        """
        if self._inline is None:
            raise StoreError("the database is not open")
        self._inline_deadline = time.perf_counter() + INLINE_BUDGET_SECONDS
        try:
            return self._inline.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT:
                self._load_schema()
            elif not is_busy(error):
                raise
        return await self.fetch_all(sql, params)

    async def fetch_versions(self, table: str, sql: str, guild_id: int) -> list[sqlite3.Row]:
        """A guild's row of a versions table (`table`, read by `sql`): read every time, as it takes microseconds
        here and every process writing the file moves it."""
        return await self.fetch_quick(sql, (guild_id,))

    def _load_schema(self) -> None:
        """Reads the schema into the inline connection without a deadline.

        SQLite reads it before a connection's first statement and again after a change of schema (a migration,
        ANALYZE): 1–5 ms, which a read under the deadline would be stopped in, and stopped in again every time.
        Once read, this takes microseconds; a stopped read calls it in case that is why it was stopped.
        """
        if self._inline is None:
            return
        self._inline_deadline = math.inf
        with contextlib.suppress(sqlite3.OperationalError):
            self._inline.execute("SELECT 1 FROM sqlite_master LIMIT 0").fetchall()

    def _past_deadline(self) -> bool:
        return time.perf_counter() > self._inline_deadline

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        # Callers ask for one row by key, aggregate or LIMIT 1, so fetching all of them is one row and one hop.
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def schema_version(self) -> int:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL)"
        )
        rows = list(await self.conn.execute_fetchall("SELECT COALESCE(MAX(version), 0) AS version "
                                                     "FROM schema_migrations"))
        return int(rows[0]["version"]) if rows else 0

    async def migrate(self, directory: Traversable = MIGRATIONS_DIR) -> list[int]:
        """Applies the missing migrations in order, each in its own transaction; returns the versions applied."""
        files = migration_files(directory)
        latest_known = files[-1][0] if files else 0
        current = await self.schema_version()
        applied_rows = await self.conn.execute_fetchall("SELECT version FROM schema_migrations")
        done = {int(row["version"]) for row in applied_rows}
        if current > latest_known:
            raise StoreError(
                f"the database {self.path} is at schema version {current}, newer than this code knows "
                f"({latest_known}). Run a newer version of the bot, or restore a backup made by this one."
            )
        applied = []
        for version, path in files:
            # Missing, not merely newer: a branch may have added a lower number after a later one ran.
            if version in done:
                continue
            script = path.read_text(encoding="utf-8")
            stamp = to_db_time(datetime.now(UTC))
            async with self._lock:
                try:
                    await self.conn.executescript(f"BEGIN IMMEDIATE;\n{script}\n;")
                    await self.conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        (version, path.name, stamp),
                    )
                    await self.conn.execute("COMMIT")
                except Exception as error:
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    raise StoreError(f"migration {path.name} failed: {error}") from error
            log.info("applied migration %s", path.name)
            applied.append(version)
        return applied
