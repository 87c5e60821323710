"""`python -m bot migrate-db`: a club's database moved between SQLite files and PostgreSQL, all or nothing, verified."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.store import Store
from bot.store import move as move_module
from bot.store.db import Database, migration_files
from bot.store.move import COUNTERS, TABLES, BadTarget, MoveError, VerificationFailed, move
from tests.databases import server_url
from tests.test_main import run_bot

# Discord ids are 64-bit: the largest ones must survive PostgreSQL's BIGINT and come back unchanged.
GUILD = 2**63 - 1
MEMBER = 2**63 - 2
OTHER_GUILD = 1_100_000_000_000_000_001
T = "2026-03-02T09:00:00.000000+00:00"

# Every table with at least one row: Unicode (accents, Cyrillic, CJK, emoji, quotes, newlines), NULLs in every column
# that allows them, and text keys whose order differs between byte order and a language's collation.
ROWS: dict[str, list[tuple[Any, ...]]] = {
    "guild_config": [
        (GUILD, MEMBER, None, 3, None, 6, "23:59", "Europe/Zürich", MEMBER - 1, T),
        (OTHER_GUILD, None, None, None, None, None, None, "UTC", None, T),
    ],
    "feeds": [
        (1, GUILD, "https://blog.example/feed?ü=1", "Lesekreis »Bücher«", None, None, 1, 0, 0, None, None, T),
        (7, OTHER_GUILD, "https://b.example/rss", None, 'W/"etag"', "Mon, 02 Mar 2026", 0, 3, 1, "timeout", T, T),
    ],
    "jobs": [
        (1, GUILD, "post_reviews", "2026-W10", '{"slot": "ü"}', T, "pending", 0, None, None, None),
        (2, GUILD, "close_poll", "3", "{}", T, "done", 2, "boom\nline two", T, T),
    ],
    "bot_state": [("Zeta", "1"), ("alpha", "2"), ("Émile", "3"), ("émile", "4"), ("a b", ""), ("ab", "x")],
    "catalogue_cache": [
        ("author-works:tolstoy", '{"docs": ["Война и мир"]}', T),
        ("author-works:Tolstoy", "[]", T),
        ("search:源氏物語", "{}", T),
    ],
    "books": [
        (1, GUILD, "Война и мир", "Лев Толстой", 1869, "/works/OL1W", "9780000000001", None, "война и мир",
         "толстой", T),
        (2, GUILD, "Cien años de soledad 📚", "Gabriel García Márquez", None, None, None, None, "cien anos",
         "garcia marquez", T),
        (5, GUILD, 'The "Quoted" Book', "", None, None, None, "https://covers.example/x.jpg", "quoted", "", T),
        (9, OTHER_GUILD, "源氏物語", "紫式部", 1008, None, None, None, "源氏物語", "紫式部", T),
    ],
    "reads": [
        (1, GUILD, 1, "finished", "2026-01-01", "2026-02-01", "import", T),
        (2, GUILD, 2, "reading", "2026-02-02", None, "manual", T),
        (3, OTHER_GUILD, 9, "planned", None, None, "poll", T),
    ],
    "ratings": [
        (GUILD, 1, MEMBER, 5, T, "Zoë"),
        (GUILD, 1, 1, 1, T, ""),
        (GUILD, 2, MEMBER, 3, T, "名前"),
    ],
    "reviews": [
        (1, GUILD, 1, MEMBER, "Zoë", 5, "Long — and worth it.\n||Pierre||", "Pierre", "member", None, None, None,
         "announced", "[1, 2]", T, T, MEMBER - 5),
        (2, GUILD, 2, None, "Lesekreis »Bücher«", None, "Ein Blogpost 📚", None, "feed", 1, "guid-1",
         "https://blog.example/1", "queued", None, T, None, None),
        (3, GUILD, 2, MEMBER, "Zoë", 4, "Second", None, "import", None, None, None, "queued", None, T, None, None),
        (4, GUILD, 1, 1, "x", None, "Third", None, "member", None, None, None, "announcing", "[]", T, None, 1),
        (8, OTHER_GUILD, 9, 2, "y", 2, "もののあはれ", None, "member", None, None, None, "queued", None, T, None,
         None),
    ],
    "feed_entries": [(GUILD, 1, "guid-1", 2, T), (GUILD, 1, "guid-0", None, T)],
    "discussions": [(1, GUILD, 1, MEMBER, MEMBER - 3, MEMBER, T, None, None), (2, GUILD, 2, 5, 6, 7, T, T, 7)],
    "discussion_sections": [
        (1, GUILD, 1, "Книга первая", 1, 10, MEMBER - 4, "2026-03-09"),
        (1, GUILD, 2, "Book two", None, None, 44, None),
    ],
    "reading_progress": [(1, GUILD, MEMBER, 2, T), (1, GUILD, 1, 1, T)],
    "spoiler_terms": [(1, GUILD, 0, "Пьер"), (1, GUILD, 1, "Borodino")],
    "spoiler_webhooks": [(GUILD, MEMBER - 3, MEMBER - 6, T)],
    "spoiler_notices": [(GUILD, MEMBER, T)],
    "polls": [
        (1, GUILD, "ranked", "closed", 10, MEMBER - 7, MEMBER, T, T, T, '{"winner": 1}', 1, 11, MEMBER - 8, 3, 4),
        (2, GUILD, "native", "open", 10, None, 1, T, T, None, None, None, None, None, None, None),
    ],
    "poll_candidates": [
        (1, GUILD, 0, 1, "Война и мир", "Лев Толстой", "Война и мир — Лев Толстой", f"[{MEMBER}]"),
        (1, GUILD, 1, 2, "Cien años de soledad 📚", "Gabriel García Márquez", "Cien años", "[]"),
    ],
    "ballots": [(1, GUILD, MEMBER, "[1, 0]", T)],
    "nominations": [(1, GUILD, 5, 2, T), (2, GUILD, 2, None, T)],
    "nominators": [(1, GUILD, MEMBER, T), (1, GUILD, 1, T)],
    "meetings": [
        (1, GUILD, MEMBER - 9, T, T, "Europe/Zürich", MEMBER - 10, None, 1, "Книга первая", "weekly", "ended",
         None, MEMBER, T),
        (2, GUILD, None, T, T, "UTC", None, "Café Zürich, 2nd floor", None, None, "none", "scheduled", 1, 1, T),
    ],
    "meeting_reminders": [(GUILD, 1, "day", T, MEMBER - 10, MEMBER - 11, T), (GUILD, 1, "hour", T, 1, 2, T)],
    "club_posts": [(GUILD, MEMBER - 12, MEMBER - 13, MEMBER - 14), (OTHER_GUILD, None, None, None)],
}


async def make_database(path: Path, directory: Any = None) -> None:
    database = Database(path)
    await database.open()
    try:
        await (database.migrate(directory) if directory is not None else database.migrate())
    finally:
        await database.close()


def populate(path: Path) -> None:
    """The rows above in a migrated SQLite file; the counters (history and guard versions) are the ones the
    triggers made, and each text column's type is SQLite's own."""
    conn = sqlite3.connect(path)
    try:
        for table, rows in ROWS.items():
            marks = ", ".join("?" for _ in rows[0])
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
        conn.commit()
    finally:
        conn.close()


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)  # noqa: S608
                for table in TABLES}
    finally:
        conn.close()


def url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
async def club(tmp_path: Path) -> Path:
    path = tmp_path / "club.db"
    await make_database(path)
    populate(path)
    return path


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several batches per table: the streaming, not one read of everything, is what moves them.
    monkeypatch.setattr(move_module, "BATCH_ROWS", 2)


def test_every_table_of_the_schema_is_moved_each_after_the_tables_it_refers_to(tmp_path: Path) -> None:
    path = tmp_path / "schema.db"
    asyncio.run(make_database(path))
    conn = sqlite3.connect(path)
    try:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        moved = {name for name in tables if name != "schema_migrations" and not name.startswith(
            ("sqlite_", "books_fts", "reviews_fts"))}
        assert moved == set(TABLES), "add the new table to TABLES in bot/store/move.py, after its parents"
        assert len(TABLES) == len(set(TABLES))
        for position, table in enumerate(TABLES):
            parents = {row[0] for row in conn.execute("SELECT \"table\" FROM pragma_foreign_key_list(?)", (table,))}
            assert parents <= set(TABLES[:position]), f"{table} is moved before {parents - set(TABLES[:position])}"
        # A table that triggers write into is a counter: the copy's own inserts move it, so it is moved last.
        written = {target for (sql,) in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
                   for target in re.findall(r"INSERT INTO (\w+)", sql) if not target.endswith("_fts")}
        assert written == COUNTERS
        assert set(TABLES[-len(COUNTERS):]) == COUNTERS
    finally:
        conn.close()


def test_the_example_club_fills_every_table(club: Path) -> None:
    assert all(rows for rows in dump(club).values())


async def test_a_club_moves_to_another_sqlite_file_unchanged_and_searchable(club: Path, tmp_path: Path,
                                                                            small_batches: None) -> None:
    target = tmp_path / "moved" / "club.db"
    report = await move(url(club), url(target))
    original = dump(club)
    assert dump(target) == original
    assert [(result.name, result.rows, result.ok) for result in report.tables] == \
        [(table, len(original[table]), True) for table in TABLES]
    assert report.rows == sum(len(rows) for rows in original.values())
    async with Store(target) as store:
        await store.migrate()
        # The full-text index was rebuilt from the rows, and new rows are numbered after the copied ones.
        found = await store.db.fetch_all("SELECT rowid FROM books_fts WHERE books_fts MATCH 'soledad'")
        assert [row[0] for row in found] == [2]
        book, created = await store.books.find_or_create(GUILD, "Anna Karenina", "Лев Толстой")
        assert created and book.id == 10


async def test_a_destination_that_holds_data_is_refused_and_left_as_it_was(club: Path, tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    await make_database(target)
    conn = sqlite3.connect(target)
    conn.execute("INSERT INTO bot_state VALUES ('k', 'v')")
    conn.commit()
    conn.close()
    before = dump(target)
    with pytest.raises(MoveError, match="already holds a club's data \\(in bot_state\\)"):
        await move(url(club), url(target))
    assert dump(target) == before


async def test_a_source_older_than_the_code_is_refused_with_what_to_do(tmp_path: Path) -> None:
    old = tmp_path / "migrations"
    old.mkdir()
    for _, path in migration_files()[:-1]:
        (old / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    source = tmp_path / "old.db"
    await make_database(source, old)
    target = tmp_path / "new.db"
    with pytest.raises(MoveError, match="start the bot on it once"):
        await move(url(source), url(target))
    assert not target.exists()


async def test_a_source_newer_than_the_code_is_refused(club: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(club)
    conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', ?)", (T,))
    conn.commit()
    conn.close()
    target = tmp_path / "new.db"
    with pytest.raises(MoveError, match="does not know \\(9999\\)"):
        await move(url(club), url(target))
    assert not target.exists()


async def test_a_destination_newer_than_the_code_is_refused_and_left_as_it_was(club: Path, tmp_path: Path) -> None:
    target = tmp_path / "newer.db"
    await make_database(target)
    conn = sqlite3.connect(target)
    conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', ?)", (T,))
    conn.commit()
    conn.close()
    before = target.read_bytes()
    with pytest.raises(MoveError, match=r"newer\.db has migrations this version of the bot does not know \(9999\)"):
        await move(url(club), url(target))
    assert target.read_bytes() == before


async def test_a_missing_source_file_is_refused_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(BadTarget, match="there is no database at"):
        await move(url(tmp_path / "typo.db"), url(tmp_path / "new.db"))
    assert list(tmp_path.iterdir()) == []


async def test_a_file_that_is_not_a_clubs_database_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "other.db"
    sqlite3.connect(source).close()
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(MoveError, match="not a club's database"):
        await move(url(source), url(tmp_path / "new.db"))
    with pytest.raises(MoveError, match="cannot read"):
        await move(url(tmp_path / "notes.txt"), url(tmp_path / "new.db"))
    assert not (tmp_path / "new.db").exists()


async def test_the_same_database_twice_and_unknown_urls_are_usage_errors(club: Path) -> None:
    with pytest.raises(BadTarget, match="same database"):
        await move(url(club), f"sqlite:///{club.parent}/./{club.name}")
    with pytest.raises(BadTarget, match="same database"):
        await move("postgresql://a:b@db.example/club", "postgres://c@DB.example:5432/club")
    with pytest.raises(BadTarget, match="must be sqlite:///"):
        await move(str(club), url(club.parent / "new.db"))
    with pytest.raises(BadTarget, match="not a valid PostgreSQL URL"):
        await move(url(club), "postgresql://u:hunter2@host:port/db")


async def test_an_unreachable_server_is_named_without_its_password(club: Path) -> None:
    with pytest.raises(MoveError, match="cannot connect") as raised:
        await move(url(club), "postgresql://bookclub:hunter2@127.0.0.1:1/club")
    assert "hunter2" not in str(raised.value) and "bookclub:***@127.0.0.1:1/club" in str(raised.value)


async def test_a_row_that_changes_on_the_way_is_caught_and_nothing_is_moved(club: Path, tmp_path: Path,
                                                                            small_batches: None,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "empty.db"
    await make_database(target)
    write = move_module._write
    batches = 0

    async def tampering(destination: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        nonlocal batches
        if table == "reviews":
            batches += 1
            if batches == 2:
                # The first review of the second batch arrives with one character changed.
                body = columns.index("body")
                rows = [(*rows[0][:body], rows[0][body] + ".", *rows[0][body + 1:]), *rows[1:]]
        await write(destination, table, columns, rows)

    monkeypatch.setattr(move_module, "_write", tampering)
    with pytest.raises(VerificationFailed) as raised:
        await move(url(club), url(target))
    assert batches == 3
    assert [result.name for result in raised.value.results if not result.ok] == ["reviews"]
    reviews = next(result for result in raised.value.results if result.name == "reviews")
    assert reviews.rows == reviews.copied_rows == len(ROWS["reviews"])
    assert all(not rows for rows in dump(target).values()), "the copy was rolled back"


async def test_a_failed_move_into_a_new_file_leaves_no_file(club: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing(destination: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        raise MoveError(f"cannot write the table {table}")

    monkeypatch.setattr(move_module, "_write", failing)
    target = tmp_path / "new.db"
    with pytest.raises(MoveError, match="cannot write the table guild_config"):
        await move(url(club), url(target))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["club.db"]


def test_the_command_prints_a_verified_line_per_table_and_refuses_a_second_move(club: Path, tmp_path: Path) -> None:
    target = tmp_path / "moved.db"
    result = run_bot("migrate-db", "--from", url(club), "--to", url(target), env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    original = dump(club)
    assert lines[:len(TABLES)] == [f"{table}: {len(original[table]):,} rows, checksum ok" for table in TABLES]
    total = sum(len(rows) for rows in original.values())
    assert lines[len(TABLES):] == [
        f"Moved {total:,} rows in {len(TABLES)} tables from {club} to {target} in "
        f"{lines[-1].rsplit(' in ', 1)[1].split(' s;')[0]} s; every table verified."
    ]
    assert dump(target) == original

    again = run_bot("migrate-db", "--from", url(club), "--to", url(target), env={}, cwd=tmp_path)
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.strip().splitlines() == [
        f"Nothing was moved: {target} already holds a club's data (in {', '.join(TABLES)}); move into a new, empty "
        "database."
    ]


@pytest.mark.parametrize(("arguments", "code", "words"), [
    (["--from", "sqlite:///club.db"], 2, "Usage: python -m bot migrate-db --from URL --to URL"),
    (["--from", "sqlite:///missing.db", "--to", "sqlite:///new.db"], 2, "there is no database at missing.db"),
    (["--from=sqlite:///club.db", "--to=postgresql://bookclub:hunter2@127.0.0.1:1/club"], 1,
     "cannot connect to postgresql://bookclub:***@127.0.0.1:1/club"),
])
def test_the_command_says_what_is_wrong_in_one_line(club: Path, tmp_path: Path, arguments: list[str], code: int,
                                                     words: str) -> None:
    result = run_bot("migrate-db", *arguments, env={}, cwd=tmp_path)
    assert result.returncode == code
    assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr + result.stdout
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "new.db").exists()


# -- PostgreSQL ------------------------------------------------------------------------------------------------


def _server() -> str:
    server = server_url()
    assert server is not None, "set BOOKCLUB_TEST_POSTGRES to a PostgreSQL server's URL to run this test"
    return server


async def _admin(sql: str) -> None:
    admin = await asyncpg.connect(_server())
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


@pytest.fixture
async def postgres() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards. Its text sorts as people read it (ICU's root locale:
    'alpha' before 'Zeta'), as on most servers, and not in the byte order that SQLite sorts in."""
    name = f"migrate_{uuid.uuid4().hex}"
    await _admin(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und'")
    try:
        yield f"{_server().rpartition('/')[0]}/{name}"
    finally:
        await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.postgres_only
async def test_a_club_moves_to_postgresql_and_back_unchanged(club: Path, tmp_path: Path, postgres: str,
                                                             small_batches: None) -> None:
    there = await move(url(club), postgres)
    assert all(result.ok for result in there.tables)
    back = tmp_path / "back.db"
    home = await move(postgres, url(back))
    assert dump(back) == dump(club)
    # The same checksums on both engines: the rows arrived as they left, whatever each engine's types and order.
    assert [result.checksum for result in home.tables] == [result.checksum for result in there.tables]


async def what_members_see(target: Path | str) -> list[object]:
    """The club as the repositories read it: reads, scores, reviews, raters' names, the versions caches follow."""
    async with Store(target) as store:
        await store.migrate()
        seen: list[object] = [await store.history.reads(guild) for guild in (GUILD, OTHER_GUILD)]
        seen += [await store.history.scores(GUILD), await store.reviews.latest(GUILD),
                 await store.history.member_names(GUILD), await store.history.versions(GUILD),
                 await store.books.get(OTHER_GUILD, 9)]
        return seen


@pytest.mark.postgres_only
async def test_the_repositories_read_the_same_club_on_postgresql(club: Path, postgres: str) -> None:
    await move(url(club), postgres)
    assert await what_members_see(postgres) == await what_members_see(club)


@pytest.mark.postgres_only
async def test_after_a_move_to_postgresql_new_rows_are_numbered_after_the_copied_ones_and_counted(club: Path,
                                                                                       postgres: str) -> None:
    await move(url(club), postgres)
    async with Store(postgres) as store:
        await store.migrate()
        names = "SELECT names FROM history_versions WHERE guild_id = ?"
        before = await store.db.fetch_one(names, (GUILD,))
        book, created = await store.books.find_or_create(GUILD, "Anna Karenina", "Лев Толстой")
        assert created and book.id == 10
        # The counters' triggers, paused for the copy, count again.
        after = await store.db.fetch_one(names, (GUILD,))
        assert before is not None and after is not None and after["names"] == before["names"] + 1
        read_id = await store.db.fetch_one("SELECT nextval(pg_get_serial_sequence('reads', 'id')) AS id")
        assert read_id is not None and read_id["id"] == 4


@pytest.mark.postgres_only
async def test_a_postgresql_destination_that_holds_data_is_refused(club: Path, postgres: str) -> None:
    await move(url(club), postgres)
    with pytest.raises(MoveError, match="already holds a club's data"):
        await move(url(club), postgres)


@pytest.mark.postgres_only
async def test_a_postgresql_database_that_does_not_exist_is_named_with_what_to_do(club: Path) -> None:
    missing = f"{_server().rpartition('/')[0]}/migrate_{uuid.uuid4().hex}"
    with pytest.raises(MoveError, match=r"does not exist\); create it first \(createdb\)"):
        await move(url(club), missing)
