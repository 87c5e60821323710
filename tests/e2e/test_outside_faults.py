"""Faults outside Discord, end to end: Open Library and a blog feed that are slow, broken or speak nonsense, and a
database held by another program, never lose data, never stop the bot and never leave a member in silence."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.app.feeds import POLL_EVERY
from bot.services.asker import OfflineAsker
from bot.services.feeds import FeedReader
from bot.services.openlibrary import OpenLibraryCatalogue
from cogs._shared.replies import BUSY, DISK_FULL, GENERIC_FAILURE
from tests.doubles.feed_server import FakeBlog
from tests.doubles.openlibrary_server import FakeOpenLibrary
from tests.e2e.helpers import SETTLE, eventually, pass_time

# Short enough to keep the file quick, long enough for a loopback answer on a busy two-core machine.
CATALOGUE_TIMEOUT = 1.0
FEED_TIMEOUT = 1.0
SLOW = 3.0  # well past the timeouts above, which leave a working double room on busy cores
QUESTION = "have you read any Ishiguro?"
OTHER_GUILD_ID = 999


async def run(bookclub: Any, who: str, command: str, **options: Any) -> Any:
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(who), command, timeout=5.0, **options)
    await ix.reply(timeout=10.0)
    return ix


async def text_of(bookclub: Any, who: str, command: str, **options: Any) -> str:
    return (await run(bookclub, who, command, **options)).text()


@asynccontextmanager
async def held_database(bookclub: Any, *, bot_waits_ms: int | None = None) -> AsyncIterator[sqlite3.Connection]:
    """Another program holding the bot's database for writing; `bot_waits_ms` shortens the bot's busy timeout."""
    if bot_waits_ms is not None:
        await bookclub.store.db.conn.execute(f"PRAGMA busy_timeout = {bot_waits_ms}")
    other = sqlite3.connect(bookclub.settings.database_path, isolation_level=None, check_same_thread=False)
    try:
        # Off the event loop: waiting here for a write the bot is finishing must not stop the bot finishing it.
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
        yield other
    finally:
        # Closing rolls the other program's transaction back.
        other.close()


# -- Open Library -----------------------------------------------------------------------------------------------


@dataclass
class OddOpenLibrary(FakeOpenLibrary):
    """Open Library answering `body` (any JSON) to every search while it is set."""

    body: Any = None

    async def _search(self, request: web.Request) -> web.Response:
        if self.body is not None:
            return web.json_response(self.body)
        return await super()._search(request)


@pytest.fixture
async def openlibrary(bookclub: Any) -> AsyncIterator[OddOpenLibrary]:
    """The bot looks books up in a loopback Open Library, as `python -m bot` wires it."""
    async with OddOpenLibrary() as server:
        # No rest after a failure, so that every look-up below meets the fault rather than the pause.
        catalogue = OpenLibraryCatalogue(bookclub.bot.http_session, server.base_url, bookclub.store.catalogue_cache,
                                         bookclub.clock, timeout=CATALOGUE_TIMEOUT, rest_after_failure=timedelta(0))
        asker = bookclub.bot.asker
        bookclub.bot.catalogue = catalogue
        bookclub.bot.asker = OfflineAsker(bookclub.store.history, catalogue)
        try:
            yield server
        finally:
            bookclub.bot.catalogue, bookclub.bot.asker = None, asker


def break_openlibrary(server: OddOpenLibrary, fault: str) -> None:
    match fault:
        case "timeout":
            server.fail(delay=SLOW)
        case "not-json":
            server.fail(garbage=True)
        case "wrong-shape":
            server.body = {"numFound": 1, "docs": {"title": "Klara and the Sun"}}
        case "server-error":
            server.fail(status=500)


@pytest.mark.parametrize("fault", ["timeout", "not-json", "wrong-shape", "server-error"])
async def test_open_library_failing_leaves_books_as_typed_and_answers_without_it(
        bookclub: Any, openlibrary: OddOpenLibrary, fault: str) -> None:
    break_openlibrary(openlibrary, fault)
    added = await text_of(bookclub, "Mod", "club add", title="never let me go", author="kazuo ishiguro",
                          started="2026-01-05", finished="2026-02-01")
    assert added.startswith("Added **never let me go** by kazuo ishiguro in the club history")
    nominated = await text_of(bookclub, "Alice", "nominate add", title="klara and the sun", author="Ishiguro")
    assert nominated.startswith("You nominated **klara and the sun** by Ishiguro.")
    asked = await run(bookclub, "Carol", "ask", question=QUESTION)
    answer = asked.text()
    assert "**never let me go**" in answer and "Not read by the club yet" not in answer
    assert GENERIC_FAILURE not in answer and "Open Library" not in answer and not asked.ephemeral
    assert len(openlibrary.searches()) >= 3, "every look-up met the fault"
    books = await bookclub.store.books.list_all(bookclub.double.guild_a.id)
    assert [(book.title, book.work_key) for book in books] == [("klara and the sun", None), ("never let me go", None)]

    openlibrary.heal()
    openlibrary.body = None
    healed = await text_of(bookclub, "Carol", "ask", question=QUESTION)
    assert "Not read by the club yet:" in healed and "**The Buried Giant** (2015)" in healed
    assert bookclub.double.pings() == []


# -- blog feeds -------------------------------------------------------------------------------------------------


@pytest.fixture
async def blogs() -> AsyncIterator[tuple[FakeBlog, FakeBlog]]:
    """The club's blog, and another blog that fails in the way the test says."""
    async with FakeBlog() as good, FakeBlog() as bad:
        yield good, bad


