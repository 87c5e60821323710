"""/club add, import, export, history and /rate as use cases: a real store, the catalogue played by a fake."""

from __future__ import annotations

import pytest

from bot.app.club import ClubService
from bot.app.reading_now import ReadingNowChanges
from bot.clock import ManualClock
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services.asker import HistoryIndex, OfflineAsker
from bot.services.openlibrary import CatalogueWork
from bot.store import Store
from tests.goodreads_export import library_export

GUILD_A, GUILD_B = 111, 222
MOD, ALICE = 500, 501


def reading_now(store: Store, clock: ManualClock) -> ReadingNowChanges:
    return ReadingNowChanges(store, clock, Scheduler(store.jobs, clock))


class FakeCatalogue:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def find_title(self, title: str, author: str = "") -> CatalogueWork | None:
        self.asked.append((title, author))
        return CatalogueWork(title=title, authors=[author], year=2020, isbn13="9780000000002")

    async def author_works(self, author: str) -> list[CatalogueWork]:
        return []


async def test_a_read_is_added_with_the_catalogue_details_and_bad_dates_are_refused_before_asking_it(
        store: Store, clock: ManualClock) -> None:
    catalogue = FakeCatalogue()
    service = ClubService(store, clock, reading_now(store, clock), catalogue=catalogue)
    with pytest.raises(UserError, match="`finished` is before `started`"):
        await service.new_read(GUILD_A, "Piranesi", "Susanna Clarke", "2026-02-10", "2026-02-01")
    with pytest.raises(UserError, match="`finished` is in the future"):
        await service.new_read(GUILD_A, "Piranesi", "Susanna Clarke", None, "2026-03-09")
    with pytest.raises(UserError, match="`started` must be a date like 2025-03-14"):
        await service.new_read(GUILD_A, "Piranesi", "Susanna Clarke", "last week", None)
    with pytest.raises(UserError, match="needs a title and an author"):
        await service.new_read(GUILD_A, "\u202e ", "Susanna Clarke", None, None)
    assert catalogue.asked == []

    new = await service.new_read(GUILD_A, "  Piranesi ", "Susanna  Clarke", "2026-02-01", "2026-02-20")
    read, created = await service.add(GUILD_A, new)
    assert created and (read.status, read.book.title, read.book.author, read.book.year) == (
        "finished", "Piranesi", "Susanna Clarke", 2020)
    again, created = await service.add(GUILD_A, await service.new_read(GUILD_A, "Piranesi", "Susanna Clarke",
                                                                        "2026-02-01", None))
    assert not created and again.status == "reading"
    assert await store.history.reads(GUILD_B) == []


async def test_an_import_counts_the_member_rows_and_refuses_a_file_that_is_not_an_export(
        store: Store, clock: ManualClock) -> None:
    service = ClubService(store, clock, reading_now(store, clock))
    with pytest.raises(UserError, match="Nothing was imported"):
        await service.import_goodreads(GUILD_A, b"title,author\nPiranesi,Susanna Clarke\n", MOD, "Mod")
    assert await store.history.count_reads(GUILD_A) == 0

    imported = await service.import_goodreads(GUILD_A, library_export(30), MOD, "Mod")
    assert imported.added == 30 and imported.skipped == []
    again = await service.import_goodreads(GUILD_A, library_export(30), MOD, "Mod")
    assert again.added == 0 and len(again.skipped) == 30
    total, files = await service.export(GUILD_A)
    assert total == 30 and len(files) == 1 and files[0].count(b"\n") > 30
    with pytest.raises(UserError, match="no finished reads to export"):
        await service.export(GUILD_B)


async def test_history_by_author_and_rate_use_the_one_shared_name_index(store: Store, clock: ManualClock) -> None:
    index = HistoryIndex(store.history)
    asker = OfflineAsker(store.history)
    asker.index = index
    service = ClubService(store, clock, reading_now(store, clock), index)
    for title, started, finished in (("Klara and the Sun", "2026-01-01", "2026-01-20"),
                                     ("Never Let Me Go", None, None)):
        await service.add(GUILD_A, await service.new_read(GUILD_A, title, "Kazuo Ishiguro", started, finished))

    listing = await service.history(GUILD_A, "ishiguro")
    assert listing.total == 2 and listing.heading == "Club history: Kazuo Ishiguro"
    with pytest.raises(UserError, match="no author like “Tolstoy”"):
        await service.history(GUILD_A, "Tolstoy")

    read = await service.find_read(GUILD_A, "klara and the sun")
    rated = await service.rate(GUILD_A, read, ALICE, "Alice", 4)
    assert (rated.previous, rated.score and rated.score.votes) == (None, 1)
    planned = await service.find_read(GUILD_A, "Never Let Me Go")
    with pytest.raises(UserError, match="hasn't started"):
        await service.rate(GUILD_A, planned, ALICE, "Alice", 5)
    assert await service.picked_read(GUILD_A, f"book:{read.book.id}") == read
    assert await service.picked_read(GUILD_B, f"book:{read.book.id}") is None

    # The rating moved the history's version: the asker, sharing the index, answers from the new stars.
    answer = await service.ask(asker, GUILD_A, ALICE, "Alice", "which book did I rate highest?")
    assert "Klara and the Sun" in answer.text
    assert (await index.get(GUILD_A)).versions == await store.history.versions(GUILD_A)
