"""The club history on a real SQLite file: reads, ratings, import/export, answer look-ups, each guild on its own."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.club_reads import ClubReads, ReadRow
from bot.domain.goodreads import GoodreadsBook, parse_export
from bot.store import Store, StoreError
from bot.store.db import Database, to_db_time
from bot.store.history import HistoryRepository
from tests.databases import INTEGRITY_ERRORS
from tests.goodreads_export import library_export

GUILD_A, GUILD_B = 111, 222
ALICE, BOB, CAROL = 1, 2, 3
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXPORT = Path(__file__).resolve().parents[1] / "data" / "goodreads_library_export.csv"


async def add_book(store: Store, title: str, author: str, guild_id: int = GUILD_A, **read: object) -> int:
    book, _ = await store.books.find_or_create(guild_id, title, author)
    if read:
        await store.history.add_read(guild_id, book.id, now=NOW, **read)  # type: ignore[arg-type]
    return book.id


async def add_review(
    store: Store, book_id: int, member_id: int | None, name: str, rating: int | None, body: str, *,
    guild_id: int = GUILD_A, status: str = "announced", age_days: int = 0,
) -> None:
    async with store.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO reviews (guild_id, book_id, member_id, reviewer_name, rating, body, source, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, book_id, member_id, name, rating, body, "member" if member_id else "feed", status,
             to_db_time(NOW - timedelta(days=age_days))),
        )


async def test_a_read_is_recorded_once_and_its_dates_can_be_corrected(store: Store) -> None:
    book_id = await add_book(store, "Piranesi", "Susanna Clarke")
    read, created = await store.history.add_read(GUILD_A, book_id, status="reading", started_on=date(2026, 3, 1),
                                                 now=NOW)
    assert created and read.status == "reading" and read.started_on == date(2026, 3, 1)
    read, created = await store.history.add_read(GUILD_A, book_id, status="finished", started_on=date(2026, 3, 1),
                                                 finished_on=date(2026, 3, 30), now=NOW)
    assert not created and read.status == "finished" and read.finished_on == date(2026, 3, 30)
    assert await store.history.count_reads(GUILD_A) == 1


async def test_reads_list_current_first_then_newest_finished_then_planned(store: Store) -> None:
    await add_book(store, "Old", "A. Writer", status="finished", finished_on=date(2019, 5, 1))
    await add_book(store, "Newer", "A. Writer", status="finished", finished_on=date(2024, 5, 1))
    await add_book(store, "Next", "B. Writer", status="planned")
    await add_book(store, "Now", "C. Writer", status="reading", started_on=date(2026, 3, 1))
    titles = [read.book.title for read in await store.history.reads(GUILD_A)]
    assert titles == ["Now", "Newer", "Old", "Next"]
    last = await store.history.last_finished(GUILD_A)
    assert last is not None and last.book.title == "Newer"


async def test_a_members_rating_is_one_vote_and_can_be_changed(store: Store) -> None:
    book_id = await add_book(store, "Beloved", "Toni Morrison", status="finished")
    assert await store.history.rate(GUILD_A, book_id, ALICE, "Alice", 3, now=NOW) is None
    assert await store.history.rate(GUILD_A, book_id, ALICE, "Alice", 5, now=NOW) == 3
    await store.history.rate(GUILD_A, book_id, BOB, "Bob", 4, now=NOW)
    score = (await store.history.scores(GUILD_A))[book_id]
    assert (score.total, score.votes, score.average) == (9, 2, 4.5)
    with pytest.raises(ValueError, match="1 to 5"):
        await store.history.rate(GUILD_A, book_id, BOB, "Bob", 6, now=NOW)


async def test_review_stars_count_once_per_member_unless_they_rated(store: Store) -> None:
    book_id = await add_book(store, "Jane Eyre", "Charlotte Brontë", status="finished")
    await add_review(store, book_id, ALICE, "Alice", 2, "First go.", age_days=10)
    await add_review(store, book_id, ALICE, "Alice", 4, "Reread it, better.")
    await add_review(store, book_id, BOB, "Bob", 1, "Not for me.")
    await store.history.rate(GUILD_A, book_id, BOB, "Bob", 5, now=NOW)
    await add_review(store, book_id, None, "The Club Blog", 3, "A blog post.")
    await add_review(store, book_id, CAROL, "Carol", None, "No stars given.")
    # Alice's latest review (4), Bob's /rate (5) over his review, the blog post (3); Carol gave no stars.
    assert (await store.history.scores(GUILD_A, [book_id]))[book_id] == (12, 3)
    opinions = await store.history.member_ratings(GUILD_A, book_id)
    assert [(opinion.member_name, opinion.stars) for opinion in opinions] == [("Bob", 5), ("Alice", 4)]
    assert await store.history.rated_book_ids(GUILD_A, CAROL) == {book_id}


async def test_quotes_come_from_published_reviews_best_rated_first(store: Store) -> None:
    book_id = await add_book(store, "Never Let Me Go", "Kazuo Ishiguro", status="finished")
    await add_review(store, book_id, ALICE, "Alice", 3, "Fine.")
    await add_review(store, book_id, BOB, "Bob", 5, "Devastating.")
    await add_review(store, book_id, CAROL, "Carol", 5, "Waiting for its slot.", status="queued")
    quotes = await store.history.quotes(GUILD_A, book_id)
    assert [(quote.reviewer_name, quote.body) for quote in quotes] == [("Bob", "Devastating."), ("Alice", "Fine.")]


async def test_periods_count_finished_reads_by_their_finishing_day(store: Store) -> None:
    await add_book(store, "Dec", "A", status="finished", finished_on=date(2024, 12, 31))
    await add_book(store, "Jan", "B", status="finished", finished_on=date(2025, 1, 1))
    await add_book(store, "Jun", "C", status="finished", finished_on=date(2025, 6, 15))
    await add_book(store, "Reading", "D", status="reading", started_on=date(2025, 7, 1))
    start, end = date(2025, 1, 1), date(2026, 1, 1)
    assert await store.history.count_finished_between(GUILD_A, start, end) == 2
    assert [read.book.title for read in await store.history.finished_between(GUILD_A, start, end)] == ["Jan", "Jun"]


async def test_versions_tell_name_changes_from_vote_changes(store: Store) -> None:
    before = await store.history.versions(GUILD_A)
    book_id = await add_book(store, "Klara and the Sun", "Kazuo Ishiguro")
    named = await store.history.versions(GUILD_A)
    assert named.names > before.names
    await store.history.add_read(GUILD_A, book_id, status="finished", now=NOW)
    await store.history.rate(GUILD_A, book_id, ALICE, "Alice", 4, now=NOW)
    voted = await store.history.versions(GUILD_A)
    assert voted.names == named.names and voted.votes >= named.votes + 2
    assert await store.history.versions(GUILD_B) == (0, 0)


async def test_one_guild_never_sees_another_guilds_history(store: Store) -> None:
    book_id = await add_book(store, "Never Let Me Go", "Kazuo Ishiguro", status="finished",
                             finished_on=date(2019, 5, 14))
    await store.history.rate(GUILD_A, book_id, ALICE, "Alice", 5, now=NOW)
    await add_review(store, book_id, ALICE, "Alice", 5, "Devastating.")
    history = store.history
    assert await history.reads(GUILD_B) == [] and await history.count_reads(GUILD_B) == 0
    assert await history.get_read(GUILD_B, book_id) is None
    assert await history.book_names(GUILD_B) == [] and await history.books(GUILD_B, [book_id]) == {}
    assert await history.scores(GUILD_B) == {} and await history.scores(GUILD_B, [book_id]) == {}
    assert await history.member_ratings(GUILD_B, book_id) == [] and await history.quotes(GUILD_B, book_id) == []
    assert await history.rated_book_ids(GUILD_B, ALICE) == set()
    assert await history.last_finished(GUILD_B) is None and await history.read_statuses(GUILD_B) == {}
    assert await history.finished_between(GUILD_B, date(2019, 1, 1), date(2020, 1, 1)) == []
    assert await history.export_books(GUILD_B) == []


async def test_goodreads_import_takes_the_read_shelf_and_skips_what_the_club_has(store: Store) -> None:
    parsed = parse_export(EXPORT.read_bytes())
    await add_book(store, "Never Let Me Go", "Kazuo Ishiguro", status="finished", finished_on=date(2019, 5, 1))
    report = await store.history.import_goodreads(GUILD_A, parsed.rows, member_id=ALICE, member_name="Alice",
                                                  now=NOW)
    assert [row.title for row in report.skipped] == ["Never Let Me Go"]
    assert report.skipped[0].reason == "already in the club history"
    assert len(report.added) == len(parsed.rows) - 1
    klara = await store.books.find(GUILD_A, "Klara and the Sun", "Kazuo Ishiguro")
    assert klara is not None and klara.isbn13 == "9780593318171" and klara.year == 2021
    read = await store.history.get_read(GUILD_A, klara.id)
    assert read is not None and read.status == "finished" and read.finished_on == date(2021, 5, 2)
    assert read.source == "import"
    assert (await store.history.scores(GUILD_A, [klara.id]))[klara.id] == (4, 1)
    quotes = await store.history.quotes(GUILD_A, klara.id)
    assert quotes and quotes[0].reviewer_name == "Alice" and quotes[0].body.startswith("Klara notices everything")
    again = await store.history.import_goodreads(GUILD_A, parsed.rows, member_id=ALICE, member_name="Alice", now=NOW)
    assert again.added == [] and len(again.skipped) == len(parsed.rows)


async def test_an_import_that_fails_half_way_writes_nothing(store: Store) -> None:
    good = GoodreadsBook(line=2, title="Piranesi", author="Susanna Clarke", rating=5)
    broken = GoodreadsBook.model_construct(line=3, title="Beloved", author="Toni Morrison", rating=9, review=None,
                                           date_read=None, year=None, isbn13=None)
    with pytest.raises(INTEGRITY_ERRORS):
        await store.history.import_goodreads(GUILD_A, [good, broken], member_id=ALICE, member_name="Alice", now=NOW)
    assert await store.history.count_reads(GUILD_A) == 0 and await store.books.list_all(GUILD_A) == []


async def test_an_import_is_invisible_until_all_of_it_is_in_and_other_guilds_write_meanwhile(
    store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = parse_export(library_export(2_500)).rows
    transactions = 0
    paused, resume = asyncio.Event(), asyncio.Event()
    begin = store.db.transaction

    @asynccontextmanager
    async def counted() -> AsyncIterator[Any]:
        nonlocal transactions
        transactions += 1
        if transactions == 3:
            # Between two of the import's batches, holding nothing.
            paused.set()
            await resume.wait()
        async with begin() as conn:
            yield conn

    monkeypatch.setattr(store.db, "transaction", counted)
    importing = asyncio.create_task(
        store.history.import_goodreads(GUILD_A, rows, member_id=ALICE, member_name="Alice", now=NOW, batch=500)
    )
    await asyncio.wait_for(paused.wait(), timeout=30)
    assert await store.history.count_reads(GUILD_A) == 0 and await store.books.list_all(GUILD_A) == []
    monkeypatch.setattr(store.db, "transaction", begin)
    await asyncio.wait_for(add_book(store, "Piranesi", "Susanna Clarke", guild_id=GUILD_B, status="reading"), 5)
    resume.set()
    report = await importing
    assert len(report.added) == 2_500 and await store.history.count_reads(GUILD_A) == 2_500
    assert await store.history.count_reads(GUILD_B) == 1


async def test_imported_spoilers_are_stored_apart_and_never_quoted(store: Store) -> None:
    book = GoodreadsBook(line=2, title="Never Let Me Go", author="Kazuo Ishiguro", rating=5,
                         review="Quietly devastating. [spoiler] Read it.", spoilers="Ruth and Tommy complete.")
    flagged = GoodreadsBook(line=3, title="Beloved", author="Toni Morrison", rating=4, spoilers="Sethe's choice.")
    await store.history.import_goodreads(GUILD_A, [book, flagged], member_id=ALICE, member_name="Alice", now=NOW)
    reviews = {review.book_title: review for review in await store.reviews.published(GUILD_A)}
    assert (reviews[book.title].body, reviews[book.title].spoilers) == (book.review, book.spoilers)
    assert (reviews[flagged.title].body, reviews[flagged.title].spoilers) == ("", flagged.spoilers)
    quoted = []
    for title, author in ((book.title, book.author), (flagged.title, flagged.author)):
        found = await store.books.find(GUILD_A, title, author)
        assert found is not None
        quoted += [quote.body for quote in await store.history.quotes(GUILD_A, found.id)]
    assert quoted == [book.review]


async def test_a_member_with_ten_thousand_imported_reviews_is_scored_in_a_moment(store: Store) -> None:
    rows = parse_export(library_export(10_000)).rows
    await store.history.import_goodreads(GUILD_A, rows, member_id=ALICE, member_name="Alice", now=NOW)
    # SQLite walked all of the member's reviews for each book: 10,000² steps, about twenty seconds.
    scores = await asyncio.wait_for(store.history.scores(GUILD_A), timeout=5)
    assert len(scores) == sum(1 for row in rows if row.rating)
    assert len(await asyncio.wait_for(store.history.export_books(GUILD_A), timeout=10)) == 10_000


async def test_export_writes_finished_reads_with_the_club_average(store: Store) -> None:
    book_id = await add_book(store, "Beloved", "Toni Morrison", status="finished", started_on=date(2022, 9, 1),
                             finished_on=date(2022, 10, 9))
    await add_book(store, "Planned", "Someone Else", status="planned")
    await store.history.rate(GUILD_A, book_id, ALICE, "Alice", 5, now=NOW)
    await store.history.rate(GUILD_A, book_id, BOB, "Bob", 4, now=NOW)
    [book] = await store.history.export_books(GUILD_A)
    assert (book.title, book.author, book.rating) == ("Beloved", "Toni Morrison", 5)
    assert (book.date_read, book.date_added) == (date(2022, 10, 9), date(2022, 9, 1))


async def test_the_catalogue_cache_returns_fresh_payloads_only(store: Store) -> None:
    await store.catalogue_cache.put("author-works:ishiguro kazuo", [{"title": "Klara"}], now=NOW)
    assert await store.catalogue_cache.get("author-works:ishiguro kazuo", fetched_after=NOW - timedelta(days=1)) == [
        {"title": "Klara"}
    ]
    assert await store.catalogue_cache.get("author-works:ishiguro kazuo", fetched_after=NOW + timedelta(days=1)) is None
    assert await store.catalogue_cache.get("author-works:nobody", fetched_after=NOW - timedelta(days=1)) is None


@pytest.mark.sqlite_only
async def test_a_read_only_history_reads_but_cannot_write(store: Store) -> None:
    book_id = await add_book(store, "Piranesi", "Susanna Clarke", status="reading")
    db = Database(store.path, readonly=True)
    await db.open()
    try:
        readonly = HistoryRepository(db)
        assert [read.book.title for read in await readonly.reads(GUILD_A)] == ["Piranesi"]
        with pytest.raises(StoreError, match="read-only"):
            await readonly.rate(GUILD_A, book_id, ALICE, "Alice", 5, now=NOW)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.fetch_all("INSERT INTO ratings (guild_id, book_id, member_id, stars, updated_at) "
                               "VALUES (?, ?, ?, 5, '')", (GUILD_A, book_id, ALICE))
    finally:
        await db.close()
    assert await store.history.member_ratings(GUILD_A, book_id) == []


async def test_reads_go_on_while_a_writer_holds_its_transaction_and_see_only_what_was_committed(
    store: Store,
) -> None:
    book_id = await add_book(store, "Piranesi", "Susanna Clarke", status="reading")
    async with store.db.transaction() as conn:
        await conn.execute("UPDATE reads SET status = 'finished' WHERE guild_id = ? AND book_id = ?",
                           (GUILD_A, book_id))
        # Before reads had connections of their own they queued behind this transaction for ever.
        during = await asyncio.wait_for(store.history.reads(GUILD_A), timeout=5)
        assert [read.status for read in during] == ["reading"]
    assert [read.status for read in await store.history.reads(GUILD_A)] == ["finished"]


async def test_reads_held_in_memory_come_in_the_stores_orders(store: Store) -> None:
    rng = random.Random(3)
    for number in range(120):
        status = rng.choice(["planned", "reading", "finished", "finished", "finished"])
        started = date(2020, 1, 1) + timedelta(days=rng.randint(0, 60)) if rng.random() < 0.6 else None
        finished = date(2020, 1, 1) + timedelta(days=rng.randint(0, 60)) if status == "finished" and (
            rng.random() < 0.9) else None
        await add_book(store, f"Book {number}", "Someone", status=status, started_on=started, finished_on=finished)
    history = store.history
    reads = ClubReads(await history.read_rows(GUILD_A))

    def ids(found: list[Any]) -> list[int]:
        return [read.book_id if isinstance(read, ReadRow) else read.book.id for read in found]

    for status in ("planned", "reading", "finished"):
        assert ids(reads.newest(status, 500)) == ids(await history.reads(GUILD_A, status=status))  # type: ignore[arg-type]
        assert reads.count(status) == await history.count_reads(GUILD_A, status=status)  # type: ignore[arg-type]
    some = rng.sample(range(1, 121), 30)
    assert ids(reads.newest_first(some)) == ids(await history.reads(GUILD_A, book_ids=some))
    last = await history.last_finished(GUILD_A)
    assert ids([reads.last_finished()]) == ids([last])
    for start, end in ((date(2020, 1, 10), date(2020, 2, 1)), (date(2019, 1, 1), date(2021, 1, 1))):
        assert ids(reads.finished_between(start, end, 7)) == ids(await history.finished_between(GUILD_A, start, end,
                                                                                               limit=7))
        assert reads.count_finished_between(start, end) == await history.count_finished_between(GUILD_A, start, end)
    for book_id in range(1, 121, 7):
        for after in (True, False):
            assert ids(reads.next_to(book_id, after=after, limit=3)) == ids(
                await history.reads_next_to(GUILD_A, book_id, after=after, limit=3))
        assert ids(reads.from_to(book_id, 121 - book_id, 9)) == ids(
            await history.reads_from_to(GUILD_A, book_id, 121 - book_id, limit=9))


async def test_a_books_opinions_are_its_member_ratings_and_quotes_read_together(store: Store) -> None:
    book_id = await add_book(store, "Beloved", "Toni Morrison", status="finished")
    for member_id, name, stars in ((1, "Ann", 4), (2, "Bo", 5), (3, "Cy", 2)):
        await store.history.rate(GUILD_A, book_id, member_id, name, stars, now=NOW)
    await add_review(store, book_id, 4, "Di", 5, "Haunting.")
    await add_review(store, book_id, 5, "Ed", None, "Long.")
    await add_review(store, book_id, 6, "Fay", 3, "Fine.", age_days=2)
    ratings, quotes = await store.history.opinions(GUILD_A, book_id, quotes=2)
    assert ratings == await store.history.member_ratings(GUILD_A, book_id)
    assert quotes == await store.history.quotes(GUILD_A, book_id, limit=2)
    assert [quote.body for quote in quotes] == ["Haunting.", "Fine."]


@pytest.fixture
def threaded(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reads `fetch_quick` handed to a reader's thread, in order."""
    threaded: list[str] = []
    fetch_all = store.db.fetch_all

    async def in_a_thread(sql: str, params: Any = ()) -> list[Any]:
        threaded.append(sql)
        return await fetch_all(sql, params)

    monkeypatch.setattr(store.db, "fetch_all", in_a_thread)
    return threaded


