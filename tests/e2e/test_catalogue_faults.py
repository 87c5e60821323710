"""Open Library failing under the bot: nominations, club reads and answers go on with what the members typed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.services.asker import OfflineAsker
from bot.services.openlibrary import OpenLibraryCatalogue
from tests.doubles.openlibrary_server import FakeOpenLibrary


async def run(bookclub: Any, member: str, command: str, **options: Any) -> str:
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    return (await ix.reply(timeout=10.0)).text()


@pytest.fixture
async def openlibrary(bookclub: Any) -> AsyncIterator[FakeOpenLibrary]:
    """The bot looks books up in a loopback Open Library, as with OPENLIBRARY_BASE_URL set."""
    async with FakeOpenLibrary() as server:
        bot = bookclub.bot
        catalogue = OpenLibraryCatalogue(bot.http_session, server.base_url, bookclub.store.catalogue_cache,
                                         bookclub.clock, timeout=1.0)
        bot.catalogue, offline = catalogue, bot.asker
        bot.asker = OfflineAsker(bookclub.store.history, catalogue)
        try:
            yield server
        finally:
            bot.catalogue, bot.asker = None, offline


async def test_with_a_working_catalogue_answers_name_the_books_not_read_yet(bookclub: Any,
                                                                            openlibrary: FakeOpenLibrary) -> None:
    await run(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro", started="2019-04-01",
              finished="2019-05-14")
    answer = await run(bookclub, "Alice", "ask", question="have you read any other Ishiguro?")
    assert "Never Let Me Go" in answer and "The Remains of the Day" in answer


async def test_an_author_the_club_never_read_is_answered_no_with_the_catalogues_books(
    bookclub: Any, openlibrary: FakeOpenLibrary
) -> None:
    await run(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro", started="2019-04-01",
              finished="2019-05-14")
    await run(bookclub, "Alice", "rate", book="Never Let Me Go", stars=5)
    answer = await run(bookclub, "Alice", "ask", question="Have you read any Susanna Clarke? Which do you recommend?")
    assert answer.startswith("No: the club hasn't read anything by Susanna Clarke yet.")
    assert "Not read by the club yet: **Jonathan Strange \\& Mr Norrell** (2004), **Piranesi** (2020)." in answer
    assert "Never Let Me Go" not in answer, "not the club's best-rated read of another author"


@pytest.mark.parametrize("fault", [{"status": 500}, {"delay": 3.0}, {"garbage": True}],
                         ids=["server-error", "timeout", "not-json"])
async def test_a_failing_catalogue_leaves_its_part_out_and_nothing_breaks(bookclub: Any, openlibrary: FakeOpenLibrary,
                                                                         fault: dict[str, Any]) -> None:
    openlibrary.fail(**fault)
    added = await run(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro",
                      started="2019-04-01", finished="2019-05-14")
    assert added.startswith("Added **Never Let Me Go** by Kazuo Ishiguro")
    nominated = await run(bookclub, "Alice", "nominate add", title="Klara and the Sun", author="Kazuo Ishiguro")
    assert nominated.startswith("You nominated") and "Klara and the Sun" in nominated
    answer = await run(bookclub, "Bob", "ask", question="have you read any other Ishiguro?")
    assert "Never Let Me Go" in answer and "The Remains of the Day" not in answer
    assert "wrong" not in answer.lower() and "error" not in answer.lower()
    assert bookclub.double.pings() == []