def failing_feed(bad: FakeBlog, fault: str) -> str:
    bad.publish("Hamnet by Maggie O'Farrell")
    match fault:
        case "timeout":
            bad.fail(delay=SLOW)
            return bad.feed_url
        case "garbage":
            bad.fail(garbage=True)
            return bad.feed_url
        case "server-error":
            return bad.gone_url
        case _:
            return bad.huge_url


@pytest.mark.parametrize("private_feeds", [True], ids=["blogs-on-loopback"])
@pytest.mark.parametrize("fault", ["timeout", "garbage", "server-error", "over-the-size-cap"])
async def test_a_failing_feed_keeps_its_place_loses_nothing_and_is_reported_once(
        bookclub: Any, blogs: tuple[FakeBlog, FakeBlog], fault: str) -> None:
    good, bad = blogs
    guild = bookclub.double.guild_a
    cog = bookclub.bot.get_cog("ReviewsCog")
    cog.feeds.reader = FeedReader(allow_private=True, timeout=FEED_TIMEOUT)
    await text_of(bookclub, "Mod", "config channels", reviews=guild.channel("reviews"),
                  announcements=guild.channel("announcements"))
    good.publish("Piranesi by Susanna Clarke")
    bad_url = failing_feed(bad, fault)
    await text_of(bookclub, "Mod", "config feed-add", url=bad_url)
    await text_of(bookclub, "Mod", "config feed-add", url=good.feed_url)

    async def failures(count: int) -> bool:
        feeds = await bookclub.store.feeds.list(guild.id)
        return feeds[0].consecutive_failures == count

    reviews, announcements = guild.channel("reviews"), guild.channel("announcements")
    await eventually(lambda: failures(1))
    assert await bookclub.double.wait_until(lambda: len(bookclub.double.bot_messages(reviews)) == 1, SETTLE)
    for polls in range(2, 6):
        if polls == 3:
            good.publish("Beloved by Toni Morrison")
        bookclub.clock.advance(POLL_EVERY + timedelta(minutes=1))
        await eventually(lambda polls=polls: failures(polls))
    assert await bookclub.double.wait_until(lambda: len(bookclub.double.bot_messages(reviews)) == 2, SETTLE)
    titles = [message.embeds[0]["title"] for message in bookclub.double.bot_messages(reviews)]
    assert titles == ["Piranesi by Susanna Clarke", "Beloved by Toni Morrison"]
    (report,) = bookclub.double.bot_messages(announcements)
    assert bad_url in report.text() and "the last 3 times" in report.text()
    feeds = await bookclub.store.feeds.list(guild.id)
    assert [(feed.url, feed.consecutive_failures) for feed in feeds] == [(bad_url, 5), (good.feed_url, 0)]
    shown = await text_of(bookclub, "Mod", "config show")
    assert bad_url in shown and "failing" in shown
    assert bookclub.double.pings() == []


