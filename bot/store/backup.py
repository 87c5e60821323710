"""`python -m bot backup PATH`: a consistent copy of the live database through SQLite's online backup API."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def backup(source: Path, target: Path) -> int:
    """Copies `source` to `target` page by page while other connections keep writing; returns the page count."""
    if not source.exists():
        raise FileNotFoundError(f"there is no database at {source}")
    if target.resolve() == source.resolve():
        raise ValueError("the backup must go to another file than the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # as_uri() escapes the path: a '#' or '?' in it would otherwise end the file name and open another database.
    # Closed, not merely committed (what sqlite3's own `with` does): an open connection is what leaves -wal and -shm
    # files behind. The source is opened for reading and writing but never written: a read-only connection cannot
    # remove the -wal and -shm it creates beside a database that the bot is not running on.
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True)) as src, \
            closing(sqlite3.connect(partial)) as dst:
        src.execute("PRAGMA busy_timeout = 5000")
        src.backup(dst, pages=256)
        # The copy took the live database's WAL mode; a backup is one self-contained file, needing no -wal or -shm.
        dst.execute("PRAGMA journal_mode = DELETE")
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the copy failed its integrity check: {check}")
    partial.replace(target)
    return pages