@pytest.mark.sqlite_only
async def test_a_quick_read_that_runs_long_finishes_in_a_readers_thread(store: Store, threaded: list[str],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    counting = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) SELECT COUNT(*) FROM n"
    # Within its budget (a generous one here, so that a busy machine cannot make it run over) it reads inline.
    monkeypatch.setattr("bot.store.db.INLINE_BUDGET_SECONDS", 60.0)
    assert [tuple(row) for row in await store.db.fetch_quick(counting)] == [(10000,)]
    assert threaded == []
    # Past its budget the read is stopped on the event loop and answered by a reader instead.
    monkeypatch.setattr("bot.store.db.INLINE_BUDGET_SECONDS", -1.0)
    assert [tuple(row) for row in await store.db.fetch_quick(counting)] == [(10000,)]
    assert threaded == [counting]


@pytest.mark.sqlite_only
async def test_quick_reads_stay_quick_after_the_schema_changes(store: Store, threaded: list[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Reading a changed schema takes SQLite hundreds of steps, which no deadline would let finish.
    async with store.db.transaction() as conn:
        await conn.execute("CREATE TABLE scratch (x INTEGER)")
    monkeypatch.setattr("bot.store.db.INLINE_BUDGET_SECONDS", -1.0)
    lookup = "SELECT timezone FROM guild_config WHERE guild_id = ?"
    assert await store.db.fetch_quick(lookup, (GUILD_A,)) == []
    assert await store.db.fetch_quick(lookup, (GUILD_A,)) == []
    assert len(threaded) <= 1