# -- the database held by another program -----------------------------------------------------------------------


@pytest.mark.sqlite_only
async def test_a_nomination_waits_for_a_held_database_or_is_refused_cleanly(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    async with held_database(bookclub) as other:
        asyncio.get_running_loop().call_later(0.3, other.execute, "ROLLBACK")
        assert (await text_of(bookclub, "Alice", "nominate add", title="Hamnet", author="Maggie Farrell")).startswith(
            "You nominated **Hamnet** by Maggie Farrell.")

    # Held for longer than the bot waits (shortened here from its 2 s): one clear line, nothing written.
    async with held_database(bookclub, bot_waits_ms=200):
        refused = await run(bookclub, "Bob", "nominate add", title="Piranesi", author="Susanna Clarke")
    assert refused.ephemeral and refused.text() == BUSY
    nominations = await bookclub.store.polls.nominations(guild.id)
    assert [nomination.book.title for nomination in nominations] == ["Hamnet"]
    assert [book.title for book in await bookclub.store.books.list_all(guild.id)] == ["Hamnet"]
    again = await text_of(bookclub, "Bob", "nominate add", title="Piranesi", author="Susanna Clarke")
    assert again.startswith("You nominated **Piranesi** by Susanna Clarke. (1 of your")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("private_feeds", [True], ids=["blogs-on-loopback"])
async def test_a_database_held_while_a_feed_is_polled_does_not_stop_its_polling(bookclub: Any, blogs: Any) -> None:
    good, _ = blogs
    guild = bookclub.double.guild_a
    reviews = guild.channel("reviews")
    await text_of(bookclub, "Mod", "config channels", reviews=reviews, announcements=guild.channel("announcements"))
    good.publish("Piranesi by Susanna Clarke")
    await text_of(bookclub, "Mod", "config feed-add", url=good.feed_url)
    assert await bookclub.double.wait_until(lambda: len(bookclub.double.bot_messages(reviews)) == 1, SETTLE)

    # The lock is taken while the feed answers slowly, so the poll can record neither what it found nor its failure.
    good.fail(delay=0.5, times=1)
    asked = len(good.requests)
    bookclub.clock.advance(POLL_EVERY + timedelta(minutes=1))
    assert await bookclub.double.wait_until(lambda: len(good.requests) > asked, SETTLE)
    async with held_database(bookclub, bot_waits_ms=200):
        await asyncio.sleep(1.5)

    good.publish("Beloved by Toni Morrison")
    # Each move waits until the bot has recorded the last poll's outcome: a retry counted from a later move would
    # fall after the last one and never come.
    await pass_time(bookclub, POLL_EVERY + timedelta(minutes=1), 3)
    assert await bookclub.double.wait_until(lambda: len(bookclub.double.bot_messages(reviews)) == 2, SETTLE)
    titles = [message.embeds[0]["title"] for message in bookclub.double.bot_messages(reviews)]
    assert titles == ["Piranesi by Susanna Clarke", "Beloved by Toni Morrison"]


@pytest.mark.sqlite_only
async def test_a_review_refused_by_a_held_database_keeps_its_text_for_a_resend(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    bob = guild.member("Bob")
    reviews = guild.channel("reviews")
    await text_of(bookclub, "Mod", "config channels", reviews=reviews, announcements=guild.channel("announcements"))
    body = " ".join(["Klara watches the Sun."] * 150)
    opened = await bookclub.double.slash(guild, bob, "review write", timeout=5.0)
    values = {"Title": "Klara and the Sun", "Author": "Kazuo Ishiguro", "Rating (1–5)": "4", "Review": body}
    async with held_database(bookclub, bot_waits_ms=200):
        submitted = await bookclub.double.submit_modal(opened, values, timeout=5.0)
        answer = await submitted.reply(timeout=10.0)
    assert answer.ephemeral and answer.text().startswith(BUSY)
    assert await bookclub.store.reviews.queued(guild.id) == []

    fix = await bookclub.double.press_button(answer, "Fix and resend", bob)
    kept = {field.get("label"): field.get("value") for row in fix.modal["components"] for field in row["components"]}
    assert kept["Review"] == body and kept["Title"] == "Klara and the Sun"
    resent = await bookclub.double.submit_modal(fix, values, timeout=5.0)
    assert "Saved." in (await resent.reply(timeout=10.0)).text()
    assert await bookclub.double.wait_until(lambda: len(bookclub.double.bot_messages(reviews)) == 1, SETTLE)
    assert "Klara and the Sun by Kazuo Ishiguro" in bookclub.double.bot_messages(reviews)[0].text()


@pytest.mark.sqlite_only
async def test_a_question_is_answered_while_the_database_is_held(bookclub: Any, openlibrary: OddOpenLibrary) -> None:
    await text_of(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro",
                  started="2026-01-05", finished="2026-02-01")
    async with held_database(bookclub, bot_waits_ms=200):
        asked = await run(bookclub, "Carol", "ask", question=QUESTION)
    answer = asked.text()
    assert not asked.ephemeral and "**Never Let Me Go**" in answer
    assert "Not read by the club yet:" in answer and "**The Buried Giant** (2015)" in answer


@asynccontextmanager
async def full_disk(bookclub: Any) -> AsyncIterator[None]:
    """No room for the database to grow: SQLite answers SQLITE_FULL ("database or disk is full") as on a full disk."""
    conn = bookclub.store.db.conn
    pages = (await (await conn.execute("PRAGMA page_count")).fetchone())[0]
    await conn.execute(f"PRAGMA max_page_count = {pages}")
    try:
        yield
    finally:
        await conn.execute("PRAGMA max_page_count = 4294967294")


@pytest.mark.sqlite_only
async def test_a_review_refused_by_a_full_disk_keeps_its_text_for_a_resend(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    bob = guild.member("Bob")
    reviews = guild.channel("reviews")
    await text_of(bookclub, "Mod", "config channels", reviews=reviews, announcements=guild.channel("announcements"))
    # Together longer than a database page (4 KiB), so that storing them needs a new page.
    body = " ".join(["Klara watches the Sun."] * 170)
    spoilers = " ".join(["Josie lives."] * 75)
    opened = await bookclub.double.slash(guild, bob, "review write", timeout=5.0)
    values = {"Title": "Klara and the Sun", "Author": "Kazuo Ishiguro", "Rating (1–5)": "4", "Review": body,
              "Spoilers (optional, always hidden)": spoilers}
    async with full_disk(bookclub):
        submitted = await bookclub.double.submit_modal(opened, values, timeout=5.0)
        answer = await submitted.reply(timeout=10.0)
    assert answer.ephemeral and answer.text().startswith(DISK_FULL), answer.text()
    assert "Your text is still there" in answer.text()
    assert await bookclub.store.reviews.queued(guild.id) == []

    fix = await bookclub.double.press_button(answer, "Fix and resend", bob)
    kept = {field.get("label"): field.get("value") for row in fix.modal["components"] for field in row["components"]}
    assert kept["Review"] == body and kept["Spoilers (optional, always hidden)"] == spoilers
    resent = await bookclub.double.submit_modal(fix, values, timeout=5.0)
    assert "Saved." in (await resent.reply(timeout=10.0)).text()
    assert await bookclub.double.wait_until(lambda: len(bookclub.double.bot_messages(reviews)) == 1, SETTLE)


@pytest.mark.sqlite_only
async def test_other_commands_say_plainly_that_the_disk_is_full_and_nothing_changed(bookclub: Any) -> None:
    async with full_disk(bookclub):
        # Another club's books take the last room there was, so that the next book needs a page the disk lacks.
        with pytest.raises(sqlite3.OperationalError, match="full"):
            for number in range(10_000):
                await bookclub.store.books.find_or_create(OTHER_GUILD_ID, f"Filler {number}", "Nobody")
        refused = await run(bookclub, "Mod", "club add", title="Piranesi", author="Susanna Clarke",
                            started="2026-01-01")
    assert refused.ephemeral and refused.text() == DISK_FULL
    assert "no author like" in await text_of(bookclub, "Mod", "club history", author="Susanna Clarke")
