"""A read begins, finishes, is removed or renamed, on a real store with Discord's side played by a fake."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.app.club import ClubService, rate_call
from bot.app.reading_now import ReadingNowChanges
from bot.clock import ManualClock
from bot.domain.books import Book
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.store import Store

GUILD_A, GUILD_B = 111, 222
ANNOUNCEMENTS, HERE = 13, 99


def changes(store: Store, clock: ManualClock) -> ReadingNowChanges:
    return ReadingNowChanges(store, clock, Scheduler(store.jobs, clock))


class FakePoster:
    def __init__(self, problem: str | None = None) -> None:
        self.posted: list[tuple[int, str]] = []
        self.problem = problem

    async def post(self, channel_id: int, text: str) -> str | None:
        if self.problem is None:
            self.posted.append((channel_id, text))
        return self.problem


async def test_a_read_starts_today_in_the_club_time_zone_and_finishes_with_one_call_to_rate(
        store: Store, clock: ManualClock) -> None:
    # 23:30 in London on 1 March is already 2 March in Auckland.
    clock.set(clock.now().replace(day=1, hour=23, minute=30))
    await store.config.set_schedule(GUILD_A, 4, "18:00", "Pacific/Auckland")
    book, _ = await store.books.find_or_create(GUILD_A, "Piranesi", "Susanna Clarke")
    service = ClubService(store, clock, changes(store, clock))
    read = await service.start(GUILD_A, "piranesi", None)
    assert (read.status, read.started_on) == ("reading", date(2026, 3, 2))
    with pytest.raises(UserError, match="current read already since 2 March 2026"):
        await service.start(GUILD_A, f"book:{book.id}", None)

    poster = FakePoster()
    with pytest.raises(UserError, match="in the future"):
        await service.finish(GUILD_A, "Piranesi", "2026-03-05", HERE, poster)
    with pytest.raises(UserError, match="before that"):
        await service.finish(GUILD_A, "Piranesi", "2026-02-27", HERE, poster)
    with pytest.raises(UserError, match="year-month-day"):
        await service.finish(GUILD_A, "Piranesi", "yesterday", HERE, poster)
    assert poster.posted == [] and (await store.history.get_read(GUILD_A, book.id) or read).status == "reading"

    clock.advance(timedelta(days=20))
    finished = await service.finish(GUILD_A, "Piranesi", None, HERE, poster)
    assert (finished.read.status, finished.read.finished_on, finished.channel_id) == ("finished", date(2026, 3, 22),
                                                                                     HERE)
    [(channel, text)] = poster.posted
    assert channel == HERE and "`/rate book:Piranesi stars:`" in text and "@" not in text
    with pytest.raises(UserError, match=r"finished \*\*Piranesi\*\* by Susanna Clarke already"):
        await service.finish(GUILD_A, "Piranesi", None, HERE, poster)
    with pytest.raises(UserError, match="can't start again"):
        await service.start(GUILD_A, "Piranesi", None)
    assert len(poster.posted) == 1


def test_the_call_to_rate_shows_the_title_as_typed_inside_the_command() -> None:
    text = rate_call(Book(id=1, guild_id=GUILD_A, title="Ch. 1 `Dawn` *", author="A. Writer"))
    assert "`/rate book:Ch. 1 'Dawn' * stars:`" in text and "**Ch\\. 1 \\`Dawn\\` \\***" in text


async def test_the_call_to_rate_goes_to_the_announcements_channel_and_a_failure_keeps_the_finish(
        store: Store, clock: ManualClock) -> None:
    await store.config.set_channels(GUILD_A, {"announcements": ANNOUNCEMENTS})
    book, _ = await store.books.find_or_create(GUILD_A, "Hamnet", "Maggie O'Farrell")
    await store.history.add_read(GUILD_A, book.id, status="planned", now=clock.now())
    finished = await ClubService(store, clock, changes(store, clock)).finish(GUILD_A, "Hamnet", "2026-03-01", HERE,
                                                      FakePoster("I'm missing Send Messages"))
    assert finished.channel_id == ANNOUNCEMENTS and finished.problem == "I'm missing Send Messages"
    assert (await store.history.get_read(GUILD_A, book.id) or finished.read).status == "finished"


async def test_remove_takes_the_read_out_and_keeps_ratings_and_the_book(store: Store, clock: ManualClock) -> None:
    book, _ = await store.books.find_or_create(GUILD_A, "Beloved", "Toni Morrison")
    await store.history.add_read(GUILD_A, book.id, status="finished", finished_on=date(2026, 1, 1), now=clock.now())
    await store.history.rate(GUILD_A, book.id, 501, "Alice", 5, now=clock.now())
    service = ClubService(store, clock, changes(store, clock))
    with pytest.raises(UserError, match=r"not in the club.s records"):
        await service.removable(GUILD_B, f"book:{book.id}")
    read = await service.removable(GUILD_A, "beloved")
    await service.remove(GUILD_A, read.book.id)
    assert await store.history.get_read(GUILD_A, book.id) is None
    assert await store.books.get(GUILD_A, book.id) is not None
    assert await store.history.member_ratings(GUILD_A, book.id) != []
    with pytest.raises(UserError, match="already removed"):
        await service.remove(GUILD_A, book.id)
    with pytest.raises(UserError, match="isn't in the club history"):
        await service.removable(GUILD_A, "Beloved")


async def test_edit_fixes_a_typo_and_refuses_to_become_another_book(store: Store, clock: ManualClock) -> None:
    typo, _ = await store.books.find_or_create(GUILD_A, "Never Let Me Goo", "Kazuo Ishigoro")
    await store.books.find_or_create(GUILD_A, "Klara and the Sun", "Kazuo Ishiguro")
    service = ClubService(store, clock, changes(store, clock))
    with pytest.raises(UserError, match="Give the corrected"):
        await service.edit(GUILD_A, "Never Let Me Goo", None, None)
    with pytest.raises(UserError, match="spelt that way already"):
        await service.edit(GUILD_A, "Never Let Me Goo", "Never Let Me Goo", None)
    with pytest.raises(UserError, match="already has \\*\\*Klara and the Sun\\*\\*"):
        await service.edit(GUILD_A, f"book:{typo.id}", "klara and the sun", "Kazuo Ishiguro")
    before, after = await service.edit(GUILD_A, f"book:{typo.id}", "Never Let Me Go", "Kazuo Ishiguro")
    assert (before.title, after.title, after.author) == ("Never Let Me Goo", "Never Let Me Go", "Kazuo Ishiguro")
    assert await store.books.find(GUILD_A, "never let me go", "kazuo ishiguro") == after
    assert [book.title for book in await store.books.suggest(GUILD_A, "let me go")] == ["Never Let Me Go"]
    with pytest.raises(UserError, match=r"not in the club.s records"):
        await service.edit(GUILD_B, f"book:{typo.id}", "Stolen", None)
