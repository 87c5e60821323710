"""The Open Library catalogue against a loopback server: works, titles, the SQLite cache, and failing quietly."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.clock import ManualClock
from bot.services.openlibrary import OpenLibraryCatalogue
from bot.store import Store
from tests.doubles.openlibrary_server import FakeOpenLibrary


@pytest.fixture
async def openlibrary() -> AsyncIterator[FakeOpenLibrary]:
    async with FakeOpenLibrary() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.fixture
def catalogue(openlibrary: FakeOpenLibrary, session: aiohttp.ClientSession, store: Store,
              clock: ManualClock) -> OpenLibraryCatalogue:
    return OpenLibraryCatalogue(session, openlibrary.base_url, store.catalogue_cache, clock, timeout=0.3)


async def test_an_authors_works_come_most_published_first_and_only_theirs(catalogue, openlibrary) -> None:
    works = await catalogue.author_works("Kazuo Ishiguro")
    assert works is not None
    titles = [work.title for work in works]
    assert titles[:3] == ["Never Let Me Go", "The Remains of the Day", "Klara and the Sun"]
    assert "Understanding Kazuo Ishiguro" not in titles
    assert works[0].year == 2005 and works[0].work_key == "/works/OL45804W"
    assert openlibrary.searches()[0]["author"] == "Kazuo Ishiguro"


async def test_answers_are_cached_in_sqlite_whatever_the_spelling(catalogue, openlibrary, clock) -> None:
    first = await catalogue.author_works("Kazuo Ishiguro")
    again = await catalogue.author_works("Ishiguro, Kazuo")
    assert again == first and len(openlibrary.searches()) == 1
    clock.advance(timedelta(days=31))
    await catalogue.author_works("Kazuo Ishiguro")
    assert len(openlibrary.searches()) == 2


async def test_an_author_open_library_does_not_know_has_no_works(catalogue) -> None:
    assert await catalogue.author_works("Nobody Atall") == []


async def test_a_titles_metadata(catalogue) -> None:
    work = await catalogue.find_title("Piranesi", "Susanna Clarke")
    assert work is not None
    assert (work.work_key, work.year, work.isbn13) == ("/works/OL17860744W", 2020, "9781635575637")
    assert work.cover_url == "https://covers.openlibrary.org/b/id/10127455-M.jpg"
    assert await catalogue.find_title("Piranesi", "Someone Else") is None


@pytest.mark.parametrize("fault", [{"status": 500}, {"delay": 1.0}, {"garbage": True}])
async def test_a_failing_catalogue_answers_none_quickly_and_rests(catalogue, openlibrary, clock, fault) -> None:
    openlibrary.fail(**fault)
    started = time.monotonic()
    assert await catalogue.author_works("Kazuo Ishiguro") is None
    assert time.monotonic() - started < 0.9
    openlibrary.heal()
    asked = len(openlibrary.requests)
    assert await catalogue.author_works("Kazuo Ishiguro") is None
    assert len(openlibrary.requests) == asked, "it rests instead of making every question wait"
    clock.advance(timedelta(minutes=6))
    works = await catalogue.author_works("Kazuo Ishiguro")
    assert works and works[0].title == "Never Let Me Go"


async def test_an_unreachable_catalogue_is_not_an_error(session, store, clock) -> None:
    async with FakeOpenLibrary() as server:
        base_url = server.base_url
    catalogue = OpenLibraryCatalogue(session, base_url, store.catalogue_cache, clock, timeout=0.3)
    assert await catalogue.author_works("Kazuo Ishiguro") is None
    assert await catalogue.find_title("Piranesi") is None
